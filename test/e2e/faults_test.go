package e2e

// Issue 11, point 4: losing the database gives clients an error AWS clients retry, readiness
// turns false, and a node recovers by itself when the database returns, losing no acknowledged
// write; kill -9 of a node during a write load loses nothing on either backend.
//
// The retryable error is AWS's common ServiceUnavailable, HTTP 503, "The request has failed due
// to a temporary failure of the server." (Common Errors in the AWS API references; the SDKs'
// standard retryer retries 500, 502, 503 and 504: aws-sdk-go-v2 aws/retry
// DefaultRetryableHTTPStatusCodes).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/pgtest"
)

const serviceUnavailableMessage = "The request has failed due to a temporary failure of the server."

// TestFaultDatabaseRestart crashes PostgreSQL (pg_ctl stop -m immediate) under a CreateUser
// load on two nodes and starts it again, without touching the nodes.
func TestFaultDatabaseRestart(t *testing.T) {
	cluster := faultCluster(t)
	t.Run("no retries", func(t *testing.T) {
		nodes, admins := faultNodes(t, cluster, "fault_raw", 2)
		clients := make([]*iam.Client, len(nodes))
		for i, e := range nodes {
			clients[i] = faultIAM(e.URL, e.Root.AccessKeyID, e.Root.SecretAccessKey, false)
		}
		load := startWriteLoad("raw", clients, 3)
		waitAcked(t, load, time.Time{}, len(nodes), 20, 10*time.Second)

		stopBegan := time.Now()
		if err := cluster.StopServer(context.Background(), "immediate"); err != nil {
			t.Fatal(err)
		}
		stopped := time.Now()
		t.Logf("pg_ctl stop -m immediate took %v", stopped.Sub(stopBegan).Round(time.Millisecond))
		for i, admin := range admins {
			d := waitReady(t, admin, http.StatusServiceUnavailable, stopped, 10*time.Second)
			t.Logf("node %d: /readyz answered 503 %v after the stop", i, d.Round(time.Millisecond))
		}
		// Every node answers 503 for a while: wait for a failure on each, then hold the outage.
		waitFailed(t, load, stopped, len(nodes), 10*time.Second)
		// Past the credential cache's lifetime (2 s) authentication reads the store as well: it
		// too must answer 503, for the load's key and for a key it cannot look up, never
		// InvalidClientTokenId (a bad key) for an outage.
		time.Sleep(2500 * time.Millisecond)
		probe := faultIAM(nodes[0].URL, "AKIAFAULTPROBE000001", "fault-probe-secret", false)
		_, err := probe.GetUser(context.Background(), &iam.GetUserInput{})
		var ae smithy.APIError
		var re *awshttp.ResponseError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ServiceUnavailable" || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusServiceUnavailable {
			t.Errorf("an unknown key during the outage: %v; want ServiceUnavailable (503)", err)
		}
		time.Sleep(500 * time.Millisecond)

		startBegan := time.Now()
		if err := cluster.StartServer(context.Background()); err != nil {
			t.Fatal(err)
		}
		started := time.Now()
		t.Logf("outage (stop returned to start began): %v; pg_ctl start took %v", startBegan.Sub(stopped).Round(time.Millisecond), started.Sub(startBegan).Round(time.Millisecond))
		recovered := waitAcked(t, load, startBegan, len(nodes), 1, 30*time.Second)
		for i, at := range recovered {
			t.Logf("node %d: first acknowledged write %v after pg_ctl start began (%v after it returned)", i, at.Sub(startBegan).Round(time.Millisecond), at.Sub(started).Round(time.Millisecond))
		}
		for i, admin := range admins {
			d := waitReady(t, admin, http.StatusOK, started, 30*time.Second)
			t.Logf("node %d: /readyz answered 200 %v after pg_ctl start returned", i, d.Round(time.Millisecond))
		}
		last := latest(recovered)
		time.Sleep(3 * time.Second)
		calls := load.Stop()

		report := summarize(calls)
		t.Logf("calls: %d acknowledged, %d failed %v", len(report.acked), len(report.failed), report.codes)
		for node, w := range report.failWindow {
			t.Logf("node %d: answered errors for %v, from %v to %v after the stop began (%d failures)", node, w[1].Sub(w[0]).Round(time.Millisecond), w[0].Sub(stopBegan).Round(time.Millisecond), w[1].Sub(stopBegan).Round(time.Millisecond), report.failures[node])
		}
		for _, c := range calls {
			if c.err == nil {
				continue
			}
			if c.code != "ServiceUnavailable" || c.status != http.StatusServiceUnavailable || c.message != serviceUnavailableMessage {
				t.Errorf("%s on node %d, %v after the stop: %s (HTTP %d) %v; want ServiceUnavailable (503) %q", c.name, c.node, c.start.Sub(stopped).Round(time.Millisecond), c.code, c.status, c.err, serviceUnavailableMessage)
			}
			if c.end.Before(stopBegan) {
				t.Errorf("%s on node %d failed before the stop: %v", c.name, c.node, c.err)
			}
		}
		// Two seconds after every node wrote again, nothing fails any more: the pool's broken
		// connections are gone, not just the first one replaced.
		for _, c := range calls {
			if c.err != nil && c.start.After(last.Add(2*time.Second)) {
				t.Errorf("%s on node %d failed %v after the nodes recovered: %v", c.name, c.node, c.start.Sub(last).Round(time.Millisecond), c.err)
			}
		}
		logInDoubt(t, calls, checkNoneLost(t, nodes, "raw", report), stopBegan, "the stop began")
	})

	t.Run("default retryer", func(t *testing.T) {
		nodes, _ := faultNodes(t, cluster, "fault_retry", 2)
		clients := make([]*iam.Client, len(nodes))
		for i, e := range nodes {
			clients[i] = faultIAM(e.URL, e.Root.AccessKeyID, e.Root.SecretAccessKey, true)
		}
		load := startWriteLoad("retry", clients, 3)
		waitAcked(t, load, time.Time{}, len(nodes), 20, 10*time.Second)
		stopBegan := time.Now()
		if err := cluster.StopServer(context.Background(), "immediate"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if err := cluster.StartServer(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Logf("database down for %v (stop began to start returned)", time.Since(stopBegan).Round(time.Millisecond))
		waitAcked(t, load, time.Now(), len(nodes), 1, 30*time.Second)
		time.Sleep(2 * time.Second)
		calls := load.Stop()
		report := summarize(calls)
		var slowest time.Duration
		for _, c := range calls {
			if c.start.Before(stopBegan) || c.start.After(stopBegan.Add(10*time.Second)) {
				continue
			}
			slowest = max(slowest, c.end.Sub(c.start))
		}
		t.Logf("with the SDK's standard retryer (3 attempts): %d acknowledged, %d failed %v; the slowest call around the outage took %v", len(report.acked), len(report.failed), report.codes, slowest.Round(time.Millisecond))
		for _, c := range calls {
			switch {
			case c.err == nil, c.code == "EntityAlreadyExists":
				// EntityAlreadyExists: an earlier attempt committed but its answer was lost
				// with the connection; checkNoneLost finds the user.
			case c.code == "ServiceUnavailable" && c.status == http.StatusServiceUnavailable:
				t.Logf("%s on node %d: still unavailable after the retries (%v): %v", c.name, c.node, c.end.Sub(c.start).Round(time.Millisecond), c.err)
			default:
				t.Errorf("%s on node %d: %s (HTTP %d) %v; want success or ServiceUnavailable", c.name, c.node, c.code, c.status, c.err)
			}
		}
		logInDoubt(t, calls, checkNoneLost(t, nodes, "retry", report), stopBegan, "the stop began")
	})
}

// TestFaultKillNode kills the gatehouse process (SIGKILL) during a CreateUser load, starts a new
// one on the same state and finds every acknowledged user, on SQLite and on PostgreSQL.
func TestFaultKillNode(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			var dbURL, masterKey string
			if backend == "postgres" {
				dbURL = pgtest.Database(t)
				masterKey = newMasterKey()
			}
			p := startFaultProcess(t, dir, dbURL, masterKey)
			clients := []*iam.Client{faultIAM(p.URL, testRoot.KeyID, testRoot.Secret, false)}
			load := startWriteLoad("kill", clients, 4)
			waitAcked(t, load, time.Time{}, 1, 100, 20*time.Second)
			killed := time.Now()
			p.Kill(t)
			time.Sleep(200 * time.Millisecond) // let the workers see the dead listener
			calls := load.Stop()
			report := summarize(calls)
			t.Logf("before the kill: %d acknowledged; %d failed %v", len(report.acked), len(report.failed), report.codes)
			for _, c := range calls {
				if c.err != nil && c.end.Before(killed) {
					t.Errorf("%s failed before the kill: %v", c.name, c.err)
				}
			}

			restartBegan := time.Now()
			q := startFaultProcess(t, dir, dbURL, masterKey)
			t.Logf("the new process listened %v after it was started", time.Since(restartBegan).Round(time.Millisecond))
			e := &env{URL: q.URL}
			e.IAM, _ = e.clients(testRoot.KeyID, testRoot.Secret, "")
			logInDoubt(t, calls, checkNoneLost(t, []*env{e}, "kill", report), killed, "the kill")
			if err := q.Stop(t); err != nil {
				t.Errorf("stop: %v", err)
			}
		})
	}
}

