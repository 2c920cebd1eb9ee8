"""Drives console passwords and the account password policy with boto3: every operation, their
errors, and state read back after each refusal. AWS's texts as LocalStack recorded them against
AWS (tests/aws/services/iam/test_iam_users.snapshot.json,
test_iam_account_password_policy.snapshot.json).

Needs GATEHOUSE_ENDPOINT and root credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""
import boto3

from checks import EP, check, expect_error, iam, sts

account = sts.get_caller_identity()["Account"]


def expect(code, text, fn, **kw):
    e = expect_error(code, fn, **kw)
    check(f"{code} message from {fn.__name__}", text in e.response["Error"]["Message"], True)


expect("NoSuchEntity", f"The Password Policy with domain name {account} cannot be found.", iam.get_account_password_policy)
expect("NoSuchEntity", "The account policy with name PasswordPolicy cannot be found.", iam.delete_account_password_policy)
expect("ValidationError", "passwordReusePrevention", iam.update_account_password_policy, PasswordReusePrevention=25)

# An empty update: AWS's defaults, without MaxPasswordAge, PasswordReusePrevention, HardExpiry.
iam.update_account_password_policy()
policy = iam.get_account_password_policy()["PasswordPolicy"]
check("default policy", policy, {
    "MinimumPasswordLength": 6, "RequireSymbols": False, "RequireNumbers": False, "RequireUppercaseCharacters": False,
    "RequireLowercaseCharacters": False, "AllowUsersToChangePassword": False, "ExpirePasswords": False})
iam.update_account_password_policy(MinimumPasswordLength=8, RequireSymbols=True, RequireLowercaseCharacters=True,
                                   AllowUsersToChangePassword=True, PasswordReusePrevention=1, MaxPasswordAge=1095)
policy = iam.get_account_password_policy()["PasswordPolicy"]
check("custom policy", (policy["MinimumPasswordLength"], policy["RequireSymbols"], policy["RequireLowercaseCharacters"],
                        policy["PasswordReusePrevention"], policy["MaxPasswordAge"], policy["ExpirePasswords"], "HardExpiry" in policy),
      (8, True, True, 1, 1095, True, False))

iam.create_user(UserName="py-pw")
key = iam.create_access_key(UserName="py-pw")["AccessKey"]
user = boto3.session.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                             region_name="us-east-1").client("iam", endpoint_url=EP)

expect("PasswordPolicyViolation", "non-alphanumeric characters", iam.create_login_profile, UserName="py-pw", Password="nosymbols1")
expect("PasswordPolicyViolation", "lowercase character", iam.create_login_profile, UserName="py-pw", Password="NO-LOWER-1")
expect("NoSuchEntity", "Login Profile for User py-pw cannot be found.", iam.get_login_profile, UserName="py-pw")
expect("AccessDenied", "iam:CreateLoginProfile", user.create_login_profile, Password="user-made-1!")
expect("NoSuchEntity", "Login Profile for User py-pw cannot be found.", iam.get_login_profile, UserName="py-pw")

profile = iam.create_login_profile(UserName="py-pw", Password="first-pw-1!")["LoginProfile"]
check("create_login_profile", (profile["UserName"], profile["PasswordResetRequired"], "CreateDate" in profile), ("py-pw", False, True))
expect("EntityAlreadyExists", "Login Profile for user py-pw already exists.", iam.create_login_profile, UserName="py-pw", Password="other-pw-1!")
expect("DeleteConflict", "Cannot delete entity, must delete login profile first.", iam.delete_user, UserName="py-pw")
created = iam.get_login_profile(UserName="py-pw")["LoginProfile"]

# change_password by the user: old password checked, reuse refused, nothing changed by refusals.
expect("AccessDenied", "The old password is incorrect.", user.change_password, OldPassword="wrong-pw-1!", NewPassword="second-pw-2!")
expect("PasswordPolicyViolation", "1 most recent passwords", user.change_password, OldPassword="first-pw-1!", NewPassword="first-pw-1!")
expect("PasswordPolicyViolation", "at least 8 characters", user.change_password, OldPassword="first-pw-1!", NewPassword="x-1!")
expect("InvalidUserType", "Only IAM users", iam.change_password, OldPassword="first-pw-1!", NewPassword="second-pw-2!")
check("profile after refused changes", iam.get_login_profile(UserName="py-pw")["LoginProfile"], created)
user.change_password(OldPassword="first-pw-1!", NewPassword="second-pw-2!")
print("ok  change_password")
expect("AccessDenied", "The old password is incorrect.", user.change_password, OldPassword="first-pw-1!", NewPassword="third-pw-3!")
check("the user reads the policy", user.get_account_password_policy()["PasswordPolicy"]["MinimumPasswordLength"], 8)

# update_login_profile: the flag alone, a weak password refused, then a password.
iam.update_login_profile(UserName="py-pw", PasswordResetRequired=True)
check("PasswordResetRequired set", iam.get_login_profile(UserName="py-pw")["LoginProfile"]["PasswordResetRequired"], True)
expect("PasswordPolicyViolation", "at least 8 characters", iam.update_login_profile, UserName="py-pw", Password="a-1!")
expect("NoSuchEntity", "The user with name py-nobody cannot be found.", iam.update_login_profile, UserName="py-nobody", PasswordResetRequired=False)
iam.update_login_profile(UserName="py-pw", Password="fourth-pw-4!", PasswordResetRequired=False)
check("PasswordResetRequired cleared", iam.get_login_profile(UserName="py-pw")["LoginProfile"]["PasswordResetRequired"], False)
user.change_password(OldPassword="fourth-pw-4!", NewPassword="fifth-pw-5!")
print("ok  change_password after the administrator's reset")

# Without the account-level grant, a policy must allow it.
iam.update_account_password_policy(MinimumPasswordLength=8)
expect("AccessDenied", "iam:ChangePassword", user.change_password, OldPassword="fifth-pw-5!", NewPassword="sixth-pw-6!")
expect("AccessDenied", "iam:GetAccountPasswordPolicy", user.get_account_password_policy)
iam.attach_user_policy(UserName="py-pw", PolicyArn="arn:aws:iam::aws:policy/IAMUserChangePassword")
user.change_password(OldPassword="fifth-pw-5!", NewPassword="sixth-pw-6!")
print("ok  change_password with IAMUserChangePassword")

iam.delete_login_profile(UserName="py-pw")
expect("NoSuchEntity", "Login Profile for User py-pw cannot be found.", iam.delete_login_profile, UserName="py-pw")
iam.detach_user_policy(UserName="py-pw", PolicyArn="arn:aws:iam::aws:policy/IAMUserChangePassword")
iam.delete_access_key(UserName="py-pw", AccessKeyId=key["AccessKeyId"])
iam.delete_user(UserName="py-pw")
iam.delete_account_password_policy()
expect_error("NoSuchEntity", iam.get_account_password_policy)
print("PASS passwords boto3")
