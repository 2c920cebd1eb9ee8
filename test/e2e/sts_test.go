package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/totp"
)

// stsErr fails unless err is the AWS error code, with a message containing msg.
func stsErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("want %s %q, got %s %q", code, msg, ae.ErrorCode(), ae.ErrorMessage())
	}
}

func stsOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// stsUser creates a user with an access key and the given inline policy ("" for none); it
// returns the user's ARN and clients signed with its key.
func stsUser(t *testing.T, e *env, c *iam.Client, account, name, policyDoc string) (string, *iam.Client, *sts.Client) {
	t.Helper()
	ctx := context.Background()
	u, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
	stsOK(t, err)
	if policyDoc != "" {
		_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(policyDoc)})
		stsOK(t, err)
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	stsOK(t, err)
	ic, sc := e.clients(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), "")
	return aws.ToString(u.User.Arn), ic, sc
}

// stsRole creates a role with a trust policy and an inline permission policy ("" for none).
func stsRole(t *testing.T, c *iam.Client, name, trust, permissions string, maxSession int32) string {
	t.Helper()
	ctx := context.Background()
	in := &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}
	if maxSession > 0 {
		in.MaxSessionDuration = aws.Int32(maxSession)
	}
	r, err := c.CreateRole(ctx, in)
	stsOK(t, err)
	if permissions != "" {
		_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(permissions)})
		stsOK(t, err)
	}
	return aws.ToString(r.Role.Arn)
}

// sessionClients returns clients signed with temporary credentials.
func (e *env) sessionClients(c *ststypes.Credentials) (*iam.Client, *sts.Client) {
	return e.clients(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
}

func trustDoc(principalJSON string, actions string, condition string) string {
	cond := ""
	if condition != "" {
		cond = `,"Condition":` + condition
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + principalJSON + `,"Action":` + actions + cond + `}]}`
}

const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

func TestGetSessionToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()

	t.Run("caller=root", func(t *testing.T) {
		start := time.Now()
		out, err := e.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(7200)})
		stsOK(t, err)
		c := out.Credentials
		if id := aws.ToString(c.AccessKeyId); !strings.HasPrefix(id, "ASIA") || len(id) != 20 {
			t.Errorf("access key id %q, want ASIA...", id)
		}
		// The root user's sessions last at most an hour, whatever was asked.
		if exp := aws.ToTime(c.Expiration); exp.Sub(start) > time.Hour+5*time.Second || exp.Sub(start) < time.Hour-5*time.Second {
			t.Errorf("expiration %v is not an hour from %v", exp, start)
		}
		_, sc := e.sessionClients(c)
		id, err := sc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		stsOK(t, err)
		if got, want := aws.ToString(id.Arn), "arn:aws:iam::"+e.Account+":root"; got != want {
			t.Errorf("caller %s, want %s", got, want)
		}
		if got := aws.ToString(id.UserId); got != e.Account {
			t.Errorf("user id %s, want the account id", got)
		}
		// Session credentials cannot make another session.
		_, err = sc.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
		stsErr(t, err, "AccessDenied", "Cannot call GetSessionToken with session credentials")
	})

	userARN, _, userSTS := stsUser(t, e, e.IAM, e.Account, "gst-user", "")
	t.Run("caller=user", func(t *testing.T) {
		start := time.Now()
		out, err := userSTS.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
		stsOK(t, err)
		// Twelve hours by default, and GetSessionToken needs no permission.
		if exp := aws.ToTime(out.Credentials.Expiration); exp.Sub(start) < 12*time.Hour-5*time.Second || exp.Sub(start) > 12*time.Hour+5*time.Second {
			t.Errorf("expiration %v, want 12 hours from %v", exp, start)
		}
		si, ss := e.sessionClients(out.Credentials)
		id, err := ss.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		stsOK(t, err)
		if got := aws.ToString(id.Arn); got != userARN {
			t.Errorf("caller %s, want %s", got, userARN)
		}
		// Without MFA, GetSessionToken credentials cannot call IAM (AWS's rule).
		_, err = si.ListUsers(ctx, &iam.ListUsersInput{})
		stsErr(t, err, "InvalidClientTokenId", "The security token included in the request is invalid")
	})

	t.Run("case=durations", func(t *testing.T) {
		for _, c := range []struct {
			d    int32
			code string
		}{{899, "ValidationError"}, {129601, "ValidationError"}, {900, ""}, {129600, ""}} {
			_, err := userSTS.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(c.d)})
			if c.code == "" {
				stsOK(t, err)
			} else {
				stsErr(t, err, c.code, "durationSeconds")
			}
		}
	})

	t.Run("case=mfa", func(t *testing.T) {
		serial, seed := stsEnableMFA(t, e, "gst-user")
		step := stsStep()
		_, err := userSTS.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial)})
		stsErr(t, err, "AccessDenied", "must provide both MFA serial number and one time pass code")
		_, err = userSTS.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String(wrongCode(totp.Default.CodeAt(seed, step)))})
		stsErr(t, err, "AccessDenied", "MultiFactorAuthentication failed")
		out, err := userSTS.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String(totp.Default.CodeAt(seed, step))})
		stsOK(t, err)
		// With MFA, the session may call IAM; the user has no policy, so it is denied by policy
		// rather than refused as a token.
		si, _ := e.sessionClients(out.Credentials)
		_, err = si.ListUsers(ctx, &iam.ListUsersInput{})
		stsErr(t, err, "AccessDenied", "is not authorized to perform: iam:ListUsers")
		// The code worked once.
		_, err = userSTS.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String(totp.Default.CodeAt(seed, step))})
		stsErr(t, err, "AccessDenied", "MultiFactorAuthentication failed")
	})
}

