"""Drives the classic IAM privilege-escalation paths through boto3, as escalation_test.go does
with aws-sdk-go-v2: each is AccessDenied with AWS's message and changes nothing until a policy
grants exactly that action on exactly that resource; then the same action elsewhere is still
denied, the granted call works and the escalation takes effect. Then creating users only with
a boundary (iam:PermissionsBoundary) and passing a role only to EC2 (iam:PassedToService,
through the simulator: no implemented operation passes a role).

AWS's message: "User: ARN is not authorized to perform: ACTION on resource: RESOURCE because
no identity-based policy allows the ACTION action" (IAM User Guide, "Troubleshoot access
denied error messages"); an existing entity shows as "user NAME", "role NAME", "group NAME",
a managed policy as "policy ARN".

Needs GATEHOUSE_ENDPOINT and root credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""
import json
import sys

import boto3
from botocore.exceptions import ClientError

from checks import EP, check, iam, sts

account = sts.get_caller_identity()["Account"]
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
READONLY = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"


def arn(kind, name):
    return f"arn:aws:iam::{account}:{kind}/{name}"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource, condition=None):
    st = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        st["Condition"] = condition
    return st


ADMIN_DOC = doc(allow("*", "*"))
EC2_TRUST = doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})


def clients(key_id, secret, token=None):
    s = boto3.session.Session(aws_access_key_id=key_id, aws_secret_access_key=secret,
                              aws_session_token=token, region_name="us-east-1")
    return s.client("iam", endpoint_url=EP), s.client("sts", endpoint_url=EP)


def new_user(name, *policies):
    iam.create_user(UserName=name)
    for p in policies:
        iam.attach_user_policy(UserName=name, PolicyArn=p)


def key_clients(user):
    k = iam.create_access_key(UserName=user)["AccessKey"]
    return clients(k["AccessKeyId"], k["SecretAccessKey"])


def denied(what, fn, msg=None):
    """fn() must fail with AccessDenied (HTTP 403) and, if given, AWS's message msg."""
    try:
        fn()
    except ClientError as e:
        check(f"{what}: code", e.response["Error"]["Code"], "AccessDenied")
        check(f"{what}: status", e.response["ResponseMetadata"]["HTTPStatusCode"], 403)
        if msg is not None:
            # AWS's message, then the sealed details for sts:DecodeAuthorizationMessage.
            got = e.response["Error"]["Message"]
            check(f"{what}: message", got, msg)
        return
    sys.exit(f"FAIL {what} succeeded, want AccessDenied")


def not_authorized(caller, action, resource, why=None):
    return (f"User: {arn('user', caller)} is not authorized to perform: {action} on resource: {resource} "
            + (why or f"because no identity-based policy allows the {action} action"))


class Scene:
    """One attacker with her own key; every name in the path starts with hers."""

    def __init__(self, name):
        self.user = name
        iam.create_user(UserName=name)
        self.iam, self.sts = key_clients(name)
        self.gained = self.iam  # the client an escalation yields
        self.proofs = 0

    def n(self, suffix):
        return f"{self.user}-{suffix}"

    def create_user_as(self, client):
        """What proves administrator rights: creating a user."""
        self.proofs += 1
        client.create_user(UserName=self.n(f"proof{self.proofs}"))


def policy_state(*arns):
    out = []
    for a in arns:
        vs = iam.list_policy_versions(PolicyArn=a)["Versions"]
        out.append((sorted((v["VersionId"], v["IsDefaultVersion"]) for v in vs),
                    iam.get_policy(PolicyArn=a)["Policy"]["DefaultVersionId"]))
    return out


def limited_policies(s, *docs):
    """The attacker's own policy (attached to her) and another one, each with the versions."""
    arns = []
    for name in ("policy", "other"):
        a = iam.create_policy(PolicyName=s.n(name), PolicyDocument=docs[0])["Policy"]["Arn"]
        for d in docs[1:]:
            iam.create_policy_version(PolicyArn=a, PolicyDocument=d)
        arns.append(a)
    iam.attach_user_policy(UserName=s.user, PolicyArn=arns[0])
    return arns


