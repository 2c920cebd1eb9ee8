package condition

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Condition is one compiled test of a Condition element: an operator, a context key and the
// policy's values for it.
type Condition struct {
	Op     Operator
	Key    string // as written
	key    string // lower case
	Values []string
	vals   []operand
}

type operand struct {
	str  Pattern    // String family and Bool with variables
	arn  ARNPattern // ARN family
	num  float64
	date time.Time
	bin  []byte
	ip   netip.Prefix
	b    bool
	ok   bool // the operand parsed for its family; a bad operand matches nothing
}

// New compiles one condition. vars enables policy variables (version 2012-10-17); they are
// substituted only for the operators that accept them.
func New(op, key string, values []string, vars bool) (*Condition, error) {
	o, err := ParseOperator(op)
	if err != nil {
		return nil, err
	}
	c := &Condition{Op: o, Key: key, key: strings.ToLower(key), Values: values}
	vars = vars && o.AcceptsVariables()
	for _, v := range values {
		var x operand
		switch o.Family {
		case String:
			x.str = Compile(v, PatternOptions{Variables: vars, Wildcards: o.Comparison == Like})
			x.ok = true
		case ARN:
			x.arn = CompileARN(v, vars)
			x.ok = true
		case Numeric:
			x.num, x.ok = ParseNumber(v)
		case Date:
			t, err := ParseDate(v)
			x.date, x.ok = t, err == nil
		case Bool:
			x.str = Compile(v, PatternOptions{Variables: vars})
			x.b, x.ok = ParseBool(v)
			if x.str.HasVariables() {
				x.ok = true
			}
		case Binary:
			x.bin, x.ok = decodeBinary(v)
		case IPAddress:
			x.ip, x.ok = ParsePrefix(v)
		case Null:
			x.b, x.ok = ParseBool(v)
		}
		c.vals = append(c.vals, x)
	}
	return c, nil
}

// Variables appends the policy variables the condition's values use to dst.
func (c *Condition) Variables(dst []string) []string {
	for i := range c.vals {
		switch c.Op.Family {
		case String, Bool:
			dst = c.vals[i].str.Variables(dst)
		case ARN:
			dst = c.vals[i].arn.Variables(dst)
		}
	}
	return dst
}

// Eval evaluates the condition against ctx. When the key is missing from ctx and missing is not
// nil, the key is appended to *missing.
func (c *Condition) Eval(ctx *Context, missing *[]string) bool {
	v, present := ctx.lookup(c.key)
	if !present && missing != nil {
		*missing = append(*missing, c.Key)
	}
	if c.Op.Family == Null {
		// Null:true asks for a missing (or empty) key, Null:false for a present one.
		isNull := !present || len(v.Values) == 0
		for i := range c.vals {
			if c.vals[i].ok && c.vals[i].b == isNull {
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case c.Op.IfExists:
			return true
		case c.Op.Qualifier == ForAllValues:
			return true
		case c.Op.Qualifier == ForAnyValue:
			return false
		}
		return c.Op.Negated
	}
	switch c.Op.Qualifier {
	case ForAllValues:
		// Every request value must match some policy value (for negated operators: none).
		for _, s := range v.Values {
			if c.anyMatch(s, ctx) == c.Op.Negated {
				return false
			}
		}
		return true
	case ForAnyValue:
		// Some request value must match some policy value (for negated operators: none).
		for _, s := range v.Values {
			if c.anyMatch(s, ctx) != c.Op.Negated {
				return true
			}
		}
		return false
	}
	// Without a qualifier, a multivalued key matches when any of its values does; a negated
	// operator is true only when none does.
	for _, s := range v.Values {
		if c.anyMatch(s, ctx) {
			return !c.Op.Negated
		}
	}
	return c.Op.Negated
}

// anyMatch reports whether the request value s matches any policy value under the positive
// form of the operator.
func (c *Condition) anyMatch(s string, ctx *Context) bool {
	switch c.Op.Family {
	case String:
		for i := range c.vals {
			if c.vals[i].str.Match(s, ctx, c.Op.IgnoreCase) {
				return true
			}
		}
	case ARN:
		for i := range c.vals {
			if c.vals[i].arn.Match(s, ctx) {
				return true
			}
		}
	case Numeric:
		n, ok := ParseNumber(s)
		if !ok {
			return false
		}
		for i := range c.vals {
			if c.vals[i].ok && compare(n, c.vals[i].num, c.Op.Comparison) {
				return true
			}
		}
	case Date:
		t, err := ParseDate(s)
		if err != nil {
			return false
		}
		for i := range c.vals {
			if c.vals[i].ok && compareTime(t, c.vals[i].date, c.Op.Comparison) {
				return true
			}
		}
	case Bool:
		b, ok := ParseBool(s)
		if !ok {
			return false
		}
		for i := range c.vals {
			x := &c.vals[i]
			if x.str.HasVariables() {
				if e, ok := x.str.Expand(ctx); ok {
					if pb, ok := ParseBool(e); ok && pb == b {
						return true
					}
				}
				continue
			}
			if x.ok && x.b == b {
				return true
			}
		}
	case Binary:
		rb, ok := decodeBinary(s)
		if !ok {
			rb = []byte(s)
		}
		for i := range c.vals {
			if c.vals[i].ok && bytes.Equal(rb, c.vals[i].bin) {
				return true
			}
		}
	case IPAddress:
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return false
		}
		a = a.Unmap()
		for i := range c.vals {
			if c.vals[i].ok && c.vals[i].ip.Contains(a) {
				return true
			}
		}
	}
	return false
}

func compare(a, b float64, cmp Comparison) bool {
	switch cmp {
	case Equals:
		return a == b
	case LessThan:
		return a < b
	case LessThanEquals:
		return a <= b
	case GreaterThan:
		return a > b
	case GreaterThanEquals:
		return a >= b
	}
	return false
}

func compareTime(a, b time.Time, cmp Comparison) bool {
	switch cmp {
	case Equals:
		return a.Equal(b)
	case LessThan:
		return a.Before(b)
	case LessThanEquals:
		return !a.After(b)
	case GreaterThan:
		return a.After(b)
	case GreaterThanEquals:
		return !a.Before(b)
	}
	return false
}

// String describes the condition as it reads in a policy.
func (c *Condition) String() string {
	return fmt.Sprintf("%s: {%q: %q}", c.Op.Name, c.Key, c.Values)
}

// Block is a compiled Condition element: every condition in it must hold.
type Block []*Condition

// Eval reports whether every condition holds in ctx, recording missing keys in *missing when
// missing is not nil. It evaluates every condition when recording, so that all missing keys are
// reported; otherwise it stops at the first false one.
func (b Block) Eval(ctx *Context, missing *[]string) bool {
	ok := true
	for _, c := range b {
		if !c.Eval(ctx, missing) {
			ok = false
			if missing == nil {
				return false
			}
		}
	}
	return ok
}
