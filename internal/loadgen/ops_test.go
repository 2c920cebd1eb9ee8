package loadgen_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/loadgen"
)

func TestParseOps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    []loadgen.Op
		wantErr string
	}{
		{name: "all in the default order", in: "GetUser,CreateUser,ListUsers,GetCallerIdentity", want: loadgen.DefaultOps()},
		{name: "one", in: "ListUsers", want: []loadgen.Op{loadgen.ListUsers}},
		{name: "order kept", in: "GetCallerIdentity,GetUser", want: []loadgen.Op{loadgen.GetCallerIdentity, loadgen.GetUser}},
		{name: "case and spaces ignored", in: " getuser , CREATEUSER", want: []loadgen.Op{loadgen.GetUser, loadgen.CreateUser}},
		{name: "unknown", in: "GetUser,DeleteUser", wantErr: `unknown operation "DeleteUser"`},
		{name: "empty", in: "", wantErr: "empty operation name"},
		{name: "trailing comma", in: "GetUser,", wantErr: "empty operation name"},
		{name: "duplicate", in: "GetUser,getuser", wantErr: "GetUser given twice"},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := loadgen.ParseOps(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseOps(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("ParseOps(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestOpService(t *testing.T) {
	t.Parallel()
	want := map[loadgen.Op]string{loadgen.GetUser: "iam", loadgen.CreateUser: "iam", loadgen.ListUsers: "iam", loadgen.GetCallerIdentity: "sts"}
	for op, svc := range want {
		t.Run("op="+string(op), func(t *testing.T) {
			t.Parallel()
			if got := op.Service(); got != svc {
				t.Errorf("%s.Service() = %q, want %q", op, got, svc)
			}
		})
	}
}

// FuzzParseOps checks that ParseOps never panics, and that what it accepts is a list of known,
// distinct operations that parses back to itself.
func FuzzParseOps(f *testing.F) {
	for _, s := range []string{"GetUser,CreateUser,ListUsers,GetCallerIdentity", "getuser", " ListUsers ,GetUser", "", ",", "GetUser,GetUser", "Get\x00User"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ops, err := loadgen.ParseOps(s)
		if err != nil {
			return
		}
		if len(ops) == 0 {
			t.Fatalf("ParseOps(%q) accepted no operations", s)
		}
		names := make([]string, len(ops))
		for i, op := range ops {
			if !slices.Contains(loadgen.DefaultOps(), op) {
				t.Fatalf("ParseOps(%q) returned unknown op %q", s, op)
			}
			if slices.Contains(ops[:i], op) {
				t.Fatalf("ParseOps(%q) returned %s twice", s, op)
			}
			names[i] = string(op)
		}
		again, err := loadgen.ParseOps(strings.Join(names, ","))
		if err != nil || !slices.Equal(again, ops) {
			t.Fatalf("round trip of %v: %v, %v", ops, again, err)
		}
	})
}
