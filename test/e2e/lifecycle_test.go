package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func procClients(p *proc, keyID, secret string) (*iam.Client, *sts.Client) {
	e := &env{URL: p.URL}
	return e.clients(keyID, secret, "")
}

// TestKill9KeepsAcknowledgedWrites kills the server with SIGKILL in the middle of a write load
// and checks that every user whose CreateUser was acknowledged exists after a restart.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startProcess(t, dir)
	client, _ := procClients(p, testRoot.KeyID, testRoot.Secret)

	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprintf("crash-%d-%d", w, i)
				if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked = append(acked, name)
				mu.Unlock()
			}
		}()
	}
	// Let the load run long enough to be in full swing, then pull the plug.
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.Kill(t)
	cancel()
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no CreateUser was acknowledged before the kill")
	}

	p2 := startProcess(t, dir)
	client2, _ := procClients(p2, testRoot.KeyID, testRoot.Secret)
	have := map[string]bool{}
	pg := iam.NewListUsersPaginator(client2, &iam.ListUsersInput{MaxItems: aws.Int32(1000)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListUsers after restart: %v", err)
		}
		for _, u := range out.Users {
			have[*u.UserName] = true
		}
	}
	var lost []string
	for _, name := range acked {
		if !have[name] {
			lost = append(lost, name)
		}
	}
	if len(lost) > 0 {
		t.Fatalf("%d of %d acknowledged users lost after kill -9: %v", len(lost), len(acked), lost[:min(len(lost), 10)])
	}
	t.Logf("%d acknowledged users, all present after kill -9 and restart (%d users in all)", len(acked), len(have))
}

// TestGracefulShutdown checks SIGTERM ends the server cleanly and its state is kept.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startProcess(t, dir)
	client, _ := procClients(p, testRoot.KeyID, testRoot.Secret)
	if _, err := client.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String("survivor")}); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, strings.Join(p.Logs(), "\n"))
	}
	p2 := startProcess(t, dir)
	client2, _ := procClients(p2, testRoot.KeyID, testRoot.Secret)
	if _, err := client2.GetUser(context.Background(), &iam.GetUserInput{UserName: aws.String("survivor")}); err != nil {
		t.Fatalf("GetUser after restart: %v", err)
	}
}

// TestFirstStartGeneratesRootKey checks that without the bootstrap environment the first start
// generates an account, prints its key once and writes it to an owner-only file.
func TestFirstStartGeneratesRootKey(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(gatehouseBinary(t), "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--data-dir", dir)
	cmd.Env = withoutGatehouseEnv(os.Environ())
	p := &proc{cmd: cmd}
	startCmd(t, p)

	path := filepath.Join(dir, "root-credentials.json")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("root credentials file: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("root credentials file mode = %v, want 0600", info.Mode().Perm())
	}
	var creds struct{ AccountId, AccessKeyId, SecretAccessKey string }
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &creds); err != nil {
		t.Fatalf("root credentials file: %v", err)
	}
	if len(creds.AccountId) != 12 || !strings.HasPrefix(creds.AccessKeyId, "AKIA") || len(creds.SecretAccessKey) != 40 {
		t.Fatalf("generated credentials look wrong: account %q key %q", creds.AccountId, creds.AccessKeyId)
	}
	if !strings.Contains(p.Stdout(), creds.SecretAccessKey) {
		t.Errorf("the generated secret was not printed on standard output")
	}
	for _, line := range p.Logs() {
		if strings.Contains(line, creds.SecretAccessKey) {
			t.Errorf("a log line carries the root secret: %s", line)
		}
	}
	_, stsClient := procClients(p, creds.AccessKeyId, creds.SecretAccessKey)
	id, err := stsClient.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(id.Arn), "arn:aws:iam::"+creds.AccountId+":root"; got != want {
		t.Errorf("caller = %s, want %s", got, want)
	}
}

