package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
)

// runCLI runs the gatehouse command line and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), Env{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}, args)
	return code, out.String(), errOut.String()
}

// TestPolicyEvalCorpus drives the evaluation-logic corpus of internal/authz through
// `policy eval --request FILE --check`: the command prints one decision per case, each the
// documented one.
func TestPolicyEvalCorpus(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../authz/testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("corpus files: %v %v", files, err)
	}
	for _, f := range files {
		t.Run("file="+filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cases, err := authz.DecodeRequests(b)
			if err != nil {
				t.Fatal(err)
			}
			code, out, errOut := runCLI(t, "policy", "eval", "--request", f, "--check")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != len(cases) {
				t.Fatalf("%d lines for %d cases", len(lines), len(cases))
			}
			for i, l := range lines {
				decision, name, _ := strings.Cut(l, "\t")
				if decision != cases[i].Want || name != cases[i].Name {
					t.Errorf("line %d = %q, want %s\t%s", i+1, l, cases[i].Want, cases[i].Name)
				}
			}
		})
	}
}

func TestPolicyEvalCheckFails(t *testing.T) {
	t.Parallel()
	code, out, errOut := runCLI(t, "policy", "eval", "--request", "testdata/policy/wrong-want.json", "--check")
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if out != "allowed\tidentity allows\nimplicitDeny\texpectation is wrong\n" {
		t.Errorf("stdout %q", out)
	}
	if !strings.Contains(errOut, "request 2 (expectation is wrong): implicitDeny, want allowed") {
		t.Errorf("stderr %q", errOut)
	}
	// Without --check the expectation is not compared.
	if code, _, _ := runCLI(t, "policy", "eval", "--request", "testdata/policy/wrong-want.json"); code != 0 {
		t.Errorf("without --check: exit %d", code)
	}
}