// stsEnableMFA creates and enables a virtual MFA device for user and returns its serial
// number and seed. The enabling codes use the two steps before the current one, so the
// current step's code is still unused.
func stsEnableMFA(t *testing.T, e *env, user string) (string, []byte) {
	t.Helper()
	ctx := context.Background()
	out, err := e.IAM.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(user + "-mfa")})
	stsOK(t, err)
	seed, err := totp.DecodeSeed(string(out.VirtualMFADevice.Base32StringSeed))
	stsOK(t, err)
	serial := aws.ToString(out.VirtualMFADevice.SerialNumber)
	step := stsStep()
	_, err = e.IAM.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{
		UserName: aws.String(user), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(totp.Default.CodeAt(seed, step-2)),
		AuthenticationCode2: aws.String(totp.Default.CodeAt(seed, step-1)),
	})
	stsOK(t, err)
	return serial, seed
}

// stsStep is the current TOTP step, after waiting out a step that is about to end.
func stsStep() int64 {
	if left := 30 - time.Now().Unix()%30; left < 8 {
		time.Sleep(time.Duration(left)*time.Second + 100*time.Millisecond)
	}
	return totp.Default.Step(time.Now())
}

func wrongCode(code string) string { return fmt.Sprintf("%06d", (atoi(code)+1)%1000000) }

// TestSessionTokenRejected covers requests whose temporary credentials must not work: expired,
// tampered with, presented with another key, signed with the wrong secret, or replayed after
// the session ended.
func TestSessionTokenRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	out, err := e.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	stsOK(t, err)
	good := out.Credentials
	keyID, secret, token := aws.ToString(good.AccessKeyId), aws.ToString(good.SecretAccessKey), aws.ToString(good.SessionToken)
	other, err := e.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	stsOK(t, err)

	raw, err := base64.RawURLEncoding.DecodeString(token)
	stsOK(t, err)
	raw[len(raw)/2] ^= 0x40
	tampered := base64.RawURLEncoding.EncodeToString(raw)

	// A genuine token sealed by this server for a session that ended an hour ago.
	now := time.Now().UTC().Truncate(time.Second)
	expired := principal.Principal{Type: principal.Root, Account: e.Account, ARN: "arn:aws:iam::" + e.Account + ":root", UserID: e.Account,
		Session: &principal.Session{IssuedAt: now.Add(-2 * time.Hour), Expires: now.Add(-time.Hour), UserID: e.Account}}
	old, err := e.app.Sessions.Issue(ctx, &expired, 0)
	stsOK(t, err)

	cases := []struct {
		name, keyID, secret, token, code, msg string
	}{
		{"case=expired", old.AccessKeyID, old.SecretAccessKey, old.SessionToken, "ExpiredToken", "The security token included in the request is expired"},
		{"case=tampered token", keyID, secret, tampered, "InvalidClientTokenId", "The security token included in the request is invalid"},
		{"case=token of another session", keyID, secret, aws.ToString(other.Credentials.SessionToken), "InvalidClientTokenId", "The security token included in the request is invalid"},
		{"case=token with a long-term key", e.Root.AccessKeyID, e.Root.SecretAccessKey, token, "InvalidClientTokenId", "invalid"},
		{"case=temporary key without token", keyID, secret, "", "InvalidClientTokenId", "invalid"},
		{"case=wrong secret", keyID, strings.Repeat("x", 40), token, "SignatureDoesNotMatch", "signature"},
		{"case=garbage token", keyID, secret, "not-a-token", "InvalidClientTokenId", "invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ic, sc := e.clients(c.keyID, c.secret, c.token)
			_, err := sc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			stsErr(t, err, c.code, c.msg)
			_, err = ic.GetUser(ctx, &iam.GetUserInput{})
			stsErr(t, err, c.code, c.msg)
		})
	}
	t.Run("case=genuine", func(t *testing.T) {
		_, sc := e.clients(keyID, secret, token)
		_, err := sc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		stsOK(t, err)
	})
}

