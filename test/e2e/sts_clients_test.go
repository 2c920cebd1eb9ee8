package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestSTSClientScripts runs the STS flows of clients/ with the aws CLI and boto3 against a
// gatehouse process, signed as the root user of its first account: assume-role and calls
// with the returned credentials, role profiles, session and federation tokens, and the
// errors of bad temporary credentials.
func TestSTSClientScripts(t *testing.T) {
	t.Parallel()
	scripts := []struct {
		name string
		cmd  []string
	}{
		{"client=aws-cli", []string{"bash", "clients/sts_awscli.sh"}},
		{"client=boto3", []string{"python3", "clients/sts_boto3.py"}},
	}
	p := startProcess(t, t.TempDir())
	for _, s := range scripts {
		t.Run(s.name, func(t *testing.T) {
			cmd := exec.Command(s.cmd[0], s.cmd[1:]...)
			home := t.TempDir()
			cmd.Env = append(os.Environ(),
				"GATEHOUSE_ENDPOINT="+p.URL,
				"AWS_ACCESS_KEY_ID="+testRoot.KeyID,
				"AWS_SECRET_ACCESS_KEY="+testRoot.Secret,
				"AWS_DEFAULT_REGION=us-east-1",
				// Role profiles make the clients call STS themselves; they go to Gatehouse too.
				"AWS_ENDPOINT_URL="+p.URL,
				"AWS_CONFIG_FILE="+filepath.Join(home, "config"),
				"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
				"AWS_PAGER=",
				"HOME="+home,
			)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %v\n%s", s.cmd, err, out)
			}
			t.Logf("%s", out)
		})
	}
}
