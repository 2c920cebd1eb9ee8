package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noDeployment is the refusal of a command run on a data directory without a database.
func noDeployment(command, dir string, offersInit bool) string {
	msg := "gatehouse " + command + ": no Gatehouse deployment in " + dir + " (no gatehouse.db); run gatehouse serve there first"
	if offersInit {
		msg += ", or pass --init to create one"
	}
	return msg + "\n"
}

// TestDataDirRefused: every command that opens a data directory, other than serve, refuses
// one without a database, names the directory, and leaves it as it was: no directory, database
// or master key is created.
func TestDataDirRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		args       []string
		stdin      string
		offersInit bool
	}{
		{"account create", []string{"account", "create"}, "", true},
		{"account list", []string{"account", "list", "--output", "json"}, "", true},
		{"account set-root-password", []string{"account", "set-root-password", "--account", "123456789012"}, "Root-pw-123\n", true},
		{"backup", []string{"backup", "--to", "unused.db"}, "", false},
		{"export", []string{"export", "--to", "unused.jsonl"}, "", false},
	} {
		for _, existing := range []bool{false, true} {
			name := tc.name + "/missing directory"
			if existing {
				name = tc.name + "/empty directory"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				dir := filepath.Join(t.TempDir(), "gatehouse-data")
				if existing {
					if err := os.Mkdir(dir, 0o700); err != nil {
						t.Fatal(err)
					}
				}
				code, out, errOut := runCLIIn(t, tc.stdin, append(tc.args, "--data-dir", dir)...)
				command, _, _ := strings.Cut(tc.name, " ")
				if want := noDeployment(command, dir, tc.offersInit); code != 1 || out != "" || errOut != want {
					t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 and stderr %q", code, out, errOut, want)
				}
				entries, err := os.ReadDir(dir)
				switch {
				case !existing && !errors.Is(err, os.ErrNotExist):
					t.Errorf("the refused command created %s: %v", dir, err)
				case existing && (err != nil || len(entries) != 0):
					t.Errorf("the refused command left %v in %s (%v)", entries, dir, err)
				}
			})
		}
	}
}

// TestDataDirRefusedNamesAbsolutePath: run from a folder without a deployment and without
// --data-dir, `account list` names the absolute path of ./gatehouse-data it looked at.
func TestDataDirRefusedNamesAbsolutePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	code, out, errOut := runCLI(t, "account", "list")
	abs, err := filepath.Abs("gatehouse-data")
	if err != nil {
		t.Fatal(err)
	}
	if want := noDeployment("account", abs, true); code != 1 || out != "" || errOut != want {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 and stderr %q", code, out, errOut, want)
	}
	if _, err := os.Stat(abs); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("account list created %s: %v", abs, err)
	}
}

// TestDataDirInit: --init creates the deployment (database and master key, mode 0600), after
// which the commands open it without --init and see what the others did.
func TestDataDirInit(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "gatehouse-data")
	code, out, errOut := runCLI(t, "account", "list", "--init", "--data-dir", dir, "--output", "json")
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("account list --init: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, f := range []string{"gatehouse.db", "master.key"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("after --init: %v", err)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "master.key")); err == nil && st.Mode().Perm() != 0o600 {
		t.Errorf("master.key mode %v, want 0600", st.Mode().Perm())
	}
	code, out, errOut = runCLI(t, "account", "create", "--data-dir", dir, "--output", "json", "--account-id", "111122223333")
	if code != 0 {
		t.Fatalf("account create on the initialised directory: exit %d: %s", code, errOut)
	}
	var c struct{ AccountId string }
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.AccountId != "111122223333" {
		t.Fatalf("account create output %q: %v", out, err)
	}
	// --init on an existing deployment opens it, changing nothing.
	code, out, errOut = runCLI(t, "account", "list", "--init", "--data-dir", dir)
	if code != 0 || !strings.HasPrefix(out, "111122223333  ") || strings.Count(out, "\n") != 1 {
		t.Fatalf("account list: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestLogFormat: --log-format takes text or json, on the commands that log; anything else is
// a usage error.
func TestLogFormat(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"serve", "--log-format", "xml"},
		{"account", "list", "--log-format", "xml"},
		{"bench", "--endpoint", "http://127.0.0.1:1", "--log-format", "xml"},
	} {
		code, _, errOut := runCLI(t, args...)
		if code != 2 || !strings.Contains(errOut, `invalid value "xml" for flag -log-format: must be text or json`) {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	for _, tc := range []struct{ format, want string }{
		{"json", `{"time":`},
		{"text", `time=`},
	} {
		var b bytes.Buffer
		newLogger(&b, tc.format, 0).Info("hello", "k", "v")
		if !strings.HasPrefix(b.String(), tc.want) || !strings.Contains(b.String(), "hello") {
			t.Errorf("%s logger wrote %q", tc.format, b.String())
		}
	}
}
