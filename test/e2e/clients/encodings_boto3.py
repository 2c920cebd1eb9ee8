"""Strict encodings through boto3: a session token or a Marker respelled in its last character
is refused, a policy with a repeated key is MalformedPolicyDocument, and a header section over
64 KiB gets an XML error that botocore parses to its code."""
import json

import boto3
from botocore.exceptions import ClientError

from checks import EP, check, expect_error, iam

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def siblings(v):
    """Other last characters a lenient base64url decoder reads as the same bytes: those that
    differ from it only in the unused low bits (4 of them when len(v) % 4 == 2)."""
    unused = {2: 4, 3: 2, 0: 0}[len(v) % 4]
    last = B64URL.index(v[-1])
    return [v[:-1] + c for i, c in enumerate(B64URL) if i != last and i >> unused == last >> unused]


ALLOW_ASSUME = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]})
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})

# A role session token, respelled.
user = iam.create_user(UserName="encb-user")["User"]
iam.put_user_policy(UserName="encb-user", PolicyName="p", PolicyDocument=ALLOW_ASSUME)
key = iam.create_access_key(UserName="encb-user")["AccessKey"]
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": user["Arn"]}, "Action": "sts:AssumeRole"}]}
role = iam.create_role(RoleName="encb-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
iam.put_role_policy(RoleName="encb-role", PolicyName="p", PolicyDocument=ALLOW_ALL)
user_sts = boto3.client("sts", endpoint_url=EP, aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
creds, session = None, None
for name in ("ss", "sss", "ssss"):
    c = user_sts.assume_role(RoleArn=role["Arn"], RoleSessionName=name)["Credentials"]
    if len(siblings(c["SessionToken"])) == 15:
        creds, session = c, name
check("a role session token with 15 siblings", creds is not None, True)


def session_clients(token):
    kw = dict(endpoint_url=EP, aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=token)
    return boto3.client("sts", **kw), boto3.client("iam", **kw)


s, i = session_clients(creds["SessionToken"])
check("the issued token works", s.get_caller_identity()["Arn"].endswith(":assumed-role/encb-role/" + session), True)
i.list_roles()
for tok in siblings(creds["SessionToken"]):
    s, i = session_clients(tok)
    e = expect_error("InvalidClientTokenId", s.get_caller_identity)
    check("InvalidClientTokenId message", e.response["Error"]["Message"].rstrip("."), "The security token included in the request is invalid")
    expect_error("InvalidClientTokenId", i.list_roles)

# A Marker, respelled.
for name in ("encb-k1", "encb-k2", "encb-k3"):  # 7 characters: a marker with 15 siblings
    iam.create_user(UserName=name, Path="/encb/")
page = iam.list_users(PathPrefix="/encb/", MaxItems=1)
check("second page with the issued marker", [u["UserName"] for u in iam.list_users(PathPrefix="/encb/", MaxItems=1, Marker=page["Marker"])["Users"]], ["encb-k2"])
check("marker siblings", len(siblings(page["Marker"])), 15)
for m in siblings(page["Marker"]):
    expect_error("ValidationError", iam.list_users, PathPrefix="/encb/", MaxItems=1, Marker=m)

# Policies with a repeated key (IAM User Guide, Troubleshoot IAM policies: syntax errors).
two_effects = '{"Version":"2012-10-17","Statement":{"Effect":"Deny","Effect":"Allow","Action":"iam:*","Resource":"*"}}'
two_statements = '{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"iam:*","Resource":"*"},"Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*"}}'
for doc in (two_effects, two_statements):
    e = expect_error("MalformedPolicyDocument", iam.create_policy, PolicyName="encb-dup", PolicyDocument=doc)
    check("MalformedPolicyDocument message", e.response["Error"]["Message"], "Syntax errors in policy.")
    e = expect_error("MalformedPolicyDocument", iam.put_user_policy, UserName="encb-user", PolicyName="dup", PolicyDocument=doc)
    check("MalformedPolicyDocument message", e.response["Error"]["Message"], "Syntax errors in policy.")
check("no policy stored", [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]], [])
check("no inline policy stored", iam.list_user_policies(UserName="encb-user")["PolicyNames"], ["p"])

# A header section over 64 KiB.
padded = boto3.client("iam", endpoint_url=EP)


def pad(request, **kwargs):
    request.headers["X-Pad"] = "a" * (70 << 10)


padded.meta.events.register("before-sign.iam.ListUsers", pad)
try:
    padded.list_users()
    raise SystemExit("FAIL list_users with a 70 KiB header succeeded")
except ClientError as e:
    check("oversized header: code", e.response["Error"]["Code"], "RequestHeaderSectionTooLarge")
    check("oversized header: status", e.response["ResponseMetadata"]["HTTPStatusCode"], 400)
    check("oversized header: message", e.response["Error"]["Message"].startswith("Your request header section exceeds the maximum allowed size of 65536 bytes"), True)
print("encodings: all checks passed")
