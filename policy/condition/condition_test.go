package condition_test

import (
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/policy/condition"
)

func TestParseOperator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		wantErr   bool
		base      string
		family    condition.Family
		negated   bool
		ifExists  bool
		qualifier condition.Qualifier
	}{
		{name: "StringEquals", base: "StringEquals", family: condition.String},
		{name: "StringNotLikeIfExists", base: "StringNotLike", family: condition.String, negated: true, ifExists: true},
		{name: "ForAllValues:StringEquals", base: "StringEquals", family: condition.String, qualifier: condition.ForAllValues},
		{name: "ForAnyValue:ArnNotLikeIfExists", base: "ArnNotLike", family: condition.ARN, negated: true, ifExists: true, qualifier: condition.ForAnyValue},
		{name: "NotIpAddress", base: "NotIpAddress", family: condition.IPAddress, negated: true},
		{name: "NumericGreaterThanEqualsIfExists", base: "NumericGreaterThanEquals", family: condition.Numeric, ifExists: true},
		{name: "DateNotEquals", base: "DateNotEquals", family: condition.Date, negated: true},
		{name: "BoolIfExists", base: "Bool", family: condition.Bool, ifExists: true},
		{name: "BinaryEquals", base: "BinaryEquals", family: condition.Binary},
		{name: "Null", base: "Null", family: condition.Null},
		{name: "NullIfExists", wantErr: true},
		{name: "stringequals", wantErr: true},
		{name: "ForAnyValue::StringEquals", wantErr: true},
		{name: "ForAllValues:", wantErr: true},
		{name: "IfExists", wantErr: true},
		{name: "StringEqualsIfExistsIfExists", wantErr: true},
		{name: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run("op="+tt.name, func(t *testing.T) {
			t.Parallel()
			op, err := condition.ParseOperator(tt.name)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseOperator(%q) = %+v, want an error", tt.name, op)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if op.Base != tt.base || op.Family != tt.family || op.Negated != tt.negated || op.IfExists != tt.ifExists || op.Qualifier != tt.qualifier {
				t.Fatalf("ParseOperator(%q) = %+v", tt.name, op)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "2020-01-01T00:00:01Z", want: time.Date(2020, 1, 1, 0, 0, 1, 0, time.UTC)},
		{in: "2020-01-01", want: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
		{in: "2020-06", want: time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC)},
		{in: "2016-12-13T21:20:37.593194+00:00", want: time.Date(2016, 12, 13, 21, 20, 37, 593194000, time.UTC)},
		{in: "2016-12-13t2:00:00.593194+23", want: time.Date(2016, 12, 12, 3, 0, 0, 593194000, time.UTC)},
		{in: "2020-01-01T10:00:00-05:00", want: time.Date(2020, 1, 1, 15, 0, 0, 0, time.UTC)},
		{in: "1609459200", want: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)},
		{in: "01T", want: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{in: "sdfdsf", wantErr: true},
		{in: "234-13", wantErr: true},
		{in: "2016-12-13t2:00:00.593194+1", wantErr: true},
		{in: "2016-12-13t2:00:00.1999999999+10:59", wantErr: true},
		{in: "9223372036854775808", wantErr: true},
		{in: "2020-01-01T25:00:00Z", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run("in="+tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := condition.ParseDate(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseDate(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDate(%q): %v", tt.in, err)
			}
			if !got.Equal(tt.want) {
				t.Fatalf("ParseDate(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestPattern(t *testing.T) {
	t.Parallel()
	ctx := &condition.Context{}
	ctx.Set("aws:username", "bob")
	ctx.Set("aws:PrincipalTag/team", "blue*")
	ctx.SetMulti("aws:TagKeys", "a")
	tests := []struct {
		name      string
		pattern   string
		opts      condition.PatternOptions
		s         string
		fold      bool
		want      bool
		wantVars  []string
		wantExpan string
	}{
		{name: "variable", pattern: "home/${aws:username}/*", opts: condition.PatternOptions{Variables: true, Wildcards: true}, s: "home/bob/x", want: true, wantVars: []string{"aws:username"}, wantExpan: "home/bob/*"},
		{name: "variable key case", pattern: "${AWS:UserName}", opts: condition.PatternOptions{Variables: true}, s: "bob", want: true, wantVars: []string{"AWS:UserName"}, wantExpan: "bob"},
		{name: "variables off", pattern: "${aws:username}", opts: condition.PatternOptions{}, s: "${aws:username}", want: true, wantExpan: "${aws:username}"},
		{name: "value star literal", pattern: "${aws:PrincipalTag/team}", opts: condition.PatternOptions{Variables: true, Wildcards: true}, s: "blueberry", want: false, wantVars: []string{"aws:PrincipalTag/team"}, wantExpan: "blue*"},
		{name: "value star itself", pattern: "${aws:PrincipalTag/team}", opts: condition.PatternOptions{Variables: true, Wildcards: true}, s: "blue*", want: true, wantVars: []string{"aws:PrincipalTag/team"}, wantExpan: "blue*"},
		{name: "missing variable", pattern: "${aws:userid}", opts: condition.PatternOptions{Variables: true}, s: "", want: false, wantVars: []string{"aws:userid"}},
		{name: "default", pattern: "${aws:userid, 'anonymous'}", opts: condition.PatternOptions{Variables: true}, s: "anonymous", want: true, wantVars: []string{"aws:userid"}, wantExpan: "anonymous"},
		{name: "default with quote", pattern: "${x:y,'a''b'}", opts: condition.PatternOptions{Variables: true}, s: "a'b", want: true, wantVars: []string{"x:y"}, wantExpan: "a'b"},
		{name: "multivalued uses default", pattern: "${aws:TagKeys, 'd'}", opts: condition.PatternOptions{Variables: true}, s: "d", want: true, wantVars: []string{"aws:TagKeys"}, wantExpan: "d"},
		{name: "special star", pattern: "a${*}", opts: condition.PatternOptions{Variables: true, Wildcards: true}, s: "a*", want: true, wantExpan: "a*"},
		{name: "special star not wild", pattern: "a${*}", opts: condition.PatternOptions{Variables: true, Wildcards: true}, s: "ab", want: false, wantExpan: "a*"},
		{name: "special dollar", pattern: "${$}", opts: condition.PatternOptions{Variables: true}, s: "$", want: true, wantExpan: "$"},
		{name: "unterminated", pattern: "${aws:username", opts: condition.PatternOptions{Variables: true}, s: "${aws:username", want: true, wantExpan: "${aws:username"},
		{name: "bad default is literal", pattern: "${a:b, c}", opts: condition.PatternOptions{Variables: true}, s: "${a:b, c}", want: true, wantExpan: "${a:b, c}"},
		{name: "fold", pattern: "ABC*", opts: condition.PatternOptions{Wildcards: true}, s: "abcdef", fold: true, want: true, wantExpan: "ABC*"},
		{name: "no wildcards", pattern: "a*", opts: condition.PatternOptions{}, s: "abc", want: false, wantExpan: "a*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := condition.Compile(tt.pattern, tt.opts)
			if got := p.Match(tt.s, ctx, tt.fold); got != tt.want {
				t.Errorf("Match(%q) = %v, want %v", tt.s, got, tt.want)
			}
			vars := p.Variables(nil)
			if len(vars) != len(tt.wantVars) || (len(vars) > 0 && vars[0] != tt.wantVars[0]) {
				t.Errorf("Variables = %q, want %q", vars, tt.wantVars)
			}
			if e, ok := p.Expand(ctx); ok && e != tt.wantExpan {
				t.Errorf("Expand = %q, want %q", e, tt.wantExpan)
			}
		})
	}
}

func TestContext(t *testing.T) {
	t.Parallel()
	var c condition.Context
	if _, ok := c.Get("a"); ok {
		t.Fatal("zero Context has a key")
	}
	c.Set("AWS:UserName", "bob")
	c.SetMulti("aws:TagKeys")
	if v, ok := c.Get("aws:username"); !ok || v.Multi || v.Values[0] != "bob" {
		t.Fatalf("Get = %+v, %v", v, ok)
	}
	if v, ok := c.Get("AWS:TAGKEYS"); !ok || !v.Multi || len(v.Values) != 0 {
		t.Fatalf("Get multi = %+v, %v", v, ok)
	}
	if got := c.Keys(); len(got) != 2 || got[0] != "AWS:UserName" {
		t.Fatalf("Keys = %q", got)
	}
	c.Delete("aws:USERNAME")
	if c.Len() != 1 {
		t.Fatalf("Len = %d after Delete", c.Len())
	}
}

func TestEvalMissing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		op        string
		want      bool
		wantNoted bool
	}{
		{op: "StringEquals", want: false, wantNoted: true},
		{op: "StringNotEquals", want: true, wantNoted: true},
		{op: "StringEqualsIfExists", want: true, wantNoted: true},
		{op: "ForAllValues:StringEquals", want: true, wantNoted: true},
		{op: "ForAnyValue:StringEquals", want: false, wantNoted: true},
		{op: "ForAnyValue:StringNotEquals", want: false, wantNoted: true},
		{op: "NotIpAddress", want: true, wantNoted: true},
		{op: "ArnNotLike", want: true, wantNoted: true},
		{op: "NumericLessThan", want: false, wantNoted: true},
	}
	for _, tt := range tests {
		t.Run("op="+tt.op, func(t *testing.T) {
			t.Parallel()
			c, err := condition.New(tt.op, "k:missing", []string{"1"}, true)
			if err != nil {
				t.Fatal(err)
			}
			var missing []string
			if got := c.Eval(&condition.Context{}, &missing); got != tt.want {
				t.Fatalf("Eval = %v, want %v", got, tt.want)
			}
			if (len(missing) == 1) != tt.wantNoted {
				t.Fatalf("missing = %q", missing)
			}
		})
	}
}
