package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/totp"
)

// TestSessionLimitsPerOperation calls every STS operation (and one IAM operation) with each
// kind of credentials, each allowed everything by its policies, so that what is refused is
// refused by the credentials' own limits. The rules are the IAM User Guide's "Compare AWS STS
// credentials" table: GetFederationToken sessions "can't call IAM API operations" and "can't
// call AWS STS API operations except GetCallerIdentity"; GetSessionToken sessions "can't call
// IAM API operations unless MFA information is included with the request" and "can't call
// AWS STS API operations except AssumeRole or GetCallerIdentity"; role sessions "can't call
// GetFederationToken or GetSessionToken". AWS's answers: AccessDenied "Cannot call
// GetSessionToken with session credentials" (quoted in aws/aws-sdk-net#1704, hashicorp/vault#4108
// for GetFederationToken) and, for IAM with a session that may not call it,
// InvalidClientTokenId "The security token included in the request is invalid" (cloudyr/aws.iam#15).
func TestSessionLimitsPerOperation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	acct := e.Account

	_, userIAM, userSTS := stsUser(t, e, e.IAM, acct, "everything", allowAll)
	role := stsRole(t, e.IAM, "anything", awsTrust("arn:aws:iam::"+acct+":root"), allowAll, 0)
	target := stsRole(t, e.IAM, "target", awsTrust("arn:aws:iam::"+acct+":root"), "", 0)

	// An authorization message of this account to decode (IAM's own denials carry none).
	encoded := accountMessage(t, e, acct)

	serial, seed := stsEnableMFA(t, e, "everything")
	sessions := map[string]*types.Credentials{}
	out, err := userSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("r1")})
	stsOK(t, err)
	sessions["role"] = out.Credentials
	fed, err := userSTS.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("fed"), Policy: aws.String(allowAll)})
	stsOK(t, err)
	sessions["federated"] = fed.Credentials
	plain, err := userSTS.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	stsOK(t, err)
	sessions["session"] = plain.Credentials
	withMFA, err := userSTS.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String(totp.Default.CodeAt(seed, stsStep()))})
	stsOK(t, err)
	sessions["session with MFA"] = withMFA.Credentials
	rootSession, err := e.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	stsOK(t, err)
	sessions["root session"] = rootSession.Credentials

	clients := map[string]*sts.Client{"user": userSTS, "root": e.STS}
	iamClients := map[string]*iam.Client{"root": e.IAM, "user": userIAM}
	for name, c := range sessions {
		iamClients[name], clients[name] = e.sessionClients(c)
	}

	const invalid = "The security token included in the request is invalid"
	cannot := func(op string) string { return "Cannot call " + op + " with session credentials" }
	ops := []string{"GetCallerIdentity", "GetSessionToken", "GetFederationToken", "AssumeRole", "GetAccessKeyInfo", "DecodeAuthorizationMessage", "iam:ListUsers"}
	// refused maps each op to its AccessDenied for temporary credentials; with adds one answer.
	refused := func(ops ...string) map[string]string {
		m := map[string]string{}
		for _, op := range ops {
			m[op] = "AccessDenied " + cannot(op)
		}
		return m
	}
	with := func(m map[string]string, op, answer string) map[string]string {
		m[op] = answer
		return m
	}
	noIAM := "InvalidClientTokenId " + invalid
	noRoot := "AccessDenied Roles may not be assumed by root accounts."
	// What GetSessionToken credentials may not call in STS: all but AssumeRole and GetCallerIdentity.
	notForSessions := []string{"GetSessionToken", "GetFederationToken", "GetAccessKeyInfo", "DecodeAuthorizationMessage"}
	// want[session][op] is "" for success, else "CODE message".
	want := map[string]map[string]string{
		"user":             {},
		"root":             {"AssumeRole": noRoot},
		"role":             refused("GetSessionToken", "GetFederationToken"),
		"federated":        with(refused(append(notForSessions, "AssumeRole")...), "iam:ListUsers", noIAM),
		"session":          with(refused(notForSessions...), "iam:ListUsers", noIAM),
		"session with MFA": refused(notForSessions...),
		"root session":     with(with(refused(notForSessions...), "iam:ListUsers", noIAM), "AssumeRole", noRoot),
	}
	keys, err := e.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("everything")})
	stsOK(t, err)
	keyID := keys.AccessKeyMetadata[0].AccessKeyId
	for session, cases := range want {
		for _, op := range ops {
			t.Run("credentials="+session+"/op="+op, func(t *testing.T) {
				sc, ic := clients[session], iamClients[session]
				var err error
				switch op {
				case "GetCallerIdentity":
					_, err = sc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				case "GetSessionToken":
					_, err = sc.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
				case "GetFederationToken":
					_, err = sc.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("again"), Policy: aws.String(allowAll)})
				case "AssumeRole":
					_, err = sc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(target), RoleSessionName: aws.String("t1")})
				case "GetAccessKeyInfo":
					_, err = sc.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: keyID})
				case "DecodeAuthorizationMessage":
					_, err = sc.DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(encoded)})
				case "iam:ListUsers":
					_, err = ic.ListUsers(ctx, &iam.ListUsersInput{})
				}
				w := cases[op]
				if w == "" {
					stsOK(t, err)
					return
				}
				code, msg, _ := strings.Cut(w, " ")
				stsErr(t, err, code, msg)
			})
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestCrossAccountResources: a request naming a resource of another account is decided as a
// cross-account request, which needs that account's resource-based policy ("Cross-account
// policy evaluation logic", IAM User Guide). IAM resources have none, so every caller is
// denied, the root user included, and nothing changes in the other account. Only the account
// of a denied request can decode its authorization message.
func TestCrossAccountResources(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, bIAM, bSTS := e.newAccount(t)
	theirs := polCreate(t, bIAM, "Theirs", "/")
	theirARN := aws.ToString(theirs.Arn)
	adminARN, adminIAM, adminSTS := stsUser(t, e, e.IAM, e.Account, "admin", allowAll)
	rootARN := "arn:aws:iam::" + e.Account + ":root"
	before := polState(t, bIAM, theirARN)

	callers := []struct {
		name, arn string
		c         *iam.Client
	}{{"user", adminARN, adminIAM}, {"root", rootARN, e.IAM}}
	for _, c := range callers {
		ops := []struct {
			action string
			call   func() error
		}{
			{"iam:GetPolicy", func() error {
				_, err := c.c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(theirARN)})
				return err
			}},
			{"iam:CreatePolicyVersion", func() error {
				_, err := c.c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(theirARN), PolicyDocument: aws.String(allowAll), SetAsDefault: true})
				return err
			}},
			{"iam:TagPolicy", func() error {
				_, err := c.c.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: aws.String(theirARN), Tags: pmTags("owner", "mallory")})
				return err
			}},
			{"iam:DeletePolicy", func() error {
				_, err := c.c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(theirARN)})
				return err
			}},
		}
		for _, op := range ops {
			t.Run("caller="+c.name+"/op="+op.action, func(t *testing.T) {
				stsErr(t, op.call(), "AccessDenied", "User: "+c.arn+" is not authorized to perform: "+op.action+" on resource: policy "+theirARN+
					" because no resource-based policy allows the "+op.action+" action")
			})
		}
	}
	if after := polState(t, bIAM, theirARN); after != before {
		t.Errorf("another account's policy changed:\n%s\n%s", before, after)
	}
	// AWS managed policies belong to no account: anyone allowed may read them.
	_, err := adminIAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
	stsOK(t, err)

	t.Run("op=DecodeAuthorizationMessage", func(t *testing.T) {
		encoded := accountMessage(t, e, e.Account)
		in := &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(encoded)}
		_, err = bSTS.DecodeAuthorizationMessage(ctx, in)
		stsErr(t, err, "InvalidAuthorizationMessageException", "not a valid authorization message")
		_, err = adminSTS.DecodeAuthorizationMessage(ctx, in)
		stsOK(t, err)
	})
}

// accountMessage seals an authorization message denying a user of account, as the services
// Gatehouse protects will append to their AccessDenied answers (IAM's and STS's carry none).
func accountMessage(t *testing.T, e *env, account string) string {
	t.Helper()
	m := &session.AuthorizationMessage{Context: session.MessageContext{
		Principal: session.MessagePrincipal{ID: "AIDAEXAMPLE", Name: "nobody", ARN: "arn:aws:iam::" + account + ":user/nobody"},
		Action:    "iam:ListUsers", Resource: "*",
	}}
	encoded, err := e.app.Sessions.EncodeAuthorizationMessage(context.Background(), m)
	stsOK(t, err)
	return encoded
}