func TestGetAccessKeyInfo(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	b, bIAM, _ := e.newAccount(t)
	k, err := bIAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
	stsOK(t, err)
	sess, err := e.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	stsOK(t, err)
	cases := []struct {
		name, key, account, code string
	}{
		{"key=long-term of another account", aws.ToString(k.AccessKey.AccessKeyId), b.AccountID, ""},
		{"key=root of this account", e.Root.AccessKeyID, e.Account, ""},
		{"key=temporary", aws.ToString(sess.Credentials.AccessKeyId), e.Account, ""},
		// AWS's published example of its key id format.
		{"key=aws example", "ASIAY34FZKBOKMUTVV7A", "609629065308", ""},
		{"key=unknown", "AKIAUNKNOWNUNKNOWN00", "", "InvalidParameterValue"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := e.STS.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(c.key)})
			if c.code != "" {
				stsErr(t, err, c.code, "")
				return
			}
			stsOK(t, err)
			if got := aws.ToString(out.Account); got != c.account {
				t.Errorf("account %s, want %s", got, c.account)
			}
		})
	}
	t.Run("caller=user without permission", func(t *testing.T) {
		_, _, sc := stsUser(t, e, e.IAM, e.Account, "gaki-none", "")
		_, err := sc.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(e.Root.AccessKeyID)})
		stsErr(t, err, "AccessDenied", "sts:GetAccessKeyInfo")
	})
	t.Run("caller=user with permission", func(t *testing.T) {
		_, _, sc := stsUser(t, e, e.IAM, e.Account, "gaki-allowed", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetAccessKeyInfo","Resource":"*"}]}`)
		out, err := sc.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(e.Root.AccessKeyID)})
		stsOK(t, err)
		if aws.ToString(out.Account) != e.Account {
			t.Errorf("account %s", aws.ToString(out.Account))
		}
	})
}

func TestGetFederationToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, _, sc := stsUser(t, e, e.IAM, e.Account, "fed-broker", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:GetFederationToken","iam:*"],"Resource":"*"}]}`)
	sessionPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}`

	out, err := sc.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("bob"), Policy: aws.String(sessionPolicy), DurationSeconds: aws.Int32(1800)})
	stsOK(t, err)
	wantARN := "arn:aws:sts::" + e.Account + ":federated-user/bob"
	if got := aws.ToString(out.FederatedUser.Arn); got != wantARN {
		t.Errorf("federated user %s, want %s", got, wantARN)
	}
	if got := aws.ToString(out.FederatedUser.FederatedUserId); got != e.Account+":bob" {
		t.Errorf("federated user id %s", got)
	}
	if p := aws.ToInt32(out.PackedPolicySize); p < 1 || p > 100 {
		t.Errorf("PackedPolicySize %d", p)
	}
	fi, fs := e.sessionClients(out.Credentials)
	id, err := fs.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	stsOK(t, err)
	if aws.ToString(id.Arn) != wantARN || aws.ToString(id.UserId) != e.Account+":bob" {
		t.Errorf("caller identity %s %s", aws.ToString(id.Arn), aws.ToString(id.UserId))
	}
	// Federated users call no IAM operation (AWS's rule for GetFederationToken sessions).
	_, err = fi.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("fed-broker")})
	stsErr(t, err, "InvalidClientTokenId", "invalid")

	cases := []struct {
		name string
		in   *sts.GetFederationTokenInput
		code string
		msg  string
	}{
		{"case=malformed policy", &sts.GetFederationTokenInput{Name: aws.String("bob"), Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`)}, "MalformedPolicyDocument", "Policy statement must contain actions."},
		{"case=bad name", &sts.GetFederationTokenInput{Name: aws.String("b")}, "ValidationError", "name"},
		{"case=too long", &sts.GetFederationTokenInput{Name: aws.String("bob"), DurationSeconds: aws.Int32(129601)}, "ValidationError", "durationSeconds"},
		{"case=reserved tag", &sts.GetFederationTokenInput{Name: aws.String("bob"), Tags: []ststypes.Tag{{Key: aws.String("aws:x"), Value: aws.String("1")}}}, "InvalidParameterValue", "aws:"},
		{"case=tags without sts:TagSession", &sts.GetFederationTokenInput{Name: aws.String("bob"), Tags: []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}, "AccessDenied", "sts:TagSession"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sc.GetFederationToken(ctx, c.in)
			stsErr(t, err, c.code, c.msg)
		})
	}
	t.Run("caller=session", func(t *testing.T) {
		_, err := fs.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("again")})
		if err == nil {
			t.Fatal("a federated session made another federation token")
		}
	})
	t.Run("caller=user without permission", func(t *testing.T) {
		_, _, none := stsUser(t, e, e.IAM, e.Account, "fed-none", "")
		_, err := none.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("bob")})
		stsErr(t, err, "AccessDenied", "sts:GetFederationToken")
	})
}

