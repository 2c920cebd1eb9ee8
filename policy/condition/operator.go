package condition

import (
	"fmt"
	"strings"
)

// Family groups condition operators by the type they compare.
type Family uint8

// Operator families.
const (
	String Family = iota + 1
	Numeric
	Date
	Bool
	Binary
	IPAddress
	ARN
	Null
)

func (f Family) String() string {
	switch f {
	case String:
		return "String"
	case Numeric:
		return "Numeric"
	case Date:
		return "Date"
	case Bool:
		return "Bool"
	case Binary:
		return "Binary"
	case IPAddress:
		return "IpAddress"
	case ARN:
		return "Arn"
	case Null:
		return "Null"
	}
	return "Unknown"
}

// Comparison is how an operator compares a request value with a policy value.
type Comparison uint8

// Comparisons.
const (
	Equals Comparison = iota + 1
	Like
	LessThan
	LessThanEquals
	GreaterThan
	GreaterThanEquals
)

// Qualifier is a set operator prefix.
type Qualifier uint8

// Set qualifiers.
const (
	NoQualifier  Qualifier = iota
	ForAllValues           // ForAllValues:
	ForAnyValue            // ForAnyValue:
)

// Operator is a parsed condition operator name such as "ForAnyValue:StringNotLikeIfExists".
type Operator struct {
	Name       string // as written in the policy
	Base       string // the operator without qualifier and IfExists, e.g. "StringNotLike"
	Family     Family
	Comparison Comparison
	Negated    bool // StringNotEquals, NotIpAddress, ArnNotLike, ...
	IgnoreCase bool // StringEqualsIgnoreCase, StringNotEqualsIgnoreCase
	IfExists   bool
	Qualifier  Qualifier
}

type baseOp struct {
	family     Family
	cmp        Comparison
	negated    bool
	ignoreCase bool
}

// baseOps lists every operator of the IAM User Guide's "Condition operators" page. It is only
// read.
var baseOps = map[string]baseOp{
	"StringEquals":              {String, Equals, false, false},
	"StringNotEquals":           {String, Equals, true, false},
	"StringEqualsIgnoreCase":    {String, Equals, false, true},
	"StringNotEqualsIgnoreCase": {String, Equals, true, true},
	"StringLike":                {String, Like, false, false},
	"StringNotLike":             {String, Like, true, false},
	"NumericEquals":             {Numeric, Equals, false, false},
	"NumericNotEquals":          {Numeric, Equals, true, false},
	"NumericLessThan":           {Numeric, LessThan, false, false},
	"NumericLessThanEquals":     {Numeric, LessThanEquals, false, false},
	"NumericGreaterThan":        {Numeric, GreaterThan, false, false},
	"NumericGreaterThanEquals":  {Numeric, GreaterThanEquals, false, false},
	"DateEquals":                {Date, Equals, false, false},
	"DateNotEquals":             {Date, Equals, true, false},
	"DateLessThan":              {Date, LessThan, false, false},
	"DateLessThanEquals":        {Date, LessThanEquals, false, false},
	"DateGreaterThan":           {Date, GreaterThan, false, false},
	"DateGreaterThanEquals":     {Date, GreaterThanEquals, false, false},
	"Bool":                      {Bool, Equals, false, false},
	"BinaryEquals":              {Binary, Equals, false, false},
	"IpAddress":                 {IPAddress, Equals, false, false},
	"NotIpAddress":              {IPAddress, Equals, true, false},
	"ArnEquals":                 {ARN, Like, false, false}, // ArnEquals and ArnLike behave identically
	"ArnLike":                   {ARN, Like, false, false},
	"ArnNotEquals":              {ARN, Like, true, false},
	"ArnNotLike":                {ARN, Like, true, false},
	"Null":                      {Null, Equals, false, false},
}

// ParseOperator parses a condition operator name. Names are case-sensitive, as IAM reads them.
// IfExists may follow any operator except Null.
func ParseOperator(name string) (Operator, error) {
	op := Operator{Name: name}
	rest := name
	switch {
	case strings.HasPrefix(rest, "ForAllValues:"):
		op.Qualifier = ForAllValues
		rest = rest[len("ForAllValues:"):]
	case strings.HasPrefix(rest, "ForAnyValue:"):
		op.Qualifier = ForAnyValue
		rest = rest[len("ForAnyValue:"):]
	}
	if b, ok := strings.CutSuffix(rest, "IfExists"); ok && b != "Null" {
		if _, known := baseOps[b]; known {
			op.IfExists = true
			rest = b
		}
	}
	b, ok := baseOps[rest]
	if !ok {
		return Operator{}, fmt.Errorf("condition: unknown operator %q", name)
	}
	op.Base = rest
	op.Family, op.Comparison, op.Negated, op.IgnoreCase = b.family, b.cmp, b.negated, b.ignoreCase
	return op, nil
}

// AcceptsVariables reports whether policy variables in the operator's values are substituted:
// the string, ARN and Bool operators (IAM User Guide, "Where you can use policy variables").
func (o Operator) AcceptsVariables() bool {
	return o.Family == String || o.Family == ARN || o.Family == Bool
}
