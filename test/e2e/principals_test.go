package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// Principals are bound by identity, not by name. The IAM User Guide ("Role trust policy
// examples", "AWS JSON policy elements: Principal"): "When you save the policy, AWS transforms
// the ARN to a unique principal ID ... if you delete the role or user, then the relationship
// is broken. The policy no longer applies, even if you recreate the user or role ... the
// principal ID shows up in the console because AWS can no longer map it back to an ARN." A
// principal that does not exist is refused with MalformedPolicyDocument `Invalid principal in
// policy: "AWS":"ARN"` (quoted from AWS's answers in databrickslabs/ucx#2269 and
// aws-samples/aws-iam-access-key-auto-rotation#26).

// awsTrust is a trust policy letting the AWS principals assume the role.
func awsTrust(principals ...string) string {
	return trustDoc(`{"AWS":["`+strings.Join(principals, `","`)+`"]}`, `"sts:AssumeRole"`, "")
}

// trustOf returns a role's trust policy as GetRole shows it.
func trustOf(t *testing.T, c *iam.Client, role string) string {
	t.Helper()
	out, err := c.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(role)})
	stsOK(t, err)
	return gkDecode(t, out.Role.AssumeRolePolicyDocument)
}

// deleteUser removes a user with its access keys and inline policies, as a client must.
func deleteUser(t *testing.T, c *iam.Client, name string) {
	t.Helper()
	ctx := context.Background()
	keys, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(name)})
	stsOK(t, err)
	for _, k := range keys.AccessKeyMetadata {
		_, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(name), AccessKeyId: k.AccessKeyId})
		stsOK(t, err)
	}
	pols, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(name)})
	stsOK(t, err)
	for _, p := range pols.PolicyNames {
		_, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(p)})
		stsOK(t, err)
	}
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(name)})
	stsOK(t, err)
}

// deleteRole removes a role with its inline policies.
func deleteRole(t *testing.T, c *iam.Client, name string) {
	t.Helper()
	ctx := context.Background()
	pols, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	stsOK(t, err)
	for _, p := range pols.PolicyNames {
		_, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(p)})
		stsOK(t, err)
	}
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)})
	stsOK(t, err)
}

