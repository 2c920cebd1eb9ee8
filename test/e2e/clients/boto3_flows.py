"""Drives Gatehouse with boto3: the core IAM flows, pagination and errors.

Needs GATEHOUSE_ENDPOINT and root credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials

from checks import EP, check, expect_error, iam, sts


def raw_query(params, key, secret, service="iam"):
    """Sends a signed Query request that no SDK method makes; returns (status, body)."""
    body = urllib.parse.urlencode(params)
    req = botocore.awsrequest.AWSRequest(method="POST", url=EP + "/", data=body,
                                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(key, secret), service, "us-east-1").add_auth(req)
    prepared = req.prepare()
    r = urllib.request.Request(prepared.url, data=body.encode(), headers=dict(prepared.headers), method="POST")
    try:
        with urllib.request.urlopen(r) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


account = sts.get_caller_identity()["Account"]
key, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]

# Users with pagination through boto3's paginator.
for i in range(7):
    iam.create_user(UserName=f"py-user-{i}", Path="/py/")
names = [u["UserName"] for page in iam.get_paginator("list_users").paginate(PathPrefix="/py/", PaginationConfig={"PageSize": 2}) for u in page["Users"]]
check("paginated users", sorted(names), [f"py-user-{i}" for i in range(7)])
page = iam.list_users(PathPrefix="/py/", MaxItems=3)
check("first page truncated", (len(page["Users"]), page["IsTruncated"]), (3, True))
user = iam.get_user(UserName="py-user-0")["User"]
check("user id prefix", user["UserId"][:4], "AIDA")
check("create date is a datetime", type(user["CreateDate"]).__name__, "datetime")
expect_error("EntityAlreadyExists", iam.create_user, UserName="PY-USER-0")
expect_error("ValidationError", iam.create_user, UserName="x" * 65)
expect_error("ValidationError", iam.create_user, UserName="py-ok", Path="no-slashes")

# Roles: boto3 decodes the URL-encoded trust policy into a dict.
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
role = iam.create_role(RoleName="py-role", AssumeRolePolicyDocument=json.dumps(trust), Tags=[{"Key": "k", "Value": "v"}])["Role"]
check("role id prefix", role["RoleId"][:4], "AROA")
got = iam.get_role(RoleName="py-role")["Role"]
check("trust policy round trip", got["AssumeRolePolicyDocument"], trust)
check("role tags", got.get("Tags"), [{"Key": "k", "Value": "v"}])
iam.update_assume_role_policy(RoleName="py-role", PolicyDocument=json.dumps(trust).replace("ec2", "lambda"))
check("updated trust", iam.get_role(RoleName="py-role")["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"], "lambda.amazonaws.com")
expect_error("MalformedPolicyDocument", iam.update_assume_role_policy, RoleName="py-role", PolicyDocument="{")

# Managed policy versions: at most five.
doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
arn = iam.create_policy(PolicyName="py-policy", PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
check("policy id prefix", iam.get_policy(PolicyArn=arn)["Policy"]["PolicyId"][:4], "ANPA")
for _ in range(4):
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc))
expect_error("LimitExceeded", iam.create_policy_version, PolicyArn=arn, PolicyDocument=json.dumps(doc))
check("five versions", len(iam.list_policy_versions(PolicyArn=arn)["Versions"]), 5)
iam.set_default_policy_version(PolicyArn=arn, VersionId="v3")
check("default version", iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"], "v3")
check("version document decoded", iam.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]["Document"], doc)
aws_policies = [p["PolicyName"] for page in iam.get_paginator("list_policies").paginate(Scope="AWS") for p in page["Policies"]]
check("AWS-managed policies listed", "ReadOnlyAccess" in aws_policies and len(aws_policies) > 1000, True)
local = [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]]
check("local policies", arn in local, True)

# Access keys: at most two; the secret is shown once.
k1 = iam.create_access_key(UserName="py-user-1")["AccessKey"]
iam.create_access_key(UserName="py-user-1")
expect_error("LimitExceeded", iam.create_access_key, UserName="py-user-1")
check("listed keys carry no secret", any("SecretAccessKey" in m for m in iam.list_access_keys(UserName="py-user-1")["AccessKeyMetadata"]), False)
user_sts = boto3.client("sts", endpoint_url=EP, aws_access_key_id=k1["AccessKeyId"], aws_secret_access_key=k1["SecretAccessKey"])
check("new key identity", user_sts.get_caller_identity()["Arn"], f"arn:aws:iam::{account}:user/py/py-user-1")
last = iam.get_access_key_last_used(AccessKeyId=k1["AccessKeyId"])
check("last used user", last["UserName"], "py-user-1")

# Authentication errors, as AWS names them.
bad = boto3.client("sts", endpoint_url=EP, aws_access_key_id=key, aws_secret_access_key="not-the-secret")
expect_error("SignatureDoesNotMatch", bad.get_caller_identity)
unknown = boto3.client("sts", endpoint_url=EP, aws_access_key_id="AKIAUNKNOWNKEY000000", aws_secret_access_key="x" * 40)
expect_error("InvalidClientTokenId", unknown.get_caller_identity)

# Protocol errors: an action the model lacks; an unsigned request.
status, body = raw_query({"Action": "NoSuchAction", "Version": "2010-05-08"}, key, secret)
check("unknown action status", status, 400)
check("unknown action code", "<Code>InvalidAction</Code>" in body, True)
try:
    urllib.request.urlopen(EP + "/?Action=ListUsers&Version=2010-05-08")
    sys.exit("FAIL unsigned request succeeded")
except urllib.error.HTTPError as e:
    check("unsigned request code", "<Code>MissingAuthenticationToken</Code>" in e.read().decode(), True)

print("boto3 flows passed")
