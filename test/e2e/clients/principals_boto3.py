"""Drives Gatehouse with boto3 through the holes of "principals are bound by identity": trust
policies name users and roles by unique id (IAM User Guide, "Role trust policy examples"),
sessions of deleted principals are refused, GetFederationToken sessions stay inside their
limits ("Compare AWS STS credentials") and another account's resources are cross-account.

Needs GATEHOUSE_ENDPOINT and root credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""
import json

import boto3

from checks import EP, check, expect_error, iam, sts

ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def clients(creds):
    s = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
        region_name="us-east-1",
    )
    return s.client("iam", endpoint_url=EP), s.client("sts", endpoint_url=EP)


def trust(*principals):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": "sts:AssumeRole"}]})


def new_user(name):
    user = iam.create_user(UserName=name)["User"]
    iam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=ALL)
    return user, clients(iam.create_access_key(UserName=name)["AccessKey"])


def delete_user(name):
    for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
    iam.delete_user_policy(UserName=name, PolicyName="all")
    iam.delete_user(UserName=name)


def shown_principals(role):
    doc = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]  # botocore decodes it
    return doc["Statement"][0]["Principal"]["AWS"]


account = sts.get_caller_identity()["Account"]
arn = f"arn:aws:iam::{account}:user/py-bob"

# A principal that does not exist is refused.
e = expect_error("MalformedPolicyDocument", iam.create_role, RoleName="py-bad", AssumeRolePolicyDocument=trust(arn))
check("message of a missing principal", e.response["Error"]["Message"], f'Invalid principal in policy: "AWS":"{arn}"')

# Bound by id: the ARN is shown while bob exists, his bare id once he is gone, and a new bob
# with the same name does not match.
bob, (_, bob_sts) = new_user("py-bob")
role = iam.create_role(RoleName="py-for-bob", AssumeRolePolicyDocument=trust(arn))["Role"]["Arn"]
check("trust policy shows the ARN", shown_principals("py-for-bob"), [arn])
bob_sts.assume_role(RoleArn=role, RoleSessionName="py-s")
print("ok  bob assumes the role")
delete_user("py-bob")
check("trust policy shows the deleted user's id", shown_principals("py-for-bob"), [bob["UserId"]])
_, (_, bob2_sts) = new_user("py-bob")
expect_error("AccessDenied", bob2_sts.assume_role, RoleArn=role, RoleSessionName="py-s")
check("the new bob is not shown", shown_principals("py-for-bob"), [bob["UserId"]])

# A role session whose role is deleted, then re-created, is an invalid token everywhere.
role_trust = trust(f"arn:aws:iam::{account}:root")
worker = iam.create_role(RoleName="py-worker", AssumeRolePolicyDocument=role_trust)["Role"]["Arn"]
iam.put_role_policy(RoleName="py-worker", PolicyName="all", PolicyDocument=ALL)
_, (_, admin_sts) = new_user("py-admin")
creds = admin_sts.assume_role(RoleArn=worker, RoleSessionName="py-w")["Credentials"]
w_iam, w_sts = clients(creds)
check("the session works", w_sts.get_caller_identity()["Arn"], f"arn:aws:sts::{account}:assumed-role/py-worker/py-w")
iam.delete_role_policy(RoleName="py-worker", PolicyName="all")
iam.delete_role(RoleName="py-worker")
iam.create_role(RoleName="py-worker", AssumeRolePolicyDocument=role_trust)
iam.put_role_policy(RoleName="py-worker", PolicyName="all", PolicyDocument=ALL)
for fn, kw in [(w_sts.get_caller_identity, {}), (w_iam.list_users, {}),
               (w_sts.assume_role, {"RoleArn": worker, "RoleSessionName": "py-chain"})]:
    e = expect_error("InvalidClientTokenId", fn, **kw)
    # STS ends the sentence with a period (as the SigV4 errors do), IAM does not.
    check("message", e.response["Error"]["Message"].rstrip("."), "The security token included in the request is invalid")

# A GetFederationToken session calls no STS operation but GetCallerIdentity and no IAM one.
fed = admin_sts.get_federation_token(Name="py-fed", Policy=ALL)["Credentials"]
f_iam, f_sts = clients(fed)
f_sts.get_caller_identity()
print("ok  federated GetCallerIdentity")
e = expect_error("AccessDenied", f_sts.assume_role, RoleArn=worker, RoleSessionName="py-f")
check("message", e.response["Error"]["Message"], "Cannot call AssumeRole with session credentials")
expect_error("InvalidClientTokenId", f_iam.list_users)

# Another account's policy is cross-account, for the root user too.
other = iam.create_policy(PolicyName="py-local", PolicyDocument=ALL)["Policy"]["Arn"].replace(account, "999999999999")
e = expect_error("AccessDenied", iam.get_policy, PolicyArn=other)
check("message", e.response["Error"]["Message"],
      f"User: arn:aws:iam::{account}:root is not authorized to perform: iam:GetPolicy on resource: policy {other}"
      " because no resource-based policy allows the iam:GetPolicy action")
print("all principal checks passed")
