"""Drives the credential report and GetAccountAuthorizationDetails with boto3: the report's
states and CSV columns (IAM User Guide, "Getting credential reports for your AWS account"),
ReportNotPresent with HTTP 410 before any report (IAM API Reference, GetCredentialReport),
every Filter value and the paginator of the authorization details, and denied calls that
change nothing.

Needs GATEHOUSE_ENDPOINT and root credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""
import csv
import datetime
import io
import json

import boto3

from checks import EP, check, expect_error, iam, sts

account = sts.get_caller_identity()["Account"]
COLUMNS = [
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
    "password_next_rotation", "mfa_active", "access_key_1_active", "access_key_1_last_rotated",
    "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
    "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
    "access_key_2_last_used_region", "access_key_2_last_used_service",
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
]


def stamp(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S+00:00")


e = expect_error("ReportNotPresent", iam.get_credential_report)
check("ReportNotPresent status", e.response["ResponseMetadata"]["HTTPStatusCode"], 410)
iam.create_user(UserName="py-auditor")
key = iam.create_access_key(UserName="py-auditor")["AccessKey"]
auditor = boto3.session.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                                region_name="us-east-1").client("iam", endpoint_url=EP)
expect_error("AccessDenied", auditor.generate_credential_report)
expect_error("ReportNotPresent", iam.get_credential_report)

iam.update_account_password_policy(MaxPasswordAge=45)
alice = iam.create_user(UserName="py-alice")["User"]
profile = iam.create_login_profile(UserName="py-alice", Password="Correct-Horse-9")["LoginProfile"]
k1 = iam.create_access_key(UserName="py-alice")["AccessKey"]
iam.update_access_key(UserName="py-alice", AccessKeyId=k1["AccessKeyId"], Status="Inactive")

first = iam.generate_credential_report()
check("first generate", (first["State"], first.get("Description")),
      ("STARTED", "No report exists. Starting a new report generation task"))
check("second generate", iam.generate_credential_report()["State"], "COMPLETE")
report = iam.get_credential_report()
check("report format", report["ReportFormat"], "text/csv")
rows = list(csv.reader(io.StringIO(report["Content"].decode())))
check("header", rows[0], COLUMNS)
by_user = {r[0]: dict(zip(COLUMNS, r)) for r in rows[1:]}
check("rows", [r[0] for r in rows[1:]], ["<root_account>", "py-alice", "py-auditor"])
root = by_user["<root_account>"]
check("root row", (root["arn"], root["password_enabled"], root["password_last_changed"], root["password_next_rotation"]),
      (f"arn:aws:iam::{account}:root", "not_supported", "not_supported", "not_supported"))
row = by_user["py-alice"]
next_rotation = profile["CreateDate"] + datetime.timedelta(days=45)
check("alice row", row, dict(zip(COLUMNS, [
    "py-alice", alice["Arn"], stamp(alice["CreateDate"]), "true", "no_information", stamp(profile["CreateDate"]),
    stamp(next_rotation), "false", "false", stamp(k1["CreateDate"]), "N/A", "N/A", "N/A",
    "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "false", "N/A"])))
auditor_row = by_user["py-auditor"]
check("auditor key used", (auditor_row["access_key_1_active"], auditor_row["access_key_1_last_used_service"],
                           auditor_row["access_key_1_last_used_region"]), ("true", "iam", "us-east-1"))

# Authorization details.
doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
iam.create_group(GroupName="py-devs")
iam.add_user_to_group(GroupName="py-devs", UserName="py-alice")
iam.put_group_policy(GroupName="py-devs", PolicyName="ginline", PolicyDocument=json.dumps(doc))
arn = iam.create_policy(PolicyName="py-data", PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc), SetAsDefault=True)
iam.attach_user_policy(UserName="py-alice", PolicyArn=arn)
iam.attach_user_policy(UserName="py-alice", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
iam.create_role(RoleName="py-web", AssumeRolePolicyDocument=json.dumps(trust), Tags=[{"Key": "app", "Value": "web"}])
iam.create_instance_profile(InstanceProfileName="py-prof")
iam.add_role_to_instance_profile(InstanceProfileName="py-prof", RoleName="py-web")


def names(out):
    return ([u["UserName"] for u in out["UserDetailList"]] + [g["GroupName"] for g in out["GroupDetailList"]] +
            [r["RoleName"] for r in out["RoleDetailList"]] + [p["PolicyName"] for p in out["Policies"]])


ALL = ["py-alice", "py-auditor", "py-devs", "py-web", "py-data", "ReadOnlyAccess"]
full = iam.get_account_authorization_details()
check("all details", (names(full), full["IsTruncated"]), (ALL, False))
for flt, want in [("User", ALL[:2]), ("Group", ALL[2:3]), ("Role", ALL[3:4]),
                  ("LocalManagedPolicy", ALL[4:5]), ("AWSManagedPolicy", ALL[5:6])]:
    check(f"filter {flt}", names(iam.get_account_authorization_details(Filter=[flt])), want)
paged = []
for page in iam.get_paginator("get_account_authorization_details").paginate(PaginationConfig={"PageSize": 1}):
    paged += names(page)
check("paginator pages of one", paged, ALL)
first_page = iam.get_account_authorization_details(MaxItems=3)
check("first page of three", (names(first_page), first_page["IsTruncated"], "Marker" in first_page), (ALL[:3], True, True))
rest = iam.get_account_authorization_details(Marker=first_page["Marker"])
check("rest after the marker", (names(rest), rest["IsTruncated"]), (ALL[3:], False))
expect_error("ValidationError", iam.get_account_authorization_details, Marker="bogus!")

alice_detail = full["UserDetailList"][0]
check("alice groups and attached", (alice_detail["GroupList"], sorted(p["PolicyName"] for p in alice_detail["AttachedManagedPolicies"])),
      (["py-devs"], ["ReadOnlyAccess", "py-data"]))
devs = full["GroupDetailList"][0]
# botocore URL-decodes and parses policy documents (its json_decode_policies handler), so an
# answer that is not URL-encoded JSON would not come back as the document.
check("group inline document", devs["GroupPolicyList"][0]["PolicyDocument"], doc)
web = full["RoleDetailList"][0]
check("role", (web["AssumeRolePolicyDocument"], web["Tags"],
               [p["InstanceProfileName"] for p in web["InstanceProfileList"]]),
      (trust, [{"Key": "app", "Value": "web"}], ["py-prof"]))
data = full["Policies"][0]
check("policy versions", [(v["VersionId"], v["IsDefaultVersion"], v["Document"]) for v in data["PolicyVersionList"]],
      [("v2", True, doc), ("v1", False, doc)])
check("policy counts", (data["AttachmentCount"], data["PermissionsBoundaryUsageCount"], data["IsAttachable"]), (1, 0, True))
expect_error("AccessDenied", auditor.get_account_authorization_details)
check("details after the denied call", names(iam.get_account_authorization_details()), ALL)
print("reports flows passed")
