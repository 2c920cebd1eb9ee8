package iam

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/principal"
)

// TestSigningCertificateID: IAM's signing certificate id is the unpadded base32 SHA-1 of the
// certificate, as a real UploadSigningCertificate response shows (testdata/certs/README.md).
func TestSigningCertificateID(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/certs/aws-signing-certificate.pem")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := signingCertificateID(cert.Raw), "PBEX2T7R5DA3SVZHQDK2HQ2G3ZOP7SYA"; got != want {
		t.Fatalf("id %s, want AWS's %s", got, want)
	}
}

// rootContext is a context in which the root user of account calls.
func rootContext(ctx context.Context, account string) context.Context {
	return principal.NewContext(ctx, &principal.Principal{Type: principal.Root, Account: account, ARN: "arn:aws:iam::" + account + ":root", UserID: account})
}

// TestSigningCertificates follows signing certificates of two users, the root user and another
// account through every operation and error. AWS's texts: "Cannot exceed quota for
// CertificatesPerUser: 2", "The user with name notauser cannot be found.", "The Certificate with
// id X cannot be found." (getmoto/moto tests marked aws_verified, LocalStack's recorded AWS
// responses), "Certificate invalid-certificate-body is malformed." (LocalStack's recording),
// DeleteUser's "Cannot delete entity, must delete certificates first." (rebuy-de/aws-nuke#671,
// hashicorp/terraform-provider-aws#10322). A refused request changes nothing.
func TestSigningCertificates(t *testing.T) {
	t.Parallel()
	f := newIDPFixture(t)
	for _, name := range []string{"alice", "bob"} {
		f.mfaTestUser(t, name)
	}
	from, until := f.now.Add(-time.Hour), f.now.Add(24*time.Hour)
	c1 := newTestCert(t, "one", testRSAKey(), nil, false, from, until)
	c2 := newTestCert(t, "two", testRSAKey(), nil, false, from, until)
	c3 := newTestCert(t, "three", testRSAKey(), nil, false, from, until)
	ec := newTestCert(t, "ec", newECKey(t), nil, false, from, until)
	expired := newTestCert(t, "expired", testRSAKey(), nil, false, f.now.Add(-48*time.Hour), f.now.Add(-time.Hour))
	id1, id2 := signingCertificateID(c1.cert.Raw), signingCertificateID(c2.cert.Raw)

	upload := func(ctx context.Context, user, body string) (*types.SigningCertificate, error) {
		in := &iam.UploadSigningCertificateInput{CertificateBody: aws.String(body)}
		if user != "" {
			in.UserName = aws.String(user)
		}
		out, err := f.svc.UploadSigningCertificate(ctx, in)
		if err != nil {
			return nil, err
		}
		return out.Certificate, nil
	}
	list := func(ctx context.Context, user string) []types.SigningCertificate {
		t.Helper()
		in := &iam.ListSigningCertificatesInput{}
		if user != "" {
			in.UserName = aws.String(user)
		}
		out, err := f.svc.ListSigningCertificates(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return out.Certificates
	}

	got, err := upload(f.ctx, "alice", c1.pem)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.CertificateId) != id1 || aws.ToString(got.CertificateBody) != c1.pem || got.Status != types.StatusTypeActive ||
		aws.ToString(got.UserName) != "alice" || !got.UploadDate.Equal(f.now.Truncate(time.Second)) {
		t.Fatalf("uploaded %+v, want id %s, the body as given, Active, alice", got, id1)
	}
	if _, err := upload(f.ctx, "alice", c2.pem); err != nil {
		t.Fatal(err)
	}

	other, err := f.svc.CreateAccount(f.ctx, AccountCredentials{})
	if err != nil {
		t.Fatal(err)
	}
	otherCtx := rootContext(f.ctx, other.AccountID)
	for _, tc := range []struct {
		name      string
		do        func() error
		code, msg string
	}{
		{"the same certificate again", func() error { _, err := upload(f.ctx, "alice", c1.pem); return err }, "DuplicateCertificate", ""},
		{"the same certificate for another user", func() error { _, err := upload(f.ctx, "bob", c1.pem); return err }, "DuplicateCertificate", ""},
		{"a third certificate", func() error { _, err := upload(f.ctx, "alice", c3.pem); return err }, "LimitExceeded", "Cannot exceed quota for CertificatesPerUser: 2"},
		{"not a certificate", func() error { _, err := upload(f.ctx, "bob", "notacert"); return err }, "MalformedCertificate", "Certificate notacert is malformed."},
		{"two certificates", func() error { _, err := upload(f.ctx, "bob", c3.pem+c3.pem); return err }, "MalformedCertificate", ""},
		{"an EC key", func() error { _, err := upload(f.ctx, "bob", ec.pem); return err }, "InvalidCertificate", ""},
		{"expired", func() error { _, err := upload(f.ctx, "bob", expired.pem); return err }, "MalformedCertificate", msgExpired},
		{"unknown user", func() error { _, err := upload(f.ctx, "notauser", c3.pem); return err }, "NoSuchEntity", "The user with name notauser cannot be found."},
		{"status Expired", func() error {
			_, err := f.svc.UpdateSigningCertificate(f.ctx, &iam.UpdateSigningCertificateInput{UserName: aws.String("alice"), CertificateId: aws.String(id1), Status: types.StatusTypeExpired})
			return err
		}, "ValidationError", ""},
		{"update unknown id", func() error {
			_, err := f.svc.UpdateSigningCertificate(f.ctx, &iam.UpdateSigningCertificateInput{UserName: aws.String("alice"), CertificateId: aws.String(strings.Repeat("x", 32)), Status: types.StatusTypeInactive})
			return err
		}, "NoSuchEntity", "The Certificate with id " + strings.Repeat("x", 32) + " cannot be found."},
		{"delete another user's", func() error {
			_, err := f.svc.DeleteSigningCertificate(f.ctx, &iam.DeleteSigningCertificateInput{UserName: aws.String("bob"), CertificateId: aws.String(id1)})
			return err
		}, "NoSuchEntity", "The Certificate with id " + id1 + " cannot be found."},
		{"delete for unknown user", func() error {
			_, err := f.svc.DeleteSigningCertificate(f.ctx, &iam.DeleteSigningCertificateInput{UserName: aws.String("notauser"), CertificateId: aws.String(id1)})
			return err
		}, "NoSuchEntity", "The user with name notauser cannot be found."},
		{"delete a user with certificates", func() error {
			_, err := f.svc.DeleteUser(f.ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
			return err
		}, "DeleteConflict", "Cannot delete entity, must delete certificates first."},
		{"the same certificate in another account", func() error { _, err := upload(otherCtx, "", c1.pem); return err }, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, msg := awsErr(t, tc.do()); code != tc.code || (tc.msg != "" && msg != tc.msg) {
				t.Fatalf("error %s %q, want %s %q", code, msg, tc.code, tc.msg)
			}
		})
	}
	if got := list(f.ctx, "alice"); len(got) != 2 || len(list(f.ctx, "bob")) != 0 {
		t.Fatalf("after the refused requests alice has %d certificates and bob %d, want 2 and 0", len(got), len(list(f.ctx, "bob")))
	}

	// The root user's certificates, without UserName, carry no user name.
	root, err := upload(f.ctx, "", c3.pem)
	if err != nil {
		t.Fatal(err)
	}
	if root.UserName != nil || len(list(f.ctx, "")) != 1 {
		t.Fatalf("root upload %+v, listed %d", root, len(list(f.ctx, "")))
	}

	if _, err := f.svc.UpdateSigningCertificate(f.ctx, &iam.UpdateSigningCertificateInput{UserName: aws.String("alice"), CertificateId: aws.String(id1), Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	statuses := map[string]types.StatusType{}
	for _, c := range list(f.ctx, "alice") {
		statuses[aws.ToString(c.CertificateId)] = c.Status
	}
	if statuses[id1] != types.StatusTypeInactive || statuses[id2] != types.StatusTypeActive {
		t.Fatalf("statuses %v", statuses)
	}
	for _, id := range []string{id1, id2} {
		if _, err := f.svc.DeleteSigningCertificate(f.ctx, &iam.DeleteSigningCertificateInput{UserName: aws.String("alice"), CertificateId: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.DeleteUser(f.ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatalf("DeleteUser after deleting the certificates: %v", err)
	}
}
