"""Drives Gatehouse's STS with boto3: assume_role and calls with the returned credentials,
boto3's own role-assuming profile, session tags, get_session_token, get_federation_token,
get_access_key_info, and the errors of bad temporary credentials.

Needs GATEHOUSE_ENDPOINT and root credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""
import json
import os

import boto3

from checks import EP, check, expect_error, iam, sts


def clients(creds):
    s = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
        region_name="us-east-1",
    )
    return s.client("iam", endpoint_url=EP), s.client("sts", endpoint_url=EP)


account = sts.get_caller_identity()["Account"]

iam.create_user(UserName="py-sts-dev")
key = iam.create_access_key(UserName="py-sts-dev")["AccessKey"]
user_iam, user_sts = clients(key)
trust = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{account}:user/py-sts-dev"},
    "Action": ["sts:AssumeRole", "sts:TagSession"],
}]}
perms = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iam:GetRole", "iam:ListRoles"], "Resource": "*"},
    {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
     "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}},
]}
role_arn = iam.create_role(RoleName="py-sts-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
iam.put_role_policy(RoleName="py-sts-role", PolicyName="p", PolicyDocument=json.dumps(perms))

# assume_role, then calls with the temporary credentials.
out = user_sts.assume_role(RoleArn=role_arn, RoleSessionName="py-session", DurationSeconds=900,
                           Tags=[{"Key": "team", "Value": "blue"}])
creds = out["Credentials"]
check("temporary key prefix", creds["AccessKeyId"][:4], "ASIA")
check("assumed role arn", out["AssumedRoleUser"]["Arn"], f"arn:aws:sts::{account}:assumed-role/py-sts-role/py-session")
check("PackedPolicySize with tags", 0 < out["PackedPolicySize"] <= 100, True)
role_iam, role_sts = clients(creds)
check("caller with role credentials", role_sts.get_caller_identity()["Arn"], out["AssumedRoleUser"]["Arn"])
check("role session gets its role", role_iam.get_role(RoleName="py-sts-role")["Role"]["Arn"], role_arn)
role_iam.list_users()  # allowed through the session tag team=blue
print("ok  session tag satisfies aws:PrincipalTag")
expect_error("AccessDenied", role_iam.create_user, UserName="py-nope")

# Without the tag, the tag-conditioned permission does not apply.
untagged = user_sts.assume_role(RoleArn=role_arn, RoleSessionName="py-untagged")["Credentials"]
expect_error("AccessDenied", clients(untagged)[0].list_users)

# A session policy narrows the session.
narrow = user_sts.assume_role(RoleArn=role_arn, RoleSessionName="py-narrow", Policy=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"}]}))
narrow_iam = clients(narrow["Credentials"])[0]
narrow_iam.get_role(RoleName="py-sts-role")
expect_error("AccessDenied", narrow_iam.list_roles)

# boto3 assumes the role itself from a profile (role_arn + source_profile).
with open(os.environ["AWS_SHARED_CREDENTIALS_FILE"], "a") as f:
    f.write(f"[py-dev]\naws_access_key_id = {key['AccessKeyId']}\naws_secret_access_key = {key['SecretAccessKey']}\n")
with open(os.environ["AWS_CONFIG_FILE"], "a") as f:
    f.write(f"[profile py-role]\nrole_arn = {role_arn}\nsource_profile = py-dev\nrole_session_name = py-profile\nregion = us-east-1\n")
profile_sts = boto3.session.Session(profile_name="py-role").client("sts", endpoint_url=EP)
check("caller through a role profile", profile_sts.get_caller_identity()["Arn"],
      f"arn:aws:sts::{account}:assumed-role/py-sts-role/py-profile")

# Errors.
expect_error("AccessDenied", sts.assume_role, RoleArn=role_arn, RoleSessionName="as-root")
expect_error("ValidationError", user_sts.assume_role, RoleArn=role_arn, RoleSessionName="py", DurationSeconds=3601)
expect_error("MalformedPolicyDocument", user_sts.assume_role, RoleArn=role_arn, RoleSessionName="py-bad", Policy="{")
tampered = dict(creds, SessionToken=creds["SessionToken"][:-6] + ("AAAAAA" if not creds["SessionToken"].endswith("AAAAAA") else "BBBBBB"))
expect_error("InvalidClientTokenId", clients(tampered)[1].get_caller_identity)
expect_error("InvalidClientTokenId", clients(dict(creds, SessionToken=None))[1].get_caller_identity)

# GetSessionToken, GetFederationToken, GetAccessKeyInfo.
st = user_sts.get_session_token(DurationSeconds=900)["Credentials"]
check("user session caller", clients(st)[1].get_caller_identity()["Arn"], f"arn:aws:iam::{account}:user/py-sts-dev")
expect_error("AccessDenied", clients(st)[1].get_session_token)
fed = sts.get_federation_token(Name="py-fed", Policy=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
check("federated user", fed["FederatedUser"]["Arn"], f"arn:aws:sts::{account}:federated-user/py-fed")
check("federated caller", clients(fed["Credentials"])[1].get_caller_identity()["UserId"], f"{account}:py-fed")
check("access key info", sts.get_access_key_info(AccessKeyId=creds["AccessKeyId"])["Account"], account)
print("all sts boto3 checks passed")
