#!/usr/bin/env bash
# Drives the credential report and GetAccountAuthorizationDetails with the stock aws CLI: the
# report's states (STARTED, then COMPLETE; IAM User Guide "Getting credential reports for your
# AWS account"), its CSV columns, ReportNotPresent before any report (IAM API Reference,
# GetCredentialReport), each --filter and paging of the authorization details, and a denied
# call that changes nothing. Needs GATEHOUSE_ENDPOINT and root credentials in
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
account=$(awsx sts get-caller-identity --query Account)
as_user() { AWS_ACCESS_KEY_ID=$ukey AWS_SECRET_ACCESS_KEY=$usecret "$@"; }

expect_error ReportNotPresent iam get-credential-report
awsx iam create-user --user-name cli-auditor >/dev/null
read -r ukey usecret < <(awsx iam create-access-key --user-name cli-auditor --query 'AccessKey.[AccessKeyId,SecretAccessKey]')
if out=$(as_user awsx iam generate-credential-report 2>&1); then fail "a user without policies generated the report"; fi
[[ "$out" == *"(AccessDenied)"*"iam:GenerateCredentialReport"* ]] || fail "denied generate: $out"
echo "ok  error AccessDenied from generate-credential-report"
expect_error ReportNotPresent iam get-credential-report

awsx iam create-user --user-name cli-alice --path /eng/ >/dev/null
awsx iam create-login-profile --user-name cli-alice --password 'Correct-Horse-9' >/dev/null
awsx iam create-access-key --user-name cli-alice >/dev/null

eq "first generate" "$(awsx iam generate-credential-report --query '[State,Description]' | tr '\t' '|')" \
  "STARTED|No report exists. Starting a new report generation task"
eq "second generate" "$(awsx iam generate-credential-report --query State)" "COMPLETE"
eq "report format" "$(awsx iam get-credential-report --query ReportFormat)" "text/csv"
awsx iam get-credential-report --query Content | base64 -d >"$tmp/report.csv"
eq "header" "$(head -1 "$tmp/report.csv")" \
  "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
eq "row order" "$(tail -n +2 "$tmp/report.csv" | cut -d, -f1 | tr '\n' ' ')" "<root_account> cli-alice cli-auditor "
eq "root password columns" "$(grep '^<root_account>,' "$tmp/report.csv" | cut -d, -f2,4-8)" \
  "arn:aws:iam::$account:root,not_supported,no_information,not_supported,not_supported,false"
alice=$(grep '^cli-alice,' "$tmp/report.csv")
created=$(awsx iam get-user --user-name cli-alice --query User.CreateDate)
eq "alice arn" "$(cut -d, -f2 <<<"$alice")" "arn:aws:iam::$account:user/eng/cli-alice"
eq "alice user_creation_time" "$(cut -d, -f3 <<<"$alice")" "${created%Z}+00:00"
eq "alice password" "$(cut -d, -f4,5,7,8 <<<"$alice")" "true,no_information,N/A,false"
eq "alice keys" "$(cut -d, -f9,11,14,15,19,21 <<<"$alice")" "true,N/A,false,N/A,false,false"
eq "auditor without password" "$(grep '^cli-auditor,' "$tmp/report.csv" | cut -d, -f4-7)" "false,N/A,N/A,N/A"

# Authorization details.
doc='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
awsx iam create-group --group-name cli-devs >/dev/null
awsx iam add-user-to-group --group-name cli-devs --user-name cli-alice
awsx iam put-user-policy --user-name cli-alice --policy-name inline --policy-document "$doc"
arn=$(awsx iam create-policy --policy-name cli-data --policy-document "$doc" --query Policy.Arn)
awsx iam attach-group-policy --group-name cli-devs --policy-arn "$arn"
awsx iam attach-group-policy --group-name cli-devs --policy-arn arn:aws:iam::aws:policy/IAMReadOnlyAccess
awsx iam create-role --role-name cli-web --assume-role-policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}' >/dev/null
awsx iam create-instance-profile --instance-profile-name cli-prof >/dev/null
awsx iam add-role-to-instance-profile --instance-profile-name cli-prof --role-name cli-web

names() { awsx iam get-account-authorization-details "$@" \
  --query '[UserDetailList[].UserName, GroupDetailList[].GroupName, RoleDetailList[].RoleName, Policies[].PolicyName][]' | tr '\t\n' '  ' | sed 's/ *$//'; }
all="cli-alice cli-auditor cli-devs cli-web cli-data IAMReadOnlyAccess"
eq "all details" "$(names)" "$all"
eq "filter User" "$(names --filter User)" "cli-alice cli-auditor"
eq "filter Group" "$(names --filter Group)" "cli-devs"
eq "filter Role" "$(names --filter Role)" "cli-web"
eq "filter LocalManagedPolicy" "$(names --filter LocalManagedPolicy)" "cli-data"
eq "filter AWSManagedPolicy" "$(names --filter AWSManagedPolicy)" "IAMReadOnlyAccess"
eq "filter Role Group" "$(names --filter Role Group)" "cli-devs cli-web"
# The CLI pages by itself: pages of one item give the whole list.
eq "paged by one" "$(names --page-size 1)" "$all"
eq "one page of two" "$(awsx iam get-account-authorization-details --max-items 2 --query 'length(UserDetailList)')" "2"
eq "alice's groups and inline policy" "$(awsx iam get-account-authorization-details --filter User \
  --query "UserDetailList[?UserName=='cli-alice'].[GroupList[0],UserPolicyList[0].PolicyName]" | tr '\t' ' ')" "cli-devs inline"
eq "role in its instance profile" "$(awsx iam get-account-authorization-details --filter Role \
  --query 'RoleDetailList[0].InstanceProfileList[0].[InstanceProfileName,Roles[0].RoleName]' | tr '\t' ' ')" "cli-prof cli-web"
eq "policy versions" "$(awsx iam get-account-authorization-details --filter LocalManagedPolicy \
  --query 'Policies[0].[AttachmentCount,PolicyVersionList[0].VersionId,PolicyVersionList[0].IsDefaultVersion]' | tr '\t' ' ')" "1 v1 True"
expect_error ValidationError iam get-account-authorization-details --filter Users
if out=$(as_user awsx iam get-account-authorization-details 2>&1); then fail "a user without policies read the details"; fi
[[ "$out" == *"(AccessDenied)"* ]] || fail "denied details: $out"
echo "ok  error AccessDenied from get-account-authorization-details"
eq "details after the denied call" "$(names)" "$all"
echo "reports flows passed"