const assumeAny = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`

func TestTrustPolicyPrincipalsByID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	acct := e.Account
	aliceARN, _, alice := stsUser(t, e, e.IAM, acct, "alice", "")
	aliceID := userID(t, e.IAM, "alice")
	ciARN := stsRole(t, e.IAM, "ci", awsTrust("arn:aws:iam::"+acct+":root"), assumeAny, 0)
	ciID := stsRoleID(t, e.IAM, "ci")

	t.Run("case=missing principals are refused and change nothing", func(t *testing.T) {
		cases := []struct{ name, principal string }{
			{"user", "arn:aws:iam::" + acct + ":user/ghost"},
			{"role", "arn:aws:iam::" + acct + ":role/ghost"},
			{"user with a path it does not have", "arn:aws:iam::" + acct + ":user/team/alice"},
			// Names compare without case, but the ARN must spell the principal exactly
			// (Gatehouse's decision; AWS's own answer for a case mismatch is not documented).
			{"user spelled in another case", "arn:aws:iam::" + acct + ":user/ALICE"},
			{"user of an account that is not here", "arn:aws:iam::999999999999:user/alice"},
			{"unique id of no one", "AIDAAAAAAAAAAAAAAAAAA"},
		}
		for _, c := range cases {
			t.Run("principal="+c.name, func(t *testing.T) {
				_, err := e.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bad"), AssumeRolePolicyDocument: aws.String(awsTrust(c.principal))})
				stsErr(t, err, "MalformedPolicyDocument", `Invalid principal in policy: "AWS":"`+c.principal+`"`)
				_, err = e.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("bad")})
				stsErr(t, err, "NoSuchEntity", "bad")
				before := trustOf(t, e.IAM, "ci")
				_, err = e.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("ci"), PolicyDocument: aws.String(awsTrust(aliceARN, c.principal))})
				stsErr(t, err, "MalformedPolicyDocument", `Invalid principal in policy: "AWS":"`+c.principal+`"`)
				if after := trustOf(t, e.IAM, "ci"); after != before {
					t.Errorf("a refused UpdateAssumeRolePolicy changed the trust policy:\n%s\n%s", before, after)
				}
			})
		}
	})

	t.Run("case=reading shows ARNs, other principals as written", func(t *testing.T) {
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["` + aliceARN + `","` + ciARN + `","` + acct + `","arn:aws:iam::` + acct + `:root","arn:aws:sts::` + acct + `:assumed-role/ci/s1"],"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
		out, err := e.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("shown"), AssumeRolePolicyDocument: aws.String(doc)})
		stsOK(t, err)
		if got := gkDecode(t, out.Role.AssumeRolePolicyDocument); got != doc {
			t.Errorf("CreateRole returned\n%s\nwant\n%s", got, doc)
		}
		if got := trustOf(t, e.IAM, "shown"); got != doc {
			t.Errorf("GetRole shows\n%s\nwant\n%s", got, doc)
		}
		list, err := e.IAM.ListRoles(ctx, &iam.ListRolesInput{})
		stsOK(t, err)
		for _, r := range list.Roles {
			if aws.ToString(r.RoleName) == "shown" && gkDecode(t, r.AssumeRolePolicyDocument) != doc {
				t.Errorf("ListRoles shows %s", gkDecode(t, r.AssumeRolePolicyDocument))
			}
		}
		// A unique id is accepted and shown as the principal's ARN.
		_, err = e.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("shown"), PolicyDocument: aws.String(awsTrust(aliceID, ciID))})
		stsOK(t, err)
		if got, want := trustOf(t, e.IAM, "shown"), awsTrust(aliceARN, ciARN); got != want {
			t.Errorf("trust policy given by ids shows\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("case=a deleted and re-created user no longer matches", func(t *testing.T) {
		bobARN, _, bob := stsUser(t, e, e.IAM, acct, "bob", assumeAny)
		bobID := userID(t, e.IAM, "bob")
		role := stsRole(t, e.IAM, "for-bob", awsTrust(bobARN), "", 0)
		_, err := bob.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1")})
		stsOK(t, err)

		deleteUser(t, e.IAM, "bob")
		if got, want := trustOf(t, e.IAM, "for-bob"), awsTrust(bobID); got != want {
			t.Errorf("trust policy of a deleted principal shows\n%s\nwant the bare id\n%s", got, want)
		}
		_, _, bob2 := stsUser(t, e, e.IAM, acct, "bob", assumeAny)
		_, err = bob2.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1")})
		stsErr(t, err, "AccessDenied", "User: "+bobARN+" is not authorized to perform: sts:AssumeRole on resource: "+role)
		if got, want := trustOf(t, e.IAM, "for-bob"), awsTrust(bobID); got != want {
			t.Errorf("the new bob took over the old one's place:\n%s", got)
		}
		// The old id names no one: a new policy cannot use it (AWS: "Invalid principal in policy").
		_, err = e.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("for-bob"), PolicyDocument: aws.String(awsTrust(bobID))})
		stsErr(t, err, "MalformedPolicyDocument", `Invalid principal in policy: "AWS":"`+bobID+`"`)
		// Saving the policy again with the ARN binds the new bob.
		_, err = e.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("for-bob"), PolicyDocument: aws.String(awsTrust(bobARN))})
		stsOK(t, err)
		_, err = bob2.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1")})
		stsOK(t, err)
	})

	t.Run("case=a renamed user keeps matching and is shown by its new ARN", func(t *testing.T) {
		carolARN, _, carol := stsUser(t, e, e.IAM, acct, "carol", assumeAny)
		role := stsRole(t, e.IAM, "for-carol", awsTrust(carolARN), "", 0)
		_, err := e.IAM.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("carol"), NewUserName: aws.String("carol2"), NewPath: aws.String("/team/")})
		stsOK(t, err)
		if got, want := trustOf(t, e.IAM, "for-carol"), awsTrust("arn:aws:iam::"+acct+":user/team/carol2"); got != want {
			t.Errorf("after the rename the trust policy shows\n%s\nwant\n%s", got, want)
		}
		_, err = carol.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1")})
		stsOK(t, err)
	})

	t.Run("case=a deleted and re-created role no longer matches its chained sessions", func(t *testing.T) {
		_, err := e.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("assume"), PolicyDocument: aws.String(assumeAny)})
		stsOK(t, err)
		hopTrust := awsTrust(aliceARN)
		hopARN := stsRole(t, e.IAM, "hop", hopTrust, assumeAny, 0)
		hopID := stsRoleID(t, e.IAM, "hop")
		target := stsRole(t, e.IAM, "target", awsTrust(hopARN), "", 0)
		hopSession := func() *sts.Client {
			out, err := alice.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(hopARN), RoleSessionName: aws.String("hop")})
			stsOK(t, err)
			_, c := e.sessionClients(out.Credentials)
			return c
		}
		_, err = hopSession().AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(target), RoleSessionName: aws.String("t1")})
		stsOK(t, err)

		deleteRole(t, e.IAM, "hop")
		stsRole(t, e.IAM, "hop", hopTrust, assumeAny, 0)
		_, err = hopSession().AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(target), RoleSessionName: aws.String("t1")})
		stsErr(t, err, "AccessDenied", "User: arn:aws:sts::"+acct+":assumed-role/hop/hop is not authorized to perform: sts:AssumeRole on resource: "+target)
		if got, want := trustOf(t, e.IAM, "target"), awsTrust(hopID); got != want {
			t.Errorf("trust policy naming a deleted role shows\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("case=a user of another account is bound too", func(t *testing.T) {
		b, bIAM, _ := e.newAccount(t)
		devARN, _, dev := stsUser(t, e, bIAM, b.AccountID, "dev", assumeAny)
		role := stsRole(t, e.IAM, "for-b-dev", awsTrust(devARN), "", 0)
		_, err := dev.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1")})
		stsOK(t, err)
		if got := trustOf(t, e.IAM, "for-b-dev"); got != awsTrust(devARN) {
			t.Errorf("trust policy shows %s", got)
		}
		deleteUser(t, bIAM, "dev")
		_, _, dev2 := stsUser(t, e, bIAM, b.AccountID, "dev", assumeAny)
		_, err = dev2.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1")})
		stsErr(t, err, "AccessDenied", "sts:AssumeRole")
	})
}

// TestSessionsOfDeletedPrincipals: temporary credentials of a user or role that was deleted,
// or deleted and re-created under the same name, are refused for every operation, as AWS
// refuses them ("Credentials inside of session cache can become invalid due to a role being
// deleted and recreated causing InvalidClientTokenId", aws/aws-sdk-java-v2#5545).
func TestSessionsOfDeletedPrincipals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	acct := e.Account
	const invalid = "The security token included in the request is invalid"

	// Every operation, with the permissions to do it: a refusal is the session's, not a policy's.
	calls := func(t *testing.T, creds *ststypes.Credentials, target string) {
		t.Helper()
		ic, sc := e.sessionClients(creds)
		ops := []struct {
			name string
			call func() error
		}{
			{"GetCallerIdentity", func() error { _, err := sc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); return err }},
			{"AssumeRole", func() error {
				_, err := sc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(target), RoleSessionName: aws.String("chain")})
				return err
			}},
			{"ListUsers", func() error { _, err := ic.ListUsers(ctx, &iam.ListUsersInput{}); return err }},
			{"CreateUser", func() error {
				_, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("made-by-ghost")})
				return err
			}},
		}
		for _, op := range ops {
			stsErr(t, op.call(), "InvalidClientTokenId", invalid)
		}
		if _, err := e.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("made-by-ghost")}); err == nil {
			t.Errorf("a refused session created a user")
		}
	}
	target := stsRole(t, e.IAM, "target", awsTrust("arn:aws:iam::"+acct+":root"), "", 0)

	t.Run("session=role", func(t *testing.T) {
		_, _, alice := stsUser(t, e, e.IAM, acct, "alice", assumeAny)
		trust := awsTrust("arn:aws:iam::" + acct + ":user/alice")
		role := stsRole(t, e.IAM, "worker", trust, allowAll, 0)
		out, err := alice.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1")})
		stsOK(t, err)
		_, sc := e.sessionClients(out.Credentials)
		_, err = sc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		stsOK(t, err)

		deleteRole(t, e.IAM, "worker")
		calls(t, out.Credentials, target)
		// Re-created under the same name (same trust, same permissions): still refused.
		stsRole(t, e.IAM, "worker", trust, allowAll, 0)
		calls(t, out.Credentials, target)
	})

	t.Run("session=GetSessionToken", func(t *testing.T) {
		_, _, u := stsUser(t, e, e.IAM, acct, "temp-user", allowAll)
		out, err := u.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
		stsOK(t, err)
		deleteUser(t, e.IAM, "temp-user")
		calls(t, out.Credentials, target)
		stsUser(t, e, e.IAM, acct, "temp-user", allowAll)
		calls(t, out.Credentials, target)
	})

	t.Run("session=GetFederationToken", func(t *testing.T) {
		_, _, u := stsUser(t, e, e.IAM, acct, "broker", allowAll)
		out, err := u.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("fed"), Policy: aws.String(allowAll)})
		stsOK(t, err)
		deleteUser(t, e.IAM, "broker")
		calls(t, out.Credentials, target)
	})
}
