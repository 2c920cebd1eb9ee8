package iam

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/audit"
	"github.com/gatehouse-iam/gatehouse/internal/enforce"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// laFixture is an account with two users in a group, a role and a managed policy attached to
// one user and the role, and a trail of their calls:
//
//	alice: inline iam:GetUser, iam:ListUsers; member of devs
//	bob:   member of devs; attached "deploy"
//	devs:  inline s3:GetObject, iam:ListGroups
//	deployer (role): attached "deploy"
//	deploy: sts:GetCallerIdentity, myapp:Get* (myapp is a protected service)
type laFixture struct {
	*idpFixture
	ids       map[string]string // name -> user or role id
	arns      map[string]string
	policyARN string
	t1, t2    time.Time // alice iam:GetUser, alice iam:ListUsers (denied)
	t3        time.Time // bob iam:ListGroups (us-west-2)
	t4        time.Time // deployer session myapp:GetThing (eu-west-1)
	t5        time.Time // bob myapp:GetThing
}

func laDoc(actions ...string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["%s"],"Resource":"*"}]}`, strings.Join(actions, `","`))
}

func newLAFixture(t *testing.T) *laFixture {
	t.Helper()
	f := &laFixture{idpFixture: newIDPFixture(t), ids: map[string]string{}, arns: map[string]string{}}
	ctx := f.ctx
	for _, u := range []string{"alice", "bob", "carol"} {
		out, err := f.svc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)})
		gkCheck(t, err)
		f.ids[u], f.arns[u] = *out.User.UserId, *out.User.Arn
	}
	_, err := f.svc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("own"), PolicyDocument: aws.String(laDoc("iam:GetUser", "iam:ListUsers"))})
	gkCheck(t, err)
	g, err := f.svc.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")})
	gkCheck(t, err)
	f.arns["devs"] = *g.Group.Arn
	for _, u := range []string{"alice", "bob"} {
		_, err = f.svc.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String(u)})
		gkCheck(t, err)
	}
	_, err = f.svc.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("g"), PolicyDocument: aws.String(laDoc("s3:GetObject", "iam:ListGroups"))})
	gkCheck(t, err)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + f.account + `:root"},"Action":"sts:AssumeRole"}]}`
	r, err := f.svc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), AssumeRolePolicyDocument: aws.String(trust)})
	gkCheck(t, err)
	f.ids["deployer"], f.arns["deployer"] = *r.Role.RoleId, *r.Role.Arn
	p, err := f.svc.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("deploy"), PolicyDocument: aws.String(laDoc("sts:GetCallerIdentity", "myapp:Get*"))})
	gkCheck(t, err)
	f.policyARN = *p.Policy.Arn
	_, err = f.svc.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: p.Policy.Arn})
	gkCheck(t, err)
	_, err = f.svc.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("deployer"), PolicyArn: p.Policy.Arn})
	gkCheck(t, err)

	now := f.now.Truncate(time.Second)
	f.t1, f.t2, f.t3, f.t4, f.t5 = now.Add(-50*time.Hour), now.Add(-40*time.Hour), now.Add(-30*time.Hour), now.Add(-20*time.Hour), now.Add(-10*time.Hour)
	f.appendEvents(t,
		f.userEvent("alice", "iam", "GetUser", "us-east-1", f.t1, ""),
		f.userEvent("alice", "iam", "ListUsers", "us-east-1", f.t2, "AccessDenied"),
		f.userEvent("bob", "iam", "ListGroups", "us-west-2", f.t3, ""),
		f.roleEvent("deployer", "s1", "myapp", "GetThing", "eu-west-1", f.t4),
		f.userEvent("bob", "myapp", "GetThing", "us-east-1", f.t5, ""),
		// Outside the 400-day window, and a user outside every report.
		f.userEvent("alice", "s3", "GetObject", "us-east-1", now.Add(-401*24*time.Hour), ""),
		f.userEvent("carol", "iam", "GetUser", "us-east-1", f.t5, ""),
	)
	return f
}

