#!/usr/bin/env bash
# Drives Gatehouse's instance profiles, service-linked roles and ListPoliciesGrantingServiceAccess
# with the stock aws CLI: create/get/list by path in pages, the one-role limit, profiles of a
# role, tags, the refused deletions, iam:PassRole for a user adding a role; service-linked
# roles with their path, trust policy and suffix rules, the refused ordinary edits, the deletion
# task; and which policies grant a user access to a service. Refused requests change nothing.
# Needs GATEHOUSE_ENDPOINT and root credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
set -euo pipefail

source "$(dirname "$0")/lib.sh"

account=$(awsx sts get-caller-identity --query Account)
trust='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
profiles() { awsx iam list-instance-profiles --query 'InstanceProfiles[].[Arn,join(`,`,Roles[].RoleName)]' | tr '\t\n' ' ;'; }

# Instance profiles.
awsx iam create-role --role-name cli-web --assume-role-policy-document "$trust" >/dev/null
awsx iam create-role --role-name cli-other --assume-role-policy-document "$trust" >/dev/null
arn=$(awsx iam create-instance-profile --instance-profile-name cli-profile --path /cli/ --tags Key=team,Value=web --query InstanceProfile.Arn)
eq "instance profile arn" "$arn" "arn:aws:iam::$account:instance-profile/cli/cli-profile"
for i in 1 2 3; do awsx iam create-instance-profile --instance-profile-name "cli-page-$i" --path /cli/pages/ >/dev/null; done
# The CLI pages by itself; with --page-size 1 it follows the markers and prints a line a page.
eq "list by path prefix in pages" "$(awsx iam list-instance-profiles --path-prefix /cli/pages/ --page-size 1 --query 'InstanceProfiles[].InstanceProfileName')" "cli-page-1
cli-page-2
cli-page-3"
names() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(p["InstanceProfileName"] for p in d["InstanceProfiles"]), "next" if d.get("NextToken") else "end")'; }
first=$(aws --endpoint-url "$ep" --output json iam list-instance-profiles --path-prefix /cli/ --max-items 1)
eq "first page of one" "$(names <<<"$first")" "cli-page-1 next"
token=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["NextToken"])' <<<"$first")
eq "second page after the CLI's NextToken" "$(aws --endpoint-url "$ep" --output json iam list-instance-profiles --path-prefix /cli/ --max-items 1 --starting-token "$token" | names)" "cli-page-2 next"

awsx iam add-role-to-instance-profile --instance-profile-name cli-profile --role-name cli-web
eq "role in the profile" "$(awsx iam get-instance-profile --instance-profile-name cli-profile --query 'InstanceProfile.Roles[].Arn')" "arn:aws:iam::$account:role/cli-web"
before=$(profiles)
# AWS's texts: internal/iam/instance_profiles_test.go names the sources.
out=$(awsx iam add-role-to-instance-profile --instance-profile-name cli-profile --role-name cli-other 2>&1 || true)
[[ "$out" == *"(LimitExceeded)"*"Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1" ]] || fail "second role: $out"
echo "ok  one role per instance profile"
expect_error LimitExceeded iam add-role-to-instance-profile --instance-profile-name cli-profile --role-name cli-web
expect_error NoSuchEntity iam add-role-to-instance-profile --instance-profile-name cli-nope --role-name cli-web
out=$(awsx iam delete-instance-profile --instance-profile-name cli-profile 2>&1 || true)
[[ "$out" == *"(DeleteConflict)"*"Cannot delete entity, must remove roles from instance profile first." ]] || fail "delete profile with role: $out"
echo "ok  profile with a role is not deleted"
expect_error DeleteConflict iam delete-role --role-name cli-web
expect_error NoSuchEntity iam remove-role-from-instance-profile --instance-profile-name cli-profile --role-name cli-other
expect_error EntityAlreadyExists iam create-instance-profile --instance-profile-name CLI-PROFILE
expect_error ValidationError iam create-instance-profile --instance-profile-name cli-x --path /no-end
eq "refused requests changed nothing" "$(profiles)" "$before"

