package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/audit"
	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/pgtest"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/policy"
)

const genAccount = "123456789012"

// genEvent is a call as the server records it: by user NAME, or by a session of role NAME when
// session is set.
func genEvent(user, role, session, source, name, errorCode string, at time.Time, resources ...string) *audit.Event {
	ev := &audit.Event{
		EventVersion: audit.EventVersion, EventID: audit.NewEventID(), EventTime: at, EventSource: source, EventName: name,
		AWSRegion: "us-east-1", SourceIPAddress: "192.0.2.1", UserAgent: "test", ErrorCode: errorCode, EventType: audit.EventTypeAPICall,
		RecipientAccountID: genAccount, EventCategory: "Management", ManagementEvent: true,
	}
	if role != "" {
		ev.UserIdentity = &audit.UserIdentity{
			Type: "AssumedRole", PrincipalID: "AROAEXAMPLE:" + session, ARN: "arn:aws:sts::" + genAccount + ":assumed-role/" + role + "/" + session,
			AccountID: genAccount, AccessKeyID: "ASIAEXAMPLE",
			SessionContext: &audit.SessionContext{SessionIssuer: &audit.SessionIssuer{
				Type: "Role", PrincipalID: "AROAEXAMPLE", ARN: "arn:aws:iam::" + genAccount + ":role/" + role, AccountID: genAccount, UserName: role}},
		}
	} else {
		ev.UserIdentity = &audit.UserIdentity{Type: "IAMUser", PrincipalID: "AIDA" + strings.ToUpper(user), ARN: "arn:aws:iam::" + genAccount + ":user/" + user,
			AccountID: genAccount, AccessKeyID: "AKIA" + strings.ToUpper(user), UserName: user}
	}
	for _, r := range resources {
		ev.Resources = append(ev.Resources, audit.Resource{ARN: r, AccountID: genAccount, Type: "AWS::IAM::User"})
	}
	return ev
}

// genDeployment makes a deployment (SQLite in dir, or PostgreSQL at url) whose trail holds evs,
// and returns the flags that name it.
func genDeployment(t *testing.T, url string, evs []*audit.Event) []string {
	t.Helper()
	flags := []string{"--data-dir", t.TempDir()}
	if url != "" {
		flags = append(flags, "--database", url)
	}
	if code, _, errOut := runCLI(t, append([]string{"account", "create", "--init", "--account-id", genAccount}, flags...)...); code != 0 {
		t.Fatalf("account create: %s", errOut)
	}
	cfg := config.Config{DataDir: flags[1]}
	if url != "" {
		cfg.DatabaseURL = url
	}
	a, err := openForCLI(context.Background(), Env{Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	log, ok := a.EventLog()
	if !ok {
		t.Fatal("the deployment keeps no trail")
	}
	var out []store.Event
	for _, ev := range evs {
		se, err := ev.StoreEvent()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, se)
	}
	if err := log.AppendEvents(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	return flags
}

func genUsers(prefix string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("arn:aws:iam::%s:user/%s%d", genAccount, prefix, i))
	}
	return out
}