func (f *laFixture) userEvent(name, ns, action, region string, at time.Time, errorCode string) *audit.Event {
	return &audit.Event{
		EventVersion: audit.EventVersion, EventID: audit.NewEventID(), EventTime: at, EventSource: ns + ".amazonaws.com", EventName: action,
		AWSRegion: region, SourceIPAddress: "192.0.2.1", UserAgent: "test", ErrorCode: errorCode, EventType: audit.EventTypeAPICall,
		RecipientAccountID: f.account, EventCategory: "Management", ManagementEvent: true,
		UserIdentity: &audit.UserIdentity{Type: "IAMUser", PrincipalID: f.ids[name], ARN: f.arns[name], AccountID: f.account, AccessKeyID: "AKIA" + strings.ToUpper(name), UserName: name},
	}
}

func (f *laFixture) roleEvent(role, session, ns, action, region string, at time.Time) *audit.Event {
	ev := f.userEvent(role, ns, action, region, at, "")
	ev.UserIdentity = &audit.UserIdentity{
		Type: "AssumedRole", PrincipalID: f.ids[role] + ":" + session, ARN: "arn:aws:sts::" + f.account + ":assumed-role/" + role + "/" + session,
		AccountID: f.account, AccessKeyID: "ASIATEST",
		SessionContext: &audit.SessionContext{
			SessionIssuer: &audit.SessionIssuer{Type: "Role", PrincipalID: f.ids[role], ARN: f.arns[role], AccountID: f.account, UserName: role},
			Attributes:    audit.SessionAttributes{MFAAuthenticated: "false"},
		},
	}
	return ev
}

func (f *laFixture) appendEvents(t *testing.T, evs ...*audit.Event) {
	t.Helper()
	var out []store.Event
	for _, ev := range evs {
		se, err := ev.StoreEvent()
		gkCheck(t, err)
		out = append(out, se)
	}
	gkCheck(t, f.store.(store.EventLog).AppendEvents(context.Background(), out))
}

// report generates a report of arn and reads all of it, a page of one service at a time.
func (f *laFixture) report(t *testing.T, ctx context.Context, arn string, g types.AccessAdvisorUsageGranularityType) (string, []types.ServiceLastAccessed) {
	t.Helper()
	gen, err := f.svc.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(arn), Granularity: g})
	gkCheck(t, err)
	if len(aws.ToString(gen.JobId)) != 36 {
		t.Fatalf("JobId %q: want 36 characters", aws.ToString(gen.JobId))
	}
	var all []types.ServiceLastAccessed
	var marker *string
	for {
		out, err := f.svc.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: gen.JobId, MaxItems: aws.Int32(50), Marker: marker})
		gkCheck(t, err)
		if out.JobStatus != types.JobStatusTypeCompleted || out.JobCreationDate == nil || out.JobCompletionDate == nil {
			t.Fatalf("job %s: status %s, created %v, completed %v", *gen.JobId, out.JobStatus, out.JobCreationDate, out.JobCompletionDate)
		}
		if want := g; want != "" && out.JobType != want || g == "" && out.JobType != types.AccessAdvisorUsageGranularityTypeServiceLevel {
			t.Errorf("JobType = %s, want %s", out.JobType, g)
		}
		all = append(all, out.ServicesLastAccessed...)
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	return *gen.JobId, all
}

// laLine is one service of a report, spelled for comparison: "ns last entity region total".
func laLine(s types.ServiceLastAccessed) string {
	line := *s.ServiceNamespace
	if s.LastAuthenticated != nil {
		line += " " + s.LastAuthenticated.UTC().Format(time.RFC3339) + " " + aws.ToString(s.LastAuthenticatedEntity) + " " + aws.ToString(s.LastAuthenticatedRegion)
	}
	return fmt.Sprintf("%s total=%d", line, aws.ToInt32(s.TotalAuthenticatedEntities))
}

