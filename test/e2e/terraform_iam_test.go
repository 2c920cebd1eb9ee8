package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestTerraformIAMResources applies every aws_iam_* resource and data source of HashiCorp's
// AWS provider that covers users, groups, roles, policies, access keys, identity providers
// and virtual MFA devices against Gatehouse, with the provider's default settings apart from
// the endpoints (so it validates its credentials with sts:GetCallerIdentity), re-plans
// expecting no changes, and destroys everything.
func TestTerraformIAMResources(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tf := newTerraform(t, e)
	metadata, err := filepath.Abs(filepath.Join("..", "..", "internal", "samlmeta", "testdata", "good-okta.xml"))
	if err != nil {
		t.Fatal(err)
	}
	tf.write(`
locals {
  read_iam = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["iam:Get*", "iam:List*"], Resource = "*" }] })
}
data "aws_caller_identity" "me" {}
data "aws_iam_session_context" "me" { arn = data.aws_caller_identity.me.arn }
data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = [aws_iam_user.dev.arn, "arn:aws:iam::${data.aws_caller_identity.me.account_id}:root"]
    }
  }
}

resource "aws_iam_user" "dev" {
  name = "tf-dev"
  path = "/team/"
  tags = { team = "blue", Owner = "ops" }
}
resource "aws_iam_user" "ops" { name = "tf-ops" }
resource "aws_iam_access_key" "dev" { user = aws_iam_user.dev.name }
resource "aws_iam_group" "devs" {
  name = "tf-devs"
  path = "/team/"
}
resource "aws_iam_group" "ops" { name = "tf-ops-group" }
resource "aws_iam_group_membership" "devs" {
  name  = "tf-devs-membership"
  group = aws_iam_group.devs.name
  users = [aws_iam_user.dev.name]
}
resource "aws_iam_user_group_membership" "ops" {
  user   = aws_iam_user.ops.name
  groups = [aws_iam_group.ops.name]
}
resource "aws_iam_policy" "read" {
  name        = "tf-read"
  path        = "/team/"
  description = "read IAM"
  policy      = local.read_iam
  tags        = { team = "blue" }
}
resource "aws_iam_policy" "shared" {
  name   = "tf-shared"
  policy = local.read_iam
}
resource "aws_iam_role" "app" {
  name                 = "tf-app"
  path                 = "/apps/"
  description          = "the app"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 7200
  permissions_boundary = aws_iam_policy.read.arn
  tags                 = { app = "web" }
}
resource "aws_iam_role" "exclusive" {
  name               = "tf-exclusive"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_user_policy" "dev" {
  name   = "inline"
  user   = aws_iam_user.dev.name
  policy = local.read_iam
}
resource "aws_iam_group_policy" "devs" {
  name   = "inline"
  group  = aws_iam_group.devs.id
  policy = local.read_iam
}
resource "aws_iam_role_policy" "app" {
  name   = "inline"
  role   = aws_iam_role.app.id
  policy = local.read_iam
}
resource "aws_iam_user_policy_attachment" "dev" {
  user       = aws_iam_user.dev.name
  policy_arn = aws_iam_policy.read.arn
}
resource "aws_iam_group_policy_attachment" "devs" {
  group      = aws_iam_group.devs.name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}
resource "aws_iam_role_policy_attachment" "app" {
  role       = aws_iam_role.app.name
  policy_arn = aws_iam_policy.read.arn
}
resource "aws_iam_policy_attachment" "shared" {
  name       = "tf-shared-attachment"
  policy_arn = aws_iam_policy.shared.arn
  users      = [aws_iam_user.ops.name]
  groups     = [aws_iam_group.ops.name]
}

resource "aws_iam_role_policy" "exclusive" {
  name   = "only"
  role   = aws_iam_role.exclusive.id
  policy = local.read_iam
}
resource "aws_iam_role_policies_exclusive" "exclusive" {
  role_name    = aws_iam_role.exclusive.name
  policy_names = [aws_iam_role_policy.exclusive.name]
}
resource "aws_iam_role_policy_attachments_exclusive" "exclusive" {
  role_name   = aws_iam_role.exclusive.name
  policy_arns = []
}
resource "aws_iam_user_policies_exclusive" "ops" {
  user_name    = aws_iam_user.ops.name
  policy_names = []
}
resource "aws_iam_user_policy_attachments_exclusive" "dev" {
  user_name   = aws_iam_user.dev.name
  policy_arns = [aws_iam_user_policy_attachment.dev.policy_arn]
}
resource "aws_iam_group_policies_exclusive" "devs" {
  group_name   = aws_iam_group.devs.name
  policy_names = [aws_iam_group_policy.devs.name]
}
resource "aws_iam_group_policy_attachments_exclusive" "devs" {
  group_name  = aws_iam_group.devs.name
  policy_arns = [aws_iam_group_policy_attachment.devs.policy_arn]
}

resource "aws_iam_openid_connect_provider" "ci" {
  url             = "https://token.ci.example.com"
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]
  tags            = { ci = "yes" }
}
resource "aws_iam_saml_provider" "corp" {
  name                   = "tf-corp"
  saml_metadata_document = file("` + metadata + `")
  tags                   = { sso = "okta" }
}
resource "aws_iam_virtual_mfa_device" "dev" {
  virtual_mfa_device_name = "tf-dev-mfa"
  path                    = "/team/"
  tags                    = { owner = "dev" }
}

data "aws_iam_user" "dev" { user_name = aws_iam_user.dev.name }
data "aws_iam_users" "team" {
  path_prefix = "/team/"
  depends_on  = [aws_iam_user.dev]
}
data "aws_iam_access_keys" "dev" { user = aws_iam_access_key.dev.user }
data "aws_iam_group" "devs" { group_name = aws_iam_group_membership.devs.group }
data "aws_iam_role" "app" { name = aws_iam_role.app.name }
data "aws_iam_roles" "apps" {
  path_prefix = "/apps/"
  depends_on  = [aws_iam_role.app]
}
data "aws_iam_policy" "read" { arn = aws_iam_policy.read.arn }
data "aws_iam_policy" "aws_managed" { name = "ReadOnlyAccess" }
data "aws_iam_openid_connect_provider" "ci" { arn = aws_iam_openid_connect_provider.ci.arn }
data "aws_iam_saml_provider" "corp" { arn = aws_iam_saml_provider.corp.arn }
data "aws_iam_principal_policy_simulation" "dev_reads" {
  action_names      = ["iam:GetUser", "iam:CreateUser"]
  policy_source_arn = aws_iam_user.dev.arn
  depends_on        = [aws_iam_user_policy.dev]
}

output "checks" {
  value = join("|", [
    data.aws_iam_session_context.me.issuer_arn,
    data.aws_iam_user.dev.user_id,
    join(",", sort(data.aws_iam_users.team.names)),
    tostring(length(data.aws_iam_access_keys.dev.access_keys)),
    join(",", [for u in data.aws_iam_group.devs.users : u.user_name]),
    tostring(data.aws_iam_role.app.max_session_duration),
    join(",", sort(data.aws_iam_roles.apps.names)),
    data.aws_iam_policy.read.description,
    data.aws_iam_policy.aws_managed.arn,
    join(",", data.aws_iam_openid_connect_provider.ci.client_id_list),
    data.aws_iam_saml_provider.corp.name,
    tostring(data.aws_iam_principal_policy_simulation.dev_reads.all_allowed),
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
		"arn:aws:iam::" + e.Account + ":root",
		userID(t, e.IAM, "tf-dev"),
		"tf-dev",
		"1",
		"tf-dev",
		"7200",
		"tf-app",
		"read IAM",
		"arn:aws:iam::aws:policy/ReadOnlyAccess",
		"sts.amazonaws.com",
		"tf-corp",
		"false", // the user may read IAM but not create users
	}, "|")
	if checks != want {
		t.Errorf("data sources read\n%s\nwant\n%s", checks, want)
	}
	tf.must("destroy", "-auto-approve")
	if code, out := tf.run("plan", "-detailed-exitcode"); code != 2 {
		t.Fatalf("plan after destroy exited %d, want 2 (everything to create again):\n%s", code, out)
	}
}