// TestAccountCreateWhileServing creates accounts with the CLI while the server runs on the
// same data directory, and uses the new root key at once.
func TestAccountCreateWhileServing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startProcess(t, dir)
	out, err := exec.Command(gatehouseBinary(t), "account", "create", "--data-dir", dir, "--output", "json").Output()
	if err != nil {
		t.Fatalf("account create: %v", err)
	}
	var c struct{ AccountId, AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("account create output %q: %v", out, err)
	}
	iamClient, stsClient := procClients(p, c.AccessKeyId, c.SecretAccessKey)
	id, err := stsClient.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with the new account's root key: %v", err)
	}
	if aws.ToString(id.Account) != c.AccountId || aws.ToString(id.Arn) != "arn:aws:iam::"+c.AccountId+":root" {
		t.Fatalf("identity = %s %s, want account %s", aws.ToString(id.Account), aws.ToString(id.Arn), c.AccountId)
	}
	// Accounts are separate: a user name in one does not clash with the other.
	for _, cl := range []*iam.Client{iamClient, func() *iam.Client { i, _ := procClients(p, testRoot.KeyID, testRoot.Secret); return i }()} {
		if _, err := cl.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String("same-name")}); err != nil {
			t.Fatalf("CreateUser in each account: %v", err)
		}
	}
	list, err := exec.Command(gatehouseBinary(t), "account", "list", "--data-dir", dir).Output()
	if err != nil {
		t.Fatalf("account list: %v", err)
	}
	for _, want := range []string{testRoot.Account, c.AccountId} {
		if !strings.Contains(string(list), want) {
			t.Errorf("account list %q does not show %s", list, want)
		}
	}
}

// TestHelp checks every subcommand answers --help with its flags and exits 0.
func TestHelp(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--help"}, "serve"},
		{[]string{"serve", "--help"}, "-listen"},
		{[]string{"account", "create", "--help"}, "-output"},
		{[]string{"account", "list", "--help"}, "-data-dir"},
		{[]string{"backup", "--help"}, "-to"},
		{[]string{"restore", "--help"}, "-from"},
		{[]string{"export", "--help"}, "-to"},
		{[]string{"import", "--help"}, "-from"},
	}
	for _, c := range cases {
		t.Run("args="+strings.Join(c.args, " "), func(t *testing.T) {
			out, err := exec.Command(gatehouseBinary(t), c.args...).CombinedOutput()
			if err != nil {
				t.Fatalf("exit: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), c.want) {
				t.Fatalf("help does not mention %q:\n%s", c.want, out)
			}
		})
	}
}

func withoutGatehouseEnv(environ []string) []string {
	out := environ[:0:0]
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "GATEHOUSE_") {
			out = append(out, kv)
		}
	}
	return out
}

// TestRequestLogs checks each request leaves one structured log line with its request id,
// caller, action, outcome and latency, and that no secret reaches the logs.
func TestRequestLogs(t *testing.T) {
	t.Parallel()
	p := startProcess(t, t.TempDir(), "--log-level", "info")
	client, _ := procClients(p, testRoot.KeyID, testRoot.Secret)
	ctx := context.Background()
	if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("logged")}); err != nil {
		t.Fatal(err)
	}
	key, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("logged")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	if err == nil {
		t.Fatal("GetUser of a missing user succeeded")
	}
	if err := p.Stop(t); err != nil {
		t.Fatal(err)
	}
	type line struct {
		Msg, RequestID, Action, Caller, Outcome string
		Status                                  int
		Latency                                 float64
	}
	var requests []line
	for _, raw := range p.Logs() {
		for _, secret := range []string{testRoot.Secret, aws.ToString(key.AccessKey.SecretAccessKey)} {
			if strings.Contains(raw, secret) {
				t.Errorf("a log line carries a secret: %s", raw)
			}
		}
		var l struct {
			Msg       string  `json:"msg"`
			RequestID string  `json:"request_id"`
			Action    string  `json:"action"`
			Caller    string  `json:"caller"`
			Outcome   string  `json:"outcome"`
			Status    int     `json:"status"`
			Latency   float64 `json:"latency_ms"`
		}
		if json.Unmarshal([]byte(raw), &l) == nil && l.Msg == "request" {
			requests = append(requests, line(l))
		}
	}
	want := []struct{ action, outcome string }{{"CreateUser", "success"}, {"CreateAccessKey", "success"}, {"GetUser", "NoSuchEntity"}}
	if len(requests) != len(want) {
		t.Fatalf("%d request log lines, want %d: %+v", len(requests), len(want), requests)
	}
	for i, w := range want {
		r := requests[i]
		if r.Action != w.action || r.Outcome != w.outcome || r.RequestID == "" || r.Caller != "arn:aws:iam::"+testRoot.Account+":root" || r.Latency <= 0 {
			t.Errorf("log line %d = %+v, want action %s outcome %s with request id, root caller and latency", i, r, w.action, w.outcome)
		}
	}
}
