package iam

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/entity"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// The credential report (IAM User Guide, "Getting credential reports for your AWS account").
//
// Generation is synchronous: GenerateCredentialReport builds the CSV inside its own request, so
// a report is never in progress (ReportInProgress is never answered). The call that builds a
// report still answers STARTED, as AWS's first call does, and the calls after it COMPLETE.
// "You can generate a credential report as often as once every four hours": a report younger
// than that is kept, an older one is rebuilt by the next GenerateCredentialReport and, until
// then, is expired for GetCredentialReport (ReportExpired; AWS documents no other lifetime).

// credentialReportMaxAge is how long a report is current.
const credentialReportMaxAge = 4 * time.Hour

// reportStarted is AWS's Description of a report generation it starts (the AWS Tools for
// PowerShell example of Request-IAMCredentialReport in the IAM User Guide).
const reportStarted = "No report exists. Starting a new report generation task"

// credentialReportColumns are the report's columns, in AWS's order (a function, so that nothing
// global is mutable).
func credentialReportColumns() []string {
	return []string{
		"user", "arn", "user_creation_time", "password_enabled", "password_last_used",
		"password_last_changed", "password_next_rotation", "mfa_active",
		"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
		"access_key_1_last_used_region", "access_key_1_last_used_service",
		"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
		"access_key_2_last_used_region", "access_key_2_last_used_service",
		"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
	}
}

// The report's special values, as the User Guide spells them.
const (
	reportNA           = "N/A"
	reportNoInfo       = "no_information"
	reportNotSupported = "not_supported"
	reportRootUser     = "<root_account>"
)

func (s *Service) credentialReportOperations() []operation {
	return []operation{
		{"GenerateCredentialReport", awsquery.Handle(s.GenerateCredentialReport)},
		{"GetCredentialReport", awsquery.Handle(s.GetCredentialReport)},
	}
}

// reportTime spells a time as AWS's reports do: ISO 8601 with an explicit +00:00 offset.
func reportTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

func reportBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// GenerateCredentialReport builds the account's credential report unless a current one exists.
func (s *Service) GenerateCredentialReport(ctx context.Context, _ *iam.GenerateCredentialReportInput) (*iam.GenerateCredentialReportOutput, error) {
	account := caller(ctx).Account
	now := s.timestamp()
	out := &iam.GenerateCredentialReportOutput{State: types.ReportStateTypeComplete}
	// A report grants nothing: no principal's credentials or grants change (create, not update).
	err := s.create(ctx, func(ctx context.Context, tx store.Tx) error {
		old, err := store.Load[store.CredentialReport](ctx, tx, store.KindCredentialReport, account, store.CredentialReportKey)
		switch {
		case err == nil && now.Sub(old.GeneratedTime) < credentialReportMaxAge:
			return nil
		case err != nil && !isNotFound(err):
			return err
		}
		content, err := buildCredentialReport(ctx, tx, account, now)
		if err != nil {
			return err
		}
		rec := store.Record{Account: account, Kind: store.KindCredentialReport, Key: store.CredentialReportKey,
			Data: store.Encode(store.CredentialReport{GeneratedTime: now, Content: content})}
		if old != nil {
			err = tx.Replace(ctx, rec)
		} else if err = tx.Insert(ctx, rec); isExists(err) {
			return nil // a concurrent request made the report first
		}
		if err == nil {
			out.State, out.Description = types.ReportStateTypeStarted, aws.String(reportStarted)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetCredentialReport returns the account's current credential report as CSV.
func (s *Service) GetCredentialReport(ctx context.Context, _ *iam.GetCredentialReportInput) (*iam.GetCredentialReportOutput, error) {
	account := caller(ctx).Account
	var r *store.CredentialReport
	err := s.view(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		r, err = store.Load[store.CredentialReport](ctx, tx, store.KindCredentialReport, account, store.CredentialReportKey)
		if isNotFound(err) {
			// AWS sends these two errors without a message (botocore prints "Unknown"); the
			// texts are the API Reference's descriptions of the errors, so the caller knows
			// what to do. HTTP 410 for both (GetCredentialReport, Errors).
			return awsquery.Errorf(http.StatusGone, "ReportNotPresent", "The request was rejected because the credential report does not exist. To generate a credential report, use GenerateCredentialReport.")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if s.timestamp().Sub(r.GeneratedTime) >= credentialReportMaxAge {
		return nil, awsquery.Errorf(http.StatusGone, "ReportExpired", "The request was rejected because the most recent credential report has expired. To generate a new credential report, use GenerateCredentialReport.")
	}
	return &iam.GetCredentialReportOutput{Content: r.Content, ReportFormat: types.ReportFormatTypeTextCsv, GeneratedTime: aws.Time(r.GeneratedTime)}, nil
}

// buildCredentialReport writes the CSV: the header, the root user, then every user in name order.
func buildCredentialReport(ctx context.Context, tx store.Tx, account string, now time.Time) ([]byte, error) {
	pp, err := loadPasswordPolicy(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(credentialReportColumns()); err != nil {
		return nil, err
	}
	root, err := rootReportRow(ctx, tx, account)
	if err != nil {
		return nil, err
	}
	if err := w.Write(root); err != nil {
		return nil, err
	}
	recs, err := tx.List(ctx, store.KindUser, account, store.Query{})
	if err != nil {
		return nil, err
	}
	for _, rec := range recs {
		u := new(store.User)
		if err := store.Decode(rec, u); err != nil {
			return nil, err
		}
		row, err := userReportRow(ctx, tx, account, u, pp)
		if err != nil {
			return nil, err
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("credential report of %s: %w", account, err)
	}
	return buf.Bytes(), nil
}

// rootReportRow is the <root_account> row: its password columns are not_supported, except
// password_last_used, which Gatehouse never records for root (no root console sign-in), so
// it is no_information.
func rootReportRow(ctx context.Context, tx store.Tx, account string) ([]string, error) {
	a, err := store.Load[store.Account](ctx, tx, store.KindAccount, "", account)
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", account, err)
	}
	row := []string{reportRootUser, "arn:aws:iam::" + account + ":root", reportTime(a.CreateDate),
		reportNotSupported, reportNoInfo, reportNotSupported, reportNotSupported}
	return appendCredentialColumns(ctx, tx, account, account, row)
}

// userReportRow is one user's row.
func userReportRow(ctx context.Context, tx store.Tx, account string, u *store.User, pp *store.PasswordPolicy) ([]string, error) {
	row := []string{u.Name, entity.UserARN(account, u), reportTime(u.CreateDate)}
	lp, err := store.Load[store.LoginProfile](ctx, tx, store.KindLoginProfile, account, u.ID)
	switch {
	case isNotFound(err):
		row = append(row, "false", reportNA, reportNA, reportNA)
	case err != nil:
		return nil, err
	default:
		used := reportNoInfo // a password never used to sign in
		if u.PasswordLastUsed != nil {
			used = reportTime(*u.PasswordLastUsed)
		}
		// N/A when the password policy does not require rotation (the AWS User Guide's
		// example report shows N/A for such users).
		next := reportNA
		if pp != nil && pp.MaxPasswordAge > 0 {
			next = reportTime(lp.ChangedAt.AddDate(0, 0, int(pp.MaxPasswordAge)))
		}
		row = append(row, "true", used, reportTime(lp.ChangedAt), next)
	}
	return appendCredentialColumns(ctx, tx, account, u.ID, row)
}

// appendCredentialColumns adds mfa_active and the access key and signing certificate columns
// of the owner (a user id, or the account id for root). Key and certificate 1 is the older one.
// A slot's dates are shown whenever the key or certificate exists, Inactive ones too (reports
// from AWS show them so); N/A when the slot is empty or the key was never used.
func appendCredentialColumns(ctx context.Context, tx store.Tx, account, owner string, row []string) ([]string, error) {
	mfa, err := tx.Count(ctx, store.KindMFAAssignment, account, store.ChildKey(owner, ""))
	if err != nil {
		return nil, err
	}
	row = append(row, reportBool(mfa > 0))

	keys, err := ownedRecords[store.AccessKey](ctx, tx, store.KindAccessKey, account, owner)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(keys, func(a, b *store.AccessKey) int { return a.CreateDate.Compare(b.CreateDate) })
	for i := range maxAccessKeysPerUser {
		if i >= len(keys) {
			row = append(row, "false", reportNA, reportNA, reportNA, reportNA)
			continue
		}
		k := keys[i]
		date, region, service := reportNA, reportNA, reportNA
		if k.LastUsedDate != nil {
			date = reportTime(*k.LastUsedDate)
			region, service = cmp.Or(k.LastUsedRegion, reportNA), cmp.Or(k.LastUsedService, reportNA)
		}
		row = append(row, reportBool(k.Status == string(types.StatusTypeActive)), reportTime(k.CreateDate), date, region, service)
	}

	certs, err := ownedRecords[store.SigningCertificate](ctx, tx, store.KindSigningCertificate, account, owner)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(certs, func(a, b *store.SigningCertificate) int { return a.UploadDate.Compare(b.UploadDate) })
	for i := range maxSigningCertificatesPerUser {
		if i >= len(certs) {
			row = append(row, "false", reportNA)
			continue
		}
		c := certs[i]
		row = append(row, reportBool(c.Status == string(types.StatusTypeActive)), reportTime(c.UploadDate))
	}
	return row, nil
}

// ownedRecords decodes the records of kind whose keys are owner + "/" + id.
func ownedRecords[T any](ctx context.Context, tx store.Tx, kind store.Kind, account, owner string) ([]*T, error) {
	recs, err := tx.List(ctx, kind, account, store.Query{Prefix: store.ChildKey(owner, "")})
	if err != nil {
		return nil, err
	}
	out := make([]*T, 0, len(recs))
	for _, r := range recs {
		v := new(T)
		if err := store.Decode(r, v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
