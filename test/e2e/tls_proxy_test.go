package e2e

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/tlsreload/testcert"
)

// tlsFiles are a test CA and a server certificate for 127.0.0.1 and localhost, as files.
type tlsFiles struct {
	ca                        *testcert.CA
	dir                       string
	caFile, certFile, keyFile string
}

func newTLSFiles(t *testing.T) *tlsFiles {
	t.Helper()
	ca, err := testcert.NewCA("Gatehouse e2e test CA")
	if err != nil {
		t.Fatal(err)
	}
	f := &tlsFiles{ca: ca, dir: t.TempDir()}
	if f.caFile, err = ca.WriteCA(f.dir); err != nil {
		t.Fatal(err)
	}
	leaf := f.issue(t, "gatehouse-e2e")
	if f.certFile, f.keyFile, err = leaf.Write(f.dir); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *tlsFiles) issue(t *testing.T, cn string) *testcert.Leaf {
	t.Helper()
	l, err := f.ca.Issue(cn, time.Time{}, time.Time{}, "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// clientOpts say how a test client reaches the server.
type clientOpts struct {
	url     string
	ca      *testcert.CA // trusted for TLS; nil trusts the system's roots
	from    string       // local address to connect from ("" any)
	headers http.Header  // added after signing, as a proxy or a forger would
}

// sdkClients returns IAM and STS clients signed with the key, connecting as o says.
func sdkClients(o clientOpts, keyID, secret string) (*iam.Client, *sts.Client) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if o.ca != nil {
		tr.TLSClientConfig = o.ca.ClientConfig()
	}
	if o.from != "" {
		d := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(o.from)}}
		tr.DialContext = d.DialContext
	}
	cfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		BaseEndpoint:     aws.String(o.url),
		HTTPClient:       &http.Client{Transport: headerTransport{tr, o.headers}},
		RetryMaxAttempts: 1,
	}
	return iam.NewFromConfig(cfg), sts.NewFromConfig(cfg)
}

// headerTransport adds headers to signed requests; they are not among the signed headers, so
// the signature still verifies.
type headerTransport struct {
	next    http.RoundTripper
	headers http.Header
}

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if len(t.headers) > 0 {
		r = r.Clone(r.Context())
		for k, vs := range t.headers {
			for _, v := range vs {
				r.Header.Add(k, v)
			}
		}
	}
	return t.next.RoundTrip(r)
}

// forged are the forwarding headers a client sends to pass for another address over TLS.
var forged = http.Header{"X-Forwarded-For": {"203.0.113.9"}, "X-Forwarded-Proto": {"https"}}