// faultCluster starts a PostgreSQL cluster of t's own, which t may stop and start; it skips t
// when PostgreSQL is not installed (fails under GATEHOUSE_REQUIRE_POSTGRES).
func faultCluster(t *testing.T) *pgtest.Cluster {
	t.Helper()
	c, err := pgtest.Start(context.Background())
	if err != nil {
		if os.Getenv(pgtest.EnvRequire) != "" {
			t.Fatalf("PostgreSQL is required (%s) but the cluster did not start: %v", pgtest.EnvRequire, err)
		}
		t.Skipf("no PostgreSQL cluster to stop and start: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Remove(); err != nil {
			t.Logf("remove the cluster: %v", err)
		}
	})
	return c
}

// faultNodes starts n in-process nodes on a new database db of cluster, sharing a master key,
// each with an admin listener; it returns them (signed as node 0's first root) and the admin
// listeners' base URLs.
func faultNodes(t *testing.T, cluster *pgtest.Cluster, db string, n int) ([]*env, []string) {
	t.Helper()
	url, err := pgtest.CreateDatabase(context.Background(), cluster.URL("postgres"), db)
	if err != nil {
		t.Fatal(err)
	}
	key := newMasterKey()
	nodes := make([]*env, n)
	admins := make([]string, n)
	for i := range nodes {
		nodes[i] = newEnvWith(t, nil, func(c *config.Config) {
			c.DatabaseURL, c.MasterKey, c.AdminListen = url, key, "127.0.0.1:0"
		})
		deadline := time.Now().Add(10 * time.Second)
		for nodes[i].app.AdminAddr() == nil {
			if time.Now().After(deadline) {
				t.Fatal("the admin listener did not start")
			}
			time.Sleep(5 * time.Millisecond)
		}
		admins[i] = "http://" + nodes[i].app.AdminAddr().String()
	}
	for _, e := range nodes[1:] {
		e.Root, e.Account = nodes[0].Root, nodes[0].Account
		e.IAM, e.STS = e.clients(e.Root.AccessKeyID, e.Root.SecretAccessKey, "")
	}
	return nodes, admins
}