func TestAssumeRole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	acct := e.Account
	aliceARN, _, alice := stsUser(t, e, e.IAM, acct, "ar-alice", "")
	_, _, bob := stsUser(t, e, e.IAM, acct, "ar-bob", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)

	// Trusts alice by ARN: she needs no identity policy of her own (same account).
	direct := stsRole(t, e.IAM, "ar-direct", trustDoc(`{"AWS":"`+aliceARN+`"}`, `"sts:AssumeRole"`, ""), allowAll, 7200)
	// Trusts the account: the caller's identity policy must allow sts:AssumeRole.
	byAccount := stsRole(t, e.IAM, "ar-account", trustDoc(`{"AWS":"arn:aws:iam::`+acct+`:root"}`, `"sts:AssumeRole"`, ""), allowAll, 0)

	t.Run("case=trusted user", func(t *testing.T) {
		out, err := alice.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(direct), RoleSessionName: aws.String("alice-1")})
		stsOK(t, err)
		wantARN := "arn:aws:sts::" + acct + ":assumed-role/ar-direct/alice-1"
		if got := aws.ToString(out.AssumedRoleUser.Arn); got != wantARN {
			t.Errorf("assumed role user %s, want %s", got, wantARN)
		}
		roleID := stsRoleID(t, e.IAM, "ar-direct")
		if got := aws.ToString(out.AssumedRoleUser.AssumedRoleId); got != roleID+":alice-1" {
			t.Errorf("assumed role id %s, want %s:alice-1", got, roleID)
		}
		if out.PackedPolicySize != nil {
			t.Errorf("PackedPolicySize %d without session policies or tags", *out.PackedPolicySize)
		}
		_, rs := e.sessionClients(out.Credentials)
		id, err := rs.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		stsOK(t, err)
		if aws.ToString(id.Arn) != wantARN || aws.ToString(id.UserId) != roleID+":alice-1" || aws.ToString(id.Account) != acct {
			t.Errorf("caller identity %s %s %s", aws.ToString(id.Arn), aws.ToString(id.UserId), aws.ToString(id.Account))
		}
		// The role was used: GetRole reports it.
		r, err := e.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("ar-direct")})
		stsOK(t, err)
		if r.Role.RoleLastUsed == nil || r.Role.RoleLastUsed.LastUsedDate == nil {
			t.Error("RoleLastUsed not recorded")
		}
	})
	t.Run("case=untrusted user", func(t *testing.T) {
		_, err := bob.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(direct), RoleSessionName: aws.String("bob")})
		stsErr(t, err, "AccessDenied", "is not authorized to perform: sts:AssumeRole on resource: "+direct)
	})
	t.Run("case=account trust needs identity policy", func(t *testing.T) {
		_, err := alice.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(byAccount), RoleSessionName: aws.String("alice")})
		stsErr(t, err, "AccessDenied", "sts:AssumeRole")
		_, err = bob.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(byAccount), RoleSessionName: aws.String("bob")})
		stsOK(t, err)
	})
	t.Run("case=missing role is denied like an untrusted one", func(t *testing.T) {
		_, err := bob.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":role/nope"), RoleSessionName: aws.String("bob")})
		stsErr(t, err, "AccessDenied", "sts:AssumeRole")
	})
	t.Run("case=root may not assume roles", func(t *testing.T) {
		_, err := e.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(byAccount), RoleSessionName: aws.String("root")})
		stsErr(t, err, "AccessDenied", "Roles may not be assumed by root accounts.")
	})
	t.Run("case=durations", func(t *testing.T) {
		cases := []struct {
			role string
			d    int32
			code string
			msg  string
		}{
			{direct, 899, "ValidationError", "durationSeconds"},
			{direct, 43201, "ValidationError", "durationSeconds"},
			{direct, 7200, "", ""},
			{direct, 7201, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
			{byAccount, 3601, "ValidationError", "MaxSessionDuration"},
		}
		for _, c := range cases {
			client := alice
			if c.role == byAccount {
				client = bob
			}
			_, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(c.role), RoleSessionName: aws.String("dd"), DurationSeconds: aws.Int32(c.d)})
			if c.code == "" {
				stsOK(t, err)
			} else {
				stsErr(t, err, c.code, c.msg)
			}
		}
	})
	t.Run("case=session names", func(t *testing.T) {
		for _, c := range []struct{ name, code string }{{"a", "ValidationError"}, {"has space", "ValidationError"}, {strings.Repeat("n", 65), "ValidationError"}, {"ok_name+=,.@-", ""}} {
			_, err := alice.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(direct), RoleSessionName: aws.String(c.name)})
			if c.code == "" {
				stsOK(t, err)
			} else {
				stsErr(t, err, c.code, "roleSessionName")
			}
		}
	})
	t.Run("case=role chaining", func(t *testing.T) {
		first, err := alice.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(direct), RoleSessionName: aws.String("hop1")})
		stsOK(t, err)
		_, hop := e.sessionClients(first.Credentials)
		// ar-direct's session has iam/sts:* and the account trust covers it.
		_, err = hop.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(byAccount), RoleSessionName: aws.String("hop2"), DurationSeconds: aws.Int32(3601)})
		stsErr(t, err, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
		second, err := hop.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(byAccount), RoleSessionName: aws.String("hop2")})
		stsOK(t, err)
		if got := aws.ToString(second.AssumedRoleUser.Arn); got != "arn:aws:sts::"+acct+":assumed-role/ar-account/hop2" {
			t.Errorf("chained session %s", got)
		}
	})
}