// pick keeps the report's lines of the namespaces named (a "*" policy lists hundreds).
func pick(services []types.ServiceLastAccessed, namespaces ...string) []string {
	var out []string
	for _, s := range services {
		if slices.Contains(namespaces, *s.ServiceNamespace) {
			out = append(out, laLine(s))
		}
	}
	return out
}

func TestServiceLastAccessedReports(t *testing.T) {
	t.Parallel()
	f := newLAFixture(t)
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	tests := []struct {
		name string
		arn  string
		want []string // every service of the report, in order
	}{
		{"user: own and group policies; a denied call counts", f.arns["alice"], []string{
			"iam " + ts(f.t2) + " " + f.arns["alice"] + " us-east-1 total=1",
			"s3 total=0",
		}},
		{"user with a managed policy: a protected service", f.arns["bob"], []string{
			"iam " + ts(f.t3) + " " + f.arns["bob"] + " us-west-2 total=1",
			"myapp " + ts(f.t5) + " " + f.arns["bob"] + " us-east-1 total=1",
			"s3 total=0",
			"sts total=0",
		}},
		{"group: its members", f.arns["devs"], []string{
			"iam " + ts(f.t3) + " " + f.arns["bob"] + " us-west-2 total=2",
			"s3 total=0",
		}},
		{"role: its sessions' calls", f.arns["deployer"], []string{
			"myapp " + ts(f.t4) + " " + f.arns["deployer"] + " eu-west-1 total=1",
			"sts total=0",
		}},
		{"managed policy: the user and the role it is attached to", f.policyARN, []string{
			"myapp " + ts(f.t5) + " " + f.arns["bob"] + " us-east-1 total=2",
			"sts total=0",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, services := f.report(t, f.ctx, tc.arn, "")
			var got []string
			for _, s := range services {
				got = append(got, laLine(s))
				if s.TrackedActionsLastAccessed != nil {
					t.Errorf("%s: TrackedActionsLastAccessed in a SERVICE_LEVEL report", *s.ServiceNamespace)
				}
				if aws.ToString(s.ServiceName) == "" {
					t.Errorf("%s: no ServiceName", *s.ServiceNamespace)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("report of %s:\n got %q\nwant %q", tc.arn, got, tc.want)
			}
		})
	}
}

func TestServiceLastAccessedActionLevel(t *testing.T) {
	t.Parallel()
	f := newLAFixture(t)
	_, services := f.report(t, f.ctx, f.arns["alice"], types.AccessAdvisorUsageGranularityTypeActionLevel)
	got := map[string][]string{}
	for _, s := range services {
		for _, a := range s.TrackedActionsLastAccessed {
			line := *a.ActionName
			if a.LastAccessedTime != nil {
				line += " " + a.LastAccessedTime.UTC().Format(time.RFC3339) + " " + aws.ToString(a.LastAccessedEntity) + " " + aws.ToString(a.LastAccessedRegion)
			}
			got[*s.ServiceNamespace] = append(got[*s.ServiceNamespace], line)
		}
	}
	want := map[string][]string{"iam": {
		"GetUser " + f.t1.UTC().Format(time.RFC3339) + " " + f.arns["alice"] + " us-east-1",
		"ListGroups",
		"ListUsers " + f.t2.UTC().Format(time.RFC3339) + " " + f.arns["alice"] + " us-east-1",
	}}
	// s3 is not a service whose calls Gatehouse sees: no tracked actions.
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tracked actions:\n got %v\nwant %v", got, want)
	}
}