func newMasterKey() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return hex.EncodeToString(key)
}

// startFaultProcess is startProcess with the deployment in PostgreSQL at dbURL (none: the data
// directory's SQLite file) and the master key from the environment (none: the key file).
func startFaultProcess(t *testing.T, dataDir, dbURL, masterKey string) *proc {
	t.Helper()
	args := []string{"serve", "--listen", "127.0.0.1:0", "--admin-listen", "off", "--data-dir", dataDir}
	if dbURL != "" {
		args = append(args, "--database", dbURL)
	}
	cmd := exec.Command(gatehouseBinary(t), args...)
	cmd.Env = append(withoutGatehouseEnv(os.Environ()),
		"GATEHOUSE_ACCOUNT_ID="+testRoot.Account,
		"GATEHOUSE_ROOT_ACCESS_KEY_ID="+testRoot.KeyID,
		"GATEHOUSE_ROOT_SECRET_ACCESS_KEY="+testRoot.Secret,
	)
	if masterKey != "" {
		cmd.Env = append(cmd.Env, config.EnvMasterKey+"="+masterKey)
	}
	p := &proc{cmd: cmd}
	startCmd(t, p)
	return p
}

// faultIAM is an IAM client of url signed with the key; retry false turns the SDK's retries off
// so that the test sees every answer.
func faultIAM(url, keyID, secret string, retry bool) *iam.Client {
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		BaseEndpoint: aws.String(url),
	}
	if !retry {
		cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	}
	return iam.NewFromConfig(cfg)
}