LIMITED = doc(allow("iam:GetUser", "*"))


def path_create_policy_version(s):
    mine, other = limited_policies(s, LIMITED)
    new = lambda a: lambda: s.iam.create_policy_version(PolicyArn=a, PolicyDocument=ADMIN_DOC, SetAsDefault=True)
    return dict(action="iam:CreatePolicyVersion", grant=allow("iam:CreatePolicyVersion", mine),
                attempt=(f"policy {mine}", new(mine)), others=[(f"policy {other}", new(other))],
                state=lambda: policy_state(mine, other))


def path_set_default_policy_version(s):
    mine, other = limited_policies(s, LIMITED, ADMIN_DOC)
    setv2 = lambda a: lambda: s.iam.set_default_policy_version(PolicyArn=a, VersionId="v2")
    return dict(action="iam:SetDefaultPolicyVersion", grant=allow("iam:SetDefaultPolicyVersion", mine),
                attempt=(f"policy {mine}", setv2(mine)), others=[(f"policy {other}", setv2(other))],
                state=lambda: policy_state(mine, other))


def path_attach_user_policy(s):
    bob = s.n("bob")
    new_user(bob)
    attach = lambda u, p: lambda: s.iam.attach_user_policy(UserName=u, PolicyArn=p)
    attached = lambda u: [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=u)["AttachedPolicies"]]
    return dict(action="iam:AttachUserPolicy",
                # iam:PolicyARN: only AdministratorAccess may be attached.
                grant=allow("iam:AttachUserPolicy", arn("user", s.user), {"ArnEquals": {"iam:PolicyARN": ADMIN}}),
                attempt=(f"user {s.user}", attach(s.user, ADMIN)),
                others=[(f"user {bob}", attach(bob, ADMIN)), (f"user {s.user}", attach(s.user, READONLY))],
                state=lambda: (attached(s.user), attached(bob)))


def path_put_user_policy(s):
    bob = s.n("bob")
    new_user(bob)
    put = lambda u: lambda: s.iam.put_user_policy(UserName=u, PolicyName="escalate", PolicyDocument=ADMIN_DOC)
    names = lambda u: iam.list_user_policies(UserName=u)["PolicyNames"]
    return dict(action="iam:PutUserPolicy", grant=allow("iam:PutUserPolicy", arn("user", s.user)),
                attempt=(f"user {s.user}", put(s.user)), others=[(f"user {bob}", put(bob))],
                state=lambda: (names(s.user), names(bob)))


def path_create_access_key(s):
    admin, carol = s.n("admin"), s.n("carol")
    new_user(admin, ADMIN)
    new_user(carol, ADMIN)

    def mint():
        k = s.iam.create_access_key(UserName=admin)["AccessKey"]
        s.gained = clients(k["AccessKeyId"], k["SecretAccessKey"])[0]

    key = lambda u: lambda: s.iam.create_access_key(UserName=u)
    keys = lambda u: sorted(k["AccessKeyId"] for k in iam.list_access_keys(UserName=u)["AccessKeyMetadata"])
    return dict(action="iam:CreateAccessKey", grant=allow("iam:CreateAccessKey", arn("user", admin)),
                attempt=(f"user {admin}", mint),
                others=[(f"user {carol}", key(carol)), (f"user {s.user}", key(s.user))],
                state=lambda: (keys(admin), keys(carol), keys(s.user)))