func TestServiceLastAccessedWithEntities(t *testing.T) {
	t.Parallel()
	f := newLAFixture(t)
	groupJob, _ := f.report(t, f.ctx, f.arns["devs"], "")
	policyJob, _ := f.report(t, f.ctx, f.policyARN, "")
	roleJob, _ := f.report(t, f.ctx, f.arns["deployer"], "")
	tests := []struct {
		name, job, ns string
		want          []string // "ARN TYPE [time]"
	}{
		{"group, most recent first", groupJob, "iam", []string{f.arns["bob"] + " USER " + f.t3.Format(time.RFC3339), f.arns["alice"] + " USER " + f.t2.Format(time.RFC3339)}},
		{"group, service never called", groupJob, "s3", []string{f.arns["alice"] + " USER", f.arns["bob"] + " USER"}},
		{"policy: users and roles", policyJob, "myapp", []string{f.arns["bob"] + " USER " + f.t5.Format(time.RFC3339), f.arns["deployer"] + " ROLE " + f.t4.Format(time.RFC3339)}},
		{"role: itself", roleJob, "myapp", []string{f.arns["deployer"] + " ROLE " + f.t4.Format(time.RFC3339)}},
		{"a service the report does not list", groupJob, "ec2", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			var marker *string
			for {
				out, err := f.svc.GetServiceLastAccessedDetailsWithEntities(f.ctx, &iam.GetServiceLastAccessedDetailsWithEntitiesInput{
					JobId: aws.String(tc.job), ServiceNamespace: aws.String(tc.ns), MaxItems: aws.Int32(1), Marker: marker})
				gkCheck(t, err)
				if out.JobStatus != types.JobStatusTypeCompleted || out.EntityDetailsList == nil {
					t.Fatalf("status %s, list %v", out.JobStatus, out.EntityDetailsList)
				}
				for _, d := range out.EntityDetailsList {
					e := d.EntityInfo
					if aws.ToString(e.Id) == "" || aws.ToString(e.Path) != "/" || !strings.HasSuffix(*e.Arn, "/"+aws.ToString(e.Name)) {
						t.Errorf("EntityInfo %+v", *e)
					}
					line := *e.Arn + " " + string(e.Type)
					if d.LastAuthenticated != nil {
						line += " " + d.LastAuthenticated.UTC().Format(time.RFC3339)
					}
					got = append(got, line)
				}
				if !out.IsTruncated {
					break
				}
				marker = out.Marker
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("entities:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestServiceLastAccessedErrors(t *testing.T) {
	t.Parallel()
	f := newLAFixture(t)
	job, _ := f.report(t, f.ctx, f.arns["alice"], "")
	aliceCtx := principal.NewContext(context.Background(), &principal.Principal{Type: principal.User, Account: f.account, ARN: f.arns["alice"], UserID: f.ids["alice"], UserName: "alice"})
	gen := func(ctx context.Context, arn string, g types.AccessAdvisorUsageGranularityType) error {
		_, err := f.svc.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(arn), Granularity: g})
		return err
	}
	get := func(ctx context.Context, id string, marker *string) error {
		_, err := f.svc.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String(id), Marker: marker})
		return err
	}
	withEntities := func(ctx context.Context, id string) error {
		_, err := f.svc.GetServiceLastAccessedDetailsWithEntities(ctx, &iam.GetServiceLastAccessedDetailsWithEntitiesInput{JobId: aws.String(id), ServiceNamespace: aws.String("iam")})
		return err
	}
	acct := "arn:aws:iam::" + f.account
	tests := []struct {
		name     string
		err      error
		code     string
		contains string
	}{
		{"unknown user", gen(f.ctx, acct+":user/nobody", ""), "NoSuchEntity", "The user with name nobody cannot be found."},
		{"unknown role", gen(f.ctx, acct+":role/nobody", ""), "NoSuchEntity", "The role with name nobody cannot be found."},
		{"user ARN with the wrong path", gen(f.ctx, acct+":user/x/alice", ""), "NoSuchEntity", "alice"},
		{"unknown policy", gen(f.ctx, acct+":policy/nope", ""), "NoSuchEntity", "Policy " + acct + ":policy/nope was not found."},
		{"another account's user", gen(f.ctx, "arn:aws:iam::999999999999:user/alice", ""), "NoSuchEntity", ""},
		{"not an ARN", gen(f.ctx, "alice", ""), "InvalidInput", "ARN alice is not valid."},
		{"not an identity", gen(f.ctx, acct+":instance-profile/p", ""), "InvalidInput", "Invalid ARN"},
		{"bad granularity", gen(f.ctx, f.arns["alice"], "RESOURCE_LEVEL"), "InvalidInput", "Granularity"},
		{"unknown job", get(f.ctx, "0190c0de-0000-7000-8000-000000000000", nil), "NoSuchEntity", "0190c0de-0000-7000-8000-000000000000"},
		{"another identity's job", get(aliceCtx, job, nil), "NoSuchEntity", job},
		{"another identity's job, with entities", withEntities(aliceCtx, job), "NoSuchEntity", job},
		{"foreign marker", get(f.ctx, job, aws.String("bm9wZQ")), "ValidationError", "Invalid Marker."},
		{"the caller's job", get(f.ctx, job, nil), "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code := idpCode(t, tc.err); code != tc.code || tc.err != nil && !strings.Contains(tc.err.Error(), tc.contains) {
				t.Errorf("error = %v, want %s containing %q", tc.err, tc.code, tc.contains)
			}
		})
	}

	// A job expires after lastAccessedJobLifetime, and the next Generate deletes it.
	f.now = f.now.Add(lastAccessedJobLifetime)
	if code := idpCode(t, get(f.ctx, job, nil)); code != "NoSuchEntity" {
		t.Errorf("expired job: %s, want NoSuchEntity", code)
	}
	gkCheck(t, gen(f.ctx, f.arns["bob"], ""))
	gkCheck(t, f.store.View(context.Background(), func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.Get(ctx, kindLastAccessedJob, f.account, job); !isNotFound(err) {
			t.Errorf("expired job still stored: %v", err)
		}
		return nil
	}))
}