func TestPolicyEvalFlags(t *testing.T) {
	t.Parallel()
	const td = "testdata/policy/"
	shirley := "arn:aws:iam::111122223333:user/ShirleyRodriguez"
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"boundary blocks iam:CreateUser (Shirley)", []string{"--principal", shirley, "--policy", td + "create-user.json", "--boundary", td + "boundary.json",
			"--action", "iam:CreateUser"}, 0, "implicitDeny\n"},
		{"identity policy without --principal applies to an example user", []string{"--policy", td + "create-user.json", "--action", "iam:CreateUser"}, 0, "allowed\n"},
		{"no boundary", []string{"--principal", shirley, "--policy", td + "create-user.json", "--action", "iam:CreateUser"}, 0, "allowed\n"},
		{"several actions and resources", []string{"--principal", shirley, "--policy", td + "boundary.json", "--action", "s3:GetObject", "--action", "iam:ListUsers",
			"--resource", "arn:aws:s3:::b/1", "--resource", "arn:aws:s3:::b/2"}, 0,
			"allowed\ts3:GetObject arn:aws:s3:::b/1\nallowed\ts3:GetObject arn:aws:s3:::b/2\nimplicitDeny\tiam:ListUsers arn:aws:s3:::b/1\nimplicitDeny\tiam:ListUsers arn:aws:s3:::b/2\n"},
		{"SCP deny", []string{"--principal", shirley, "--policy", td + "boundary.json", "--scp", td + "scp-deny-ec2.json", "--action", "ec2:RunInstances"}, 0, "explicitDeny\n"},
		{"anonymous reads a public object", []string{"--resource-policy", td + "public-bucket.json", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::site/index.html"}, 0, "allowed\n"},
		{"anonymous outside the public prefix", []string{"--resource-policy", td + "public-bucket.json", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::other/x"}, 0, "implicitDeny\n"},
		{"context single value", []string{"--principal", shirley, "--policy", td + "clean.json", "--action", "s3:ListBucket", "--resource", "arn:aws:s3:::team-bucket",
			"--context", "aws:SecureTransport=true", "--context", "s3:prefix=home/x"}, 0, "allowed\n"},
		{"context missing", []string{"--principal", shirley, "--policy", td + "clean.json", "--action", "s3:ListBucket", "--resource", "arn:aws:s3:::team-bucket"}, 0, "implicitDeny\n"},
		{"multivalued context", []string{"--principal", shirley, "--policy", td + "boundary.json", "--action", "s3:PutObject", "--context", `aws:TagKeys=["a","b"]`}, 0, "allowed\n"},
		{"bad multivalued context", []string{"--policy", td + "boundary.json", "--action", "s3:PutObject", "--context", `k=[1`}, 1, ""},
		{"invalid policy file", []string{"--policy", td + "invalid.json", "--action", "s3:GetObject"}, 1, ""},
		{"bad principal", []string{"--principal", "nobody", "--policy", td + "clean.json", "--action", "s3:GetObject"}, 1, ""},
		{"no action", []string{"--policy", td + "clean.json"}, 2, ""},
		{"request with flags", []string{"--request", td + "wrong-want.json", "--action", "s3:GetObject"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, append([]string{"policy", "eval"}, tt.args...)...)
			if code != tt.code || tt.code == 0 && out != tt.want {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q", code, out, errOut, tt.code, tt.want)
			}
		})
	}
}

func TestPolicyEvalJSON(t *testing.T) {
	t.Parallel()
	const td = "testdata/policy/"
	code, out, errOut := runCLI(t, "policy", "eval", "--json", "--principal", "arn:aws:iam::111122223333:user/a",
		"--policy", td+"lint.json", "--action", "ec2:TerminateInstances", "--resource", "arn:aws:ec2:us-east-1:111122223333:instance/i-1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []evalOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got) != 1 {
		t.Fatalf("%d results", len(got))
	}
	r := got[0]
	want := "User: arn:aws:iam::111122223333:user/a is not authorized to perform: ec2:TerminateInstances on resource: arn:aws:ec2:us-east-1:111122223333:instance/i-1 with an explicit deny in an identity-based policy"
	if r.Decision != authz.ExplicitDeny || r.Message != want || r.DeniedBy != authz.IdentityPolicy {
		t.Fatalf("result %+v", r)
	}
	if len(r.Matched) != 1 || r.Matched[0].Sid != "NoEC2" || r.Matched[0].Policy != td+"lint.json" || r.Matched[0].Statement != 4 || r.Matched[0].Start != "9:5" {
		t.Fatalf("matched %+v", r.Matched)
	}
	if r.Details["IAM Policy"] != "explicitDeny" {
		t.Fatalf("details %v", r.Details)
	}
}

func TestPolicyValidate(t *testing.T) {
	t.Parallel()
	const td = "testdata/policy/"
	tests := []struct {
		name  string
		args  []string
		code  int
		lines []string
	}{
		{"clean identity policy", []string{td + "clean.json"}, 0, []string{td + "clean.json: ok"}},
		{"warnings", []string{td + "lint.json"}, 0, []string{
			td + "lint.json:4:5: warning: allows every action on every resource (full wildcard)",
			td + `lint.json:5:5: warning: unknown action "s3:GetObjekt": Amazon S3 has no action GetObjekt`,
			td + `lint.json:5:5: warning: action "s3:Zzz*" matches no action of Amazon S3`,
			td + `lint.json:5:5: warning: unknown service prefix "foo" in action "foo:Bar"`,
			td + `lint.json:5:5: warning: unknown condition key "aws:SourceIpp"`,
			td + "lint.json:7:5: warning: Allow with NotAction allows every action not listed, including those of services added later",
			td + "lint.json:8:5: warning: statement is unreachable: statement 5 (Sid NoEC2) denies everything it allows",
		}},
		{"error with position", []string{td + "invalid.json"}, 1, []string{td + "invalid.json:1:38: error: Policy statement must contain actions."}},
		{"resource policy open to everyone", []string{"--type", "resource", td + "public-bucket.json"}, 0, []string{
			td + "public-bucket.json:4:5: warning: allows any principal, including anonymous callers, without a condition"}},
		{"resource policy validated as identity", []string{td + "public-bucket.json"}, 1, nil},
		{"trust policy with provider keys", []string{"--type", "trust", td + "trust.json"}, 0, []string{td + "trust.json: ok"}},
		{"several files", []string{td + "clean.json", td + "invalid.json"}, 1, []string{td + "clean.json: ok", td + "invalid.json:1:38: error: Policy statement must contain actions."}},
		{"protected services", []string{"--services", td + "services.yaml", td + "orders.json"}, 0, []string{
			td + `orders.json:3:3: warning: unknown action "orders:GetOrdr": Orders has no action GetOrdr`,
			td + `orders.json:3:3: warning: action "orders:Zap*" matches no action of Orders`,
			td + `orders.json:3:3: warning: unknown condition key "orders:Colour"`,
		}},
		{"protected services unknown without the file", []string{td + "orders.json"}, 0, []string{
			td + `orders.json:2:3: warning: unknown service prefix "orders" in action "orders:GetOrder"`,
			td + `orders.json:2:3: warning: unknown service prefix "orders" in action "orders:Get*"`,
			td + `orders.json:3:3: warning: unknown service prefix "orders" in action "orders:GetOrdr"`,
			td + `orders.json:3:3: warning: unknown service prefix "orders" in action "orders:Zap*"`,
			td + `orders.json:3:3: warning: unknown service prefix "orders" in condition key "orders:Status"`,
			td + `orders.json:3:3: warning: unknown service prefix "orders" in condition key "orders:Colour"`,
		}},
		{"unknown type", []string{"--type", "bucket", td + "clean.json"}, 2, nil},
		{"no file", nil, 2, nil},
		{"missing file", []string{td + "nonexistent.json"}, 1, nil},
	}
	for _, tt := range tests {
		t.Run("case="+tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, append([]string{"policy", "validate"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.code, out, errOut)
			}
			if tt.lines == nil {
				return
			}
			got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.lines, "\n") {
				t.Fatalf("output\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.lines, "\n"))
			}
		})
	}
}

func TestPolicyUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"policy"}, {"policy", "frobnicate"}} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code, out, _ := runCLI(t, "policy", "--help"); code != 0 || !strings.Contains(out, "policy eval") {
		t.Errorf("--help: exit %d, %q", code, out)
	}
	if code, _, _ := runCLI(t, "policy", "eval", "--help"); code != 0 {
		t.Errorf("eval --help: exit %d", code)
	}
}