def path_update_assume_role_policy(s):
    role, other = s.n("admin-role"), s.n("other-role")
    for r in (role, other):
        iam.create_role(RoleName=r, AssumeRolePolicyDocument=EC2_TRUST)
        iam.attach_role_policy(RoleName=r, PolicyArn=ADMIN)
    me = doc({"Effect": "Allow", "Principal": {"AWS": arn("user", s.user)}, "Action": "sts:AssumeRole"})
    trust = lambda r: lambda: s.iam.update_assume_role_policy(RoleName=r, PolicyDocument=me)
    read = lambda r: iam.get_role(RoleName=r)["Role"]["AssumeRolePolicyDocument"]

    def escalated():
        # A trust policy naming the user is enough in her own account (IAM User Guide,
        # "Policy evaluation logic").
        c = s.sts.assume_role(RoleArn=arn("role", role), RoleSessionName="esc")["Credentials"]
        s.create_user_as(clients(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])[0])

    return dict(action="iam:UpdateAssumeRolePolicy", grant=allow("iam:UpdateAssumeRolePolicy", arn("role", role)),
                attempt=(f"role {role}", trust(role)), others=[(f"role {other}", trust(other))],
                state=lambda: (read(role), read(other)), escalated=escalated)


def path_add_user_to_group(s):
    admins, ops = s.n("admins"), s.n("ops")
    for g in (admins, ops):
        iam.create_group(GroupName=g)
        iam.attach_group_policy(GroupName=g, PolicyArn=ADMIN)
    join = lambda g: lambda: s.iam.add_user_to_group(GroupName=g, UserName=s.user)
    members = lambda g: [u["UserName"] for u in iam.get_group(GroupName=g)["Users"]]
    return dict(action="iam:AddUserToGroup", grant=allow("iam:AddUserToGroup", arn("group", admins)),
                attempt=(f"group {admins}", join(admins)), others=[(f"group {ops}", join(ops))],
                state=lambda: (members(admins), members(ops)))


def path_delete_user_permissions_boundary(s):
    # Her identity policy allows CreateUser; her boundary does not, but lets the boundary go.
    bob = s.n("bob")
    new_user(bob)
    b = iam.create_policy(PolicyName=s.n("boundary"), PolicyDocument=doc(
        allow("iam:DeleteUserPermissionsBoundary", "*"), allow("iam:GetUser", "*")))["Policy"]["Arn"]
    iam.put_user_policy(UserName=s.user, PolicyName="base", PolicyDocument=doc(allow("iam:CreateUser", "*")))
    for u in (s.user, bob):
        iam.put_user_permissions_boundary(UserName=u, PermissionsBoundary=b)
    unbound = lambda u: lambda: s.iam.delete_user_permissions_boundary(UserName=u)
    bound = lambda u: iam.get_user(UserName=u)["User"].get("PermissionsBoundary")
    return dict(action="iam:DeleteUserPermissionsBoundary",
                grant=allow("iam:DeleteUserPermissionsBoundary", arn("user", s.user)),
                attempt=(f"user {s.user}", unbound(s.user)), others=[(f"user {bob}", unbound(bob))],
                state=lambda: (bound(s.user), bound(bob)))


PATHS = [path_create_policy_version, path_set_default_policy_version, path_attach_user_policy,
         path_put_user_policy, path_create_access_key, path_update_assume_role_policy,
         path_add_user_to_group, path_delete_user_permissions_boundary]

for i, build in enumerate(PATHS):
    s = Scene(f"py-esc{i}")
    p = build(s)
    name, action = build.__name__[len("path_"):], p["action"]
    escalated = p.get("escalated") or (lambda: s.create_user_as(s.gained))
    shown, attempt = p["attempt"]

    denied(f"{name}: not yet escalated", escalated)
    before = p["state"]()
    denied(f"{name}: without a grant", attempt, not_authorized(s.user, action, shown))
    check(f"{name}: the denied call changed nothing", p["state"](), before)

    iam.put_user_policy(UserName=s.user, PolicyName="grant", PolicyDocument=doc(p["grant"]))
    before = p["state"]()  # PutUserPolicy's own state shows the grant
    for other_shown, other in p["others"]:
        denied(f"{name}: granted, on {other_shown}", other, not_authorized(s.user, action, other_shown))
    check(f"{name}: denied calls elsewhere changed nothing", p["state"](), before)
    denied(f"{name}: granted, not yet escalated", escalated)

    attempt()
    check(f"{name}: the granted call changed state", p["state"]() != before, True)
    escalated()
    print(f"ok  {name}: escalated once granted")