func stsRoleID(t *testing.T, c *iam.Client, name string) string {
	t.Helper()
	r, err := c.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(name)})
	stsOK(t, err)
	return aws.ToString(r.Role.RoleId)
}

// TestAssumeRoleConditions covers the trust-policy condition keys AssumeRole provides and the
// session properties that flow into authorization.
func TestAssumeRoleConditions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	acct := e.Account
	userARN, _, user := stsUser(t, e, e.IAM, acct, "cond-user", "")
	who := `{"AWS":"` + userARN + `"}`

	t.Run("key=sts:ExternalId", func(t *testing.T) {
		role := stsRole(t, e.IAM, "cond-external", trustDoc(who, `"sts:AssumeRole"`, `{"StringEquals":{"sts:ExternalId":"ticket-42"}}`), "", 0)
		_, err := user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("xx")})
		stsErr(t, err, "AccessDenied", "sts:AssumeRole")
		_, err = user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("xx"), ExternalId: aws.String("ticket-41")})
		stsErr(t, err, "AccessDenied", "sts:AssumeRole")
		_, err = user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("xx"), ExternalId: aws.String("ticket-42")})
		stsOK(t, err)
	})
	t.Run("key=sts:RoleSessionName", func(t *testing.T) {
		role := stsRole(t, e.IAM, "cond-name", trustDoc(who, `"sts:AssumeRole"`, `{"StringLike":{"sts:RoleSessionName":"ci-*"}}`), "", 0)
		_, err := user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("laptop")})
		stsErr(t, err, "AccessDenied", "sts:AssumeRole")
		_, err = user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("ci-7")})
		stsOK(t, err)
	})
	t.Run("key=aws:MultiFactorAuthPresent", func(t *testing.T) {
		role := stsRole(t, e.IAM, "cond-mfa", trustDoc(who, `"sts:AssumeRole"`, `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`), "", 0)
		serial, seed := stsEnableMFA(t, e, "cond-user")
		_, err := user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("xx")})
		stsErr(t, err, "AccessDenied", "sts:AssumeRole")
		step := stsStep()
		_, err = user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("xx"), SerialNumber: aws.String(serial), TokenCode: aws.String(wrongCode(totp.Default.CodeAt(seed, step)))})
		stsErr(t, err, "AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.")
		_, err = user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("xx"), SerialNumber: aws.String(serial), TokenCode: aws.String(totp.Default.CodeAt(seed, step))})
		stsOK(t, err)
	})
	t.Run("key=session tags", func(t *testing.T) {
		// The trust policy must allow sts:TagSession for tags, and conditions see them.
		noTag := stsRole(t, e.IAM, "cond-notag", trustDoc(who, `"sts:AssumeRole"`, ""), "", 0)
		tags := []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}, {Key: aws.String("project"), Value: aws.String("gate")}}
		_, err := user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(noTag), RoleSessionName: aws.String("xx"), Tags: tags})
		stsErr(t, err, "AccessDenied", "sts:TagSession")

		tagged := stsRole(t, e.IAM, "cond-tag", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Principal":`+who+`,"Action":"sts:AssumeRole"},
			{"Effect":"Allow","Principal":`+who+`,"Action":"sts:TagSession","Condition":{"StringEquals":{"aws:RequestTag/team":"blue"}}}]}`,
			`{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"},
			{"Effect":"Allow","Action":"iam:GetRole","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"}}}]}`, 0)
		_, err = user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(tagged), RoleSessionName: aws.String("xx"), Tags: []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("red")}}})
		stsErr(t, err, "AccessDenied", "sts:TagSession")
		_, err = user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(tagged), RoleSessionName: aws.String("xx"), Tags: tags, TransitiveTagKeys: []string{"nope"}})
		stsErr(t, err, "InvalidParameterValue", "nope")
		_, err = user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(tagged), RoleSessionName: aws.String("xx"), Tags: append(tags, ststypes.Tag{Key: aws.String("TEAM"), Value: aws.String("x")})})
		stsErr(t, err, "InvalidParameterValue", "Duplicate tag keys")
		out, err := user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(tagged), RoleSessionName: aws.String("xx"), Tags: tags, TransitiveTagKeys: []string{"team"}})
		stsOK(t, err)
		if p := aws.ToInt32(out.PackedPolicySize); p < 1 || p > 100 {
			t.Errorf("PackedPolicySize %d", p)
		}
		// aws:PrincipalTag/team comes from the session tag.
		ri, rs := e.sessionClients(out.Credentials)
		_, err = ri.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("cond-tag")})
		stsOK(t, err)
		// Chaining: the transitive tag carries over and cannot be overridden.
		chainTarget := stsRole(t, e.IAM, "cond-chain", trustDoc(`{"AWS":"`+tagged+`"}`, `["sts:AssumeRole","sts:TagSession"]`, `{"StringEquals":{"aws:PrincipalTag/team":"blue"}}`),
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"}}}]}`, 0)
		_, err = rs.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(chainTarget), RoleSessionName: aws.String("yy"), Tags: []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("red")}}})
		stsErr(t, err, "InvalidParameterValue", "transitive")
		chained, err := rs.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(chainTarget), RoleSessionName: aws.String("yy")})
		stsOK(t, err)
		ci, _ := e.sessionClients(chained.Credentials)
		_, err = ci.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("cond-chain")})
		stsOK(t, err)
	})
	t.Run("key=aws:ResourceTag", func(t *testing.T) {
		// The role's own tags are condition keys of sts:AssumeRole.
		trust := trustDoc(who, `"sts:AssumeRole"`, `{"StringEquals":{"aws:ResourceTag/env":"dev","iam:ResourceTag/env":"dev"}}`)
		for _, env := range []string{"dev", "prod"} {
			out, err := e.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("cond-tagged-" + env), AssumeRolePolicyDocument: aws.String(trust),
				Tags: []iamtypes.Tag{{Key: aws.String("env"), Value: aws.String(env)}}})
			stsOK(t, err)
			_, err = user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: out.Role.Arn, RoleSessionName: aws.String("xx")})
			if env == "dev" {
				stsOK(t, err)
			} else {
				stsErr(t, err, "AccessDenied", "sts:AssumeRole")
			}
		}
	})
	t.Run("key=sts:SourceIdentity", func(t *testing.T) {
		noSet := stsRole(t, e.IAM, "cond-si-no", trustDoc(who, `"sts:AssumeRole"`, ""), "", 0)
		_, err := user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(noSet), RoleSessionName: aws.String("xx"), SourceIdentity: aws.String("alice@example.com")})
		stsErr(t, err, "AccessDenied", "sts:SetSourceIdentity")
		role := stsRole(t, e.IAM, "cond-si", trustDoc(who, `["sts:AssumeRole","sts:SetSourceIdentity"]`, `{"StringLike":{"sts:SourceIdentity":"*@example.com"}}`), "", 0)
		_, err = user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("xx"), SourceIdentity: aws.String("mallory@evil.test")})
		stsErr(t, err, "AccessDenied", "sts:AssumeRole")
		out, err := user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("xx"), SourceIdentity: aws.String("alice@example.com")})
		stsOK(t, err)
		if got := aws.ToString(out.SourceIdentity); got != "alice@example.com" {
			t.Errorf("SourceIdentity %q", got)
		}
	})
}