// faultCall is one CreateUser of a write load.
type faultCall struct {
	name       string
	node       int
	start, end time.Time
	err        error
	code       string // the AWS error code; "transport" for no HTTP answer
	message    string
	status     int
}

// writeLoad runs CreateUser calls with distinct names until stopped, recording each answer.
type writeLoad struct {
	stop  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	calls []faultCall
}

// startWriteLoad starts perClient goroutines on each client; node is the client's index.
func startWriteLoad(prefix string, clients []*iam.Client, perClient int) *writeLoad {
	l := &writeLoad{stop: make(chan struct{})}
	for node, c := range clients {
		for g := range perClient {
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				for i := 0; ; i++ {
					select {
					case <-l.stop:
						return
					default:
					}
					l.createUser(c, node, fmt.Sprintf("%s-%d-%d-%d", prefix, node, g, i))
				}
			}()
		}
	}
	return l
}

func (l *writeLoad) createUser(c *iam.Client, node int, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call := faultCall{name: name, node: node, start: time.Now()}
	_, call.err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
	call.end = time.Now()
	if call.err != nil {
		call.code, call.message, call.status = "transport", "", 0
		var ae smithy.APIError
		if errors.As(call.err, &ae) {
			call.code, call.message = ae.ErrorCode(), ae.ErrorMessage()
		}
		var re *awshttp.ResponseError
		if errors.As(call.err, &re) {
			call.status = re.HTTPStatusCode()
		}
	}
	l.mu.Lock()
	l.calls = append(l.calls, call)
	l.mu.Unlock()
	if call.err != nil {
		time.Sleep(20 * time.Millisecond) // an outage answers fast; don't spin on it
	}
}

func (l *writeLoad) snapshot() []faultCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]faultCall(nil), l.calls...)
}

// Stop ends the load, waits for the calls in flight and returns every call.
func (l *writeLoad) Stop() []faultCall {
	close(l.stop)
	l.wg.Wait()
	return l.snapshot()
}

// waitAcked waits until each of nodes has acknowledged n calls begun after since, and returns
// when each node's first such call ended.
func waitAcked(t *testing.T, l *writeLoad, since time.Time, nodes, n int, timeout time.Duration) []time.Time {
	t.Helper()
	return waitCalls(t, l, since, nodes, n, timeout, "acknowledged writes", func(c faultCall) bool { return c.err == nil })
}

// waitFailed waits until each of nodes has failed a call that ended after since.
func waitFailed(t *testing.T, l *writeLoad, since time.Time, nodes int, timeout time.Duration) []time.Time {
	t.Helper()
	return waitCalls(t, l, since, nodes, 1, timeout, "failed writes", func(c faultCall) bool { return c.err != nil })
}

