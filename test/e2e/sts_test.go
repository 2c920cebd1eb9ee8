package e2e

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-iam/gatehouse/internal/principal"
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
