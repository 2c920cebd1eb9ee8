package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// rpColumns are the credential report's columns in AWS's order (IAM User Guide, "Getting
// credential reports for your AWS account", Understanding the report format).
var rpColumns = []string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used",
	"password_last_changed", "password_next_rotation", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
	"access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
}

// rpTime spells a time as reports from AWS do: 2015-04-20T17:41:10+00:00.
func rpTime(t *time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") + "+00:00" }

func rpGone(t *testing.T, err error, code string) {
	t.Helper()
	pmErr(t, err, code, "GenerateCredentialReport")
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusGone {
		t.Errorf("%s: status is not 410: %v", code, err)
	}
}

// rpRows reads the report's rows by user name, checking the header.
func rpRows(t *testing.T, c *iam.Client) (map[string][]string, []string) {
	t.Helper()
	out, err := c.GetCredentialReport(context.Background(), &iam.GetCredentialReportInput{})
	pmOK(t, err)
	if out.ReportFormat != types.ReportFormatTypeTextCsv || out.GeneratedTime == nil {
		t.Errorf("ReportFormat %q, GeneratedTime %v", out.ReportFormat, out.GeneratedTime)
	}
	rows, err := csv.NewReader(bytes.NewReader(out.Content)).ReadAll()
	pmOK(t, err)
	if len(rows) < 2 || !reflect.DeepEqual(rows[0], rpColumns) {
		t.Fatalf("report header %v, want %v", rows[0], rpColumns)
	}
	byUser := map[string][]string{}
	var order []string
	for _, r := range rows[1:] {
		byUser[r[0]] = r
		order = append(order, r[0])
	}
	return byUser, order
}

// rpCheckRow compares a row column by column.
func rpCheckRow(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(rpColumns) {
		t.Fatalf("row %v has %d columns, want %d", got, len(got), len(rpColumns))
	}
	for i, col := range rpColumns {
		if want[i] != "*" && got[i] != want[i] {
			t.Errorf("%s: %s = %q, want %q", want[0], col, got[i], want[i])
		}
	}
}

// TestCredentialReportE2E generates and reads the credential report with aws-sdk-go-v2 and
// checks each column of the root user's and the users' rows against what the API says about
// their credentials. GetCredentialReport before any generation is ReportNotPresent, HTTP 410
// (IAM API Reference, GetCredentialReport); a denied generation leaves no report.
func TestCredentialReportE2E(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	must := pmMust[any](t)

	_, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	rpGone(t, err, "ReportNotPresent")
	auditor, _ := e.newUser(t, "auditor")
	_, err = auditor.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	enfDenied(t, err, "")
	_, err = c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	rpGone(t, err, "ReportNotPresent") // the denied call generated nothing

	must(c.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MaxPasswordAge: aws.Int32(30)}))
	alice := pmMust[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/eng/")})).User
	profile := pmMust[*iam.CreateLoginProfileOutput](t)(c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Correct-Horse-9")})).LoginProfile
	k1 := pmMust[*iam.CreateAccessKeyOutput](t)(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})).AccessKey
	time.Sleep(1100 * time.Millisecond) // the second key is the younger one
	k2 := pmMust[*iam.CreateAccessKeyOutput](t)(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})).AccessKey
	must(c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k2.AccessKeyId, Status: types.StatusTypeInactive}))
	// A call signed with alice's first key records its use (she may look at herself).
	aliceIAM, _ := e.clients(*k1.AccessKeyId, *k1.SecretAccessKey, "")
	_, _ = aliceIAM.GetUser(ctx, &iam.GetUserInput{})
	used := pmMust[*iam.GetAccessKeyLastUsedOutput](t)(c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k1.AccessKeyId})).AccessKeyLastUsed
	if used.LastUsedDate == nil {
		t.Fatal("alice's key was not recorded as used")
	}
	dev := pmCreateDevice(t, c, e.Account, "", "alice-phone")
	step := pmStep()
	must(c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(dev.serial),
		AuthenticationCode1: aws.String(dev.code(step - 1)), AuthenticationCode2: aws.String(dev.code(step))}))
	cert := pmMust[*iam.UploadSigningCertificateOutput](t)(c.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{
		UserName: aws.String("alice"), CertificateBody: aws.String(newCertPEM(t, "alice", certRSA(), nil, false).cert)})).Certificate
	bob := pmMust[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")})).User

	gen := pmMust[*iam.GenerateCredentialReportOutput](t)(c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}))
	if gen.State != types.ReportStateTypeStarted || aws.ToString(gen.Description) != "No report exists. Starting a new report generation task" {
		t.Errorf("GenerateCredentialReport = %s %q, want STARTED and AWS's description", gen.State, aws.ToString(gen.Description))
	}
	if again := pmMust[*iam.GenerateCredentialReportOutput](t)(c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})); again.State != types.ReportStateTypeComplete {
		t.Errorf("second GenerateCredentialReport = %s, want COMPLETE", again.State)
	}

	rows, order := rpRows(t, c)
	if want := []string{"<root_account>", "alice", "auditor", "bob"}; !reflect.DeepEqual(order, want) {
		t.Fatalf("rows %v, want %v", order, want)
	}
	rootKeys := pmMust[*iam.ListAccessKeysOutput](t)(c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})).AccessKeyMetadata
	rootKey := rootKeys[0]
	rootLast := pmMust[*iam.GetAccessKeyLastUsedOutput](t)(c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: rootKey.AccessKeyId})).AccessKeyLastUsed
	rpCheckRow(t, rows["<root_account>"], []string{"<root_account>", "arn:aws:iam::" + e.Account + ":root", "*",
		"not_supported", "no_information", "not_supported", "not_supported", "false",
		"true", rpTime(rootKey.CreateDate), rpTime(rootLast.LastUsedDate), *rootLast.Region, *rootLast.ServiceName,
		"false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "false", "N/A"})
	if _, err := time.Parse(time.RFC3339, rows["<root_account>"][2]); err != nil {
		t.Errorf("root user_creation_time: %v", err)
	}
	next := profile.CreateDate.AddDate(0, 0, 30)
	rpCheckRow(t, rows["alice"], []string{"alice", *alice.Arn, rpTime(alice.CreateDate),
		"true", "no_information", rpTime(profile.CreateDate), rpTime(&next), "true",
		"true", rpTime(k1.CreateDate), rpTime(used.LastUsedDate), "us-east-1", "iam",
		"false", rpTime(k2.CreateDate), "N/A", "N/A", "N/A",
		"true", rpTime(cert.UploadDate), "false", "N/A"})
	rpCheckRow(t, rows["bob"], []string{"bob", *bob.Arn, rpTime(bob.CreateDate),
		"false", "N/A", "N/A", "N/A", "false",
		"false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "false", "N/A"})
}

// adTrust lets EC2 assume the role.
const adTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func adNamesE2E(out *iam.GetAccountAuthorizationDetailsOutput) []string {
	var names []string
	for _, u := range out.UserDetailList {
		names = append(names, "user:"+*u.UserName)
	}
	for _, g := range out.GroupDetailList {
		names = append(names, "group:"+*g.GroupName)
	}
	for _, r := range out.RoleDetailList {
		names = append(names, "role:"+*r.RoleName)
	}
	for _, p := range out.Policies {
		names = append(names, fmt.Sprintf("policy:%s:%d", *p.PolicyName, len(p.PolicyVersionList)))
	}
	return names
}

// TestAccountAuthorizationDetailsE2E lists an account's authorization details with
// aws-sdk-go-v2: the combined list, each Filter value, pages of one item (the SDK's paginator)
// and the documents URL-encoded as IAM returns them; a denied call is AccessDenied.
func TestAccountAuthorizationDetailsE2E(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	must := pmMust[any](t)
	const doc1 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	const doc2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}))
	must(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}))
	must(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")}))
	must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(doc1)}))
	local := *pmMust[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Data"), PolicyDocument: aws.String(doc1)})).Policy.Arn
	must(c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(local), PolicyDocument: aws.String(doc2), SetAsDefault: true}))
	must(c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String(enfReadOnly)}))
	must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(adTrust)}))
	must(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("web"), PolicyArn: aws.String(local)}))
	must(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("webprof")}))
	must(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("webprof"), RoleName: aws.String("web")}))
	outsider, _ := e.newUser(t, "outsider")

	full := pmMust[*iam.GetAccountAuthorizationDetailsOutput](t)(c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{}))
	all := []string{"user:alice", "user:outsider", "group:devs", "role:web", "policy:Data:2", "policy:IAMReadOnlyAccess:1"}
	if got := adNamesE2E(full); !reflect.DeepEqual(got, all) || full.IsTruncated {
		t.Fatalf("details %v (truncated %v), want %v", got, full.IsTruncated, all)
	}
	alice := full.UserDetailList[0]
	if !reflect.DeepEqual(alice.GroupList, []string{"devs"}) || len(alice.Tags) != 1 || len(alice.UserPolicyList) != 1 {
		t.Errorf("alice = %+v", alice)
	}
	if d, err := url.QueryUnescape(aws.ToString(alice.UserPolicyList[0].PolicyDocument)); err != nil || d != doc1 {
		t.Errorf("alice's inline document %q: %v", aws.ToString(alice.UserPolicyList[0].PolicyDocument), err)
	}
	web := full.RoleDetailList[0]
	if d, _ := url.QueryUnescape(aws.ToString(web.AssumeRolePolicyDocument)); d != adTrust || len(web.InstanceProfileList) != 1 ||
		len(web.InstanceProfileList[0].Roles) != 1 || *web.InstanceProfileList[0].Roles[0].RoleName != "web" ||
		len(web.AttachedManagedPolicies) != 1 || *web.AttachedManagedPolicies[0].PolicyArn != local {
		t.Errorf("web = %+v", web)
	}
	data := full.Policies[0]
	if *data.AttachmentCount != 1 || *data.DefaultVersionId != "v2" || !data.PolicyVersionList[0].IsDefaultVersion {
		t.Errorf("Data = %+v", data)
	}
	if d, _ := url.QueryUnescape(aws.ToString(data.PolicyVersionList[1].Document)); d != doc1 {
		t.Errorf("Data v1 document %q", d)
	}
	if strings.Contains(aws.ToString(data.PolicyVersionList[0].Document), "{") {
		t.Errorf("document is not URL-encoded: %s", aws.ToString(data.PolicyVersionList[0].Document))
	}

	for _, tc := range []struct {
		filter types.EntityType
		want   []string
	}{
		{types.EntityTypeUser, all[:2]},
		{types.EntityTypeGroup, all[2:3]},
		{types.EntityTypeRole, all[3:4]},
		{types.EntityTypeLocalManagedPolicy, all[4:5]},
		{types.EntityTypeAWSManagedPolicy, all[5:6]},
	} {
		out := pmMust[*iam.GetAccountAuthorizationDetailsOutput](t)(c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Filter: []types.EntityType{tc.filter}}))
		if got := adNamesE2E(out); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Filter %s: %v, want %v", tc.filter, got, tc.want)
		}
	}

	var paged []string
	pages := 0
	p := iam.NewGetAccountAuthorizationDetailsPaginator(c, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(1)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		pmOK(t, err)
		pages++
		paged = append(paged, adNamesE2E(out)...)
		if out.IsTruncated != (out.Marker != nil) {
			t.Errorf("page %d: IsTruncated %v with marker %v", pages, out.IsTruncated, out.Marker)
		}
	}
	if !reflect.DeepEqual(paged, all) || pages != len(all) {
		t.Errorf("%d pages of one: %v, want %v", pages, paged, all)
	}
	_, err := c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Marker: aws.String("bogus!")})
	pmErr(t, err, "ValidationError", "Invalid Marker.")
	_, err = c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Filter: []types.EntityType{"Users"}})
	pmErr(t, err, "ValidationError", "Member must satisfy enum value set")

	_, err = outsider.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})
	enfDenied(t, err, "")
	if again := pmMust[*iam.GetAccountAuthorizationDetailsOutput](t)(c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})); !reflect.DeepEqual(adNamesE2E(again), all) {
		t.Errorf("after the denied call: %v", adNamesE2E(again))
	}
}