func waitCalls(t *testing.T, l *writeLoad, since time.Time, nodes, n int, timeout time.Duration, what string, match func(faultCall) bool) []time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		count := make([]int, nodes)
		first := make([]time.Time, nodes)
		for _, c := range l.snapshot() {
			if c.end.Before(since) || !match(c) {
				continue
			}
			if count[c.node]++; first[c.node].IsZero() || c.end.Before(first[c.node]) {
				first[c.node] = c.end
			}
		}
		done := true
		for _, k := range count {
			done = done && k >= n
		}
		if done {
			return first
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v %s per node, want %d each", timeout, count, what, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitReady polls /readyz at admin until it answers want and returns how long after since.
func waitReady(t *testing.T, admin string, want int, since time.Time, timeout time.Duration) time.Duration {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		code, body := adminGet(t, admin+"/readyz")
		if code == want {
			return time.Since(since)
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still answers %d %q after %v, want %d", code, body, timeout, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func latest(ts []time.Time) time.Time {
	var last time.Time
	for _, at := range ts {
		if at.After(last) {
			last = at
		}
	}
	return last
}

// loadReport is what a load's calls add up to.
type loadReport struct {
	acked, failed map[string]bool // user names
	codes         map[string]int  // failures by "code/status"
	failures      map[int]int     // failures by node
	failWindow    map[int][2]time.Time
}

func summarize(calls []faultCall) loadReport {
	r := loadReport{acked: map[string]bool{}, failed: map[string]bool{}, codes: map[string]int{}, failures: map[int]int{}, failWindow: map[int][2]time.Time{}}
	for _, c := range calls {
		if c.err == nil {
			r.acked[c.name] = true
			continue
		}
		r.failed[c.name] = true
		r.codes[fmt.Sprintf("%s/%d", c.code, c.status)]++
		r.failures[c.node]++
		w, ok := r.failWindow[c.node]
		if !ok || c.start.Before(w[0]) {
			w[0] = c.start
		}
		if c.end.After(w[1]) {
			w[1] = c.end
		}
		r.failWindow[c.node] = w
	}
	return r
}

// checkNoneLost lists the users on every node: each acknowledged user exists, and every user of
// the load was attempted (a failed call may or may not have committed: it is counted).
func checkNoneLost(t *testing.T, nodes []*env, prefix string, r loadReport) (inDoubt map[string]bool) {
	t.Helper()
	inDoubt = map[string]bool{}
	for i, e := range nodes {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		listed := map[string]bool{}
		pages := iam.NewListUsersPaginator(e.IAM, &iam.ListUsersInput{})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				cancel()
				t.Fatalf("node %d: ListUsers: %v", i, err)
			}
			for _, u := range page.Users {
				if strings.HasPrefix(*u.UserName, prefix+"-") {
					listed[*u.UserName] = true
				}
			}
		}
		cancel()
		var lost, phantom []string
		committed := 0
		for name := range r.acked {
			if !listed[name] {
				lost = append(lost, name)
			}
		}
		for name := range listed {
			switch {
			case r.acked[name]:
			case r.failed[name]:
				committed++
				inDoubt[name] = true
			default:
				phantom = append(phantom, name)
			}
		}
		sort.Strings(lost)
		sort.Strings(phantom)
		if len(lost) > 0 {
			t.Errorf("node %d: %d of %d acknowledged users are missing: %v", i, len(lost), len(r.acked), lost)
		}
		if len(phantom) > 0 {
			t.Errorf("node %d: users that were never created: %v", i, phantom)
		}
		t.Logf("node %d lists %d users = %d acknowledged + %d of the %d failed calls (committed though the client saw an error)", i, len(listed), len(r.acked), committed, len(r.failed))
	}
	return inDoubt
}

// logInDoubt says when the failed calls that committed all the same ran, relative to at.
func logInDoubt(t *testing.T, calls []faultCall, inDoubt map[string]bool, at time.Time, event string) {
	t.Helper()
	for _, c := range calls {
		if inDoubt[c.name] {
			t.Logf("%s on node %d committed but answered %s/%d: it ran from %v to %v after %s", c.name, c.node, c.code, c.status, c.start.Sub(at).Round(time.Millisecond), c.end.Sub(at).Round(time.Millisecond), event)
		}
	}
}
