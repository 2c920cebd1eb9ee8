package e2e

import (
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
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// certRSA is one RSA key for the certificates and SSH keys of these tests (generating is slow).
var certRSA = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// certPEM is a certificate for key valid for a day from an hour ago, issued by parent (its
// certificate and key) or self-signed, as PEM with the key's PKCS#8 PEM.
type certPEM struct {
	cert, key string
	x509      *x509.Certificate
	signer    crypto.Signer
}

func newCertPEM(t *testing.T, cn string, key crypto.Signer, parent *certPEM, ca bool) *certPEM {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		BasicConstraintsValid: true, IsCA: ca, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	issuer, signer := tmpl, key
	if parent != nil {
		issuer, signer = parent.x509, parent.signer
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), signer)
	pmOK(t, err)
	cert, err := x509.ParseCertificate(der)
	pmOK(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	pmOK(t, err)
	return &certPEM{
		cert:   string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		key:    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
		x509:   cert,
		signer: key,
	}
}

func certECKey(t *testing.T) crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pmOK(t, err)
	return k
}

// certSSHFixture reads an ssh-keygen key of the unit tests' testdata.
func certSSHFixture(t *testing.T, name string) string {
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "iam", "testdata", "ssh", name))
	pmOK(t, err)
	return string(b)
}

