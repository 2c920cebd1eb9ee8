package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/iam"
)

// runCLIIn is runCLI with stdin as standard input.
func runCLIIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	code := Main(context.Background(), env, args)
	return code, out.String(), errOut.String()
}

// TestAccountSetRootPassword: `account set-root-password` reads the password from the first
// line of standard input and sets it on the data directory while another process (here an
// App standing for the server) has it open; the root user then signs in with it there. A
// password against AWS's rules, an unknown account, no input and a missing --account are
// refused and change nothing.
func TestAccountSetRootPassword(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "account", "create", "--init", "--data-dir", dir, "--output", "json")
	if code != 0 {
		t.Fatalf("account create: exit %d: %s", code, errOut)
	}
	var creds struct{ AccountId string }
	if err := json.Unmarshal([]byte(out), &creds); err != nil || creds.AccountId == "" {
		t.Fatalf("account create output %q: %v", out, err)
	}
	account := creds.AccountId

	ctx := context.Background()
	server, err := openForCLI(ctx, Env{Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}, config.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	signIn := func(pw string) error {
		_, err := server.IAM.SignInRoot(ctx, iam.RootSignIn{Account: account, Password: pw, SourceIP: "192.0.2.1"})
		return err
	}
	if err := signIn("Root-pw-123"); !isReason(err, iam.SignInNoPassword) {
		t.Fatalf("before set-root-password: %v", err)
	}

	// Only the first line counts, without its CR LF.
	code, out, errOut = runCLIIn(t, "Root-pw-123\r\nsecond line\n", "account", "set-root-password", "--data-dir", dir, "--account", account)
	if code != 0 || out != "The root user of account "+account+" has a new console password.\n" {
		t.Fatalf("set-root-password: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if err := signIn("Root-pw-123"); err != nil {
		t.Fatalf("sign in with the new password: %v", err)
	}
	// No trailing newline is fine too.
	if code, _, errOut := runCLIIn(t, "Root-pw-456", "account", "set-root-password", "--data-dir", dir, "--account", account); code != 0 {
		t.Fatalf("a password without a newline: exit %d: %s", code, errOut)
	}
	if err := signIn("Root-pw-456"); err != nil {
		t.Fatalf("sign in with the replaced password: %v", err)
	}

	for _, tc := range []struct {
		name, stdin string
		args        []string
		code        int
		stderr      string
	}{
		{"against the rules", "password\n", []string{"--account", account}, 1,
			"gatehouse account: the password does not meet the root user's password rules: it must contain at least three of: uppercase letters (A to Z), lowercase letters (a to z), numbers (0 to 9) and the symbols ! @ # $ % ^ & * ( ) < > [ ] { } | _ + - =\n"},
		{"too short", "Ab1!\n", []string{"--account", account}, 1, "it must have from 8 to 128 characters; this one has 4"},
		{"unknown account", "Root-pw-789\n", []string{"--account", "000000000000"}, 1, "gatehouse account: account 000000000000: no such account\n"},
		{"no input", "", []string{"--account", account}, 1, "no password on standard input"},
		{"an empty line", "\nRoot-pw-789\n", []string{"--account", account}, 1, "this one has 0"},
		{"no --account", "Root-pw-789\n", nil, 2, "--account is required"},
		{"the password as an argument", "", []string{"--account", account, "Root-pw-789"}, 2, `unexpected argument "Root-pw-789"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"account", "set-root-password", "--data-dir", dir}, tc.args...)
			code, out, errOut := runCLIIn(t, tc.stdin, args...)
			if code != tc.code || out != "" || !strings.Contains(errOut, tc.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errOut, tc.code, tc.stderr)
			}
		})
	}
	if err := signIn("Root-pw-456"); err != nil {
		t.Fatalf("after the refused attempts: %v", err)
	}

	code, _, errOut = runCLIIn(t, "", "account", "set-root-password", "--help")
	if code != 0 || !strings.Contains(errOut, "first line of standard") || !strings.Contains(errOut, "-account") || !strings.Contains(errOut, "-data-dir") {
		t.Fatalf("--help: exit %d: %s", code, errOut)
	}
}

func isReason(err error, r iam.SignInFailure) bool {
	var se *iam.SignInError
	return errors.As(err, &se) && se.Reason == r
}