// TestPolicyGenerate: the generated policy allows exactly what the principal's counted calls
// used in the window, grouped and generalized as Access Analyzer does, and it passes the
// parser and `policy validate`.
func TestPolicyGenerate(t *testing.T) {
	t.Parallel()
	now := time.Now().Add(-time.Minute)
	old := now.Add(-10 * 24 * time.Hour)
	user := func(name, source, op, errorCode string, at time.Time, res ...string) *audit.Event {
		return genEvent(name, "", "", source, op, errorCode, at, res...)
	}
	evs := []*audit.Event{
		// alice: IAM reads on two users, one action without a resource, a protected service,
		// a denied call, a call outside the window, and one that failed after authorization.
		user("alice", "iam.amazonaws.com", "GetUser", "", now, "arn:aws:iam::"+genAccount+":user/bob"),
		user("alice", "iam.amazonaws.com", "ListAccessKeys", "", now, "arn:aws:iam::"+genAccount+":user/bob"),
		user("alice", "iam.amazonaws.com", "GetUser", "", now, "arn:aws:iam::"+genAccount+":user/carol"),
		user("alice", "iam.amazonaws.com", "ListUsers", "", now),
		user("alice", "iam.amazonaws.com", "listusers", "", now), // spelled as the reference spells it
		user("alice", "myapp.amazonaws.com", "GetThing", "", now, "arn:aws:myapp:us-east-1:"+genAccount+":thing/t1"),
		user("alice", "iam.amazonaws.com", "DeleteUser", "AccessDenied", now, "arn:aws:iam::"+genAccount+":user/bob"),
		user("alice", "iam.amazonaws.com", "CreateRole", "", old),
		user("alice", "iam.amazonaws.com", "GetRole", "NoSuchEntity", now, "arn:aws:iam::"+genAccount+":role/gone"),
		// Another user's calls and an unauthenticated failure do not count for alice.
		user("bob", "iam.amazonaws.com", "CreateUser", "", now),
		user("alice", "sts.amazonaws.com", "GetCallerIdentity", "InvalidClientTokenId", now),
		// The role's sessions.
		genEvent("", "deployer", "s1", "sts.amazonaws.com", "GetCallerIdentity", "", now),
		genEvent("", "deployer", "s2", "iam.amazonaws.com", "TagUser", "", now, "arn:aws:iam::"+genAccount+":user/x"),
	}
	// dave touches seven users: more than five ARNs of one type become a wildcard.
	for _, arn := range genUsers("team/app-", 7) {
		evs = append(evs, user("dave", "iam.amazonaws.com", "GetUser", "", now, arn))
	}
	for _, arn := range genUsers("", 3) {
		evs = append(evs, user("dave", "iam.amazonaws.com", "GetUser", "", now, arn))
	}
	flags := genDeployment(t, "", evs)

	tests := []struct {
		name, principal string
		want            string // the policy's statements, compact
	}{
		{"user", "arn:aws:iam::" + genAccount + ":user/alice",
			`[{"Effect":"Allow","Action":["iam:GetRole"],"Resource":"arn:aws:iam::123456789012:role/gone"},` +
				`{"Effect":"Allow","Action":["iam:GetUser"],"Resource":["arn:aws:iam::123456789012:user/bob","arn:aws:iam::123456789012:user/carol"]},` +
				`{"Effect":"Allow","Action":["iam:ListAccessKeys"],"Resource":"arn:aws:iam::123456789012:user/bob"},` +
				`{"Effect":"Allow","Action":["iam:ListUsers"],"Resource":"*"},` +
				`{"Effect":"Allow","Action":["myapp:GetThing"],"Resource":"arn:aws:myapp:us-east-1:123456789012:thing/t1"}]`},
		{"role: its sessions", "arn:aws:iam::" + genAccount + ":role/deployer",
			`[{"Effect":"Allow","Action":["iam:TagUser"],"Resource":"arn:aws:iam::123456789012:user/x"},` +
				`{"Effect":"Allow","Action":["sts:GetCallerIdentity"],"Resource":"*"}]`},
		{"many ARNs of one type", "arn:aws:iam::" + genAccount + ":user/dave",
			`[{"Effect":"Allow","Action":["iam:GetUser"],"Resource":"arn:aws:iam::123456789012:user/*"}]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, append([]string{"policy", "generate", "--principal", tc.principal, "--since", "7d"}, flags...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if _, err := policy.Parse([]byte(out), policy.Identity); err != nil {
				t.Fatalf("the policy does not parse: %v\n%s", err, out)
			}
			var doc struct {
				Version   string
				Statement json.RawMessage
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, doc.Statement); err != nil {
				t.Fatal(err)
			}
			if doc.Version != "2012-10-17" || compact.String() != tc.want {
				t.Errorf("policy:\n got %s %s\nwant %s", doc.Version, compact.String(), tc.want)
			}
			file := filepath.Join(t.TempDir(), "policy.json")
			if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
			if code, vout, verr := runCLI(t, "policy", "validate", file); code != 0 {
				t.Errorf("policy validate: exit %d: %s %s", code, vout, verr)
			}
		})
	}

	// A longer window reaches the older call.
	code, out, errOut := runCLI(t, append([]string{"policy", "generate", "--principal", "arn:aws:iam::" + genAccount + ":user/alice", "--since", "30d"}, flags...)...)
	if code != 0 || !strings.Contains(out, `"iam:CreateRole"`) {
		t.Errorf("--since 30d: exit %d, %s %s", code, out, errOut)
	}
}

func TestPolicyGenerateErrors(t *testing.T) {
	t.Parallel()
	flags := genDeployment(t, "", []*audit.Event{genEvent("alice", "", "", "iam.amazonaws.com", "DeleteUser", "AccessDenied", time.Now())})
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"only denied calls", []string{"--principal", "arn:aws:iam::" + genAccount + ":user/alice"}, 1, "has no calls of arn:aws:iam::123456789012:user/alice"},
		{"no principal", nil, 2, "--principal is required"},
		{"not a user or role", []string{"--principal", "arn:aws:iam::" + genAccount + ":group/g"}, 1, "want the ARN of an IAM user or role"},
		{"bad window", []string{"--principal", "arn:aws:iam::" + genAccount + ":user/alice", "--since", "soon"}, 2, "--since"},
		{"negative window", []string{"--principal", "arn:aws:iam::" + genAccount + ":user/alice", "--since", "-3d"}, 2, "not a positive duration"},
		{"no deployment", []string{"--principal", "arn:aws:iam::" + genAccount + ":user/alice", "--data-dir", t.TempDir()}, 1, "no Gatehouse deployment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"policy", "generate"}, flags...)
			code, out, errOut := runCLI(t, append(args, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", code, out, errOut, tc.code, tc.stderr)
			}
		})
	}
}

// TestPolicyGeneratePostgreSQL: the command reads the trail of a deployment in PostgreSQL.
func TestPolicyGeneratePostgreSQL(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	flags := genDeployment(t, url, []*audit.Event{
		genEvent("", "deployer", "s1", "sts.amazonaws.com", "GetCallerIdentity", "", time.Now().Add(-time.Hour)),
	})
	code, out, errOut := runCLI(t, append([]string{"policy", "generate", "--principal", "arn:aws:iam::" + genAccount + ":role/deployer"}, flags...)...)
	if code != 0 || !strings.Contains(out, `"sts:GetCallerIdentity"`) {
		t.Errorf("exit %d: %s %s", code, out, errOut)
	}
}

func TestGeneralizeARNs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want []string
	}{
		{genUsers("a", 5), genUsers("a", 5)},
		{genUsers("team/app-", 6), []string{"arn:aws:iam::123456789012:user/team/*"}},
		{append(genUsers("x/", 6), "arn:aws:iam::123456789012:role/r"), []string{"arn:aws:iam::123456789012:role/r", "arn:aws:iam::123456789012:user/x/*"}},
		{[]string{"arn:aws:s3:::b1", "arn:aws:s3:::b2", "arn:aws:s3:::b3", "arn:aws:s3:::b4", "arn:aws:s3:::b5", "arn:aws:s3:::b6"}, []string{"arn:aws:s3:::*"}},
	} {
		if got := generalizeARNs(tc.in); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("generalizeARNs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