// certPEMKey is an RSA public key in PEM that differs from the others by its exponent: a new
// key without generating a modulus.
func certPEMKey(t *testing.T, e int) string {
	k := certRSA().PublicKey
	k.E = e
	der, err := x509.MarshalPKIXPublicKey(&k)
	pmOK(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// certPolicyUser creates a user with an inline policy of statements and returns its client.
func certPolicyUser(t *testing.T, e *env, name, statements string) *iam.Client {
	c, _ := e.newUser(t, name)
	_, err := e.IAM.PutUserPolicy(context.Background(), &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[` + statements + `]}`)})
	pmOK(t, err)
	return c
}

// TestServerCertificatesSDK drives the server certificate operations through aws-sdk-go-v2:
// upload with a chain, path and tags, AWS's errors (see internal/iam's tests for the sources
// of the texts), get without the private key, list by path, rename, tags, delete; and
// authorization on the certificate's real ARN (path), its tags and, for a rename, both names.
func TestServerCertificatesSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	ca := newCertPEM(t, "ca", certECKey(t), nil, true)
	leaf := newCertPEM(t, "www.example.com", certECKey(t), ca, false)
	other := newCertPEM(t, "other", certECKey(t), nil, false)
	upload := func(name, path, body, chain, key string, tags ...types.Tag) (*iam.UploadServerCertificateOutput, error) {
		in := &iam.UploadServerCertificateInput{ServerCertificateName: aws.String(name), Path: aws.String(path), CertificateBody: aws.String(body), PrivateKey: aws.String(key), Tags: tags}
		if chain != "" {
			in.CertificateChain = aws.String(chain)
		}
		return c.UploadServerCertificate(ctx, in)
	}
	up := pmMust[*iam.UploadServerCertificateOutput](t)(upload("web", "/cloudfront/", leaf.cert, ca.cert, leaf.key, pmTags("team", "web")...))
	if m := up.ServerCertificateMetadata; aws.ToString(m.Arn) != "arn:aws:iam::"+e.Account+":server-certificate/cloudfront/web" ||
		!m.Expiration.Equal(leaf.x509.NotAfter) || pmTagString(up.Tags) != "team=web" {
		t.Fatalf("upload %+v %s", m, pmTagString(up.Tags))
	}
	pmMust[*iam.UploadServerCertificateOutput](t)(upload("plain", "/", other.cert, "", other.key))

	state := func() string {
		out, err := c.ListServerCertificates(ctx, &iam.ListServerCertificatesInput{})
		pmOK(t, err)
		var s []string
		for _, m := range out.ServerCertificateMetadataList {
			tags, err := c.ListServerCertificateTags(ctx, &iam.ListServerCertificateTagsInput{ServerCertificateName: m.ServerCertificateName})
			pmOK(t, err)
			s = append(s, aws.ToString(m.Arn)+" "+pmTagString(tags.Tags))
		}
		return strings.Join(s, ";")
	}
	chainMsg := "Unable to validate certificate chain. The certificate chain must start with the immediate signing certificate, followed by any intermediaries in order. The index within the chain of the invalid certificate is: -1"
	pmFailNoChange(t, state, []pmCase{
		{"taken name in other case", "EntityAlreadyExists", "The Server Certificate with name WEB already exists.", func() error {
			_, err := upload("WEB", "/", other.cert, "", other.key)
			return err
		}},
		{"not PEM", "MalformedCertificate", "Unable to parse certificate. Please ensure the certificate is in PEM format.", func() error {
			_, err := upload("x", "/", "certbody", "", other.key)
			return err
		}},
		{"key of another certificate", "KeyPairMismatch", "", func() error { _, err := upload("x", "/", leaf.cert, ca.cert, other.key); return err }},
		{"chain not issuing the body", "MalformedCertificate", chainMsg, func() error { _, err := upload("x", "/", leaf.cert, other.cert, leaf.key); return err }},
		{"encrypted key", "MalformedCertificate", "Unable to parse private key", func() error {
			_, err := upload("x", "/", other.cert, "", strings.ReplaceAll(other.key, "PRIVATE KEY", "ENCRYPTED PRIVATE KEY"))
			return err
		}},
		{"rename onto a taken name", "EntityAlreadyExists", "The Server Certificate with name web already exists.", func() error {
			_, err := c.UpdateServerCertificate(ctx, &iam.UpdateServerCertificateInput{ServerCertificateName: aws.String("plain"), NewServerCertificateName: aws.String("web")})
			return err
		}},
		{"delete unknown", "NoSuchEntity", "The Server Certificate with name nope cannot be found.", func() error {
			_, err := c.DeleteServerCertificate(ctx, &iam.DeleteServerCertificateInput{ServerCertificateName: aws.String("nope")})
			return err
		}},
	})

	got := pmMust[*iam.GetServerCertificateOutput](t)(c.GetServerCertificate(ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String("web")}))
	if sc := got.ServerCertificate; aws.ToString(sc.CertificateBody) != strings.TrimSpace(leaf.cert) || aws.ToString(sc.CertificateChain) != strings.TrimSpace(ca.cert) ||
		strings.Contains(fmt.Sprintf("%+v", *sc), "PRIVATE KEY") {
		t.Fatalf("GetServerCertificate %+v", *sc)
	}
	if list := pmMust[*iam.ListServerCertificatesOutput](t)(c.ListServerCertificates(ctx, &iam.ListServerCertificatesInput{PathPrefix: aws.String("/cloudfront/")})); len(list.ServerCertificateMetadataList) != 1 {
		t.Fatalf("PathPrefix /cloudfront/ lists %d", len(list.ServerCertificateMetadataList))
	}

	// Authorization sees the certificate's path and tags, and a rename needs both names.
	ops := certPolicyUser(t, e, "certops", `{"Effect":"Allow","Action":"iam:GetServerCertificate","Resource":"arn:aws:iam::`+e.Account+`:server-certificate/cloudfront/*"},
		{"Effect":"Allow","Action":"iam:ListServerCertificateTags","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"web"}}},
		{"Effect":"Allow","Action":"iam:UpdateServerCertificate","Resource":"arn:aws:iam::`+e.Account+`:server-certificate/cloudfront/web*"}`)
	_, err := ops.GetServerCertificate(ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String("web")})
	pmOK(t, err)
	_, err = ops.ListServerCertificateTags(ctx, &iam.ListServerCertificateTagsInput{ServerCertificateName: aws.String("web")})
	pmOK(t, err)
	pmFailNoChange(t, state, []pmCase{
		{"get outside the allowed path", "AccessDenied", "server-certificate/plain", func() error {
			_, err := ops.GetServerCertificate(ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String("plain")})
			return err
		}},
		{"tags of an untagged certificate", "AccessDenied", "", func() error {
			_, err := ops.ListServerCertificateTags(ctx, &iam.ListServerCertificateTagsInput{ServerCertificateName: aws.String("plain")})
			return err
		}},
		{"rename to a name not allowed", "AccessDenied", "server-certificate/cloudfront/site", func() error {
			_, err := ops.UpdateServerCertificate(ctx, &iam.UpdateServerCertificateInput{ServerCertificateName: aws.String("web"), NewServerCertificateName: aws.String("site")})
			return err
		}},
	})
	_, err = ops.UpdateServerCertificate(ctx, &iam.UpdateServerCertificateInput{ServerCertificateName: aws.String("web"), NewServerCertificateName: aws.String("web2")})
	pmOK(t, err)

	_, err = c.TagServerCertificate(ctx, &iam.TagServerCertificateInput{ServerCertificateName: aws.String("web2"), Tags: pmTags("env", "prod")})
	pmOK(t, err)
	_, err = c.UntagServerCertificate(ctx, &iam.UntagServerCertificateInput{ServerCertificateName: aws.String("web2"), TagKeys: []string{"team"}})
	pmOK(t, err)
	if s := state(); s != "arn:aws:iam::"+e.Account+":server-certificate/plain ;arn:aws:iam::"+e.Account+":server-certificate/cloudfront/web2 env=prod" {
		t.Fatalf("after rename and tags: %s", s)
	}
	for _, name := range []string{"web2", "plain"} {
		_, err := c.DeleteServerCertificate(ctx, &iam.DeleteServerCertificateInput{ServerCertificateName: aws.String(name)})
		pmOK(t, err)
	}
	if s := state(); s != "" {
		t.Fatalf("after deleting: %s", s)
	}
}

// TestSigningCertificatesSDK: signing certificates of a user and of the root user through
// aws-sdk-go-v2, with the ids AWS gives (base32 SHA-1), the quota of two, AWS's errors and
// DeleteUser's conflict; a user lists its own without UserName.
func TestSigningCertificatesSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	self := certPolicyUser(t, e, "signer", `{"Effect":"Allow","Action":"iam:ListSigningCertificates","Resource":"*"}`)
	one, two, three := newCertPEM(t, "one", certRSA(), nil, false), newCertPEM(t, "two", certRSA(), nil, false), newCertPEM(t, "three", certRSA(), nil, false)
	upload := func(user *string, body string) (*iam.UploadSigningCertificateOutput, error) {
		return c.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{UserName: user, CertificateBody: aws.String(body)})
	}
	first := pmMust[*iam.UploadSigningCertificateOutput](t)(upload(aws.String("signer"), one.cert)).Certificate
	if len(aws.ToString(first.CertificateId)) != 32 || aws.ToString(first.CertificateBody) != one.cert || aws.ToString(first.UserName) != "signer" || first.Status != types.StatusTypeActive {
		t.Fatalf("upload %+v", first)
	}
	pmMust[*iam.UploadSigningCertificateOutput](t)(upload(aws.String("signer"), two.cert))
	state := func() string {
		var s []string
		for _, user := range []*string{aws.String("signer"), nil} {
			out, err := c.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: user})
			pmOK(t, err)
			for _, sc := range out.Certificates {
				s = append(s, aws.ToString(user)+":"+aws.ToString(sc.CertificateId)+":"+string(sc.Status))
			}
		}
		return strings.Join(s, ",")
	}
	pmFailNoChange(t, state, []pmCase{
		{"a third", "LimitExceeded", "Cannot exceed quota for CertificatesPerUser: 2", func() error { _, err := upload(aws.String("signer"), three.cert); return err }},
		{"the same certificate for root", "DuplicateCertificate", "", func() error { _, err := upload(nil, one.cert); return err }},
		{"not a certificate", "MalformedCertificate", "Certificate notacert is malformed.", func() error { _, err := upload(aws.String("signer"), "notacert"); return err }},
		{"an EC certificate", "InvalidCertificate", "", func() error { _, err := upload(nil, newCertPEM(t, "ec", certECKey(t), nil, false).cert); return err }},
		{"unknown user", "NoSuchEntity", "The user with name notauser cannot be found.", func() error { _, err := upload(aws.String("notauser"), three.cert); return err }},
		{"update unknown", "NoSuchEntity", "The Certificate with id " + strings.Repeat("X", 32) + " cannot be found.", func() error {
			_, err := c.UpdateSigningCertificate(ctx, &iam.UpdateSigningCertificateInput{UserName: aws.String("signer"), CertificateId: aws.String(strings.Repeat("X", 32)), Status: types.StatusTypeInactive})
			return err
		}},
	})
	root := pmMust[*iam.UploadSigningCertificateOutput](t)(upload(nil, three.cert)).Certificate
	if root.UserName != nil {
		t.Fatalf("root's certificate names user %s", aws.ToString(root.UserName))
	}
	own := pmMust[*iam.ListSigningCertificatesOutput](t)(self.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{}))
	if len(own.Certificates) != 2 || aws.ToString(own.Certificates[0].UserName) != "signer" {
		t.Fatalf("the user's own certificates: %+v", own.Certificates)
	}
	_, err := c.UpdateSigningCertificate(ctx, &iam.UpdateSigningCertificateInput{UserName: aws.String("signer"), CertificateId: first.CertificateId, Status: types.StatusTypeInactive})
	pmOK(t, err)
	if s := state(); !strings.Contains(s, "signer:"+aws.ToString(first.CertificateId)+":Inactive") {
		t.Fatalf("after deactivating: %s", s)
	}
	// Without its key and policy, the user is kept by its certificates alone.
	keys := pmMust[*iam.ListAccessKeysOutput](t)(c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("signer")}))
	_, err = c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("signer"), AccessKeyId: keys.AccessKeyMetadata[0].AccessKeyId})
	pmOK(t, err)
	_, err = c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("signer"), PolicyName: aws.String("p")})
	pmOK(t, err)
	pmFailNoChange(t, state, []pmCase{{"delete a user with certificates", "DeleteConflict", "Cannot delete entity, must delete certificates first.", func() error {
		_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("signer")})
		return err
	}}})
	for _, sc := range own.Certificates {
		_, err := c.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: aws.String("signer"), CertificateId: sc.CertificateId})
		pmOK(t, err)
	}
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("signer")})
	pmOK(t, err)
	_, err = c.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{CertificateId: root.CertificateId})
	pmOK(t, err)
	if left := pmMust[*iam.ListSigningCertificatesOutput](t)(c.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{})); len(left.Certificates) != 0 {
		t.Fatalf("root's certificates after deleting: %+v", left.Certificates)
	}
}

// TestSSHPublicKeysSDK: SSH public keys through aws-sdk-go-v2: OpenSSH and PEM uploads, the
// fingerprint ssh-keygen prints, both encodings back, five per user, AWS's errors, DeleteUser's
// conflict.
func TestSSHPublicKeysSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dev")})
	pmOK(t, err)
	upload := func(body string) (*iam.UploadSSHPublicKeyOutput, error) {
		return c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("dev"), SSHPublicKeyBody: aws.String(body)})
	}
	openssh := certSSHFixture(t, "rsa2048.pub")
	k := pmMust[*iam.UploadSSHPublicKeyOutput](t)(upload(openssh)).SSHPublicKey
	if aws.ToString(k.Fingerprint) != strings.TrimSpace(certSSHFixture(t, "rsa2048.md5")) || !strings.HasPrefix(aws.ToString(k.SSHPublicKeyId), "APKA") {
		t.Fatalf("upload %+v", k)
	}
	for enc, want := range map[types.EncodingType]string{types.EncodingTypeSsh: strings.TrimSpace(openssh), types.EncodingTypePem: certSSHFixture(t, "rsa2048.pkix.pem")} {
		got := pmMust[*iam.GetSSHPublicKeyOutput](t)(c.GetSSHPublicKey(ctx, &iam.GetSSHPublicKeyInput{UserName: aws.String("dev"), SSHPublicKeyId: k.SSHPublicKeyId, Encoding: enc}))
		if aws.ToString(got.SSHPublicKey.SSHPublicKeyBody) != want {
			t.Fatalf("GetSSHPublicKey %s: %q, want %q", enc, aws.ToString(got.SSHPublicKey.SSHPublicKeyBody), want)
		}
	}
	for _, exp := range []int{3, 5, 17, 257} {
		pmMust[*iam.UploadSSHPublicKeyOutput](t)(upload(certPEMKey(t, exp)))
	}
	state := func() string {
		out, err := c.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: aws.String("dev")})
		pmOK(t, err)
		var s []string
		for _, m := range out.SSHPublicKeys {
			s = append(s, aws.ToString(m.SSHPublicKeyId)+":"+string(m.Status))
		}
		return strings.Join(s, ",")
	}
	pmFailNoChange(t, state, []pmCase{
		{"a sixth", "LimitExceeded", "Cannot exceed quota for SSHPublicKeysPerUser: 5", func() error { _, err := upload(certPEMKey(t, 65537)); return err }},
		{"the same key", "DuplicateSSHPublicKey", "", func() error { _, err := upload(certSSHFixture(t, "rsa2048.pkix.pem")); return err }},
		{"1024 bits", "InvalidPublicKey", "2048", func() error { _, err := upload(certSSHFixture(t, "rsa1024.pub")); return err }},
		{"ed25519", "UnrecognizedPublicKeyEncoding", "", func() error { _, err := upload(certSSHFixture(t, "ed25519.pub")); return err }},
		{"unknown id", "NoSuchEntity", "The Public Key with id APKAXXXXXXXXXXXXXXXXX cannot be found.", func() error {
			_, err := c.UpdateSSHPublicKey(ctx, &iam.UpdateSSHPublicKeyInput{UserName: aws.String("dev"), SSHPublicKeyId: aws.String("APKAXXXXXXXXXXXXXXXXX"), Status: types.StatusTypeInactive})
			return err
		}},
		{"delete a user with keys", "DeleteConflict", "Cannot delete entity, must remove referenced objects first.", func() error {
			_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("dev")})
			return err
		}},
	})
	_, err = c.UpdateSSHPublicKey(ctx, &iam.UpdateSSHPublicKeyInput{UserName: aws.String("dev"), SSHPublicKeyId: k.SSHPublicKeyId, Status: types.StatusTypeInactive})
	pmOK(t, err)
	if s := state(); !strings.Contains(s, aws.ToString(k.SSHPublicKeyId)+":Inactive") {
		t.Fatalf("after deactivating: %s", s)
	}
	for _, id := range strings.Split(state(), ",") {
		id, _, _ = strings.Cut(id, ":")
		_, err := c.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: aws.String("dev"), SSHPublicKeyId: aws.String(id)})
		pmOK(t, err)
	}
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("dev")})
	pmOK(t, err)
}

// TestServiceCredentialsSDK: service-specific credentials through aws-sdk-go-v2: the password
// only at creation and reset, AWS's USER-at-ACCOUNT and USER+1-at-ACCOUNT names, two per
// service, AWS's errors, the service filter, DeleteUser's conflict.
func TestServiceCredentialsSDK(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.IAM
	_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("git")})
	pmOK(t, err)
	create := func(service string) (*iam.CreateServiceSpecificCredentialOutput, error) {
		return c.CreateServiceSpecificCredential(ctx, &iam.CreateServiceSpecificCredentialInput{UserName: aws.String("git"), ServiceName: aws.String(service)})
	}
	first := pmMust[*iam.CreateServiceSpecificCredentialOutput](t)(create("codecommit.amazonaws.com")).ServiceSpecificCredential
	second := pmMust[*iam.CreateServiceSpecificCredentialOutput](t)(create("codecommit.amazonaws.com")).ServiceSpecificCredential
	if aws.ToString(first.ServiceUserName) != "git-at-"+e.Account || aws.ToString(second.ServiceUserName) != "git+1-at-"+e.Account || len(aws.ToString(first.ServicePassword)) != 60 {
		t.Fatalf("created %+v and %+v", first, second)
	}
	cassandra := pmMust[*iam.CreateServiceSpecificCredentialOutput](t)(create("cassandra.amazonaws.com")).ServiceSpecificCredential
	state := func() string {
		out, err := c.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: aws.String("git")})
		pmOK(t, err)
		var s []string
		for _, m := range out.ServiceSpecificCredentials {
			s = append(s, aws.ToString(m.ServiceName)+":"+aws.ToString(m.ServiceUserName)+":"+string(m.Status))
		}
		return strings.Join(s, ",")
	}
	pmFailNoChange(t, state, []pmCase{
		{"a third", "LimitExceeded", "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2", func() error { _, err := create("codecommit.amazonaws.com"); return err }},
		{"unsupported service", "NoSuchEntity", "No such service lambda.amazonaws.com is supported for Service Specific Credentials", func() error { _, err := create("lambda.amazonaws.com"); return err }},
		{"unknown credential", "NoSuchEntity", "No such credential ACCAXXXXXXXXXXXXXXXXX exists", func() error {
			_, err := c.ResetServiceSpecificCredential(ctx, &iam.ResetServiceSpecificCredentialInput{UserName: aws.String("git"), ServiceSpecificCredentialId: aws.String("ACCAXXXXXXXXXXXXXXXXX")})
			return err
		}},
		{"delete a user with credentials", "DeleteConflict", "Cannot delete entity, must remove referenced objects first.", func() error {
			_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("git")})
			return err
		}},
	})
	// iam:ServiceSpecificCredentialServiceName is the service of the credential a request names
	// by id (Service Authorization Reference: a key of Update, Reset and Delete).
	ops := certPolicyUser(t, e, "gitops", `{"Effect":"Allow","Action":["iam:UpdateServiceSpecificCredential","iam:DeleteServiceSpecificCredential"],"Resource":"*",
		"Condition":{"StringEquals":{"iam:ServiceSpecificCredentialServiceName":"codecommit.amazonaws.com"}}}`)
	pmFailNoChange(t, state, []pmCase{
		{"deactivate another service's credential", "AccessDenied", "iam:UpdateServiceSpecificCredential", func() error {
			_, err := ops.UpdateServiceSpecificCredential(ctx, &iam.UpdateServiceSpecificCredentialInput{UserName: aws.String("git"), ServiceSpecificCredentialId: cassandra.ServiceSpecificCredentialId, Status: types.StatusTypeInactive})
			return err
		}},
		{"delete another service's credential", "AccessDenied", "iam:DeleteServiceSpecificCredential", func() error {
			_, err := ops.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: aws.String("git"), ServiceSpecificCredentialId: cassandra.ServiceSpecificCredentialId})
			return err
		}},
	})
	_, err = ops.UpdateServiceSpecificCredential(ctx, &iam.UpdateServiceSpecificCredentialInput{UserName: aws.String("git"), ServiceSpecificCredentialId: second.ServiceSpecificCredentialId, Status: types.StatusTypeActive})
	pmOK(t, err)
	filtered := pmMust[*iam.ListServiceSpecificCredentialsOutput](t)(c.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: aws.String("git"), ServiceName: aws.String("cassandra.amazonaws.com")}))
	if len(filtered.ServiceSpecificCredentials) != 1 {
		t.Fatalf("cassandra credentials: %+v", filtered.ServiceSpecificCredentials)
	}
	reset := pmMust[*iam.ResetServiceSpecificCredentialOutput](t)(c.ResetServiceSpecificCredential(ctx, &iam.ResetServiceSpecificCredentialInput{UserName: aws.String("git"), ServiceSpecificCredentialId: first.ServiceSpecificCredentialId}))
	if p := aws.ToString(reset.ServiceSpecificCredential.ServicePassword); p == aws.ToString(first.ServicePassword) || len(p) != 60 {
		t.Fatalf("reset password %q", p)
	}
	_, err = c.UpdateServiceSpecificCredential(ctx, &iam.UpdateServiceSpecificCredentialInput{UserName: aws.String("git"), ServiceSpecificCredentialId: first.ServiceSpecificCredentialId, Status: types.StatusTypeInactive})
	pmOK(t, err)
	if s := state(); !strings.Contains(s, "codecommit.amazonaws.com:git-at-"+e.Account+":Inactive") {
		t.Fatalf("after deactivating: %s", s)
	}
	out := pmMust[*iam.ListServiceSpecificCredentialsOutput](t)(c.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: aws.String("git")}))
	for _, m := range out.ServiceSpecificCredentials {
		_, err := c.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: aws.String("git"), ServiceSpecificCredentialId: m.ServiceSpecificCredentialId})
		pmOK(t, err)
	}
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("git")})
	pmOK(t, err)
}