# Creating users only with a boundary (IAM User Guide, "Permissions boundaries for IAM
# entities", delegating responsibility): a boundary that allows CreateUser and
# PutUserPermissionsBoundary only when iam:PermissionsBoundary is the company boundary.
company = iam.create_policy(PolicyName="py-company-boundary", PolicyDocument=doc(
    allow(["iam:GetUser", "iam:ListUsers"], "*")))["Policy"]["Arn"]
delegated = iam.create_policy(PolicyName="py-delegated-boundary", PolicyDocument=doc(
    allow(["iam:CreateUser", "iam:PutUserPermissionsBoundary"], "*", {"StringEquals": {"iam:PermissionsBoundary": company}}),
    {"Effect": "Deny", "Action": "iam:DeleteUserPermissionsBoundary", "Resource": "*"}))["Policy"]["Arn"]
new_user("py-zhang", ADMIN)
iam.put_user_permissions_boundary(UserName="py-zhang", PermissionsBoundary=delegated)
zhang = key_clients("py-zhang")[0]
no_boundary = lambda a: f"because no permissions boundary allows the {a} action"
denied("CreateUser without a boundary", lambda: zhang.create_user(UserName="py-nikhil"),
       not_authorized("py-zhang", "iam:CreateUser", arn("user", "py-nikhil"), no_boundary("iam:CreateUser")))
denied("CreateUser with another boundary", lambda: zhang.create_user(UserName="py-nikhil", PermissionsBoundary=ADMIN),
       not_authorized("py-zhang", "iam:CreateUser", arn("user", "py-nikhil"), no_boundary("iam:CreateUser")))
check("no user made by the denied calls", [u["UserName"] for u in iam.list_users()["Users"] if u["UserName"] == "py-nikhil"], [])
zhang.create_user(UserName="py-nikhil", PermissionsBoundary=company)
denied("PutUserPermissionsBoundary to another boundary",
       lambda: zhang.put_user_permissions_boundary(UserName="py-nikhil", PermissionsBoundary=ADMIN),
       not_authorized("py-zhang", "iam:PutUserPermissionsBoundary", "user py-nikhil", no_boundary("iam:PutUserPermissionsBoundary")))
denied("DeleteUserPermissionsBoundary of his own", lambda: zhang.delete_user_permissions_boundary(UserName="py-zhang"),
       not_authorized("py-zhang", "iam:DeleteUserPermissionsBoundary", "user py-zhang", "with an explicit deny in a permissions boundary"))
check("the new user's boundary", iam.get_user(UserName="py-nikhil")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"], company)
check("his own boundary", iam.get_user(UserName="py-zhang")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"], delegated)

# iam:PassRole to EC2 only, for one role, as a service would ask.
for r in ("py-deployer", "py-app-role", "py-big-role"):
    iam.create_role(RoleName=r, AssumeRolePolicyDocument=EC2_TRUST)


def passable(service):
    out = iam.simulate_principal_policy(
        PolicySourceArn=arn("role", "py-deployer"), ActionNames=["iam:PassRole"],
        ResourceArns=[arn("role", "py-app-role"), arn("role", "py-big-role")],
        ContextEntries=[{"ContextKeyName": "iam:PassedToService", "ContextKeyValues": [service], "ContextKeyType": "string"}])
    return [r["EvalDecision"] for r in out["EvaluationResults"]]


check("PassRole without a policy", passable("ec2.amazonaws.com"), ["implicitDeny", "implicitDeny"])
iam.put_role_policy(RoleName="py-deployer", PolicyName="pass", PolicyDocument=doc(allow(
    "iam:PassRole", arn("role", "py-app-role"), {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}})))
check("PassRole of app-role to EC2", passable("ec2.amazonaws.com"), ["allowed", "implicitDeny"])
check("PassRole of app-role to Lambda", passable("lambda.amazonaws.com"), ["implicitDeny", "implicitDeny"])
print("all escalation boto3 checks passed")
