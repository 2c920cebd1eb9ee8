package iam

import (
	"bytes"
	"encoding/csv"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
)

// crReport reads the current report as rows of columns, header included.
func crReport(t *testing.T, f *idpFixture) ([][]string, time.Time) {
	t.Helper()
	out, err := f.svc.GetCredentialReport(f.ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	if out.ReportFormat != types.ReportFormatTypeTextCsv {
		t.Errorf("ReportFormat = %q", out.ReportFormat)
	}
	rows, err := csv.NewReader(bytes.NewReader(out.Content)).ReadAll()
	if err != nil {
		t.Fatalf("report is not CSV: %v\n%s", err, out.Content)
	}
	return rows, *out.GeneratedTime
}

func crGenerate(t *testing.T, f *idpFixture) *iam.GenerateCredentialReportOutput {
	t.Helper()
	out, err := f.svc.GenerateCredentialReport(f.ctx, &iam.GenerateCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func crError(t *testing.T, err error, code string) {
	t.Helper()
	var e *awsquery.Error
	if !errors.As(err, &e) || e.Code != code || e.Status != http.StatusGone || !strings.Contains(e.Message, "GenerateCredentialReport") {
		t.Fatalf("error = %v, want %s (410) naming GenerateCredentialReport", err, code)
	}
}

// TestCredentialReport follows the report through its states and checks every column of every
// row against the IAM User Guide ("Getting credential reports for your AWS account":
// <root_account> first with not_supported password columns, N/A for what a user does not
// have, no_information for a password never used, ISO 8601 times; reports from AWS spell
// times with +00:00 and booleans lower-case). GetCredentialReport's errors are the API
// Reference's ReportNotPresent and ReportExpired, both HTTP 410.
func TestCredentialReport(t *testing.T) {
	t.Parallel()
	f := newIDPFixture(t)
	created := f.now.Truncate(time.Second)
	_, err := f.svc.GetCredentialReport(f.ctx, &iam.GetCredentialReportInput{})
	crError(t, err, "ReportNotPresent")

	_, err = f.svc.UpdateAccountPasswordPolicy(f.ctx, &iam.UpdateAccountPasswordPolicyInput{MaxPasswordAge: aws.Int32(90)})
	gkCheck(t, err)
	step := func() time.Time { f.now = f.now.Add(time.Minute); return f.now.Truncate(time.Second) }

	aliceCreated := step()
	aliceID := f.mfaTestUser(t, "alice")
	pwSet := step()
	_, err = f.svc.CreateLoginProfile(f.ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("correct-horse-1")})
	gkCheck(t, err)
	pwUsed := step()
	gkCheck(t, f.svc.recordPasswordUse(f.ctx, f.account, aliceID))
	key1At := step()
	k1, err := f.svc.CreateAccessKey(f.ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	gkCheck(t, err)
	key2At := step()
	k2, err := f.svc.CreateAccessKey(f.ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	gkCheck(t, err)
	_, err = f.svc.UpdateAccessKey(f.ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k2.AccessKey.AccessKeyId, Status: types.StatusTypeInactive})
	gkCheck(t, err)
	usedAt := step()
	gkCheck(t, f.svc.enforcer.RecordKeyUse(f.ctx, f.account, *k1.AccessKey.AccessKeyId, "s3", "us-west-2"))
	serial, seed := f.mfaTestDevice(t, "alice-phone")
	step()
	step1 := f.now.Unix() / 30
	gkCheck(t, f.enable("alice", serial, seed, step1-1, step1))
	certAt := step()
	cert := newTestCert(t, "alice", testRSAKey(), nil, false, f.now.Add(-time.Hour), f.now.Add(24*time.Hour))
	_, err = f.svc.UploadSigningCertificate(f.ctx, &iam.UploadSigningCertificateInput{UserName: aws.String("alice"), CertificateBody: aws.String(cert.pem)})
	gkCheck(t, err)
	bobCreated := step()
	f.mfaTestUser(t, "bob")

	genAt := step()
	first := crGenerate(t, f)
	if first.State != types.ReportStateTypeStarted || aws.ToString(first.Description) != "No report exists. Starting a new report generation task" {
		t.Errorf("first GenerateCredentialReport = %s %q, want STARTED with AWS's description", first.State, aws.ToString(first.Description))
	}
	if again := crGenerate(t, f); again.State != types.ReportStateTypeComplete || again.Description != nil {
		t.Errorf("second GenerateCredentialReport = %s %v, want COMPLETE without description", again.State, again.Description)
	}

	rows, generated := crReport(t, f)
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") + "+00:00" }
	acct := "arn:aws:iam::" + f.account
	want := [][]string{
		credentialReportColumns(),
		{"<root_account>", acct + ":root", ts(created), "not_supported", "no_information", "not_supported", "not_supported", "false",
			"true", ts(created), "N/A", "N/A", "N/A", "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "false", "N/A"},
		{"alice", acct + ":user/alice", ts(aliceCreated), "true", ts(pwUsed), ts(pwSet), ts(pwSet.AddDate(0, 0, 90)), "true",
			"true", ts(key1At), ts(usedAt), "us-west-2", "s3", "false", ts(key2At), "N/A", "N/A", "N/A",
			"true", ts(certAt), "false", "N/A"},
		{"bob", acct + ":user/bob", ts(bobCreated), "false", "N/A", "N/A", "N/A", "false",
			"false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "false", "N/A"},
	}
	if len(rows) != len(want) {
		t.Fatalf("report has %d rows, want %d:\n%v", len(rows), len(want), rows)
	}
	for i := range want {
		for j := range want[i] {
			if j >= len(rows[i]) || rows[i][j] != want[i][j] {
				t.Errorf("row %d (%s) column %s = %q, want %q", i, want[i][0], credentialReportColumns()[j], rows[i][min(j, len(rows[i])-1)], want[i][j])
			}
		}
		if len(rows[i]) != len(want[i]) {
			t.Errorf("row %d has %d columns, want %d", i, len(rows[i]), len(want[i]))
		}
	}
	if !generated.Equal(genAt) {
		t.Errorf("GeneratedTime = %v, want %v", generated, genAt)
	}

	// Within four hours the report stays as it was, even after changes.
	f.mfaTestUser(t, "carol")
	f.now = genAt.Add(4*time.Hour - time.Second)
	if out := crGenerate(t, f); out.State != types.ReportStateTypeComplete {
		t.Errorf("GenerateCredentialReport within 4 hours = %s, want COMPLETE", out.State)
	}
	if kept, _ := crReport(t, f); !reflect.DeepEqual(kept, rows) {
		t.Errorf("report changed within 4 hours:\n%v", kept)
	}

	// At four hours it has expired; the next generation makes a new one with carol.
	f.now = genAt.Add(4 * time.Hour)
	_, err = f.svc.GetCredentialReport(f.ctx, &iam.GetCredentialReportInput{})
	crError(t, err, "ReportExpired")
	if out := crGenerate(t, f); out.State != types.ReportStateTypeStarted {
		t.Errorf("GenerateCredentialReport after 4 hours = %s, want STARTED", out.State)
	}
	fresh, at := crReport(t, f)
	if len(fresh) != 5 || fresh[4][0] != "carol" || !at.Equal(f.now) {
		t.Errorf("regenerated report at %v: %v", at, fresh)
	}
}