// conditionedUser creates a user whose only permissions depend on the request's transport and
// address (aws:SecureTransport, "whether the request was sent using TLS", and aws:SourceIp, the
// requester's IP address: IAM User Guide, "AWS global condition context keys",
// reference_policies_condition-keys), and returns its key:
//   - iam:ListUsers when aws:SecureTransport is true,
//   - iam:ListGroups when aws:SecureTransport is false,
//   - iam:ListRoles from aws:SourceIp sourceIP,
//   - iam:ListPolicies from 203.0.113.9, the forged address.
func conditionedUser(t *testing.T, e *env, name, sourceIP string) (string, string) {
	t.Helper()
	ctx := context.Background()
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
		{"Effect":"Allow","Action":"iam:ListGroups","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
		{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"%s/32"}}},
		{"Effect":"Allow","Action":"iam:ListPolicies","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.9/32"}}}]}`, sourceIP)
	if _, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("conditions"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	k, err := e.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return *k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey
}

// wantGrants checks which of conditionedUser's four calls c may make.
func wantGrants(t *testing.T, c *iam.Client, secure, insecure, fromIP, fromForged bool) {
	t.Helper()
	ctx := context.Background()
	calls := []struct {
		name string
		want bool
		call func() error
	}{
		{"ListUsers (aws:SecureTransport true)", secure, func() error { _, err := c.ListUsers(ctx, &iam.ListUsersInput{}); return err }},
		{"ListGroups (aws:SecureTransport false)", insecure, func() error { _, err := c.ListGroups(ctx, &iam.ListGroupsInput{}); return err }},
		{"ListRoles (aws:SourceIp the client)", fromIP, func() error { _, err := c.ListRoles(ctx, &iam.ListRolesInput{}); return err }},
		{"ListPolicies (aws:SourceIp forged)", fromForged, func() error { _, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{}); return err }},
	}
	for _, call := range calls {
		err := call.call()
		var ae smithy.APIError
		switch {
		case call.want && err != nil:
			t.Errorf("%s: %v; want allowed", call.name, err)
		case !call.want && (!errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied"):
			t.Errorf("%s: %v; want AccessDenied", call.name, err)
		}
	}
}

// TestTLSDirect serves HTTPS itself: aws:SecureTransport is true, SDK clients verify the
// certificate against the test CA, and forwarding headers from a peer that is not a trusted
// proxy change nothing.
func TestTLSDirect(t *testing.T) {
	t.Parallel()
	f := newTLSFiles(t)
	e := newEnvWith(t, f.ca, func(c *config.Config) {
		c.TLSCert, c.TLSKey = f.certFile, f.keyFile
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} // not the test's peer
	})
	ctx := context.Background()
	_, rootSTS := sdkClients(clientOpts{url: e.URL, ca: f.ca}, e.Root.AccessKeyID, e.Root.SecretAccessKey)
	id, err := rootSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != e.Account {
		t.Fatalf("GetCallerIdentity over TLS: %+v, %v", id, err)
	}

	key, secret := conditionedUser(t, e, "tls-direct", "127.0.0.1")
	t.Run("plain", func(t *testing.T) {
		c, _ := sdkClients(clientOpts{url: e.URL, ca: f.ca}, key, secret)
		wantGrants(t, c, true, false, true, false)
	})
	t.Run("forged headers from an untrusted peer", func(t *testing.T) {
		c, _ := sdkClients(clientOpts{url: e.URL, ca: f.ca, headers: http.Header{"X-Forwarded-For": {"203.0.113.9"}, "X-Forwarded-Proto": {"http"}}}, key, secret)
		wantGrants(t, c, true, false, true, false)
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		_, s := sdkClients(clientOpts{url: e.URL}, e.Root.AccessKeyID, e.Root.SecretAccessKey)
		_, err := s.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
			t.Fatalf("GetCallerIdentity trusting only the system roots: %v", err)
		}
	})
	t.Run("plain HTTP to the HTTPS port", func(t *testing.T) {
		resp, err := http.Get("http" + strings.TrimPrefix(e.URL, "https") + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
	})
}

// TestTLSPlainIgnoresForwardedHeaders: over plain HTTP without trusted proxies, a client's
// X-Forwarded-Proto and X-Forwarded-For are ignored.
func TestTLSPlainIgnoresForwardedHeaders(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, nil, func(*config.Config) {})
	key, secret := conditionedUser(t, e, "plain", "127.0.0.1")
	for _, h := range []http.Header{nil, forged} {
		c, _ := sdkClients(clientOpts{url: e.URL, headers: h}, key, secret)
		wantGrants(t, c, false, true, true, false)
	}
}

// TestTLSClients calls sts get-caller-identity over HTTPS with the aws CLI (--ca-bundle) and
// boto3 (verify= the CA file), and checks that both refuse the certificate without the CA.
func TestTLSClients(t *testing.T) {
	t.Parallel()
	f := newTLSFiles(t)
	e := newEnvWith(t, f.ca, func(c *config.Config) { c.TLSCert, c.TLSKey = f.certFile, f.keyFile })
	home := t.TempDir()
	// A CA bundle from the environment would stand in for the test's choice (an empty one turns
	// botocore's verification off), so none is inherited.
	var clientEnv []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "AWS_CA_BUNDLE" && k != "REQUESTS_CA_BUNDLE" && k != "CURL_CA_BUNDLE" {
			clientEnv = append(clientEnv, kv)
		}
	}
	clientEnv = append(clientEnv,
		"AWS_ACCESS_KEY_ID="+e.Root.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+e.Root.SecretAccessKey,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_MAX_ATTEMPTS=1", // a refused certificate is not retried
		"AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
		"AWS_PAGER=", "HOME="+home,
	)
	boto3 := `import sys, boto3, botocore.exceptions
verify = sys.argv[2] if len(sys.argv) > 2 else True
sts = boto3.client("sts", endpoint_url=sys.argv[1], verify=verify)
try:
    print(sts.get_caller_identity()["Account"])
