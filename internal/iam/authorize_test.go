package iam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/authz"
	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/policy"
)

// azIDs is a deterministic IDSource for the authorization tests.
type azIDs struct{ n atomic.Int64 }

func (g *azIDs) UniqueID(prefix string) string { return fmt.Sprintf("%s%017d", prefix, g.n.Add(1)) }
func (g *azIDs) AccessKeyID(prefix string) string {
	return fmt.Sprintf("%s%016d", prefix, g.n.Add(1))
}
func (g *azIDs) SecretAccessKey() string { return fmt.Sprintf("secret%034d", g.n.Add(1)) }
func (g *azIDs) AccountID() string       { return fmt.Sprintf("%012d", 200000000000+g.n.Add(1)) }

// azFixture is a Service over a real SQLite file with one account, set up through the
// handlers as the account's root user.
type azFixture struct {
	t       testing.TB
	svc     *Service
	account string
	root    context.Context
	now     time.Time
	models  map[string]*awsquery.Model
}

func azNew(t testing.TB) *azFixture {
	t.Helper()
	st, box, logger := testBackend(t)
	f := &azFixture{t: t, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), models: map[string]*awsquery.Model{}}
	f.svc = New(st, box, func() time.Time { return f.now }, &azIDs{}, logger, enforce.New(st, box, func() time.Time { return f.now }, logger))
	f.account = f.newAccount()
	f.root = f.rootCtx(f.account)
	for _, svc := range []string{"iam", "sts"} {
		m, err := awsquery.LoadModel(svc)
		if err != nil {
			t.Fatal(err)
		}
		f.models[svc] = m
	}
	return f
}

func (f *azFixture) newAccount() string {
	creds, err := f.svc.CreateAccount(context.Background(), AccountCredentials{})
	if err != nil {
		f.t.Fatalf("create account: %v", err)
	}
	return creds.AccountID
}

func (f *azFixture) rootCtx(account string) context.Context {
	return principal.NewContext(context.Background(), &principal.Principal{
		Type: principal.Root, Account: account, ARN: "arn:aws:iam::" + account + ":root", UserID: account, AccessKeyID: "ROOT" + account,
	})
}

