package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestClientScripts runs the flows of clients/ with the aws CLI and boto3, each against its
// own gatehouse process, signed as the root user of its first account.
func TestClientScripts(t *testing.T) {
	t.Parallel()
	scripts := []struct {
		name string
		cmd  []string
	}{
		// The core IAM flows and their errors.
		{"flows=iam client=aws-cli", []string{"bash", "clients/awscli.sh"}},
		{"flows=iam client=boto3", []string{"python3", "clients/boto3_flows.py"}},
		// Assume-role and calls with the returned credentials, role profiles, session and
		// federation tokens, and the errors of bad temporary credentials.
		{"flows=sts client=aws-cli", []string{"bash", "clients/sts_awscli.sh"}},
		{"flows=sts client=boto3", []string{"python3", "clients/sts_boto3.py"}},
		// A user without policies, a read-only user, an explicit Deny beating
		// AdministratorAccess and a permissions boundary capping it.
		{"flows=enforcement client=aws-cli", []string{"bash", "clients/enforcement_awscli.sh"}},
		{"flows=escalation client=boto3", []string{"python3", "clients/escalation_boto3.py"}},
		// Trust policies bound by unique id, sessions of deleted principals, federation limits
		// and another account's resources.
		{"flows=principals client=boto3", []string{"python3", "clients/principals_boto3.py"}},
		// Server and signing certificates, SSH public keys and service-specific credentials.
		{"flows=certificates client=aws-cli", []string{"bash", "clients/certificates_awscli.sh"}},
		{"flows=certificates client=boto3", []string{"python3", "clients/certificates_boto3.py"}},
		// Console passwords and the account password policy, their errors, ChangePassword by
		// the user itself with the account-level grant and with IAMUserChangePassword.
		{"flows=passwords client=aws-cli", []string{"bash", "clients/passwords_awscli.sh"}},
		{"flows=passwords client=boto3", []string{"python3", "clients/passwords_boto3.py"}},
		// Instance profiles, service-linked roles and ListPoliciesGrantingServiceAccess.
		{"flows=profiles client=aws-cli", []string{"bash", "clients/profiles_awscli.sh"}},
		{"flows=profiles client=boto3", []string{"python3", "clients/profiles_boto3.py"}},
		// The account alias, GetAccountSummary and SetSecurityTokenServicePreferences.
		{"flows=account client=aws-cli", []string{"bash", "clients/account_awscli.sh"}},
		{"flows=account client=boto3", []string{"python3", "clients/account_boto3.py"}},
		// The credential report and GetAccountAuthorizationDetails: states, CSV columns,
		// filters, paging and denied calls.
		{"flows=reports client=aws-cli", []string{"bash", "clients/reports_awscli.sh"}},
		{"flows=reports client=boto3", []string{"python3", "clients/reports_boto3.py"}},
	}
	for _, s := range scripts {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			p := startProcess(t, t.TempDir())
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