except botocore.exceptions.SSLError as e:
    print("SSL error:", e)
    sys.exit(3)
`
	for _, tc := range []struct {
		name string
		cmd  []string
		ok   bool
		want string
	}{
		{"aws-cli with the CA", []string{"aws", "sts", "get-caller-identity", "--endpoint-url", e.URL, "--ca-bundle", f.caFile, "--query", "Account", "--output", "text"}, true, e.Account},
		{"aws-cli without the CA", []string{"aws", "sts", "get-caller-identity", "--endpoint-url", e.URL}, false, "CERTIFICATE_VERIFY_FAILED"},
		{"boto3 with the CA", []string{"python3", "-c", boto3, e.URL, f.caFile}, true, e.Account},
		{"boto3 without the CA", []string{"python3", "-c", boto3, e.URL}, false, "CERTIFICATE_VERIFY_FAILED"},
	} {
		t.Run("client="+tc.name, func(t *testing.T) {
			cmd := exec.Command(tc.cmd[0], tc.cmd[1:]...)
			cmd.Env = clientEnv
			out, err := cmd.CombinedOutput()
			if (err == nil) != tc.ok || !strings.Contains(string(out), tc.want) {
				t.Fatalf("%v: %v\n%s\nwant success %v and %q", tc.cmd[:3], err, out, tc.ok, tc.want)
			}
		})
	}
}

// presented returns the common name of the certificate the server at addr presents.
func presented(t *testing.T, addr string, ca *testcert.CA) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, ca.ClientConfig())
	if err != nil {
		t.Fatalf("handshake with %s: %v", addr, err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName
}

// TestTLSRotation runs `gatehouse serve --tls-cert --tls-key` and rotates the certificate
// under it: on SIGHUP (files replaced with their stamps kept, so only the signal can tell),
// on a file change, and a broken pair that keeps the previous certificate with a warning.
func TestTLSRotation(t *testing.T) {
	t.Parallel()
	f := newTLSFiles(t)
	p := startProcess(t, t.TempDir(), "--tls-cert", f.certFile, "--tls-key", f.keyFile)
	addr := strings.TrimPrefix(p.URL, "http://")
	if cn := presented(t, addr, f.ca); cn != "gatehouse-e2e" {
		t.Fatalf("presented %q", cn)
	}
	_, s := sdkClients(clientOpts{url: "https://" + addr, ca: f.ca}, testRoot.KeyID, testRoot.Secret)
	if _, err := s.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity over TLS: %v", err)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if ok() {
				return
			}
		}
		t.Fatalf("timed out waiting for %s; logs:\n%s", what, strings.Join(p.Logs(), "\n"))
	}

	// SIGHUP: a new pair of the same sizes, modification times put back.
	certSt, _ := os.Stat(f.certFile)
	keySt, _ := os.Stat(f.keyFile)
	var next *testcert.Leaf
	for i := 0; i < 200 && next == nil; i++ {
		if l := f.issue(t, "signalled-e2e"); int64(len(l.CertPEM)) == certSt.Size() && int64(len(l.KeyPEM)) == keySt.Size() {
			next = l
		}
	}
	if next == nil {
		t.Fatal("no certificate of the same size issued")
	}
	if err := os.WriteFile(f.certFile, next.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.keyFile, next.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Chtimes(f.certFile, certSt.ModTime(), certSt.ModTime())
	_ = os.Chtimes(f.keyFile, keySt.ModTime(), keySt.ModTime())
	time.Sleep(4 * time.Second) // longer than a poll: unchanged stamps reload nothing
	if cn := presented(t, addr, f.ca); cn != "gatehouse-e2e" {
		t.Fatalf("reloaded without a signal or a change of stamps: %q", cn)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("the reload on SIGHUP", func() bool { return presented(t, addr, f.ca) == "signalled-e2e" })

	// A file change, seen by the poll.
	polled := f.issue(t, "polled")
	if _, _, err := polled.Write(f.dir); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(2 * time.Second)
	_ = os.Chtimes(f.certFile, later, later)
	waitFor("the reload on a file change", func() bool { return presented(t, addr, f.ca) == "polled" })

	// A broken pair: the previous certificate stays, with a warning.
	if err := os.WriteFile(f.keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor("the warning", func() bool {
		return strings.Contains(p.stderr.String(), "TLS certificate not reloaded; the previous one stays in use")
	})
	if cn := presented(t, addr, f.ca); cn != "polled" {
		t.Fatalf("after a failed reload: %q", cn)
	}
	if _, err := s.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity after a failed reload: %v", err)
	}
}

// TestTLSServeFlags: half a TLS configuration and a bad --trusted-proxies are refused with a
// clear error; plain HTTP on every interface starts with a warning on standard error.
func TestTLSServeFlags(t *testing.T) {
	t.Parallel()
	f := newTLSFiles(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"certificate only", []string{"--tls-cert", f.certFile}, "--tls-cert and --tls-key go together"},
		{"key only", []string{"--tls-key", f.keyFile}, "--tls-cert and --tls-key go together"},
		{"missing file", []string{"--tls-cert", filepath.Join(f.dir, "nope.pem"), "--tls-key", f.keyFile}, "no such file"},
		{"key of another certificate", []string{"--tls-cert", f.certFile, "--tls-key", f.caFile}, "load TLS certificate"},
		{"bad proxy", []string{"--trusted-proxies", "10.0.0.0/8,proxy.internal"}, `trusted proxy "proxy.internal" is neither a CIDR prefix`},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			cmd := exec.Command(gatehouseBinary(t), append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}, tc.args...)...)
			cmd.Env = withoutGatehouseEnv(os.Environ())
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Fatalf("serve %v: %v\n%s\nwant a failure saying %q", tc.args, err, out, tc.want)
			}
		})
	}
	t.Run("case=plain HTTP on every interface", func(t *testing.T) {
		p := startProcess(t, t.TempDir(), "--listen", "0.0.0.0:0")
		// Written before "Listening on"; the copy from the pipe may trail a little.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !strings.Contains(p.stderr.String(), "WARNING"); {
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(p.stderr.String(), "WARNING: Gatehouse is serving plain HTTP on ") {
			t.Fatalf("no warning on stderr:\n%s", p.stderr.String())
		}
		if !strings.Contains(p.stderr.String(), `"level":"WARN","msg":"serving plain HTTP on a non-loopback address`) {
			t.Fatalf("no warning in the log:\n%s", p.stderr.String())
		}
	})
	t.Run("case=loopback, no warning", func(t *testing.T) {
		p := startProcess(t, t.TempDir())
		if strings.Contains(p.stderr.String(), "plain HTTP") {
			t.Fatalf("warned on loopback:\n%s", p.stderr.String())
		}
		// Without a certificate SIGHUP (systemctl reload) has nothing to reload and must not
		// end the process. One sent before Serve takes the signal is ignored, so send until
		// one is logged.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !strings.Contains(p.stderr.String(), "nothing to reload"); {
			if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		_, s := sdkClients(clientOpts{url: p.URL}, testRoot.KeyID, testRoot.Secret)
		if _, err := s.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("GetCallerIdentity after SIGHUP: %v\n%s", err, p.stderr.String())
		}
		if !strings.Contains(p.stderr.String(), "SIGHUP: nothing to reload without --tls-cert") {
			t.Fatalf("SIGHUP not logged:\n%s", p.stderr.String())
		}
	})
}