func (f *azFixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// user creates a user (as root) with the given path and tags and returns its principal.
func (f *azFixture) user(name, path string, tags ...types.Tag) *principal.Principal {
	f.t.Helper()
	in := &iam.CreateUserInput{UserName: aws.String(name), Tags: tags}
	if path != "" {
		in.Path = aws.String(path)
	}
	out, err := f.svc.CreateUser(f.root, in)
	f.must(err)
	return &principal.Principal{Type: principal.User, Account: f.account, ARN: *out.User.Arn, UserID: *out.User.UserId, UserName: name, AccessKeyID: "AKIA" + name}
}

func (f *azFixture) inline(user, doc string) {
	f.t.Helper()
	_, err := f.svc.PutUserPolicy(f.root, &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
	f.must(err)
}

func (f *azFixture) attach(user, policyARN string) {
	f.t.Helper()
	_, err := f.svc.AttachUserPolicy(f.root, &iam.AttachUserPolicyInput{UserName: aws.String(user), PolicyArn: aws.String(policyARN)})
	f.must(err)
}

func (f *azFixture) managed(name, doc string) string {
	f.t.Helper()
	out, err := f.svc.CreatePolicy(f.root, &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
	f.must(err)
	return *out.Policy.Arn
}

// authorize runs the server's authorization step for op ("iam:GetUser") as p.
func (f *azFixture) authorize(p *principal.Principal, facts *enforce.RequestFacts, op string, form url.Values) error {
	svc, name, _ := strings.Cut(op, ":")
	ctx := principal.NewContext(context.Background(), p)
	if facts != nil {
		ctx = enforce.WithRequestFacts(ctx, *facts)
	}
	return f.svc.AuthorizeOperation(ctx, svc, f.models[svc].Operations[name], form)
}

func azCode(err error) string {
	var e *awsquery.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return "not an AWS error: " + err.Error()
	}
	return ""
}

func azMessage(err error) string {
	var e *awsquery.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}

func allow(action, resource string, cond string) string {
	c := ""
	if cond != "" {
		c = `,"Condition":` + cond
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"` + c + `}]}`
}

const (
	azReadOnly = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
	azAdmin    = "arn:aws:iam::aws:policy/AdministratorAccess"
)

// TestAuthorizeOperation drives the server's authorization step with IAM users whose policies
// exercise each part of it: the action and resource of each operation, the policy types, and
// the condition keys. Messages are AWS's (IAM User Guide, "Troubleshoot access denied error
// messages").
func TestAuthorizeOperation(t *testing.T) {
	t.Parallel()
	f := azNew(t)
	acct := f.account
	userARN := func(path, name string) string { return "arn:aws:iam::" + acct + ":user" + path + name }

	// Targets.
	f.user("bob", "")
	f.user("carol", "", types.Tag{Key: aws.String("env"), Value: aws.String("dev")})
	f.user("dave", "/div/")

	nobody := f.user("nobody", "")
	reader := f.user("reader", "")
	f.attach("reader", azReadOnly)
	admin := f.user("admin", "")
	f.attach("admin", azAdmin)
	f.inline("admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:DeleteUser","Resource":"`+userARN("/", "bob")+`"}]}`)
	bounded := f.user("bounded", "")
	f.attach("bounded", azAdmin)
	_, err := f.svc.PutUserPermissionsBoundary(f.root, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("bounded"), PermissionsBoundary: aws.String(azReadOnly)})
	f.must(err)
	grouped := f.user("grouped", "")
	_, err = f.svc.CreateGroup(f.root, &iam.CreateGroupInput{GroupName: aws.String("ops")})
	f.must(err)
	_, err = f.svc.AddUserToGroup(f.root, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("grouped")})
	f.must(err)
	_, err = f.svc.PutGroupPolicy(f.root, &iam.PutGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("list"), PolicyDocument: aws.String(allow("iam:ListUsers", "*", ""))})
	f.must(err)
	tagger := f.user("tagger", "")
	f.inline("tagger", allow("iam:CreateUser", "*", `{"StringEquals":{"aws:RequestTag/team":"blue"},"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}`))
	boundaryARN := f.managed("boundary", allow("iam:Get*", "*", ""))
	bounder := f.user("bounder", "")
	f.inline("bounder", allow("iam:CreateUser", "*", `{"StringEquals":{"iam:PermissionsBoundary":"`+boundaryARN+`"}}`))
	attacher := f.user("attacher", "")
	f.inline("attacher", allow("iam:AttachUserPolicy", "*", `{"ArnEquals":{"iam:PolicyARN":"`+azReadOnly+`"}}`))
	tagdel := f.user("tagdel", "")
	f.inline("tagdel", allow("iam:DeleteUser", "*", `{"StringEquals":{"iam:ResourceTag/env":"dev","aws:ResourceTag/env":"dev"}}`))
	self := f.user("self", "")
	f.inline("self", allow("iam:*AccessKey*", "arn:aws:iam::"+acct+":user/${aws:username}", ""))
	ipuser := f.user("ipuser", "")
	f.inline("ipuser", allow("iam:ListUsers", "*", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"Bool":{"aws:SecureTransport":"true"},"StringEquals":{"aws:RequestedRegion":"us-east-1","aws:PrincipalType":"User","aws:PrincipalArn":"`+userARN("/", "ipuser")+`","aws:userid":"${aws:userid}"}}`))
	renamer := f.user("renamer", "")
	f.inline("renamer", allow("iam:UpdateUser", userARN("/", "bob"), ""))
	divreader := f.user("divreader", "")
	f.inline("divreader", allow("iam:GetUser", "arn:aws:iam::"+acct+":user/div/*", ""))
	ptag := f.user("ptag", "", types.Tag{Key: aws.String("team"), Value: aws.String("blue")})
	f.inline("ptag", allow("iam:ListGroups", "*", `{"StringEquals":{"aws:PrincipalTag/team":"blue"}}`))
	timed := f.user("timed", "")
	f.inline("timed", allow("iam:ListRoles", "*", `{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"},"NumericGreaterThan":{"aws:EpochTime":"1767225600"},"StringLike":{"aws:UserAgent":"aws-cli/*"}}`))

	goodFacts := &enforce.RequestFacts{SourceIP: "10.1.2.3", SecureTransport: true, Region: "us-east-1", UserAgent: "aws-cli/2.15", Time: f.now}
	noReason := func(action, resource string) string {
		return "User: " + userARN("/", "nobody") + " is not authorized to perform: " + action + " on resource: " + resource + " because no identity-based policy allows the " + action + " action"
	}

	for _, tc := range []struct {
		name     string
		caller   *principal.Principal
		facts    *enforce.RequestFacts
		op       string
		form     url.Values
		wantCode string
		wantMsg  string // the whole message when set
	}{
		{name: "no policy: GetUser on itself", caller: nobody, op: "iam:GetUser", wantCode: "AccessDenied",
			wantMsg: noReason("iam:GetUser", "user nobody")},
		{name: "no policy: ListUsers is on the user path", caller: nobody, op: "iam:ListUsers", wantCode: "AccessDenied",
			wantMsg: noReason("iam:ListUsers", "arn:aws:iam::"+acct+":user/")},
		{name: "no policy: ListUsers with a path prefix", caller: nobody, op: "iam:ListUsers", form: url.Values{"PathPrefix": {"/div/"}}, wantCode: "AccessDenied",
			wantMsg: noReason("iam:ListUsers", "arn:aws:iam::"+acct+":user/div/")},
		{name: "no policy: ListPolicies is on the policy path", caller: nobody, op: "iam:ListPolicies", wantCode: "AccessDenied",
			wantMsg: noReason("iam:ListPolicies", "policy path /")},
		{name: "no policy: IAM names the resource * of actions without one", caller: nobody, op: "iam:GetAccountSummary", wantCode: "AccessDenied",
			wantMsg: noReason("iam:GetAccountSummary", "*")},
		{name: "no policy: STS leaves the resource * out", caller: nobody, op: "sts:DecodeAuthorizationMessage", form: url.Values{"EncodedMessage": {"x"}}, wantCode: "AccessDenied",
			wantMsg: "User: " + userARN("/", "nobody") + " is not authorized to perform: sts:DecodeAuthorizationMessage because no identity-based policy allows the sts:DecodeAuthorizationMessage action"},
		{name: "no policy: a user is named by its name", caller: nobody, op: "iam:GetUser", form: url.Values{"UserName": {"dave"}}, wantCode: "AccessDenied",
			wantMsg: noReason("iam:GetUser", "user dave")},
		{name: "no policy: a missing user is denied, not NoSuchEntity", caller: nobody, op: "iam:DeleteUser", form: url.Values{"UserName": {"ghost"}}, wantCode: "AccessDenied",
			wantMsg: noReason("iam:DeleteUser", "user ghost")},
		{name: "no policy: the input is validated first", caller: nobody, op: "iam:GetUser", form: url.Values{"UserName": {"bad name!"}}, wantCode: "ValidationError"},
		{name: "no policy: STS GetCallerIdentity needs none", caller: nobody, op: "sts:GetCallerIdentity"},
		{name: "read-only reads", caller: reader, op: "iam:GetUser", form: url.Values{"UserName": {"bob"}}},
		{name: "read-only lists", caller: reader, op: "iam:ListUsers"},
		{name: "read-only cannot write", caller: reader, op: "iam:CreateUser", form: url.Values{"UserName": {"eve"}}, wantCode: "AccessDenied",
			wantMsg: "User: " + userARN("/", "reader") + " is not authorized to perform: iam:CreateUser on resource: " + userARN("/", "eve") + " because no identity-based policy allows the iam:CreateUser action"},
		{name: "admin deletes carol", caller: admin, op: "iam:DeleteUser", form: url.Values{"UserName": {"carol"}}},
		{name: "explicit deny on bob beats admin", caller: admin, op: "iam:DeleteUser", form: url.Values{"UserName": {"bob"}}, wantCode: "AccessDenied",
			wantMsg: "User: " + userARN("/", "admin") + " is not authorized to perform: iam:DeleteUser on resource: user bob with an explicit deny in an identity-based policy"},
		{name: "explicit deny matches names without case", caller: admin, op: "iam:DeleteUser", form: url.Values{"UserName": {"BOB"}}, wantCode: "AccessDenied"},
		{name: "boundary allows reads", caller: bounded, op: "iam:GetUser", form: url.Values{"UserName": {"bob"}}},
		{name: "boundary caps admin", caller: bounded, op: "iam:CreateUser", form: url.Values{"UserName": {"eve"}}, wantCode: "AccessDenied",
			wantMsg: "User: " + userARN("/", "bounded") + " is not authorized to perform: iam:CreateUser on resource: " + userARN("/", "eve") + " because no permissions boundary allows the iam:CreateUser action"},
		{name: "group policy applies to members", caller: grouped, op: "iam:ListUsers"},
		{name: "group policy allows only what it says", caller: grouped, op: "iam:ListGroups", wantCode: "AccessDenied"},
		{name: "aws:RequestTag and aws:TagKeys match", caller: tagger, op: "iam:CreateUser",
			form: url.Values{"UserName": {"eve"}, "Tags.member.1.Key": {"team"}, "Tags.member.1.Value": {"blue"}}},
		{name: "aws:RequestTag with another value", caller: tagger, op: "iam:CreateUser",
			form: url.Values{"UserName": {"eve"}, "Tags.member.1.Key": {"team"}, "Tags.member.1.Value": {"red"}}, wantCode: "AccessDenied"},
		{name: "aws:TagKeys with an extra key", caller: tagger, op: "iam:CreateUser",
			form: url.Values{"UserName": {"eve"}, "Tags.member.1.Key": {"team"}, "Tags.member.1.Value": {"blue"}, "Tags.member.2.Key": {"cost"}, "Tags.member.2.Value": {"1"}}, wantCode: "AccessDenied"},
		{name: "no tags: aws:RequestTag is missing", caller: tagger, op: "iam:CreateUser", form: url.Values{"UserName": {"eve"}}, wantCode: "AccessDenied"},
		{name: "iam:PermissionsBoundary from the request", caller: bounder, op: "iam:CreateUser", form: url.Values{"UserName": {"eve"}, "PermissionsBoundary": {boundaryARN}}},
		{name: "iam:PermissionsBoundary absent", caller: bounder, op: "iam:CreateUser", form: url.Values{"UserName": {"eve"}}, wantCode: "AccessDenied"},
		{name: "iam:PolicyARN allowed", caller: attacher, op: "iam:AttachUserPolicy", form: url.Values{"UserName": {"bob"}, "PolicyArn": {azReadOnly}}},
		{name: "iam:PolicyARN other policy", caller: attacher, op: "iam:AttachUserPolicy", form: url.Values{"UserName": {"bob"}, "PolicyArn": {azAdmin}}, wantCode: "AccessDenied"},
		{name: "iam:ResourceTag and aws:ResourceTag of the target", caller: tagdel, op: "iam:DeleteUser", form: url.Values{"UserName": {"carol"}}},
		{name: "untagged target", caller: tagdel, op: "iam:DeleteUser", form: url.Values{"UserName": {"bob"}}, wantCode: "AccessDenied"},
		{name: "${aws:username} in Resource: own keys", caller: self, op: "iam:ListAccessKeys"},
		{name: "${aws:username} in Resource: own keys by name", caller: self, op: "iam:CreateAccessKey", form: url.Values{"UserName": {"self"}}},
		{name: "${aws:username} in Resource: another user's keys", caller: self, op: "iam:ListAccessKeys", form: url.Values{"UserName": {"bob"}}, wantCode: "AccessDenied"},
		{name: "global keys match", caller: ipuser, facts: goodFacts, op: "iam:ListUsers"},
		{name: "aws:SourceIp outside the range", caller: ipuser, facts: &enforce.RequestFacts{SourceIP: "192.0.2.1", SecureTransport: true, Region: "us-east-1", Time: f.now}, op: "iam:ListUsers", wantCode: "AccessDenied"},
		{name: "aws:SecureTransport false", caller: ipuser, facts: &enforce.RequestFacts{SourceIP: "10.1.2.3", Region: "us-east-1", Time: f.now}, op: "iam:ListUsers", wantCode: "AccessDenied"},
		{name: "aws:RequestedRegion elsewhere", caller: ipuser, facts: &enforce.RequestFacts{SourceIP: "10.1.2.3", SecureTransport: true, Region: "eu-west-1", Time: f.now}, op: "iam:ListUsers", wantCode: "AccessDenied"},
		{name: "rename in place", caller: renamer, op: "iam:UpdateUser", form: url.Values{"UserName": {"bob"}, "NewPath": {"/"}}},
		{name: "rename needs permission on the new name too", caller: renamer, op: "iam:UpdateUser", form: url.Values{"UserName": {"bob"}, "NewUserName": {"robert"}}, wantCode: "AccessDenied",
			wantMsg: "User: " + userARN("/", "renamer") + " is not authorized to perform: iam:UpdateUser on resource: user robert because no identity-based policy allows the iam:UpdateUser action"},
		{name: "path wildcard", caller: divreader, op: "iam:GetUser", form: url.Values{"UserName": {"dave"}}},
		{name: "path wildcard elsewhere", caller: divreader, op: "iam:GetUser", form: url.Values{"UserName": {"bob"}}, wantCode: "AccessDenied"},
		{name: "aws:PrincipalTag", caller: ptag, op: "iam:ListGroups"},
		{name: "time and user agent", caller: timed, facts: goodFacts, op: "iam:ListRoles"},
		{name: "user agent of another client", caller: timed, facts: &enforce.RequestFacts{UserAgent: "Boto3/1.0", Time: f.now}, op: "iam:ListRoles", wantCode: "AccessDenied"},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			err := f.authorize(tc.caller, tc.facts, tc.op, tc.form)
			if got := azCode(err); got != tc.wantCode {
				t.Fatalf("%s: code %q (%v), want %q", tc.op, got, err, tc.wantCode)
			}
			if tc.wantMsg != "" && azMessage(err) != tc.wantMsg {
				t.Errorf("message\n got %q\nwant %q", azMessage(err), tc.wantMsg)
			}
		})
	}
}

// TestAuthorizeRoot checks that the root user is never asked for a policy.
func TestAuthorizeRoot(t *testing.T) {
	t.Parallel()
	f := azNew(t)
	root := principal.FromContext(f.root)
	for _, op := range []string{"iam:CreateUser", "iam:DeleteRole", "iam:ListUsers", "sts:GetCallerIdentity"} {
		t.Run("op="+op, func(t *testing.T) {
			if err := f.authorize(root, nil, op, url.Values{"UserName": {"x"}, "RoleName": {"x"}}); err != nil {
				t.Fatalf("root denied %s: %v", op, err)
			}
		})
	}
}

// TestAuthorizeCacheInvalidation checks that a committed write is seen by the next request
// although the caller's policies are cached.
func TestAuthorizeCacheInvalidation(t *testing.T) {
	t.Parallel()
	f := azNew(t)
	u := f.user("alice", "")
	if code := azCode(f.authorize(u, nil, "iam:ListUsers", nil)); code != "AccessDenied" {
		t.Fatalf("before attach: %q, want AccessDenied", code)
	}
	f.attach("alice", azReadOnly)
	if err := f.authorize(u, nil, "iam:ListUsers", nil); err != nil {
		t.Fatalf("after attach: %v", err)
	}
	_, err := f.svc.DetachUserPolicy(f.root, &iam.DetachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(azReadOnly)})
	f.must(err)
	if code := azCode(f.authorize(u, nil, "iam:ListUsers", nil)); code != "AccessDenied" {
		t.Fatalf("after detach: %q, want AccessDenied", code)
	}
	// Past the TTL a cached entry is read again even without a write of this process.
	f.attach("alice", azReadOnly)
	f.svc.enforcer.Invalidate(false)
	if err := f.authorize(u, nil, "iam:ListUsers", nil); err != nil {
		t.Fatalf("re-attached: %v", err)
	}
	f.now = f.now.Add(enforce.CacheTTL)
	if err := f.authorize(u, nil, "iam:ListUsers", nil); err != nil {
		t.Fatalf("after TTL: %v", err)
	}
	// Creating a user leaves cached credentials and grants valid, but not what is cached of
	// the authorization target: a user that did not exist has no tags, the new one has.
	f.inline("alice", allow("iam:DeleteUser", "*", `{"StringEquals":{"iam:ResourceTag/env":"dev"}}`))
	del := url.Values{"UserName": {"dave"}}
	if code := azCode(f.authorize(u, nil, "iam:DeleteUser", del)); code != "AccessDenied" {
		t.Fatalf("before dave exists: %q, want AccessDenied", code)
	}
	f.user("dave", "", types.Tag{Key: aws.String("env"), Value: aws.String("dev")})
	if err := f.authorize(u, nil, "iam:DeleteUser", del); err != nil {
		t.Fatalf("after CreateUser with env=dev: %v", err)
	}
}

// role creates a role trusting trust and returns a session principal of it.
func (f *azFixture) role(name, trust string, tags ...types.Tag) (*principal.Principal, string) {
	f.t.Helper()
	out, err := f.svc.CreateRole(f.root, &iam.CreateRoleInput{RoleName: aws.String(name), Path: aws.String("/app/"), AssumeRolePolicyDocument: aws.String(trust), Tags: tags})
	f.must(err)
	roleARN := *out.Role.Arn
	sessARN := "arn:aws:sts::" + f.account + ":assumed-role/" + name + "/s1"
	return &principal.Principal{
		Type: principal.AssumedRole, Account: f.account, ARN: sessARN, UserID: *out.Role.RoleId + ":s1", AccessKeyID: "ASIA" + name,
		Session: &principal.Session{RoleID: *out.Role.RoleId, RoleARN: roleARN, RoleName: name, SessionName: "s1", IssuedAt: f.now.Add(-time.Minute)},
	}, roleARN
}

const azTrustAccount = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"sts:AssumeRole"}]}`

// TestAuthorizeSessions checks role sessions (the role's policies, session policies, session
// tags, aws:PrincipalArn), federated users and GetSessionToken sessions.
func TestAuthorizeSessions(t *testing.T) {
	t.Parallel()
	f := azNew(t)
	sess, roleARN := f.role("worker", fmt.Sprintf(azTrustAccount, f.account), types.Tag{Key: aws.String("team"), Value: aws.String("red")})
	_, err := f.svc.PutRolePolicy(f.root, &iam.PutRolePolicyInput{RoleName: aws.String("worker"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Action":["iam:ListUsers","iam:ListRoles"],"Resource":"*"},` +
			`{"Effect":"Allow","Action":"iam:ListGroups","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalArn":"` + roleARN + `","aws:PrincipalType":"AssumedRole"}}},` +
			`{"Effect":"Allow","Action":"iam:ListPolicies","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"}}},` +
			`{"Effect":"Allow","Action":"iam:ListInstanceProfiles","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"},"DateLessThan":{"aws:TokenIssueTime":"2026-03-01T12:00:00Z"}}}]}`)})
	f.must(err)

	withSessionPolicy := *sess
	sp := *sess.Session
	sp.Policies = []string{allow("iam:ListUsers", "*", "")}
	withSessionPolicy.Session, withSessionPolicy.AccessKeyID = &sp, "ASIAworker2"
	withTags := *sess
	st := *sess.Session
	st.Tags = map[string]string{"Team": "blue"}
	withTags.Session, withTags.AccessKeyID = &st, "ASIAworker3"

	alice := f.user("alice", "")
	f.attach("alice", azReadOnly)
	federated := &principal.Principal{Type: principal.FederatedUser, Account: f.account, ARN: "arn:aws:sts::" + f.account + ":federated-user/fed",
		UserID: f.account + ":fed", AccessKeyID: "ASIAfed", Session: &principal.Session{UserID: alice.UserID, IssuedAt: f.now}}
	fedWithPolicy := *federated
	fs := *federated.Session
	fs.Policies = []string{allow("iam:GetUser", "*", "")}
	fedWithPolicy.Session, fedWithPolicy.AccessKeyID = &fs, "ASIAfed2"
	fedByRoot := fedWithPolicy
	rs := fs
	rs.UserID = f.account
	fedByRoot.Session, fedByRoot.AccessKeyID = &rs, "ASIAfed3"
	sessionToken := &principal.Principal{Type: principal.User, Account: f.account, ARN: alice.ARN, UserID: alice.UserID, UserName: "alice", AccessKeyID: "ASIAalice",
		Session: &principal.Session{UserID: alice.UserID, IssuedAt: f.now}}
	sessionTokenMFA := *sessionToken
	sessionTokenMFA.AccessKeyID = "ASIAalice2"
	sessionTokenMFA.Session = &principal.Session{UserID: alice.UserID, IssuedAt: f.now, MFA: true, MFAAt: f.now}
	console := *sessionToken
	console.AccessKeyID = "ASIAalice3"
	console.Session = &principal.Session{UserID: alice.UserID, IssuedAt: f.now, Console: true}

	for _, tc := range []struct {
		name     string
		caller   *principal.Principal
		op       string
		wantCode string
		wantMsg  string
	}{
		{name: "role policy allows", caller: sess, op: "iam:ListUsers"},
		{name: "role policy does not allow", caller: sess, op: "iam:CreateUser", wantCode: "AccessDenied",
			wantMsg: "User: " + sess.ARN + " is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::" + f.account + ":user/x because no identity-based policy allows the iam:CreateUser action"},
		{name: "aws:PrincipalArn is the role's", caller: sess, op: "iam:ListGroups"},
		{name: "role tag is a principal tag", caller: sess, op: "iam:ListPolicies", wantCode: "AccessDenied"},
		{name: "session tag overrides the role tag", caller: &withTags, op: "iam:ListPolicies"},
		{name: "session MFA and issue time keys", caller: sess, op: "iam:ListInstanceProfiles"},
		{name: "session policy allows", caller: &withSessionPolicy, op: "iam:ListUsers"},
		{name: "session policy caps the role", caller: &withSessionPolicy, op: "iam:ListRoles", wantCode: "AccessDenied",
			wantMsg: "User: " + sess.ARN + " is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::" + f.account + ":role/ because no session policy allows the iam:ListRoles action"},
		{name: "role session cannot get a session token", caller: sess, op: "sts:GetFederationToken", wantCode: "AccessDenied"},
		{name: "federated user cannot call IAM", caller: federated, op: "iam:ListUsers", wantCode: "InvalidClientTokenId"},
		{name: "federated user may ask who it is", caller: federated, op: "sts:GetCallerIdentity"},
		{name: "GetSessionToken session without MFA cannot call IAM", caller: sessionToken, op: "iam:ListUsers", wantCode: "InvalidClientTokenId"},
		{name: "GetSessionToken session with MFA has the user's permissions", caller: &sessionTokenMFA, op: "iam:ListUsers"},
		{name: "GetSessionToken session with MFA, not beyond them", caller: &sessionTokenMFA, op: "iam:CreateUser", wantCode: "AccessDenied"},
		{name: "console session without MFA has the user's permissions", caller: &console, op: "iam:ListUsers"},
		{name: "console session, not beyond them", caller: &console, op: "iam:CreateUser", wantCode: "AccessDenied"},
		{name: "console session may ask who it is", caller: &console, op: "sts:GetCallerIdentity"},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			form := url.Values{}
			if tc.op == "iam:CreateUser" {
				form.Set("UserName", "x")
			}
			if tc.op == "sts:GetFederationToken" {
				form.Set("Name", "x")
			}
			err := f.authorize(tc.caller, nil, tc.op, form)
			if got := azCode(err); got != tc.wantCode {
				t.Fatalf("%s: code %q (%v), want %q", tc.op, got, err, tc.wantCode)
			}
			if tc.wantMsg != "" && azMessage(err) != tc.wantMsg {
				t.Errorf("message\n got %q\nwant %q", azMessage(err), tc.wantMsg)
			}
		})
	}

	// A federated user's permissions are the intersection of its user's and the session's:
	// with no session policy it has none (the Authorize API evaluates any action).
	for _, tc := range []struct {
		name   string
		caller *principal.Principal
		action string
		want   string
	}{
		{"federated without session policy", federated, "iam:GetUser", "AccessDenied"},
		{"federated with session policy", &fedWithPolicy, "iam:GetUser", ""},
		{"federated beyond the session policy", &fedWithPolicy, "iam:ListUsers", "AccessDenied"},
		{"federated beyond the user's policies", &fedWithPolicy, "iam:CreateUser", "AccessDenied"},
		{"federated by root, within the session policy", &fedByRoot, "iam:GetUser", ""},
		{"federated by root, beyond the session policy", &fedByRoot, "iam:CreateUser", "AccessDenied"},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			ctx := principal.NewContext(context.Background(), tc.caller)
			if got := azCode(f.svc.enforcer.Authorize(ctx, enforce.Access{Action: tc.action, Resource: alice.ARN})); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestAuthorizeAssumeRole checks sts:AssumeRole as STS asks it through Authorize, with the
// role's trust policy as the resource policy: the trust policy must allow, and for a caller
// in another account its identity policy must allow too. The server's authorization step
// leaves AssumeRole to the operation, which knows whether the MFA code it was given is valid.
func TestAuthorizeAssumeRole(t *testing.T) {
	t.Parallel()
	f := azNew(t)
	other := f.newAccount()
	trust := func(doc string) *authz.Policies {
		return authz.NewPolicies([]*policy.Policy{policy.MustParse(doc, policy.Trust)}, nil)
	}
	shared := trust(fmt.Sprintf(azTrustAccount, "arn:aws:iam::"+other+":root"))
	own := trust(fmt.Sprintf(azTrustAccount, f.account))
	ext := trust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + f.account + `"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"xyz"}}}]}`)
	roleARN := "arn:aws:iam::" + f.account + ":role/app/r"

	alice := f.user("alice", "")
	f.inline("alice", allow("sts:AssumeRole", "*", ""))
	bob := f.user("bob", "")

	// Users of the other account, one allowed to assume roles.
	otherRoot := f.rootCtx(other)
	newUser := func(name string) *principal.Principal {
		out, err := f.svc.CreateUser(otherRoot, &iam.CreateUserInput{UserName: aws.String(name)})
		f.must(err)
		return &principal.Principal{Type: principal.User, Account: other, ARN: *out.User.Arn, UserID: *out.User.UserId, UserName: name, AccessKeyID: "AKIA" + name}
	}
	carl, dora := newUser("carl"), newUser("dora")
	_, err := f.svc.PutUserPolicy(otherRoot, &iam.PutUserPolicyInput{UserName: aws.String("carl"), PolicyName: aws.String("p"), PolicyDocument: aws.String(allow("sts:AssumeRole", "*", ""))})
	f.must(err)

	ext1 := []enforce.ContextKey{{Name: "sts:ExternalId", Values: []string{"xyz"}}}
	ext2 := []enforce.ContextKey{{Name: "sts:ExternalId", Values: []string{"abc"}}}
	for _, tc := range []struct {
		name    string
		caller  *principal.Principal
		trust   *authz.Policies
		keys    []enforce.ContextKey
		want    string
		wantMsg string
	}{
		{name: "same account, trust names the account, identity allows", caller: alice, trust: own},
		{name: "same account, identity does not allow", caller: bob, trust: own, want: "AccessDenied"},
		{name: "trust does not name the caller's account", caller: alice, trust: shared, want: "AccessDenied",
			wantMsg: "User: " + alice.ARN + " is not authorized to perform: sts:AssumeRole on resource: " + roleARN},
		{name: "no trust policy (missing role)", caller: alice, trust: &authz.Policies{}, want: "AccessDenied"},
		{name: "cross account, both allow", caller: carl, trust: shared},
		{name: "cross account, identity does not allow", caller: dora, trust: shared, want: "AccessDenied",
			wantMsg: "User: " + dora.ARN + " is not authorized to perform: sts:AssumeRole on resource: " + roleARN + " because no identity-based policy allows the sts:AssumeRole action"},
		{name: "sts:ExternalId matches", caller: alice, trust: ext, keys: ext1},
		{name: "sts:ExternalId differs", caller: alice, trust: ext, keys: ext2, want: "AccessDenied"},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			ctx := principal.NewContext(context.Background(), tc.caller)
			err := f.svc.enforcer.Authorize(ctx, enforce.Access{Action: "sts:AssumeRole", Resource: roleARN, ResourceAccount: f.account, ResourcePolicy: tc.trust, Keys: tc.keys})
			if got := azCode(err); got != tc.want {
				t.Fatalf("code %q (%v), want %q", got, err, tc.want)
			}
			if tc.wantMsg != "" && azMessage(err) != tc.wantMsg {
				t.Errorf("message\n got %q\nwant %q", azMessage(err), tc.wantMsg)
			}
		})
	}
	t.Run("case=the server step leaves AssumeRole to the operation", func(t *testing.T) {
		err := f.authorize(bob, nil, "sts:AssumeRole", url.Values{"RoleArn": {roleARN}, "RoleSessionName": {"s1"}})
		if err != nil {
			t.Fatalf("AuthorizeOperation(sts:AssumeRole) = %v, want nil", err)
		}
	})
}

// TestAuthorizePassRole checks that iam:PassRole, which no IAM operation performs, can be
// decided through Authorize with its condition keys, as services that pass roles ask it.
func TestAuthorizePassRole(t *testing.T) {
	t.Parallel()
	f := azNew(t)
	_, roleARN := f.role("svc", fmt.Sprintf(azTrustAccount, f.account))
	u := f.user("alice", "")
	f.inline("alice", allow("iam:PassRole", roleARN, `{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}`))
	ctx := principal.NewContext(context.Background(), u)
	pass := func(service string) error {
		return f.svc.enforcer.Authorize(ctx, enforce.Access{Action: "iam:PassRole", Resource: roleARN, Keys: []enforce.ContextKey{{Name: "iam:PassedToService", Values: []string{service}}}})
	}
	if err := pass("ec2.amazonaws.com"); err != nil {
		t.Fatalf("pass to ec2: %v", err)
	}
	if got := azCode(pass("lambda.amazonaws.com")); got != "AccessDenied" {
		t.Fatalf("pass to lambda: %q, want AccessDenied", got)
	}
}

// TestAuthorizeTableMatchesReference checks the generated table against the extract of AWS's
// Service Authorization Reference it was generated from, and that every operation of the API
// models has its input type.
func TestAuthorizeTableMatchesReference(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "service-reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref map[string]struct {
		Actions map[string]struct {
			ResourceTypes []struct {
				Name          string   `json:"name"`
				Required      bool     `json:"required"`
				ConditionKeys []string `json:"conditionKeys"`
			} `json:"resourceTypes"`
			ConditionKeys []string `json:"conditionKeys"`
		} `json:"actions"`
		ResourceTypes map[string]struct {
			ARN           string   `json:"arn"`
			ConditionKeys []string `json:"conditionKeys"`
		} `json:"resourceTypes"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	var want []actionRef
	var wantTypes []resourceTypeRef
	for _, svc := range []string{"iam", "sts"} {
		for name, a := range ref[svc].Actions {
			r := actionRef{Action: svc + ":" + name, Resources: []resourceRef{}, Keys: append([]string{}, a.ConditionKeys...)}
			for _, rt := range a.ResourceTypes {
				r.Resources = append(r.Resources, resourceRef{Type: rt.Name, Required: rt.Required, Keys: append([]string{}, rt.ConditionKeys...)})
			}
			want = append(want, r)
		}
		for name, rt := range ref[svc].ResourceTypes {
			wantTypes = append(wantTypes, resourceTypeRef{Service: svc, Type: name, ARN: rt.ARN, Keys: append([]string{}, rt.ConditionKeys...)})
		}
	}
	sort.Slice(want, func(i, j int) bool { return want[i].Action < want[j].Action })
	sort.Slice(wantTypes, func(i, j int) bool {
		return wantTypes[i].Service+":"+wantTypes[i].Type < wantTypes[j].Service+":"+wantTypes[j].Type
	})
	if got := referenceActions(); !reflect.DeepEqual(got, want) {
		t.Errorf("referenceActions differs from testdata/service-reference.json (%d vs %d actions); run go run scripts/gen-authz-table.go", len(got), len(want))
	}
	if got := referenceResourceTypes(); !reflect.DeepEqual(got, wantTypes) {
		t.Errorf("referenceResourceTypes differs from testdata/service-reference.json")
	}
	for svc, m := range map[string]string{"iam": "iam", "sts": "sts"} {
		model, err := awsquery.LoadModel(m)
		if err != nil {
			t.Fatal(err)
		}
		for name := range model.Operations {
			in := newInput(svc + ":" + name)
			if in == nil {
				t.Errorf("newInput(%s:%s) is nil", svc, name)
				continue
			}
			if got := reflect.TypeOf(in).Elem().Name(); got != name+"Input" {
				t.Errorf("newInput(%s:%s) is %s", svc, name, got)
			}
		}
	}
}

// TestAuthorizeTargets checks the resource ARN each kind of operation is authorized on, and
// how AWS's AccessDenied message names it: an entity found by name as "user NAME" (or role,
// group), a policy as "policy ARN", a new entity by its ARN, the List operations of path-based
// entities by the path, and IAM actions without a resource as "*".
func TestAuthorizeTargets(t *testing.T) {
	t.Parallel()
	f := azNew(t)
	acct := f.account
	u := f.user("alice", "/eng/")
	f.role("deployer", fmt.Sprintf(azTrustAccount, acct))
	nobody := f.user("nobody", "")
	for _, tc := range []struct {
		op       string
		form     url.Values
		resource []string // the ARN of each authorization the request asks
		shown    string   // the resource in the message; "" for none
	}{
		{"iam:CreateUser", url.Values{"UserName": {"x"}, "Path": {"/a/b/"}}, []string{"arn:aws:iam::" + acct + ":user/a/b/x"}, "arn:aws:iam::" + acct + ":user/a/b/x"},
		{"iam:CreateRole", url.Values{"RoleName": {"r"}, "AssumeRolePolicyDocument": {fmt.Sprintf(azTrustAccount, acct)}}, []string{"arn:aws:iam::" + acct + ":role/r"}, "arn:aws:iam::" + acct + ":role/r"},
		{"iam:CreatePolicy", url.Values{"PolicyName": {"p"}, "Path": {"/x/"}, "PolicyDocument": {allow("*", "*", "")}}, []string{"arn:aws:iam::" + acct + ":policy/x/p"}, "arn:aws:iam::" + acct + ":policy/x/p"},
		{"iam:GetRole", url.Values{"RoleName": {"DEPLOYER"}}, []string{"arn:aws:iam::" + acct + ":role/app/deployer"}, "role DEPLOYER"},
		{"iam:GetPolicy", url.Values{"PolicyArn": {azAdmin}}, []string{azAdmin}, "policy " + azAdmin},
		{"iam:GetGroup", url.Values{"GroupName": {"g"}}, []string{"arn:aws:iam::" + acct + ":group/g"}, "group g"},
		{"iam:GetUser", nil, []string{nobody.ARN}, "user nobody"},
		{"iam:ListAccessKeys", url.Values{"UserName": {"alice"}}, []string{u.ARN}, "user alice"},
		{"iam:GetAccessKeyLastUsed", url.Values{"AccessKeyId": {"AKIA0000000000000000"}}, []string{"*"}, "*"},
		{"iam:ListUsers", nil, []string{"arn:aws:iam::" + acct + ":user/"}, "arn:aws:iam::" + acct + ":user/"},
		{"iam:ListRoles", url.Values{"PathPrefix": {"/app/"}}, []string{"arn:aws:iam::" + acct + ":role/app/"}, "arn:aws:iam::" + acct + ":role/app/"},
		{"iam:ListPolicies", nil, []string{"policy path /"}, "policy path /"},
		{"iam:ListAccountAliases", nil, []string{"*"}, "*"},
		{"sts:GetAccessKeyInfo", url.Values{"AccessKeyId": {"AKIA0000000000000000"}}, []string{"*"}, ""},
		{"iam:UpdateUser", url.Values{"UserName": {"alice"}, "NewPath": {"/ops/"}}, []string{u.ARN, "arn:aws:iam::" + acct + ":user/ops/alice"}, "user alice"},
		{"iam:UpdateUser", url.Values{"UserName": {"alice"}, "NewUserName": {"alicia"}}, []string{u.ARN, "arn:aws:iam::" + acct + ":user/eng/alicia"}, "user alice"},
		{"iam:CreateOpenIDConnectProvider", url.Values{"Url": {"https://example.com/id"}}, []string{"arn:aws:iam::" + acct + ":oidc-provider/example.com/id"}, "arn:aws:iam::" + acct + ":oidc-provider/example.com/id"},
		{"iam:CreateSAMLProvider", url.Values{"Name": {"corp"}, "SAMLMetadataDocument": {strings.Repeat("x", 1000)}}, []string{"arn:aws:iam::" + acct + ":saml-provider/corp"}, "arn:aws:iam::" + acct + ":saml-provider/corp"},
		{"iam:CreateVirtualMFADevice", url.Values{"VirtualMFADeviceName": {"phone"}}, []string{"arn:aws:iam::" + acct + ":mfa/phone"}, "arn:aws:iam::" + acct + ":mfa/phone"},
		{"iam:SimulatePrincipalPolicy", url.Values{"PolicySourceArn": {u.ARN}, "ActionNames.member.1": {"iam:GetUser"}}, []string{u.ARN}, u.ARN},
		{"sts:GetFederationToken", url.Values{"Name": {"fed"}}, []string{"arn:aws:sts::" + acct + ":federated-user/fed"}, "arn:aws:sts::" + acct + ":federated-user/fed"},
	} {
		t.Run("op="+tc.op, func(t *testing.T) {
			svc, name, _ := strings.Cut(tc.op, ":")
			g := f.svc.guard.op(tc.op)
			raw := newInput(tc.op)
			if err := awsquery.Decode(f.models[svc].Operations[name], tc.form, raw); err != nil {
				t.Fatal(err)
			}
			ctx := principal.NewContext(context.Background(), nobody)
			accs, err := f.svc.accessesFor(ctx, nobody, g, input{v: reflect.ValueOf(raw).Elem(), fields: g.fields})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range accs {
				got = append(got, a.Resource)
			}
			if !equalStrings(got, tc.resource) {
				t.Errorf("resources %q, want %q", got, tc.resource)
			}
			msg := azMessage(f.authorize(nobody, nil, tc.op, tc.form))
			want := " is not authorized to perform: " + tc.op
			if tc.shown != "" {
				want += " on resource: " + tc.shown + " because"
			} else {
				want += " because"
			}
			if !strings.Contains(msg, want) {
				t.Errorf("message %q does not contain %q", msg, want)
			}
		})
	}
}

// FuzzAuthorizeOperation feeds arbitrary parameters to the authorization step of every IAM and
// STS operation as an IAM user with a policy that reads many condition keys: it must never
// panic, and it answers nil or an AWS error (ValidationError, AccessDenied, ...), never an
// internal one.
func FuzzAuthorizeOperation(f *testing.F) {
	fx := azNew(f)
	u := fx.user("fuzzer", "/f/", types.Tag{Key: aws.String("team"), Value: aws.String("blue")})
	fx.inline("fuzzer", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:iam::*:user/${aws:username}",`+
		`"Condition":{"StringEqualsIfExists":{"aws:RequestTag/team":"blue","iam:ResourceTag/env":"dev"},"ForAllValues:StringLike":{"aws:TagKeys":["t*"]}}},`+
		`{"Effect":"Deny","NotAction":"iam:Get*","Resource":"*","Condition":{"ArnLike":{"iam:PolicyARN":"arn:aws:iam::aws:policy/*"}}}]}`)
	var ops []string
	for _, svc := range []string{"iam", "sts"} {
		for name := range fx.models[svc].Operations {
			ops = append(ops, svc+":"+name)
		}
	}
	sort.Strings(ops)
	for i, seed := range []struct{ k1, v1, k2, v2 string }{
		{"UserName", "fuzzer", "NewUserName", "other"},
		{"UserName", "fuzzer", "NewPath", "/a/b/"},
		{"PolicyArn", "arn:aws:iam::aws:policy/ReadOnlyAccess", "UserName", "x"},
		{"PolicySourceArn", "arn:aws:iam::123456789012:user/a/b/c", "ActionNames.member.1", "iam:GetUser"},
		{"Tags.member.1.Key", "team", "Tags.member.1.Value", "blue"},
		{"DeletionTaskId", "task/aws-service-role/x.amazonaws.com/R/1", "", ""},
		{"Url", "https://example.com/x/", "SerialNumber", "arn:aws:iam::1:mfa/"},
	} {
		f.Add(uint16(i*7), seed.k1, seed.v1, seed.k2, seed.v2)
	}
	f.Fuzz(func(t *testing.T, op uint16, k1, v1, k2, v2 string) {
		form := url.Values{}
		if k1 != "" {
			form.Set(k1, v1)
		}
		if k2 != "" {
			form.Set(k2, v2)
		}
		err := fx.authorize(u, &enforce.RequestFacts{SourceIP: "127.0.0.1", Time: fx.now}, ops[int(op)%len(ops)], form)
		if err != nil && azCode(err) == "" || strings.HasPrefix(azCode(err), "not an AWS error") || azCode(err) == "ServiceFailure" {
			t.Fatalf("%s %v: %v", ops[int(op)%len(ops)], form, err)
		}
	})
}
