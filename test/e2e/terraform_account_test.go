package e2e

import (
	"strings"
	"testing"
)

// TestTerraformAccountResources applies the aws_iam_* resources and data sources of HashiCorp's
// AWS provider for instance profiles, service-linked roles, the account alias and the STS
// preferences against Gatehouse, re-plans expecting no changes, and destroys everything.
// aws_iam_organizations_features needs AWS Organizations, which Gatehouse does not provide:
// applying it fails with the error IAM gives an account outside an organization.
func TestTerraformAccountResources(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tf := newTerraform(t, e)
	const alias = "tf-alias"
	tf.write(`
data "aws_iam_policy_document" "ec2" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}
resource "aws_iam_role" "web" {
  name               = "tf-web"
  assume_role_policy = data.aws_iam_policy_document.ec2.json
}
resource "aws_iam_instance_profile" "web" {
  name = "tf-web-profile"
  path = "/apps/"
  role = aws_iam_role.web.name
  tags = { app = "web" }
}
resource "aws_iam_instance_profile" "empty" {
  name_prefix = "tf-empty-"
}
resource "aws_iam_service_linked_role" "autoscaling" {
  aws_service_name = "autoscaling.amazonaws.com"
  custom_suffix    = "tf"
  description      = "scaling for tf"
  tags             = { owner = "tf" }
}
resource "aws_iam_account_alias" "me" {
  account_alias = "` + alias + `"
}
resource "aws_iam_security_token_service_preferences" "me" {
  global_endpoint_token_version = "v2Token"
}

data "aws_iam_instance_profile" "web" { name = aws_iam_instance_profile.web.name }
data "aws_iam_instance_profiles" "web" { role_name = aws_iam_instance_profile.web.role }
data "aws_iam_account_alias" "me" { depends_on = [aws_iam_account_alias.me] }

output "checks" {
  value = join("|", [
    data.aws_iam_instance_profile.web.role_name,
    data.aws_iam_instance_profile.web.path,
    join(",", data.aws_iam_instance_profiles.web.names),
    aws_iam_service_linked_role.autoscaling.name,
    aws_iam_service_linked_role.autoscaling.path,
    data.aws_iam_account_alias.me.account_alias,
    aws_iam_security_token_service_preferences.me.global_endpoint_token_version,
  ])
}
`)
	tf.must("init")
	tf.must("apply", "-auto-approve")
	if code, out := tf.run("plan", "-detailed-exitcode"); code != 0 {
		t.Fatalf("plan after apply exited %d, want 0 (no changes):\n%s", code, out)
	}
	checks := strings.TrimSpace(tf.must("output", "-raw", "checks"))
	want := strings.Join([]string{
		"tf-web",
		"/apps/",
		"tf-web-profile",
		"AWSServiceRoleForAutoScaling_tf",
		"/aws-service-role/autoscaling.amazonaws.com/",
		alias,
		"v2Token",
	}, "|")
	if checks != want {
		t.Errorf("data sources read\n%s\nwant\n%s", checks, want)
	}
	tf.must("destroy", "-auto-approve")
	if code, out := tf.run("plan", "-detailed-exitcode"); code != 2 {
		t.Fatalf("plan after destroy exited %d, want 2 (everything to create again):\n%s", code, out)
	}

	tf.write(`resource "aws_iam_organizations_features" "root" { enabled_features = ["RootCredentialsManagement"] }`)
	code, out := tf.run("apply", "-auto-approve")
	if code == 0 || !strings.Contains(out, "OrganizationNotFoundException") {
		t.Fatalf("apply of aws_iam_organizations_features exited %d, want a failure naming OrganizationNotFoundException:\n%s", code, out)
	}
}
