package iam

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse-iam/gatehouse/internal/awsquery"
	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// testCert is a certificate made for a test, with its private key, both PEM-encoded.
type testCert struct {
	pem, keyPEM string
	cert        *x509.Certificate
	key         crypto.Signer
}

// testRSAKey is one 2048-bit RSA key shared by the tests that need RSA (generating is slow).
var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func newECKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newTestCert makes a certificate for key, valid from notBefore to notAfter, signed by parent
// or self-signed when parent is nil; ca makes it able to sign others.
func newTestCert(t testing.TB, cn string, key crypto.Signer, parent *testCert, ca bool, notBefore, notAfter time.Time) *testCert {
	t.Helper()
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		BasicConstraintsValid: true,
		IsCA:                  ca,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	issuer, signer := tmpl, key
	if parent != nil {
		issuer, signer = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &testCert{
		pem:    string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		keyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
		cert:   cert, key: key,
	}
}

// awsErr is the AWS error code and message of err, or "" and "" for nil.
func awsErr(t *testing.T, err error) (string, string) {
	t.Helper()
	if err == nil {
		return "", ""
	}
	e := awsquery.AsError(err)
	if e == nil {
		t.Fatalf("not an AWS error: %v", err)
	}
	return e.Code, e.Message
}

// TestUploadServerCertificate: what UploadServerCertificate accepts and refuses, with AWS's
// errors (texts from AWS answers quoted in public issues: MalformedCertificate "Unable to parse
// certificate. Please ensure the certificate is in PEM format." and "Unable to validate
// certificate chain ... The index within the chain of the invalid certificate is: -1"
// (aws/aws-cli#715, go-acme/lego#304), "Certificate is no longer valid. The 'Not After' date
// restriction on the certificate has passed." (hashicorp/terraform-provider-aws#7049); the
// IAM User Guide, "Manage server certificates in IAM": the certificate valid at upload, the
// private key unencrypted, everything PEM). A refused upload stores nothing.
func TestUploadServerCertificate(t *testing.T) {
	t.Parallel()
	f := newIDPFixture(t)
	day := 24 * time.Hour
	from, until := f.now.Add(-day), f.now.Add(365*day)
	root := newTestCert(t, "root", newECKey(t), nil, true, from, until)
	inter := newTestCert(t, "intermediate", newECKey(t), root, true, from, until)
	leaf := newTestCert(t, "www.example.com", newECKey(t), inter, false, from, until)
	other := newTestCert(t, "other", newECKey(t), nil, true, from, until)
	self := newTestCert(t, "self", newECKey(t), nil, false, from, until)
	rsaCert := newTestCert(t, "rsa", testRSAKey(), nil, false, from, until)
	expired := newTestCert(t, "expired", newECKey(t), nil, false, f.now.Add(-2*day), f.now.Add(-time.Second))
	future := newTestCert(t, "future", newECKey(t), nil, false, f.now.Add(time.Hour), until)
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(testRSAKey())}))
	sec1DER, err := x509.MarshalECPrivateKey(self.key.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	sec1 := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1DER}))
	chainMsg := func(i int) string { return fmt.Sprintf(msgBadChain, i) }

	for i, tc := range []struct {
		name                string
		body, chain, key    string
		code, msg           string
		wantBody, wantChain string // what GetServerCertificate shows
	}{
		{name: "self-signed", body: self.pem, key: self.keyPEM, wantBody: strings.TrimSpace(self.pem)},
		{name: "with chain", body: leaf.pem, chain: inter.pem + root.pem, key: leaf.keyPEM,
			wantBody: strings.TrimSpace(leaf.pem), wantChain: strings.TrimSpace(inter.pem) + "\n" + strings.TrimSpace(root.pem)},
		{name: "chain of the intermediate only", body: leaf.pem, chain: inter.pem, key: leaf.keyPEM,
			wantBody: strings.TrimSpace(leaf.pem), wantChain: strings.TrimSpace(inter.pem)},
		{name: "bundle in the body", body: leaf.pem + inter.pem, key: leaf.keyPEM,
			wantBody: strings.TrimSpace(leaf.pem), wantChain: strings.TrimSpace(inter.pem)},
		{name: "CRLF line ends", body: strings.ReplaceAll(self.pem, "\n", "\r\n"), key: strings.ReplaceAll(self.keyPEM, "\n", "\r\n"),
			wantBody: strings.TrimSpace(self.pem)},
		{name: "PKCS#1 RSA key", body: rsaCert.pem, key: pkcs1, wantBody: strings.TrimSpace(rsaCert.pem)},
		{name: "SEC 1 EC key", body: self.pem, key: sec1, wantBody: strings.TrimSpace(self.pem)},

		{name: "chain in the wrong order", body: leaf.pem, chain: root.pem + inter.pem, key: leaf.keyPEM, code: "MalformedCertificate", msg: chainMsg(-1)},
		{name: "chain not signing the body", body: leaf.pem, chain: other.pem, key: leaf.keyPEM, code: "MalformedCertificate", msg: chainMsg(-1)},
		{name: "broken inside the chain", body: leaf.pem, chain: inter.pem + other.pem, key: leaf.keyPEM, code: "MalformedCertificate", msg: chainMsg(0)},
		{name: "key of another certificate", body: leaf.pem, chain: inter.pem, key: self.keyPEM, code: "KeyPairMismatch", msg: "The public key certificate and the private key do not match."},
		{name: "body not PEM", body: "certbody", key: self.keyPEM, code: "MalformedCertificate", msg: msgNotPEM},
		{name: "text before the body", body: "Subject: self\n" + self.pem, key: self.keyPEM, code: "MalformedCertificate", msg: msgNotPEM},
		{name: "key as body", body: self.keyPEM, key: self.keyPEM, code: "MalformedCertificate", msg: msgNotPEM},
		{name: "chain holding a key", body: leaf.pem, chain: inter.pem + leaf.keyPEM, key: leaf.keyPEM, code: "MalformedCertificate", msg: msgNotPEM},
		{name: "corrupt certificate", body: strings.Replace(self.pem, "MII", "MIJ", 1), key: self.keyPEM, code: "MalformedCertificate", msg: msgNotPEM},
		{name: "encrypted key", body: self.pem, key: strings.ReplaceAll(self.keyPEM, "PRIVATE KEY", "ENCRYPTED PRIVATE KEY"), code: "MalformedCertificate", msg: msgBadKey},
		{name: "key not PEM", body: self.pem, key: "privatekey", code: "MalformedCertificate", msg: msgBadKey},
		{name: "two keys", body: self.pem, key: self.keyPEM + self.keyPEM, code: "MalformedCertificate", msg: msgBadKey},
		{name: "expired", body: expired.pem, key: expired.keyPEM, code: "MalformedCertificate", msg: msgExpired},
		{name: "not yet valid", body: future.pem, key: future.keyPEM, code: "MalformedCertificate", msg: msgNotYet},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprint("cert-", i)
			in := &iam.UploadServerCertificateInput{ServerCertificateName: aws.String(name), CertificateBody: aws.String(tc.body), PrivateKey: aws.String(tc.key)}
			if tc.chain != "" {
				in.CertificateChain = aws.String(tc.chain)
			}
			_, err := f.svc.UploadServerCertificate(f.ctx, in)
			if code, msg := awsErr(t, err); code != tc.code || (tc.msg != "" && msg != tc.msg) {
				t.Fatalf("UploadServerCertificate error %s %q, want %s %q", code, msg, tc.code, tc.msg)
			}
			got, err := f.svc.GetServerCertificate(f.ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String(name)})
			if tc.code != "" {
				if code, _ := awsErr(t, err); code != "NoSuchEntity" {
					t.Fatalf("after a refused upload GetServerCertificate: %v, want NoSuchEntity", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b := aws.ToString(got.ServerCertificate.CertificateBody); b != tc.wantBody {
				t.Errorf("CertificateBody %q, want %q", b, tc.wantBody)
			}
			if c := aws.ToString(got.ServerCertificate.CertificateChain); c != tc.wantChain {
				t.Errorf("CertificateChain %q, want %q", c, tc.wantChain)
			}
		})
	}
}

