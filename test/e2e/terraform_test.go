package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tfMirror is where these machines keep HashiCorp's AWS provider (a filesystem mirror, so
// Terraform needs no registry); GATEHOUSE_TF_MIRROR overrides it.
func tfMirror() string {
	if d := os.Getenv("GATEHOUSE_TF_MIRROR"); d != "" {
		return d
	}
	return "/opt/tf-plugins"
}

// terraform is a Terraform working directory whose AWS provider talks to e.
type terraform struct {
	t   *testing.T
	dir string
	env []string
	url string
}

func newTerraform(t *testing.T, e *env) *terraform {
	t.Helper()
	if _, err := exec.LookPath("terraform"); err != nil {
		t.Skip("terraform is not installed")
	}
	if _, err := os.Stat(filepath.Join(tfMirror(), "registry.terraform.io/hashicorp/aws")); err != nil {
		t.Skipf("no AWS provider in the mirror %s", tfMirror())
	}
	dir := t.TempDir()
	rc := `provider_installation {
  filesystem_mirror {
    path    = "` + tfMirror() + `"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct { exclude = ["registry.terraform.io/hashicorp/aws"] }
}
`
	if err := os.WriteFile(filepath.Join(dir, "terraformrc"), []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	tf := &terraform{t: t, dir: dir, url: e.URL, env: append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+filepath.Join(dir, "terraformrc"), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1",
		"AWS_ACCESS_KEY_ID="+e.Root.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+e.Root.SecretAccessKey,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")}
	return tf
}

// write sets the configuration: the provider block pointing at Gatehouse, then resources.
func (tf *terraform) write(resources string) {
	tf.t.Helper()
	cfg := `terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {
  region                  = "us-east-1"
  skip_metadata_api_check = true
  endpoints {
    iam = "` + tf.url + `"
    sts = "` + tf.url + `"
  }
}
` + resources
	if err := os.WriteFile(filepath.Join(tf.dir, "main.tf"), []byte(cfg), 0o600); err != nil {
		tf.t.Fatal(err)
	}
}

// run runs terraform with args and returns its exit code and output.
func (tf *terraform) run(args ...string) (int, string) {
	tf.t.Helper()
	flags := []string{"-no-color"}
	if args[0] != "output" {
		flags = append(flags, "-input=false")
	}
	cmd := exec.Command("terraform", append(args[:1:1], append(flags, args[1:]...)...)...)
	cmd.Dir, cmd.Env = tf.dir, tf.env
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		tf.t.Fatalf("terraform %v: %v", args, err)
	}
	return 0, string(out)
}

// must runs terraform and fails the test unless it exits 0.
func (tf *terraform) must(args ...string) string {
	tf.t.Helper()
	code, out := tf.run(args...)
	if code != 0 {
		tf.t.Fatalf("terraform %v exited %d:\n%s", args, code, out)
	}
	return out
}

// TestTerraformTrustPrincipals: Terraform's aws_iam_role sees trust policies as AWS shows
// them. A role trusting a user has no drift; replacing the user (delete, then create with the
// same name) breaks the binding as in AWS, so the next plan shows the trust policy's drift
// (the bare id of the old user), and applying it binds the new user. (A principal that does
// not exist is not tried here: the provider retries "Invalid principal in policy" for two
// minutes, IAM's propagation delay, before it reports the error.)
func TestTerraformTrustPrincipals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tf := newTerraform(t, e)
	tf.write(`
resource "aws_iam_user" "alice" { name = "tf-alice" }
resource "aws_iam_role" "deployer" {
  name = "tf-deployer"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { AWS = aws_iam_user.alice.arn } }]
  })
}
`)
	tf.must("init")
	tf.must("apply", "-auto-approve")
	if code, out := tf.run("plan", "-detailed-exitcode"); code != 0 {
		t.Fatalf("plan after apply exited %d, want 0 (no drift):\n%s", code, out)
	}
	oldID := userID(t, e.IAM, "tf-alice")

	tf.must("apply", "-auto-approve", "-replace=aws_iam_user.alice")
	if got, want := trustOf(t, e.IAM, "tf-deployer"), oldID; !strings.Contains(got, `"`+want+`"`) {
		t.Fatalf("after replacing the user the trust policy shows %s, want the old id %s", got, want)
	}
	code, out := tf.run("plan", "-detailed-exitcode")
	if code != 2 || !strings.Contains(out, oldID) {
		t.Fatalf("plan after replacing the user exited %d, want 2 with the drift of %s:\n%s", code, oldID, out)
	}
	tf.must("apply", "-auto-approve")
	if code, out := tf.run("plan", "-detailed-exitcode"); code != 0 {
		t.Fatalf("plan after re-applying exited %d, want 0:\n%s", code, out)
	}
	arn := "arn:aws:iam::" + e.Account + ":user/tf-alice"
	if got := trustOf(t, e.IAM, "tf-deployer"); !strings.Contains(got, `"`+arn+`"`) {
		t.Fatalf("re-applied trust policy shows %s", got)
	}
}
