package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// TestServiceLastAccessed: calls made through aws-sdk-go-v2 are recorded in the trail, and the
// service last accessed report of their user, asked for through the SDK, shows them: the
// services its policy allows, the last call of each (a denied one included) and, at action
// level, of each tracked action.
func TestServiceLastAccessed(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, nil, func(c *config.Config) { c.Audit = true })
	log, ok := e.app.EventLog()
	if !ok {
		t.Skip("the backend keeps no audit trail")
	}
	ctx := context.Background()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","iam:ListUsers","sts:GetCallerIdentity"],"Resource":"*"}]}`
	creds := userWithPolicy(t, e, "reader", doc)
	readerIAM, readerSTS := e.clients(creds.AccessKeyID, creds.SecretAccessKey, "")
	if _, err := readerIAM.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := readerSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := readerIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("nope")}); apiCode(err) != "AccessDenied" {
		t.Fatalf("CreateUser as reader: %v, want AccessDenied", err)
	}
	// The recorder writes in the background: wait for the three calls.
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, err := log.Events(ctx, store.EventQuery{Account: e.Account, Attribute: store.EventAttrUsername, Value: "reader"})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the trail has %d of reader's 3 calls", len(evs))
		}
		time.Sleep(50 * time.Millisecond)
	}
	user, err := e.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("reader")})
	if err != nil {
		t.Fatal(err)
	}
	arn := *user.User.Arn

	gen, err := e.IAM.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(arn), Granularity: types.AccessAdvisorUsageGranularityTypeActionLevel})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.IAM.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: gen.JobId})
	if err != nil {
		t.Fatal(err)
	}
	if out.JobStatus != types.JobStatusTypeCompleted || out.JobType != types.AccessAdvisorUsageGranularityTypeActionLevel || out.JobCompletionDate == nil || out.IsTruncated {
		t.Fatalf("job: %s %s %v truncated=%v", out.JobStatus, out.JobType, out.JobCompletionDate, out.IsTruncated)
	}
	got := map[string]types.ServiceLastAccessed{}
	var order []string
	for _, s := range out.ServicesLastAccessed {
		got[*s.ServiceNamespace] = s
		order = append(order, *s.ServiceNamespace)
	}
	if len(order) != 2 || order[0] != "iam" || order[1] != "sts" {
		t.Fatalf("services %v, want [iam sts]", order)
	}
	for _, ns := range order {
		s := got[ns]
		if s.LastAuthenticated == nil || aws.ToString(s.LastAuthenticatedEntity) != arn || aws.ToString(s.LastAuthenticatedRegion) != "us-east-1" || aws.ToInt32(s.TotalAuthenticatedEntities) != 1 {
			t.Errorf("%s: last %v by %s in %s, total %d", ns, s.LastAuthenticated, aws.ToString(s.LastAuthenticatedEntity), aws.ToString(s.LastAuthenticatedRegion), aws.ToInt32(s.TotalAuthenticatedEntities))
		}
	}
	actions := map[string]bool{} // name -> accessed
	for _, a := range got["iam"].TrackedActionsLastAccessed {
		actions[*a.ActionName] = a.LastAccessedTime != nil
	}
	if len(actions) != 2 || !actions["ListUsers"] || actions["GetUser"] {
		t.Errorf("iam tracked actions %v, want ListUsers accessed and GetUser not", actions)
	}

	ents, err := e.IAM.GetServiceLastAccessedDetailsWithEntities(ctx, &iam.GetServiceLastAccessedDetailsWithEntitiesInput{JobId: gen.JobId, ServiceNamespace: aws.String("sts")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ents.EntityDetailsList) != 1 || aws.ToString(ents.EntityDetailsList[0].EntityInfo.Arn) != arn || ents.EntityDetailsList[0].EntityInfo.Type != types.PolicyOwnerEntityTypeUser || ents.EntityDetailsList[0].LastAuthenticated == nil {
		t.Errorf("entities %+v", ents.EntityDetailsList)
	}

	// The errors, as the wire carries them.
	_, err = e.IAM.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String("00000000-0000-7000-8000-000000000000")})
	if apiCode(err) != "NoSuchEntity" {
		t.Errorf("unknown job: %v", err)
	}
	_, err = readerIAM.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: gen.JobId})
	if apiCode(err) != "AccessDenied" {
		t.Errorf("reader without iam:GetServiceLastAccessedDetails: %v", err)
	}
	_, err = e.IAM.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String("arn:aws:iam::" + e.Account + ":user/nobody")})
	if apiCode(err) != "NoSuchEntity" {
		t.Errorf("unknown user: %v", err)
	}
	_, err = e.IAM.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(arn), Granularity: "RESOURCE_LEVEL"})
	if apiCode(err) != "ValidationError" {
		t.Errorf("bad granularity: %v, want the model's ValidationError", err)
	}
}

// TestServiceLastAccessedAWSCLI runs clients/last_accessed_awscli.sh, the reports through the
// stock aws CLI, against an in-process server whose IAM service reads the trail.
func TestServiceLastAccessedAWSCLI(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed")
	}
	e := newEnvWith(t, nil, func(c *config.Config) { c.Audit = true })
	if _, ok := e.app.EventLog(); !ok {
		t.Skip("the backend keeps no audit trail")
	}
	if _, err := e.STS.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	cmd := exec.Command("bash", "clients/last_accessed_awscli.sh")
	cmd.Env = append(os.Environ(),
		"GATEHOUSE_ENDPOINT="+e.URL,
		"AWS_ACCESS_KEY_ID="+e.Root.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+e.Root.SecretAccessKey,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"AWS_PAGER=",
		"HOME="+home,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("%s", out)
}