awsx iam add-role-to-instance-profile --instance-profile-name cli-page-2 --role-name cli-web
eq "profiles of the role" "$(awsx iam list-instance-profiles-for-role --role-name cli-web --page-size 1 --query 'InstanceProfiles[].InstanceProfileName')" "cli-page-2
cli-profile"
awsx iam tag-instance-profile --instance-profile-name cli-profile --tags Key=Env,Value=prod Key=a,Value=1
awsx iam untag-instance-profile --instance-profile-name cli-profile --tag-keys team
eq "profile tags sorted by key" "$(awsx iam list-instance-profile-tags --instance-profile-name cli-profile --query 'Tags[].Key')" "Env	a"

# A user needs iam:PassRole on the role, passed to EC2, to add it to a profile.
awsx iam create-user --user-name cli-ops >/dev/null
key=$(awsx iam create-access-key --user-name cli-ops --query 'AccessKey.[AccessKeyId,SecretAccessKey]' | tr '\t' ' ')
as_ops() { AWS_ACCESS_KEY_ID=${key% *} AWS_SECRET_ACCESS_KEY=${key#* } "$@"; }
awsx iam put-user-policy --user-name cli-ops --policy-name p --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:AddRoleToInstanceProfile","iam:RemoveRoleFromInstanceProfile"],"Resource":"*"}]}'
awsx iam remove-role-from-instance-profile --instance-profile-name cli-page-2 --role-name cli-web
before=$(profiles)
out=$(as_ops awsx iam add-role-to-instance-profile --instance-profile-name cli-page-3 --role-name cli-other 2>&1 || true)
[[ "$out" == *"(AccessDenied)"*": User: arn:aws:iam::$account:user/cli-ops is not authorized to perform: iam:PassRole on resource: arn:aws:iam::$account:role/cli-other because no identity-based policy allows the iam:PassRole action" ]] ||
  fail "add without PassRole: $out"
echo "ok  add without PassRole denied"
eq "a denied add changed nothing" "$(profiles)" "$before"
awsx iam put-user-policy --user-name cli-ops --policy-name pass --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}}]}'
as_ops awsx iam add-role-to-instance-profile --instance-profile-name cli-page-3 --role-name cli-other
eq "added with PassRole for EC2" "$(awsx iam get-instance-profile --instance-profile-name cli-page-3 --query 'InstanceProfile.Roles[].RoleName')" "cli-other"
as_ops awsx iam remove-role-from-instance-profile --instance-profile-name cli-page-3 --role-name cli-other
awsx iam remove-role-from-instance-profile --instance-profile-name cli-profile --role-name cli-web
awsx iam delete-instance-profile --instance-profile-name cli-profile
expect_error NoSuchEntity iam get-instance-profile --instance-profile-name cli-profile

# Service-linked roles.
slr=$(awsx --output json iam create-service-linked-role --aws-service-name autoscaling.amazonaws.com --description scales)
eq "service-linked role" "$(python3 -c 'import json,sys; r=json.load(sys.stdin)["Role"]; print(r["Path"], r["RoleName"], r["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"])' <<<"$slr")" \
  "/aws-service-role/autoscaling.amazonaws.com/ AWSServiceRoleForAutoScaling autoscaling.amazonaws.com"
eq "its policy" "$(awsx iam list-attached-role-policies --role-name AWSServiceRoleForAutoScaling --query 'AttachedPolicies[].PolicyArn')" \
  "arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy"
