#!/usr/bin/env bash
# Drives Gatehouse with the stock aws CLI: the core IAM flows and their errors. Needs
# GATEHOUSE_ENDPOINT and root credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
set -euo pipefail

source "$(dirname "$0")/lib.sh"

account=$(awsx sts get-caller-identity --query Account)
eq "caller is the root user" "$(awsx sts get-caller-identity --query Arn)" "arn:aws:iam::$account:root"

# Users.
awsx iam create-user --user-name cli-alice --path /eng/ --tags Key=team,Value=blue >/dev/null
eq "get-user arn" "$(awsx iam get-user --user-name cli-alice --query User.Arn)" "arn:aws:iam::$account:user/eng/cli-alice"
eq "get-user tag" "$(awsx iam get-user --user-name cli-alice --query 'User.Tags[0].Value')" "blue"
expect_error EntityAlreadyExists iam create-user --user-name CLI-ALICE
expect_error ValidationError iam create-user --user-name 'bad name!'
expect_error NoSuchEntity iam get-user --user-name cli-nobody
for i in 1 2 3; do awsx iam create-user --user-name "cli-page-$i" --path /page/ >/dev/null; done
# The CLI follows the markers itself; with --output text each page prints on its own line.
eq "list-users paginates (page size 1)" "$(awsx iam list-users --path-prefix /page/ --page-size 1 --query 'Users[].UserName' | tr '\t' '\n' | sort | tr '\n' ' ')" "cli-page-1 cli-page-2 cli-page-3 "
awsx iam update-user --user-name cli-page-3 --new-user-name cli-page-renamed --new-path /page/moved/ >/dev/null
eq "renamed user" "$(awsx iam get-user --user-name cli-page-renamed --query User.Path)" "/page/moved/"
expect_error NoSuchEntity iam get-user --user-name cli-page-3

# Groups.
awsx iam create-group --group-name cli-devs >/dev/null
awsx iam add-user-to-group --group-name cli-devs --user-name cli-alice
eq "group members" "$(awsx iam get-group --group-name cli-devs --query 'Users[0].UserName')" "cli-alice"
eq "groups for user" "$(awsx iam list-groups-for-user --user-name cli-alice --query 'Groups[0].GroupName')" "cli-devs"
expect_error DeleteConflict iam delete-group --group-name cli-devs

# Roles, with the trust policy decoded by the CLI.
cat >"$tmp/trust.json" <<JSON
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::$account:root"},"Action":"sts:AssumeRole"}]}
JSON
awsx iam create-role --role-name cli-deployer --assume-role-policy-document "file://$tmp/trust.json" --description "deploys" --max-session-duration 7200 >/dev/null
eq "role trust principal" "$(awsx iam get-role --role-name cli-deployer --query 'Role.AssumeRolePolicyDocument.Statement[0].Principal.AWS')" "arn:aws:iam::$account:root"
eq "role max session" "$(awsx iam get-role --role-name cli-deployer --query Role.MaxSessionDuration)" "7200"
expect_error ValidationError iam create-role --role-name "cli bad" --assume-role-policy-document "file://$tmp/trust.json"
printf '{"Version":"2012-10-17","Statement":[' >"$tmp/broken.json"
expect_error MalformedPolicyDocument iam create-role --role-name cli-broken --assume-role-policy-document "file://$tmp/broken.json"
awsx iam update-role-description --role-name cli-deployer --description "deploys things" >/dev/null
eq "role description" "$(awsx iam get-role --role-name cli-deployer --query Role.Description)" "deploys things"

# Managed policies, versions and attachments.
cat >"$tmp/read.json" <<'JSON'
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}]}
JSON
parn=$(awsx iam create-policy --policy-name cli-read --path /app/ --policy-document "file://$tmp/read.json" --query Policy.Arn)
eq "policy arn" "$parn" "arn:aws:iam::$account:policy/app/cli-read"
awsx iam create-policy-version --policy-arn "$parn" --policy-document "file://$tmp/read.json" --set-as-default >/dev/null
eq "default version" "$(awsx iam get-policy --policy-arn "$parn" --query Policy.DefaultVersionId)" "v2"
eq "version document" "$(awsx iam get-policy-version --policy-arn "$parn" --version-id v2 --query 'PolicyVersion.Document.Statement[0].Action')" "iam:Get*"
awsx iam attach-user-policy --user-name cli-alice --policy-arn "$parn"
awsx iam attach-role-policy --role-name cli-deployer --policy-arn "$parn"
awsx iam attach-role-policy --role-name cli-deployer --policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess
eq "attachment count" "$(awsx iam get-policy --policy-arn "$parn" --query Policy.AttachmentCount)" "2"
eq "attached to alice" "$(awsx iam list-attached-user-policies --user-name cli-alice --query 'AttachedPolicies[0].PolicyArn')" "$parn"
eq "entities for policy" "$(awsx iam list-entities-for-policy --policy-arn "$parn" --query 'PolicyRoles[0].RoleName')" "cli-deployer"
expect_error DeleteConflict iam delete-policy --policy-arn "$parn"
expect_error DeleteConflict iam delete-policy-version --policy-arn "$parn" --version-id v2
expect_error NoSuchEntity iam attach-user-policy --user-name cli-alice --policy-arn "arn:aws:iam::$account:policy/none"

