package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestEnforcementClientScripts checks policy enforcement with the aws CLI against a gatehouse
// process: a user without policies, a read-only user, an explicit Deny beating
// AdministratorAccess and a permissions boundary capping it (clients/enforcement_awscli.sh).
func TestEnforcementClientScripts(t *testing.T) {
	t.Parallel()
	p := startProcess(t, t.TempDir())
	cmd := exec.Command("bash", "clients/enforcement_awscli.sh")
	home := t.TempDir()
	cmd.Env = append(os.Environ(),
		"GATEHOUSE_ENDPOINT="+p.URL,
		"AWS_ACCESS_KEY_ID="+testRoot.KeyID,
		"AWS_SECRET_ACCESS_KEY="+testRoot.Secret,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"AWS_PAGER=",
		"HOME="+home,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("enforcement_awscli.sh: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