// TestRoleSessionPermissions checks that a role session is authorized with the role's policies
// narrowed by its session policies, and that an aws:TokenIssueTime deny revokes the sessions
// issued before it, as the console's "Revoke active sessions" does.
func TestRoleSessionPermissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	userARN, _, user := stsUser(t, e, e.IAM, e.Account, "perm-user", "")
	role := stsRole(t, e.IAM, "perm-role", trustDoc(`{"AWS":"`+userARN+`"}`, `"sts:AssumeRole"`, ""),
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetRole","iam:ListRoles","iam:ListUsers"],"Resource":"*"}]}`, 0)

	full, err := user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("full")})
	stsOK(t, err)
	fi, _ := e.sessionClients(full.Credentials)
	_, err = fi.ListUsers(ctx, &iam.ListUsersInput{})
	stsOK(t, err)
	_, err = fi.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("nope")})
	stsErr(t, err, "AccessDenied", "iam:CreateUser")

	t.Run("case=session policy narrows", func(t *testing.T) {
		narrow, err := user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("narrow"),
			Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetRole","iam:CreateUser"],"Resource":"*"}]}`)})
		stsOK(t, err)
		ni, _ := e.sessionClients(narrow.Credentials)
		_, err = ni.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("perm-role")})
		stsOK(t, err)
		// Allowed by the role, not by the session policy.
		_, err = ni.ListUsers(ctx, &iam.ListUsersInput{})
		stsErr(t, err, "AccessDenied", "iam:ListUsers")
		// Allowed by the session policy, not by the role: a session cannot exceed its role.
		_, err = ni.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("nope")})
		stsErr(t, err, "AccessDenied", "iam:CreateUser")
	})
	t.Run("case=managed session policy", func(t *testing.T) {
		// The STS model spells PolicyDescriptorType's member "arn" in lower case.
		out, err := user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("managed"),
			PolicyArns: []ststypes.PolicyDescriptorType{{Arn: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess")}}})
		stsOK(t, err)
		mi, _ := e.sessionClients(out.Credentials)
		_, err = mi.ListRoles(ctx, &iam.ListRolesInput{})
		stsOK(t, err)
	})
	t.Run("case=malformed session policy", func(t *testing.T) {
		_, err := user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("bad"), Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*"}]}`)})
		stsErr(t, err, "MalformedPolicyDocument", "Policy statement must contain resources.")
	})
	t.Run("case=revoke older sessions", func(t *testing.T) {
		old, err := user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("old")})
		stsOK(t, err)
		oi, _ := e.sessionClients(old.Credentials)
		_, err = oi.ListRoles(ctx, &iam.ListRolesInput{})
		stsOK(t, err)
		// aws:TokenIssueTime has one-second precision: the cut-off is after the old session's
		// second and before the new one's.
		time.Sleep(1100 * time.Millisecond)
		cutoff := time.Now().UTC().Format(time.RFC3339)
		time.Sleep(1100 * time.Millisecond)
		_, err = e.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("perm-role"), PolicyName: aws.String("AWSRevokeOlderSessions"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"` + cutoff + `"}}}]}`)})
		stsOK(t, err)
		_, err = oi.ListRoles(ctx, &iam.ListRolesInput{})
		stsErr(t, err, "AccessDenied", "explicit deny")
		fresh, err := user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("fresh")})
		stsOK(t, err)
		ni, _ := e.sessionClients(fresh.Credentials)
		_, err = ni.ListRoles(ctx, &iam.ListRolesInput{})
		stsOK(t, err)
	})
}

// TestCrossAccountAssumeRole is the scenario of the spec: account B's user assumes a role in
// account A whose trust policy names account B's root; it works only once B's own policy
// allows sts:AssumeRole on that role ARN.
func TestCrossAccountAssumeRole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	b, bIAM, _ := e.newAccount(t)
	role := stsRole(t, e.IAM, "shared-reader", trustDoc(`{"AWS":"arn:aws:iam::`+b.AccountID+`:root"}`, `"sts:AssumeRole"`, ""),
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListRoles","iam:GetRole"],"Resource":"*"}]}`, 0)
	_, _, dev := stsUser(t, e, bIAM, b.AccountID, "b-dev", "")

	_, err := dev.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("dev")})
	stsErr(t, err, "AccessDenied", "sts:AssumeRole")

	// A policy allowing another role is not enough.
	_, err = bIAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("b-dev"), PolicyName: aws.String("assume"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::` + e.Account + `:role/other"}]}`)})
	stsOK(t, err)
	_, err = dev.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("dev")})
	stsErr(t, err, "AccessDenied", "sts:AssumeRole")

	_, err = bIAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("b-dev"), PolicyName: aws.String("assume"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + role + `"}]}`)})
	stsOK(t, err)
	out, err := dev.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("dev")})
	stsOK(t, err)
	ai, as := e.sessionClients(out.Credentials)
	id, err := as.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	stsOK(t, err)
	if aws.ToString(id.Account) != e.Account || aws.ToString(id.Arn) != "arn:aws:sts::"+e.Account+":assumed-role/shared-reader/dev" {
		t.Errorf("caller %s in %s", aws.ToString(id.Arn), aws.ToString(id.Account))
	}
	// The session acts in account A with the role's permissions.
	roles, err := ai.ListRoles(ctx, &iam.ListRolesInput{})
	stsOK(t, err)
	if len(roles.Roles) != 1 || aws.ToString(roles.Roles[0].RoleName) != "shared-reader" {
		t.Errorf("the session listed %d roles of account A", len(roles.Roles))
	}
	// GetAccessKeyInfo of the session's key names account A.
	info, err := e.STS.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: out.Credentials.AccessKeyId})
	stsOK(t, err)
	if aws.ToString(info.Account) != e.Account {
		t.Errorf("GetAccessKeyInfo: %s", aws.ToString(info.Account))
	}
}