// TestServerCertificateLifecycle follows one certificate through every operation: metadata as
// AWS shows it, names unique regardless of case with AWS's texts ("The Server Certificate with
// name X already exists." / "... cannot be found.", as AWS answers in
// dlapiduz/certbot-s3front#17 and LocalStack's recorded AWS responses), path filters and
// paging, renames, tags, delete. Refused requests change nothing.
func TestServerCertificateLifecycle(t *testing.T) {
	t.Parallel()
	f := newIDPFixture(t)
	notAfter := f.now.Add(90 * 24 * time.Hour).Truncate(time.Second)
	c := newTestCert(t, "www.example.com", newECKey(t), nil, false, f.now.Add(-time.Hour), notAfter)
	upload := func(name, path string, tags ...types.Tag) (*iam.UploadServerCertificateOutput, error) {
		in := &iam.UploadServerCertificateInput{ServerCertificateName: aws.String(name), CertificateBody: aws.String(c.pem), PrivateKey: aws.String(c.keyPEM), Tags: tags}
		if path != "" {
			in.Path = aws.String(path)
		}
		return f.svc.UploadServerCertificate(f.ctx, in)
	}
	get := func(name string) (*types.ServerCertificate, error) {
		out, err := f.svc.GetServerCertificate(f.ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String(name)})
		if err != nil {
			return nil, err
		}
		return out.ServerCertificate, nil
	}
	names := func(prefix string, max int32) []string {
		t.Helper()
		var got []string
		in := &iam.ListServerCertificatesInput{MaxItems: aws.Int32(max)}
		if prefix != "" {
			in.PathPrefix = aws.String(prefix)
		}
		for {
			out, err := f.svc.ListServerCertificates(f.ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range out.ServerCertificateMetadataList {
				got = append(got, aws.ToString(m.Path)+aws.ToString(m.ServerCertificateName))
			}
			if !out.IsTruncated {
				return got
			}
			in.Marker = out.Marker
		}
	}

	up, err := upload("Web", "/cloudfront/", types.Tag{Key: aws.String("team"), Value: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	m := up.ServerCertificateMetadata
	if want := "arn:aws:iam::" + f.account + ":server-certificate/cloudfront/Web"; aws.ToString(m.Arn) != want {
		t.Errorf("Arn %s, want %s", aws.ToString(m.Arn), want)
	}
	if id := aws.ToString(m.ServerCertificateId); !strings.HasPrefix(id, "ASCA") || len(id) != 21 {
		t.Errorf("ServerCertificateId %q, want ASCA and 17 more characters", id)
	}
	if !m.Expiration.Equal(notAfter) || !m.UploadDate.Equal(f.now.Truncate(time.Second)) {
		t.Errorf("Expiration %v UploadDate %v, want %v and %v", m.Expiration, m.UploadDate, notAfter, f.now)
	}
	if len(up.Tags) != 1 {
		t.Errorf("upload Tags %v, want the one given", up.Tags)
	}
	if _, err := upload("plain", ""); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name      string
		do        func() error
		code, msg string
	}{
		{"same name in other case", func() error { _, err := upload("WEB", "/"); return err }, "EntityAlreadyExists", "The Server Certificate with name WEB already exists."},
		{"bad path", func() error { _, err := upload("x", "cloudfront"); return err }, "ValidationError", ""},
		{"get unknown", func() error { _, err := get("nope"); return err }, "NoSuchEntity", "The Server Certificate with name nope cannot be found."},
		{"rename onto another", func() error {
			_, err := f.svc.UpdateServerCertificate(f.ctx, &iam.UpdateServerCertificateInput{ServerCertificateName: aws.String("plain"), NewServerCertificateName: aws.String("web")})
			return err
		}, "EntityAlreadyExists", "The Server Certificate with name web already exists."},
		{"rename unknown", func() error {
			_, err := f.svc.UpdateServerCertificate(f.ctx, &iam.UpdateServerCertificateInput{ServerCertificateName: aws.String("nope"), NewPath: aws.String("/x/")})
			return err
		}, "NoSuchEntity", "The Server Certificate with name nope cannot be found."},
		{"tag unknown", func() error {
			_, err := f.svc.TagServerCertificate(f.ctx, &iam.TagServerCertificateInput{ServerCertificateName: aws.String("nope"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}, "NoSuchEntity", ""},
		{"delete unknown", func() error {
			_, err := f.svc.DeleteServerCertificate(f.ctx, &iam.DeleteServerCertificateInput{ServerCertificateName: aws.String("nope")})
			return err
		}, "NoSuchEntity", "The Server Certificate with name nope cannot be found."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, msg := awsErr(t, tc.do()); code != tc.code || (tc.msg != "" && msg != tc.msg) {
				t.Fatalf("error %s %q, want %s %q", code, msg, tc.code, tc.msg)
			}
		})
	}
	if got, want := names("", 1), []string{"/plain", "/cloudfront/Web"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after the refused requests, one per page: %v, want %v", got, want)
	}
	if got := names("/cloudfront/", 100); fmt.Sprint(got) != "[/cloudfront/Web]" {
		t.Fatalf("PathPrefix /cloudfront/: %v", got)
	}

	got, err := get("web")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Tags) != 1 || got.CertificateChain != nil || aws.ToString(got.CertificateBody) != strings.TrimSpace(c.pem) {
		t.Errorf("GetServerCertificate %+v", got)
	}
	plain, err := get("plain")
	if err != nil {
		t.Fatal(err)
	}
	if plain.Tags == nil || len(plain.Tags) != 0 {
		t.Errorf("Tags of an untagged certificate %#v, want an empty list", plain.Tags)
	}

	if _, err := f.svc.UpdateServerCertificate(f.ctx, &iam.UpdateServerCertificateInput{ServerCertificateName: aws.String("web"), NewServerCertificateName: aws.String("Site"), NewPath: aws.String("/elb/")}); err != nil {
		t.Fatal(err)
	}
	renamed, err := get("site")
	if err != nil {
		t.Fatal(err)
	}
	if rm := renamed.ServerCertificateMetadata; aws.ToString(rm.ServerCertificateId) != aws.ToString(m.ServerCertificateId) || aws.ToString(rm.Arn) != "arn:aws:iam::"+f.account+":server-certificate/elb/Site" {
		t.Errorf("after the rename %s %s, want the same id at /elb/Site", aws.ToString(rm.ServerCertificateId), aws.ToString(rm.Arn))
	}

	if _, err := f.svc.TagServerCertificate(f.ctx, &iam.TagServerCertificateInput{ServerCertificateName: aws.String("Site"), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UntagServerCertificate(f.ctx, &iam.UntagServerCertificateInput{ServerCertificateName: aws.String("Site"), TagKeys: []string{"TEAM"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := f.svc.ListServerCertificateTags(f.ctx, &iam.ListServerCertificateTagsInput{ServerCertificateName: aws.String("Site")})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Errorf("tags %v, want env only", tags.Tags)
	}

	for _, name := range []string{"Site", "plain"} {
		if _, err := f.svc.DeleteServerCertificate(f.ctx, &iam.DeleteServerCertificateInput{ServerCertificateName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := names("", 100); len(got) != 0 {
		t.Fatalf("after deleting: %v", got)
	}
}

// TestServerCertificateKeySealed: the private key is stored only sealed under the master key,
// bound to the certificate's id, and GetServerCertificate never shows it.
func TestServerCertificateKeySealed(t *testing.T) {
	t.Parallel()
	f := newIDPFixture(t)
	c := newTestCert(t, "sealed", newECKey(t), nil, false, f.now.Add(-time.Hour), f.now.Add(time.Hour))
	up, err := f.svc.UploadServerCertificate(f.ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("sealed"), CertificateBody: aws.String(c.pem), PrivateKey: aws.String(c.keyPEM)})
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.key)
	if err != nil {
		t.Fatal(err)
	}
	var rec store.Record
	err = f.store.View(f.ctx, func(ctx context.Context, tx store.Tx) (err error) {
		rec, err = tx.Get(ctx, store.KindServerCertificate, f.account, "sealed")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(c.keyPEM))
	for _, secret := range [][]byte{keyDER, []byte(strings.Split(c.keyPEM, "\n")[1])} {
		if bytes.Contains(rec.Data, secret) {
			t.Fatal("the stored record holds the private key in clear")
		}
	}
	var stored store.ServerCertificate
	if err := store.Decode(rec, &stored); err != nil {
		t.Fatal(err)
	}
	opened, err := f.box.Open(stored.SealedKey, []byte(aws.ToString(up.ServerCertificateMetadata.ServerCertificateId)))
	if err != nil || !bytes.Equal(opened, block.Bytes) {
		t.Fatalf("opened key %x (%v), want the PKCS#8 key uploaded", opened, err)
	}
	got, err := f.svc.GetServerCertificate(f.ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String("sealed")})
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprintf("%+v", *got.ServerCertificate); strings.Contains(s, "PRIVATE KEY") {
		t.Fatalf("GetServerCertificate shows the key: %s", s)
	}
}

// TestServerCertificateQuota: 20 server certificates per account (IAM and AWS STS quotas);
// the 21st is refused and not stored.
func TestServerCertificateQuota(t *testing.T) {
	t.Parallel()
	f := newIDPFixture(t)
	c := newTestCert(t, "q", newECKey(t), nil, false, f.now.Add(-time.Hour), f.now.Add(time.Hour))
	upload := func(i int) error {
		_, err := f.svc.UploadServerCertificate(f.ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String(fmt.Sprint("c", i)), CertificateBody: aws.String(c.pem), PrivateKey: aws.String(c.keyPEM)})
		return err
	}
	for i := range maxServerCertificates {
		if err := upload(i); err != nil {
			t.Fatal(err)
		}
	}
	if code, msg := awsErr(t, upload(maxServerCertificates)); code != "LimitExceeded" || msg != "Cannot exceed quota for ServerCertificatesPerAccount: 20" {
		t.Fatalf("21st upload: %s %q", code, msg)
	}
	out, err := f.svc.ListServerCertificates(f.ctx, &iam.ListServerCertificatesInput{})
	if err != nil || len(out.ServerCertificateMetadataList) != maxServerCertificates {
		t.Fatalf("listed %d certificates (%v), want %d", len(out.ServerCertificateMetadataList), err, maxServerCertificates)
	}
}

// FuzzParseCertificates: the certificate parser never panics, and the blocks it returns are
// certificates that parse again to the same certificate.
func FuzzParseCertificates(f *testing.F) {
	c := newTestCert(f, "fuzz", newECKey(f), nil, false, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	for _, seed := range []string{c.pem, c.pem + c.pem, "\r\n" + c.pem, c.keyPEM, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", "junk" + c.pem, ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		blocks, err := parseCertificates(s)
		if err != nil {
			return
		}
		for _, b := range blocks {
			again, err := parseCertificates(b.text)
			if err != nil || len(again) != 1 || !again[0].cert.Equal(b.cert) {
				t.Fatalf("block %q does not parse again to itself: %v", b.text, err)
			}
		}
	})
}

// FuzzParsePrivateKey: the private key parser never panics and returns a key or an error.
func FuzzParsePrivateKey(f *testing.F) {
	c := newTestCert(f, "fuzz", newECKey(f), nil, false, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	for _, seed := range []string{c.keyPEM, strings.ReplaceAll(c.keyPEM, "PRIVATE KEY", "EC PRIVATE KEY"), strings.ReplaceAll(c.keyPEM, "PRIVATE KEY", "RSA PRIVATE KEY"), "-----BEGIN PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\n-----END PRIVATE KEY-----\n", c.pem} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := parsePrivateKey(s)
		if (key == nil) == (err == nil) {
			t.Fatalf("parsePrivateKey = %v, %v: want exactly one of a key and an error", key, err)
		}
	})
}
