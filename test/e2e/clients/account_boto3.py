"""Drives the account alias, GetAccountSummary and SetSecurityTokenServicePreferences with boto3:
every operation, their errors, and state read back after each refusal. AWS's rules: one alias
per account, a new one overwriting the old (IAM User Guide, "Your AWS account ID and its
alias"); "The account alias NAME already exists." (AWS's text quoted in aws-nuke issue 697);
the pattern ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$ (IAM API Reference, CreateAccountAlias),
refused with IAM's own text;
the SummaryMap keys of the API Reference's SummaryKeyType.

Needs GATEHOUSE_ENDPOINT and root credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""
import boto3

from checks import EP, check, expect_error, iam

# IAM's own text for an alias off the pattern (AWS's answer quoted in app-sre/qontract-schemas
# PR 824); the length is a constraint violation.
INVALID = ("The specified value for accountAlias is invalid. It must be a minimum length of 3 characters and maximum length "
           "of 63 characters, contain only digits, lowercase letters, and hyphens (-), but cannot begin or end with a hyphen.")


def expect(code, text, fn, **kw):
    e = expect_error(code, fn, **kw)
    check(f"{code} message from {fn.__name__}", e.response["Error"]["Message"], text)


def aliases():
    out = iam.list_account_aliases()
    check("list_account_aliases not truncated", out["IsTruncated"], False)
    return out["AccountAliases"]


def summary():
    return iam.get_account_summary()["SummaryMap"]


# Aliases.
check("no alias", aliases(), [])
iam.create_account_alias(AccountAlias="py-first-alias")
check("create_account_alias", aliases(), ["py-first-alias"])
iam.create_account_alias(AccountAlias="py-second-alias")
check("a new alias overwrites the old", aliases(), ["py-second-alias"])
expect("EntityAlreadyExists", "The account alias py-second-alias already exists.", iam.create_account_alias, AccountAlias="py-second-alias")
for bad in ["Upper", "-lead", "trail-", "two--dashes", "under_score", "a" * 64]:
    e = expect_error("ValidationError", iam.create_account_alias, AccountAlias=bad)
    msg = e.response["Error"]["Message"]
    if len(bad) > 63:
        check(f"message for {bad[:8]}...", msg, f"1 validation error detected: Value '{bad}' at 'accountAlias' failed to satisfy constraint: Member must have length less than or equal to 63")
    else:
        check(f"message for {bad}", msg, INVALID)
expect("ValidationError", "The account alias 123456789012 is invalid: an alias cannot be a 12-digit number, which would read as an account ID.",
       iam.create_account_alias, AccountAlias="123456789012")
expect("NoSuchEntity", "The account alias py-first-alias cannot be found.", iam.delete_account_alias, AccountAlias="py-first-alias")
check("refusals change nothing", aliases(), ["py-second-alias"])
page = iam.list_account_aliases(MaxItems=1)
check("MaxItems 1", (page["AccountAliases"], page["IsTruncated"]), (["py-second-alias"], False))
expect("ValidationError", "Invalid Marker.", iam.list_account_aliases, Marker="bogus")
paged = [a for p in iam.get_paginator("list_account_aliases").paginate(PaginationConfig={"PageSize": 1}) for a in p["AccountAliases"]]
check("paginator", paged, ["py-second-alias"])

# A user without policies is denied each operation, and nothing changes.
iam.create_user(UserName="py-nobody")
key = iam.create_access_key(UserName="py-nobody")["AccessKey"]
user = boto3.session.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                             region_name="us-east-1").client("iam", endpoint_url=EP)
for action, fn, kw in [
    ("CreateAccountAlias", user.create_account_alias, {"AccountAlias": "py-user-alias"}),
    ("DeleteAccountAlias", user.delete_account_alias, {"AccountAlias": "py-second-alias"}),
    ("ListAccountAliases", user.list_account_aliases, {}),
    ("GetAccountSummary", user.get_account_summary, {}),
    ("SetSecurityTokenServicePreferences", user.set_security_token_service_preferences, {"GlobalEndpointTokenVersion": "v2Token"}),
]:
    e = expect_error("AccessDenied", fn, **kw)
    check(f"denial names iam:{action}", f"is not authorized to perform: iam:{action} on resource: *" in e.response["Error"]["Message"], True)
check("denied calls change the alias not", aliases(), ["py-second-alias"])

# The summary: every key AWS answers for an account whose root user has no console password.
s = summary()
keys = sorted(k for k in iam.meta.service_model.shape_for("summaryKeyType").enum if k != "AccountPasswordPresent")
check("SummaryMap keys", sorted(s), keys)
check("denied calls change the token version not", s["GlobalEndpointTokenVersion"], 1)
check("new account counts", (s["Users"], s["Roles"], s["Groups"], s["Policies"], s["AccountAccessKeysPresent"], s["AccountMFAEnabled"]), (1, 0, 0, 0, 1, 0))
iam.create_user(UserName="py-alice")
iam.create_group(GroupName="py-devs")
iam.add_user_to_group(GroupName="py-devs", UserName="py-alice")
arn = iam.create_policy(PolicyName="py-read", PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}]}')["Policy"]["Arn"]
iam.attach_user_policy(UserName="py-alice", PolicyArn=arn)
iam.attach_group_policy(GroupName="py-devs", PolicyArn=arn)
iam.attach_group_policy(GroupName="py-devs", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
iam.create_instance_profile(InstanceProfileName="py-profile")
iam.create_virtual_mfa_device(VirtualMFADeviceName="py-phone")
s = summary()
check("counts", (s["Users"], s["Groups"], s["Policies"], s["PolicyVersionsInUse"], s["InstanceProfiles"], s["MFADevices"], s["MFADevicesInUse"]),
      (2, 1, 1, 3, 1, 1, 0))
iam.detach_group_policy(GroupName="py-devs", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
check("a detach", summary()["PolicyVersionsInUse"], 2)

# The token version.
iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
check("v2Token", summary()["GlobalEndpointTokenVersion"], 2)
expect("ValidationError", "1 validation error detected: Value 'v3Token' at 'globalEndpointTokenVersion' failed to satisfy constraint: Member must satisfy enum value set: [v1Token, v2Token]",
       iam.set_security_token_service_preferences, GlobalEndpointTokenVersion="v3Token")
check("a refused version changes nothing", summary()["GlobalEndpointTokenVersion"], 2)

iam.delete_account_alias(AccountAlias="py-second-alias")
check("delete_account_alias", aliases(), [])
print("account flows passed")