// noTrail is a store that keeps no events.
type noTrail struct{ store.Store }

// TestServiceLastAccessedWithoutTrail: a backend without events answers the report with the
// services the policies allow and no accesses.
func TestServiceLastAccessedWithoutTrail(t *testing.T) {
	t.Parallel()
	f := newLAFixture(t)
	st := noTrail{f.store}
	svc := New(st, f.box, func() time.Time { return f.now }, RandomIDs{}, f.svc.logger, enforce.New(st, f.box, func() time.Time { return f.now }, f.svc.logger))
	f.svc = svc
	_, services := f.report(t, f.ctx, f.arns["bob"], "")
	// Without the trail myapp, unknown to the Service Authorization Reference, is not seen.
	want := []string{"iam total=0", "s3 total=0", "sts total=0"}
	if got := pick(services, "iam", "myapp", "s3", "sts"); !slices.Equal(got, want) {
		t.Errorf("report without a trail: %q, want %q", got, want)
	}
}

// TestServiceLastAccessedAllServices: "*" lists every service of the reference, sorted by
// namespace, and pages through them.
func TestServiceLastAccessedAllServices(t *testing.T) {
	t.Parallel()
	f := newLAFixture(t)
	_, err := f.svc.PutUserPolicy(f.ctx, &iam.PutUserPolicyInput{UserName: aws.String("carol"), PolicyName: aws.String("admin"), PolicyDocument: aws.String(laDoc("*"))})
	gkCheck(t, err)
	_, services := f.report(t, f.ctx, f.arns["carol"], "")
	if len(services) < 300 {
		t.Fatalf("%d services for \"*\", want every service of the reference", len(services))
	}
	if !slices.IsSortedFunc(services, func(a, b types.ServiceLastAccessed) int {
		return strings.Compare(*a.ServiceNamespace, *b.ServiceNamespace)
	}) {
		t.Error("services not sorted by namespace")
	}
	ts := f.t5.UTC().Format(time.RFC3339)
	if got, want := pick(services, "iam", "s3"), []string{"iam " + ts + " " + f.arns["carol"] + " us-east-1 total=1", "s3 total=0"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
