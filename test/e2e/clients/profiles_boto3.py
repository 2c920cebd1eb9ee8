"""Drives Gatehouse's instance profiles, service-linked roles and
ListPoliciesGrantingServiceAccess with boto3: create/get/list by path through the paginators,
the one-role limit, profiles of a role, tags, the refused deletions, iam:PassRole for a user
adding a role; service-linked roles with their path, trust policy and suffix rules, the
refused ordinary edits, the deletion task; and which policies grant a user access to a
service. Refused requests change nothing. AWS's texts and their sources are in internal/iam's
instance_profiles_test.go and service_linked_roles_test.go.

Needs GATEHOUSE_ENDPOINT and root credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""
import json

import boto3

from checks import EP, check, expect_error, iam, sts

account = sts.get_caller_identity()["Account"]
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def profiles():
    pages = iam.get_paginator("list_instance_profiles").paginate()
    return [(p["Arn"], [r["RoleName"] for r in p["Roles"]],
             iam.list_instance_profile_tags(InstanceProfileName=p["InstanceProfileName"])["Tags"])
            for page in pages for p in page["InstanceProfiles"]]


def roles():
    return sorted(r["Arn"] for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"])


def expect_message(code, text, fn, **kw):
    e = expect_error(code, fn, **kw)
    check(f"{fn.__name__} message", e.response["Error"]["Message"], text)


# Instance profiles.
for name in ("py-web", "py-other"):
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
p = iam.create_instance_profile(InstanceProfileName="py-profile", Path="/py/",
                                Tags=[{"Key": "team", "Value": "web"}])["InstanceProfile"]
check("instance profile", (p["Arn"], p["Roles"], p["InstanceProfileId"][:4]),
      (f"arn:aws:iam::{account}:instance-profile/py/py-profile", [], "AIPA"))
for i in range(3):
    iam.create_instance_profile(InstanceProfileName=f"py-page-{i}", Path="/py/pages/")
pages = list(iam.get_paginator("list_instance_profiles").paginate(PathPrefix="/py/pages/", PaginationConfig={"PageSize": 1}))
check("paged by path prefix", [[p["InstanceProfileName"] for p in page["InstanceProfiles"]] for page in pages],
      [["py-page-0"], ["py-page-1"], ["py-page-2"]])

iam.add_role_to_instance_profile(InstanceProfileName="py-profile", RoleName="py-web")
got = iam.get_instance_profile(InstanceProfileName="py-profile")["InstanceProfile"]
check("role in the profile", [(r["RoleName"], r["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]) for r in got["Roles"]],
      [("py-web", {"Service": "ec2.amazonaws.com"})])
before = profiles()
expect_message("LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
               iam.add_role_to_instance_profile, InstanceProfileName="py-profile", RoleName="py-other")
expect_error("LimitExceeded", iam.add_role_to_instance_profile, InstanceProfileName="py-profile", RoleName="py-web")
expect_message("NoSuchEntity", "Instance Profile py-nope cannot be found.",
               iam.add_role_to_instance_profile, InstanceProfileName="py-nope", RoleName="py-web")
expect_message("DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.",
               iam.delete_instance_profile, InstanceProfileName="py-profile")
expect_message("DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.",
               iam.delete_role, RoleName="py-web")
expect_message("NoSuchEntity", "The role with name py-other is not in instance profile py-profile.",
               iam.remove_role_from_instance_profile, InstanceProfileName="py-profile", RoleName="py-other")
expect_message("EntityAlreadyExists", "Instance Profile PY-PROFILE already exists.",
               iam.create_instance_profile, InstanceProfileName="PY-PROFILE")
expect_error("ValidationError", iam.create_instance_profile, InstanceProfileName="py-x", Path="/no-end")
expect_error("InvalidInput", iam.tag_instance_profile, InstanceProfileName="py-profile", Tags=[{"Key": "aws:x", "Value": "1"}])
check("refused requests changed nothing", profiles(), before)

iam.add_role_to_instance_profile(InstanceProfileName="py-page-1", RoleName="py-web")
for_role = iam.get_paginator("list_instance_profiles_for_role").paginate(RoleName="py-web", PaginationConfig={"PageSize": 1})
check("profiles of the role", [p["InstanceProfileName"] for page in for_role for p in page["InstanceProfiles"]], ["py-page-1", "py-profile"])
iam.tag_instance_profile(InstanceProfileName="py-profile", Tags=[{"Key": "b", "Value": "2"}, {"Key": "A", "Value": "1"}])
iam.untag_instance_profile(InstanceProfileName="py-profile", TagKeys=["team"])
check("tags sorted by key", iam.list_instance_profile_tags(InstanceProfileName="py-profile")["Tags"],
      [{"Key": "A", "Value": "1"}, {"Key": "b", "Value": "2"}])

# A user needs iam:PassRole on the role, passed to EC2, to add it to a profile.
iam.create_user(UserName="py-ops")
iam.put_user_policy(UserName="py-ops", PolicyName="p", PolicyDocument=doc(
    {"Effect": "Allow", "Action": ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile"], "Resource": "*"}))
k = iam.create_access_key(UserName="py-ops")["AccessKey"]
ops = boto3.client("iam", endpoint_url=EP, aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"])
before = profiles()
expect_message("AccessDenied", f"User: arn:aws:iam::{account}:user/py-ops is not authorized to perform: iam:PassRole on resource: "
               f"arn:aws:iam::{account}:role/py-other because no identity-based policy allows the iam:PassRole action",
               ops.add_role_to_instance_profile, InstanceProfileName="py-page-2", RoleName="py-other")
expect_message("AccessDenied", f"User: arn:aws:iam::{account}:user/py-ops is not authorized to perform: iam:DeleteInstanceProfile on resource: "
               "instance profile py-page-2 because no identity-based policy allows the iam:DeleteInstanceProfile action",
               ops.delete_instance_profile, InstanceProfileName="py-page-2")
check("denied requests changed nothing", profiles(), before)
iam.put_user_policy(UserName="py-ops", PolicyName="pass", PolicyDocument=doc(
    {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
     "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}))
ops.add_role_to_instance_profile(InstanceProfileName="py-page-2", RoleName="py-other")
check("added with PassRole for EC2",
      [r["RoleName"] for r in iam.get_instance_profile(InstanceProfileName="py-page-2")["InstanceProfile"]["Roles"]], ["py-other"])
ops.remove_role_from_instance_profile(InstanceProfileName="py-page-2", RoleName="py-other")
iam.remove_role_from_instance_profile(InstanceProfileName="py-profile", RoleName="py-web")
iam.delete_instance_profile(InstanceProfileName="py-profile")
expect_error("NoSuchEntity", iam.get_instance_profile, InstanceProfileName="py-profile")

# Service-linked roles.
r = iam.create_service_linked_role(AWSServiceName="elasticbeanstalk.amazonaws.com", Description="beans")["Role"]
check("service-linked role", (r["Path"], r["RoleName"], r["Description"], r["AssumeRolePolicyDocument"]),
      ("/aws-service-role/elasticbeanstalk.amazonaws.com/", "AWSServiceRoleForElasticBeanstalk", "beans",
       {"Version": "2012-10-17", "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                                                "Principal": {"Service": "elasticbeanstalk.amazonaws.com"}}]}))
check("its policy", [a["PolicyArn"] for a in iam.list_attached_role_policies(RoleName=r["RoleName"])["AttachedPolicies"]],
      ["arn:aws:iam::aws:policy/aws-service-role/AWSElasticBeanstalkServiceRolePolicy"])
check("with a custom suffix", iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="py")["Role"]["RoleName"],
      "AWSServiceRoleForAutoScaling_py")
before = roles()
expect_message("InvalidInput", "Custom suffix is not allowed for elasticbeanstalk.amazonaws.com",
               iam.create_service_linked_role, AWSServiceName="elasticbeanstalk.amazonaws.com", CustomSuffix="x")
expect_message("InvalidInput", "Service role name AWSServiceRoleForElasticBeanstalk has been taken in this account, please try a different suffix.",
               iam.create_service_linked_role, AWSServiceName="elasticbeanstalk.amazonaws.com")
expect_error("InvalidInput", iam.create_service_linked_role, AWSServiceName="example.com")
expect_message("InvalidInput", "Path prefix '/aws-service-role/' can only be used for AWS Service linked Roles",
               iam.create_role, RoleName="py-fake", Path="/aws-service-role/ecs.amazonaws.com/", AssumeRolePolicyDocument=TRUST)
protected = "Cannot perform the operation on the protected role 'AWSServiceRoleForElasticBeanstalk' - this role is only modifiable by AWS"
expect_message("UnmodifiableEntity", protected, iam.delete_role, RoleName="AWSServiceRoleForElasticBeanstalk")
expect_message("UnmodifiableEntity", protected, iam.update_assume_role_policy, RoleName="AWSServiceRoleForElasticBeanstalk", PolicyDocument=TRUST)
expect_message("UnmodifiableEntity", protected, iam.put_role_policy, RoleName="AWSServiceRoleForElasticBeanstalk", PolicyName="x",
               PolicyDocument=doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
expect_message("InvalidInput", "The role py-web is not a service-linked role; delete it with DeleteRole.",
               iam.delete_service_linked_role, RoleName="py-web")
check("refused requests created and deleted no role", roles(), before)
check("inline policies of the service-linked role", iam.list_role_policies(RoleName="AWSServiceRoleForElasticBeanstalk")["PolicyNames"], [])
task = iam.delete_service_linked_role(RoleName="AWSServiceRoleForElasticBeanstalk")["DeletionTaskId"]
check("task id", task.rsplit("/", 1)[0], "task/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk")
check("deletion status", iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"], "SUCCEEDED")
expect_error("NoSuchEntity", iam.get_role, RoleName="AWSServiceRoleForElasticBeanstalk")
expect_error("InvalidInput", iam.get_service_linked_role_deletion_status, DeletionTaskId="not-a-task")

# Which policies grant a user access to a service.
iam.create_user(UserName="py-sofia")
iam.put_user_policy(UserName="py-sofia", PolicyName="Grant-Sofia-Access-To-CodeCommit",
                    PolicyDocument=doc({"Effect": "Allow", "Action": "codecommit:*", "Resource": "*"}))
allow_but_iam = iam.create_policy(PolicyName="py-all-but-iam", PolicyDocument=doc(
    {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))["Policy"]["Arn"]
iam.create_group(GroupName="py-readers")
iam.add_user_to_group(GroupName="py-readers", UserName="py-sofia")
iam.attach_group_policy(GroupName="py-readers", PolicyArn=allow_but_iam)
user_arn = f"arn:aws:iam::{account}:user/py-sofia"
got = iam.list_policies_granting_service_access(Arn=user_arn, ServiceNamespaces=["codecommit", "iam"])
check("policies granting service access", got["PoliciesGrantingServiceAccess"], [
    {"ServiceNamespace": "codecommit", "Policies": [
        {"PolicyName": "Grant-Sofia-Access-To-CodeCommit", "PolicyType": "INLINE", "EntityType": "USER", "EntityName": "py-sofia"},
        {"PolicyName": "py-all-but-iam", "PolicyType": "MANAGED", "PolicyArn": allow_but_iam}]},
    {"ServiceNamespace": "iam", "Policies": []}])
check("not truncated", got["IsTruncated"], False)
expect_message("NoSuchEntity", "The user with name ghost cannot be found.", iam.list_policies_granting_service_access,
               Arn=f"arn:aws:iam::{account}:user/ghost", ServiceNamespaces=["s3"])
expect_error("InvalidInput", iam.list_policies_granting_service_access, Arn=allow_but_iam, ServiceNamespaces=["s3"])
expect_error("ValidationError", iam.list_policies_granting_service_access, Arn=user_arn, ServiceNamespaces=["s3", "bad ns"])
expect_error("AccessDenied", ops.list_policies_granting_service_access, Arn=user_arn, ServiceNamespaces=["s3"])
print("profiles_boto3: all checks passed")