// nginxBinary finds Debian's nginx (in /usr/sbin, often outside a user's PATH); "" when absent.
func nginxBinary() string {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	return ""
}

// startNginx runs nginx in the foreground as a TLS front for upstream (host:port) on a free
// loopback port, with the settings of docs/nginx.conf.example, and returns its address.
func startNginx(t *testing.T, f *tlsFiles, upstream string) string {
	t.Helper()
	return runNginx(t, func(addr string) string {
		return fmt.Sprintf(`
    server {
        listen %[1]s ssl;
        ssl_certificate %[2]s;
        ssl_certificate_key %[3]s;
        ssl_protocols TLSv1.2 TLSv1.3;
        client_max_body_size 1m;
        location / {
            proxy_pass http://%[4]s;
            # SigV4 signs the Host header: pass the client's, port included.
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }
    }`, addr, f.certFile, f.keyFile, upstream)
	})
}

// runNginx runs nginx in the foreground on a free loopback port with the server blocks that
// servers writes for that address, and returns the address once nginx listens.
func runNginx(t testing.TB, servers func(addr string) string) string {
	t.Helper()
	bin := nginxBinary()
	if bin == "" {
		t.Skip("nginx is not installed (apt-get install nginx): skipping the reverse-proxy test")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nginx binds it next; another process taking it in between fails the start below
	dir := t.TempDir()
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[2]s
}
`, dir, servers(addr))
	confFile := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", confFile)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGQUIT) // nginx's graceful stop
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited:\n%s\n%s", out.String(), log)
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not listen on %s:\n%s", addr, out.String())
		}
	}
}

// TestProxyNginx puts a real nginx in front as the TLS end and connects from 127.0.0.2: with
// --trusted-proxies 127.0.0.1/32 (nginx's address) the policy sees the client's address and
// its TLS connection; without, it sees nginx's address and nginx's plain-HTTP connection. A
// X-Forwarded-For the client forges counts in neither case (nginx appends the real address).
func TestProxyNginx(t *testing.T) {
	t.Parallel()
	if nginxBinary() == "" {
		t.Skip("nginx is not installed (apt-get install nginx): skipping the reverse-proxy test")
	}
	const client = "127.0.0.2" // Linux routes all of 127.0.0.0/8 to loopback
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		// which of conditionedUser's calls succeed
		secure, insecure, fromClient bool
	}{
		{"trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, true, false, true},
		{"no trusted proxies", nil, false, true, false},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			t.Parallel()
			f := newTLSFiles(t)
			e := newEnvWith(t, nil, func(c *config.Config) { c.TrustedProxies = tc.trusted })
			front := startNginx(t, f, strings.TrimPrefix(e.URL, "http://"))
			key, secret := conditionedUser(t, e, "behind-nginx", client)
			for _, h := range []http.Header{nil, forged} {
				c, s := sdkClients(clientOpts{url: "https://" + front, ca: f.ca, from: client, headers: h}, key, secret)
				if _, err := s.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
					t.Fatalf("GetCallerIdentity through nginx: %v", err)
				}
				wantGrants(t, c, tc.secure, tc.insecure, tc.fromClient, false)
			}
			// The console resolves the client in the same place: its calls of the API carry
			// the browser's address and transport.
			if _, err := e.IAM.CreateLoginProfile(context.Background(), &iam.CreateLoginProfileInput{UserName: aws.String("behind-nginx"), Password: aws.String("Console-Pa55word!")}); err != nil {
				t.Fatal(err)
			}
			v := newBrowser(t, "https://"+front, f.ca, client)
			v.signIn(e.Account, "behind-nginx", "Console-Pa55word!")
			for _, page := range []struct {
				path string
				want bool
			}{{"/console/iam/users", tc.secure}, {"/console/iam/roles", tc.fromClient}} {
				body := v.get(page.path)
				denied := strings.Contains(body, "AccessDenied")
				if denied == page.want {
					t.Errorf("console page %s: AccessDenied shown %v, want %v:\n%.2000s", page.path, denied, !page.want, body)
				}
			}
		})
	}
}

// browser is a console visitor with a cookie jar, connecting from a given local address.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string, ca *testcert.CA, from string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = ca.ClientConfig()
	d := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	tr.DialContext = d.DialContext
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second}}
}

func (b *browser) do(req *http.Request) string {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		b.t.Fatalf("%s %s: %d %v\n%.1000s", req.Method, req.URL, res.StatusCode, err, body)
	}
	return string(body)
}

func (b *browser) get(path string) string {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

var csrfValue = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn submits the console's sign-in form and fails unless the dashboard follows.
func (b *browser) signIn(account, user, pw string) {
	b.t.Helper()
	m := csrfValue.FindStringSubmatch(b.get("/console"))
	if m == nil {
		b.t.Fatal("no CSRF token on the sign-in page")
	}
	form := url.Values{"csrf": {html.UnescapeString(m[1])}, "account": {account}, "username": {user}, "password": {pw}}
	req, err := http.NewRequest(http.MethodPost, b.base+"/console", strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if body := b.do(req); !strings.Contains(body, `id="identity"`) {
		b.t.Fatalf("sign-in through the proxy did not reach the dashboard:\n%.2000s", body)
	}
}
