#!/usr/bin/env bash
# Drives the service last accessed reports with the stock aws CLI (IAM API Reference,
# GenerateServiceLastAccessedDetails, GetServiceLastAccessedDetails,
# GetServiceLastAccessedDetailsWithEntities): a user calls IAM, and its report lists the
# services its policy allows, sorted by namespace, IAM with the user's last call (it waits for
# the trail to record it) and STS without one; at action level the tracked actions; the
# entities of a service; NoSuchEntity for an unknown job or user. Needs GATEHOUSE_ENDPOINT and
# root credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
account=$(awsx sts get-caller-identity --query Account)
as_user() { AWS_ACCESS_KEY_ID=$ukey AWS_SECRET_ACCESS_KEY=$usecret "$@"; }

arn=$(awsx iam create-user --user-name cli-la --query User.Arn)
awsx iam put-user-policy --user-name cli-la --policy-name la --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","iam:ListUsers","sts:GetCallerIdentity"],"Resource":"*"}]}'
read -r ukey usecret < <(awsx iam create-access-key --user-name cli-la --query 'AccessKey.[AccessKeyId,SecretAccessKey]')
# A new key may take a moment to be usable; retry the user's call.
for _ in $(seq 50); do as_user awsx iam list-users >/dev/null 2>&1 && break; sleep 0.1; done

# The trail is written in the background: generate until the report shows the call.
entity=None
for _ in $(seq 50); do
  job=$(awsx iam generate-service-last-accessed-details --arn "$arn" --granularity ACTION_LEVEL --query JobId)
  entity=$(awsx iam get-service-last-accessed-details --job-id "$job" --query "ServicesLastAccessed[?ServiceNamespace=='iam'].LastAuthenticatedEntity | [0]")
  [ "$entity" == "$arn" ] && break
  sleep 0.1
done
eq "job id length" "${#job}" 36
eq "job" "$(awsx iam get-service-last-accessed-details --job-id "$job" --query '[JobStatus,JobType]' | tr '\t' '|')" "COMPLETED|ACTION_LEVEL"
eq "services" "$(awsx iam get-service-last-accessed-details --job-id "$job" --query 'ServicesLastAccessed[].ServiceNamespace' | tr '\t' ' ')" "iam sts"
eq "iam last entity" "$entity" "$arn"
eq "iam total" "$(awsx iam get-service-last-accessed-details --job-id "$job" --query "ServicesLastAccessed[?ServiceNamespace=='iam'].TotalAuthenticatedEntities | [0]")" 1
eq "sts never called" "$(awsx iam get-service-last-accessed-details --job-id "$job" --query "ServicesLastAccessed[?ServiceNamespace=='sts'].[LastAuthenticated,TotalAuthenticatedEntities] | [0]" | tr '\t' '|')" "None|0"
eq "iam tracked actions" "$(awsx iam get-service-last-accessed-details --job-id "$job" --output json --query "ServicesLastAccessed[?ServiceNamespace=='iam'].TrackedActionsLastAccessed[].[ActionName,LastAccessedEntity]" | tr -d ' \n')" \
  "[[\"GetUser\",null],[\"ListUsers\",\"$arn\"]]"
eq "paging" "$(awsx iam get-service-last-accessed-details --job-id "$job" --max-items 1 --query 'ServicesLastAccessed[].ServiceNamespace' | head -1)" "iam"
eq "entities" "$(awsx iam get-service-last-accessed-details-with-entities --job-id "$job" --service-namespace iam --query 'EntityDetailsList[].EntityInfo.[Arn,Type,Name]' | tr '\t' '|')" "$arn|USER|cli-la"
eq "service level" "$(awsx iam get-service-last-accessed-details --job-id "$(awsx iam generate-service-last-accessed-details --arn "$arn" --query JobId)" --query '[JobType,ServicesLastAccessed[0].TrackedActionsLastAccessed]' | tr '\t' '|')" "SERVICE_LEVEL|None"

expect_error NoSuchEntity iam get-service-last-accessed-details --job-id 00000000-0000-7000-8000-000000000000
expect_error NoSuchEntity iam generate-service-last-accessed-details --arn "arn:aws:iam::$account:user/cli-nobody"
if out=$(as_user awsx iam generate-service-last-accessed-details --arn "$arn" 2>&1); then fail "a user without the permission generated a report"; fi
[[ "$out" == *"(AccessDenied)"*"iam:GenerateServiceLastAccessedDetails"* ]] || fail "denied generate: $out"
echo "ok  error AccessDenied from generate-service-last-accessed-details"