// TestStscredsAssumeRoleProvider uses aws-sdk-go-v2's own AssumeRole credentials provider: the
// SDK calls AssumeRole, caches the credentials and signs with the session token.
func TestStscredsAssumeRoleProvider(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	userARN, _, user := stsUser(t, e, e.IAM, e.Account, "sdk-user", "")
	role := stsRole(t, e.IAM, "sdk-role", trustDoc(`{"AWS":"`+userARN+`"}`, `"sts:AssumeRole"`, `{"StringEquals":{"sts:ExternalId":"sdk-ext"}}`),
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}]}`, 0)
	provider := stscreds.NewAssumeRoleProvider(user, role, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "sdk-session"
		o.ExternalID = aws.String("sdk-ext")
		o.Duration = 15 * time.Minute
	})
	cfg := aws.Config{Region: "us-east-1", Credentials: aws.NewCredentialsCache(provider), BaseEndpoint: aws.String(e.URL)}
	creds, err := cfg.Credentials.Retrieve(ctx)
	stsOK(t, err)
	if !strings.HasPrefix(creds.AccessKeyID, "ASIA") || creds.SessionToken == "" || !creds.CanExpire {
		t.Fatalf("credentials %s (token %d chars, expires %v)", creds.AccessKeyID, len(creds.SessionToken), creds.CanExpire)
	}
	if d := time.Until(creds.Expires); d > 15*time.Minute+5*time.Second || d < 14*time.Minute {
		t.Errorf("expires in %v, asked for 15 minutes", d)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	stsOK(t, err)
	if got, want := aws.ToString(id.Arn), "arn:aws:sts::"+e.Account+":assumed-role/sdk-role/sdk-session"; got != want {
		t.Errorf("caller %s, want %s", got, want)
	}
	_, err = iam.NewFromConfig(cfg).ListRoles(ctx, &iam.ListRolesInput{})
	stsOK(t, err)

	// Without the external id the provider's AssumeRole is denied.
	bad := stscreds.NewAssumeRoleProvider(user, role)
	_, err = bad.Retrieve(ctx)
	stsErr(t, err, "AccessDenied", "sts:AssumeRole")
}

// TestDecodeAuthorizationMessage decodes a message encoded under the server's session keys:
// only callers allowed sts:DecodeAuthorizationMessage see it.
func TestDecodeAuthorizationMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	denied := &session.AuthorizationMessage{ExplicitDeny: true, Context: session.MessageContext{
		Principal: session.MessagePrincipal{ID: "AIDAEXAMPLE", Name: "alice", ARN: "arn:aws:iam::" + e.Account + ":user/alice"},
		Action:    "iam:DeleteRole", Resource: "arn:aws:iam::" + e.Account + ":role/prod",
	}}
	encoded, err := e.app.Sessions.EncodeAuthorizationMessage(ctx, denied)
	stsOK(t, err)

	_, noneIAM, none := stsUser(t, e, e.IAM, e.Account, "dam-none", "")
	_, err = none.DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(encoded)})
	stsErr(t, err, "AccessDenied", "sts:DecodeAuthorizationMessage")

	_, _, reader := stsUser(t, e, e.IAM, e.Account, "dam-reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:DecodeAuthorizationMessage","Resource":"*"}]}`)
	out, err := reader.DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(encoded)})
	stsOK(t, err)
	var msg map[string]any
	stsOK(t, json.Unmarshal([]byte(aws.ToString(out.DecodedMessage)), &msg))
	if msg["allowed"] != false || msg["explicitDeny"] != true {
		t.Errorf("decision in %s", aws.ToString(out.DecodedMessage))
	}
	if c, _ := msg["context"].(map[string]any); c == nil || c["action"] != "iam:DeleteRole" {
		t.Errorf("context in %s", aws.ToString(out.DecodedMessage))
	}

	for _, bad := range []string{"not-a-message", encoded[:len(encoded)-2] + "AA"} {
		_, err = reader.DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(bad)})
		stsErr(t, err, "InvalidAuthorizationMessageException", "not a valid authorization message")
	}
	// IAM's and STS's own denials are AWS's text alone: "Only certain AWS operations return an
	// encoded authorization message" (STS API Reference, DecodeAuthorizationMessage), not theirs.
	_, err = noneIAM.ListRoles(ctx, &iam.ListRolesInput{})
	stsErr(t, err, "AccessDenied", "iam:ListRoles")
	if strings.Contains(err.Error(), "Encoded authorization failure message") {
		t.Errorf("IAM's AccessDenied carries an encoded authorization message: %v", err)
	}

	// A session token is no authorization message.
	st, err := e.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	stsOK(t, err)
	_, err = reader.DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: st.Credentials.SessionToken})
	stsErr(t, err, "InvalidAuthorizationMessageException", "")
}