eq "with a custom suffix" "$(awsx iam create-service-linked-role --aws-service-name autoscaling.amazonaws.com --custom-suffix web --query Role.RoleName)" "AWSServiceRoleForAutoScaling_web"
roles() { awsx iam list-roles --query 'Roles[].Arn' | tr '\t' ' '; }
before=$(roles)
out=$(awsx iam create-service-linked-role --aws-service-name es.amazonaws.com --custom-suffix x 2>&1 || true)
[[ "$out" == *"(InvalidInput)"*"Custom suffix is not allowed for es.amazonaws.com" ]] || fail "suffix for es: $out"
echo "ok  suffix refused for es.amazonaws.com"
out=$(awsx iam create-service-linked-role --aws-service-name autoscaling.amazonaws.com 2>&1 || true)
[[ "$out" == *"(InvalidInput)"*"Service role name AWSServiceRoleForAutoScaling has been taken in this account, please try a different suffix." ]] || fail "taken: $out"
echo "ok  taken name refused"
expect_error InvalidInput iam create-service-linked-role --aws-service-name example.com
expect_error InvalidInput iam create-role --role-name cli-fake --path /aws-service-role/ecs.amazonaws.com/ --assume-role-policy-document "$trust"
out=$(awsx iam delete-role --role-name AWSServiceRoleForAutoScaling 2>&1 || true)
[[ "$out" == *"(UnmodifiableEntity)"*"Cannot perform the operation on the protected role 'AWSServiceRoleForAutoScaling' - this role is only modifiable by AWS" ]] || fail "delete-role: $out"
echo "ok  delete-role refused on a service-linked role"
expect_error UnmodifiableEntity iam attach-role-policy --role-name AWSServiceRoleForAutoScaling --policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess
expect_error UnmodifiableEntity iam add-role-to-instance-profile --instance-profile-name cli-page-1 --role-name AWSServiceRoleForAutoScaling
expect_error InvalidInput iam delete-service-linked-role --role-name cli-web
eq "refused requests created and deleted no role" "$(roles)" "$before"
task=$(awsx iam delete-service-linked-role --role-name AWSServiceRoleForAutoScaling --query DeletionTaskId)
[[ "$task" == task/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling/* ]] || fail "task id $task"
eq "deletion status" "$(awsx iam get-service-linked-role-deletion-status --deletion-task-id "$task" --query Status)" "SUCCEEDED"
expect_error NoSuchEntity iam get-role --role-name AWSServiceRoleForAutoScaling
expect_error InvalidInput iam get-service-linked-role-deletion-status --deletion-task-id not-a-task

# Which policies grant a user access to a service (the CLI's documented example, answered).
awsx iam create-user --user-name sofia >/dev/null
awsx iam put-user-policy --user-name sofia --policy-name Grant-Sofia-Access-To-CodeCommit --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"codecommit:*","Resource":"*"}]}'
awsx iam create-group --group-name cli-readers >/dev/null
awsx iam add-user-to-group --group-name cli-readers --user-name sofia
awsx iam attach-group-policy --group-name cli-readers --policy-arn arn:aws:iam::aws:policy/IAMReadOnlyAccess
got=$(awsx iam list-policies-granting-service-access --arn "arn:aws:iam::$account:user/sofia" --service-namespaces codecommit iam \
  --query 'PoliciesGrantingServiceAccess[].[ServiceNamespace,join(`,`,Policies[].join(`/`,[PolicyName,PolicyType,EntityType||PolicyArn]))]')
eq "policies granting service access" "$got" "codecommit	Grant-Sofia-Access-To-CodeCommit/INLINE/USER
iam	IAMReadOnlyAccess/MANAGED/arn:aws:iam::aws:policy/IAMReadOnlyAccess"
eq "not truncated" "$(awsx iam list-policies-granting-service-access --arn "arn:aws:iam::$account:user/sofia" --service-namespaces s3 --query IsTruncated)" "False"
expect_error NoSuchEntity iam list-policies-granting-service-access --arn "arn:aws:iam::$account:user/ghost" --service-namespaces s3
expect_error InvalidInput iam list-policies-granting-service-access --arn "arn:aws:iam::$account:policy/cli-x" --service-namespaces s3
out=$(as_ops awsx iam list-policies-granting-service-access --arn "arn:aws:iam::$account:user/sofia" --service-namespaces s3 2>&1 || true)
[[ "$out" == *"(AccessDenied)"*"is not authorized to perform: iam:ListPoliciesGrantingServiceAccess on resource: arn:aws:iam::$account:user/sofia"* ]] || fail "ops lists sofia's policies: $out"
echo "ok  a user without permission is denied"
echo "profiles_awscli: all checks passed"