# Inline policies.
awsx iam put-user-policy --user-name cli-alice --policy-name inline-read --policy-document "file://$tmp/read.json"
eq "inline policy document" "$(awsx iam get-user-policy --user-name cli-alice --policy-name inline-read --query 'PolicyDocument.Statement[0].Effect')" "Allow"
eq "inline policy names" "$(awsx iam list-user-policies --user-name cli-alice --query 'PolicyNames[0]')" "inline-read"
echo 'not json' >"$tmp/notjson.json"
expect_error MalformedPolicyDocument iam put-user-policy --user-name cli-alice --policy-name bad --policy-document "file://$tmp/notjson.json"

# Permissions boundary.
awsx iam put-user-permissions-boundary --user-name cli-alice --permissions-boundary "$parn"
eq "boundary" "$(awsx iam get-user --user-name cli-alice --query User.PermissionsBoundary.PermissionsBoundaryArn)" "$parn"

# Tags.
awsx iam tag-user --user-name cli-alice --tags Key=env,Value=prod
awsx iam untag-user --user-name cli-alice --tag-keys team
eq "tags after tag and untag" "$(awsx iam list-user-tags --user-name cli-alice --query 'Tags[*].Key')" "env"

# Access keys: the new key signs requests; an inactive key is refused.
read -r kid secret < <(awsx iam create-access-key --user-name cli-alice --query 'AccessKey.[AccessKeyId,SecretAccessKey]')
[[ "$kid" == AKIA* ]] || fail "access key id $kid does not start with AKIA"
eq "key listed" "$(awsx iam list-access-keys --user-name cli-alice --query 'AccessKeyMetadata[0].Status')" "Active"
eq "user key identity" "$(AWS_ACCESS_KEY_ID=$kid AWS_SECRET_ACCESS_KEY=$secret awsx sts get-caller-identity --query Arn)" "arn:aws:iam::$account:user/eng/cli-alice"
awsx iam update-access-key --user-name cli-alice --access-key-id "$kid" --status Inactive
if out=$(AWS_ACCESS_KEY_ID=$kid AWS_SECRET_ACCESS_KEY=$secret awsx sts get-caller-identity 2>&1); then fail "inactive key accepted"; fi
[[ "$out" == *"(InvalidClientTokenId)"* ]] || fail "inactive key: want InvalidClientTokenId, got $out"
echo "ok  inactive key refused"
if out=$(AWS_ACCESS_KEY_ID=$kid AWS_SECRET_ACCESS_KEY=wrong-secret awsx sts get-caller-identity 2>&1); then fail "wrong secret accepted"; fi
expect_error DeleteConflict iam delete-user --user-name cli-alice

# Clean up in AWS's order; each delete must now succeed.
awsx iam delete-access-key --user-name cli-alice --access-key-id "$kid"
awsx iam delete-user-policy --user-name cli-alice --policy-name inline-read
awsx iam delete-user-permissions-boundary --user-name cli-alice
awsx iam detach-user-policy --user-name cli-alice --policy-arn "$parn"
awsx iam detach-role-policy --role-name cli-deployer --policy-arn "$parn"
awsx iam detach-role-policy --role-name cli-deployer --policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess
awsx iam remove-user-from-group --group-name cli-devs --user-name cli-alice
awsx iam delete-group --group-name cli-devs
awsx iam delete-user --user-name cli-alice
awsx iam delete-role --role-name cli-deployer
awsx iam delete-policy-version --policy-arn "$parn" --version-id v1
awsx iam delete-policy --policy-arn "$parn"
expect_error NoSuchEntity iam get-policy --policy-arn "$parn"
echo "aws CLI flows passed"
