package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestTerraformCertificates applies HashiCorp's aws_iam_server_certificate (with a chain, a
// path, tags, and one named by prefix), aws_iam_signing_certificate, aws_iam_user_ssh_key (SSH
// and PEM encodings) and aws_iam_service_specific_credential, with the data sources
// aws_iam_server_certificate and aws_iam_user_ssh_key, re-plans expecting no changes (the
// provider compares bodies as AWS returns them: server certificates trimmed, signing
// certificates as uploaded, SSH keys without their comment), and destroys everything.
func TestTerraformCertificates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tf := newTerraform(t, e)
	ca := newCertPEM(t, "tf-ca", certECKey(t), nil, true)
	leaf := newCertPEM(t, "tf.example.com", certECKey(t), ca, false)
	self := newCertPEM(t, "tf-self", certECKey(t), nil, false)
	signing := newCertPEM(t, "tf-signing", certRSA(), nil, false)
	for name, content := range map[string]string{
		"leaf.pem": leaf.cert, "leaf.key": leaf.key, "chain.pem": ca.cert, "self.pem": self.cert, "self.key": self.key,
		"signing.pem": signing.cert, "id_rsa.pub": certSSHFixture(t, "rsa2048.pub"), "pkix.pem": certPEMKey(t, 65537),
	} {
		pmOK(t, os.WriteFile(filepath.Join(tf.dir, name), []byte(content), 0o600))
	}
	tf.write(`
resource "aws_iam_user" "dev" { name = "tf-cert-dev" }
resource "aws_iam_server_certificate" "web" {
  name              = "tf-web"
  path              = "/cloudfront/"
  certificate_body  = file("${path.module}/leaf.pem")
  certificate_chain = file("${path.module}/chain.pem")
  private_key       = file("${path.module}/leaf.key")
  tags              = { team = "web" }
}
resource "aws_iam_server_certificate" "self" {
  name_prefix      = "tf-self-"
  certificate_body = file("${path.module}/self.pem")
  private_key      = file("${path.module}/self.key")
}
data "aws_iam_server_certificate" "web" { name = aws_iam_server_certificate.web.name }
data "aws_iam_server_certificate" "self" {
  name_prefix = "tf-self-"
  latest      = true
  depends_on  = [aws_iam_server_certificate.self]
}
resource "aws_iam_signing_certificate" "dev" {
  user_name        = aws_iam_user.dev.name
  certificate_body = file("${path.module}/signing.pem")
  status           = "Inactive"
}
resource "aws_iam_user_ssh_key" "ssh" {
  username   = aws_iam_user.dev.name
  encoding   = "SSH"
  public_key = file("${path.module}/id_rsa.pub")
}
resource "aws_iam_user_ssh_key" "pem" {
  username   = aws_iam_user.dev.name
  encoding   = "PEM"
  public_key = file("${path.module}/pkix.pem")
  status     = "Inactive"
}
data "aws_iam_user_ssh_key" "ssh" {
  username          = aws_iam_user.dev.name
  ssh_public_key_id = aws_iam_user_ssh_key.ssh.ssh_public_key_id
  encoding          = "SSH"
}
resource "aws_iam_service_specific_credential" "git" {
  service_name = "codecommit.amazonaws.com"
  user_name    = aws_iam_user.dev.name
}
resource "aws_iam_service_specific_credential" "cassandra" {
  service_name = "cassandra.amazonaws.com"
  user_name    = aws_iam_user.dev.name
  status       = "Inactive"
}
output "web_arn" { value = data.aws_iam_server_certificate.web.arn }
output "web_chain" { value = data.aws_iam_server_certificate.web.certificate_chain }
output "self_name" { value = data.aws_iam_server_certificate.self.name }
output "ssh_fingerprint" { value = data.aws_iam_user_ssh_key.ssh.fingerprint }
output "git_user" { value = aws_iam_service_specific_credential.git.service_user_name }
output "git_password_length" {
  value     = length(aws_iam_service_specific_credential.git.service_password)
  sensitive = true
}
`)
	tf.must("init")
	tf.must("apply", "-auto-approve")
	if code, out := tf.run("plan", "-detailed-exitcode"); code != 0 {
		t.Fatalf("plan after apply exited %d, want 0 (no drift):\n%s", code, out)
	}
	var outputs map[string]struct {
		Value any `json:"value"`
	}
	pmOK(t, json.Unmarshal([]byte(tf.must("output", "-json")), &outputs))
	for name, want := range map[string]any{
		"web_arn":             "arn:aws:iam::" + e.Account + ":server-certificate/cloudfront/tf-web",
		"web_chain":           strings.TrimSpace(ca.cert),
		"ssh_fingerprint":     strings.TrimSpace(certSSHFixture(t, "rsa2048.md5")),
		"git_user":            "tf-cert-dev-at-" + e.Account,
		"git_password_length": float64(60),
	} {
		if got := outputs[name].Value; got != want {
			t.Errorf("output %s = %v, want %v", name, got, want)
		}
	}
	if name, _ := outputs["self_name"].Value.(string); !strings.HasPrefix(name, "tf-self-") {
		t.Errorf("output self_name = %q, want the prefixed certificate", name)
	}

	tf.must("destroy", "-auto-approve")
	ctx := context.Background()
	certs := pmMust[*iam.ListServerCertificatesOutput](t)(e.IAM.ListServerCertificates(ctx, &iam.ListServerCertificatesInput{}))
	if len(certs.ServerCertificateMetadataList) != 0 {
		t.Fatalf("server certificates left after destroy: %d", len(certs.ServerCertificateMetadataList))
	}
	if _, err := e.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("tf-cert-dev")}); err == nil {
		t.Fatal("the user is left after destroy")
	}
}
