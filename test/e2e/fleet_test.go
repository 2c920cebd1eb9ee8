package e2e

// Issue 11, point 2: a fleet of three nodes on one PostgreSQL database. A write through one node
// governs authentication and authorization on the others within a second; sessions issued by
// one node verify on every other; an MFA code works once across the fleet; the first account,
// the credential report, deletion tasks and session-key rotation happen once per fleet.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-iam/gatehouse/internal/app"
	"github.com/gatehouse-iam/gatehouse/internal/config"
	"github.com/gatehouse-iam/gatehouse/internal/pgtest"
	"github.com/gatehouse-iam/gatehouse/internal/principal"
	"github.com/gatehouse-iam/gatehouse/internal/secret"
	"github.com/gatehouse-iam/gatehouse/internal/session"
	"github.com/gatehouse-iam/gatehouse/internal/store"
	"github.com/gatehouse-iam/gatehouse/internal/store/postgres"
	"github.com/gatehouse-iam/gatehouse/internal/totp"
)

// flPropagation is the longest a write through one node may take to govern requests on another
// (issue 11).
const flPropagation = time.Second

// flFleet is a fleet started by flStart.
type flFleet struct {
	nodes     []*env
	created   []bool // which node's Bootstrap created the first account
	url       string // the shared database
	masterKey string // the shared master key, hex
}

// flStart starts n nodes at the same moment on one new, empty PostgreSQL database with one
// master key, each opening (and migrating) the database and bootstrapping concurrently, as a
// fleet deployed at once does. Every env carries the first account's root credentials, with
// clients pointed at its own node.
func flStart(t *testing.T, n int) *flFleet {
	t.Helper()
	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)
	f := &flFleet{url: pgtest.Database(t), masterKey: hex.EncodeToString(key), created: make([]bool, n)}
	logOut := io.Discard
	if os.Getenv("GATEHOUSE_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug}))

	type boot struct {
		a    *app.App
		root config.Credentials
		err  error
	}
	cfgs := make([]config.Config, n)
	boots := make([]boot, n)
	for i := range cfgs {
		cfgs[i] = config.Config{DataDir: t.TempDir(), LogLevel: slog.LevelWarn, DialIDP: dialIDP, DatabaseURL: f.url, MasterKey: f.masterKey}
	}
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i := range boots {
		wg.Go(func() {
			<-gate
			b := &boots[i]
			if b.a, b.err = app.Open(context.Background(), cfgs[i], logger); b.err != nil {
				return
			}
			b.root, f.created[i], b.err = b.a.Bootstrap(context.Background())
		})
	}
	close(gate)
	wg.Wait()
	for _, b := range boots {
		if b.a != nil {
			t.Cleanup(func() {
				if err := b.a.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
		}
	}
	var root config.Credentials
	for i, b := range boots {
		if b.err != nil {
			t.Fatalf("node %d: %v", i, b.err)
		}
		if f.created[i] {
			root = b.root
		}
	}
	for i, b := range boots {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.a.Serve(ctx, ln) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("node %d: serve: %v", i, err)
			}
		})
		e := &env{URL: "http://" + ln.Addr().String(), Account: root.AccountID, DataDir: cfgs[i].DataDir, Root: root, app: b.a}
		e.IAM, e.STS = e.clients(root.AccessKeyID, root.SecretAccessKey, "")
		f.nodes = append(f.nodes, e)
	}
	return f
}

// flStore opens the fleet's database directly, for what the API does not show (how many
// accounts, keys or tasks there are).
func flStore(t *testing.T, url string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), url, slog.New(slog.NewTextHandler(io.Discard, nil)), postgres.Options{MustExist: true})
	if err != nil {
		t.Fatalf("open the fleet's database: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func flCount(t *testing.T, st store.Store, kind store.Kind, account string) int {
	t.Helper()
	var n int
	err := st.View(context.Background(), func(ctx context.Context, tx store.Tx) (err error) {
		n, err = tx.Count(ctx, kind, account, "")
		return err
	})
	if err != nil {
		t.Fatalf("count %s: %v", kind, err)
	}
	return n
}

// flClients are clients of node e that do not retry, so a poll sees each answer as it is.
func flClients(e *env, keyID, secretKey, token string) (*iam.Client, *sts.Client) {
	cfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, secretKey, token),
		BaseEndpoint:     aws.String(e.URL),
		RetryMaxAttempts: 1,
	}
	return iam.NewFromConfig(cfg), sts.NewFromConfig(cfg)
}

func flSessionClients(e *env, c *ststypes.Credentials) (*iam.Client, *sts.Client) {
	return flClients(e, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
}

// flCode is the AWS error code of err ("" for none, "?" for an error that is not an AWS answer).
func flCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return "?"
	}
	return ae.ErrorCode()
}

// flUser creates a user with an access key through e (and an inline policy unless "") and
// returns its ARN, key id and secret.
func flUser(t *testing.T, e *env, name, policy string) (arn, keyID, secretKey string) {
	t.Helper()
	ctx := context.Background()
	u, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
	stsOK(t, err)
	if policy != "" {
		_, err := e.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)})
		stsOK(t, err)
	}
	k, err := e.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	stsOK(t, err)
	return aws.ToString(u.User.Arn), aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey)
}

// flAwait polls probe on each named node, concurrently, from start (the moment the write
// returned) until it answers want (an AWS error code, "" for success), logs how long that took
// and fails t above limit. Any other answer than want or was (the answer before the write)
// fails t at once.
func flAwait(t *testing.T, what string, limit time.Duration, start time.Time, want, was string, probes map[string]func() error) {
	t.Helper()
	var wg sync.WaitGroup
	for node, probe := range probes {
		wg.Go(func() {
			for {
				err := probe()
				took := time.Since(start)
				switch code := flCode(err); {
				case code == want:
					t.Logf("%s on node %s: observed after %v", what, node, took.Round(time.Millisecond))
					if took > limit {
						t.Errorf("%s on node %s took %v, more than %v", what, node, took, limit)
					}
					return
				case code != was:
					t.Errorf("%s on node %s: unexpected answer %v", what, node, err)
					return
				case took > 5*limit:
					t.Errorf("%s on node %s: not observed after %v (still %v)", what, node, took, err)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	wg.Wait()
}

// flWarm makes sure each node has the answer of its probe cached (want: the AWS error code the
// probe answers, "" for success), so that a write that follows is seen only if the fleet drops
// the node's caches: it waits out the drops that earlier writes (a key's first use on a node is
// one) still cause, then probes until a probe is answered from the named caches of the node
// (enforce.Enforcer.CacheStats).
func flWarm(t *testing.T, want string, probes map[string]func() error, nodes map[string]*env, caches ...string) {
	t.Helper()
	time.Sleep(2 * 250 * time.Millisecond) // two of app's change polls
	hits := func(e *env) map[string]uint64 {
		m := map[string]uint64{}
		for _, s := range e.app.Enforcer.CacheStats() {
			m[s.Name] = s.Hits
		}
		return m
	}
	for name, probe := range probes {
		warm := false
		for range 5 {
			before := hits(nodes[name])
			if code := flCode(probe()); code != want {
				t.Fatalf("warming node %s: answer %q, want %q", name, code, want)
			}
			after := hits(nodes[name])
			warm = true
			for _, c := range caches {
				warm = warm && after[c] > before[c]
			}
			if warm {
				break
			}
		}
		if !warm {
			t.Fatalf("node %s never answered from its %v caches", name, caches)
		}
	}
}

// TestFleetPropagation checks that writes made through node A govern authentication and
// authorization on nodes B and C within a second, even when B and C have the old answer cached.
// The delays are logged. Not parallel: the delays are measured on a machine that runs nothing else.
func TestFleetPropagation(t *testing.T) {
	f := flStart(t, 3)
	a, b, c := f.nodes[0], f.nodes[1], f.nodes[2]
	ctx := context.Background()

	t.Run("authentication", func(t *testing.T) {
		_, err := a.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("fl-authn")})
		stsOK(t, err)
		k, err := a.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("fl-authn")})
		start := time.Now()
		stsOK(t, err)
		keyID, secretKey := aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey)
		_, bSTS := flClients(b, keyID, secretKey, "")
		_, cSTS := flClients(c, keyID, secretKey, "")
		whoAmI := func(s *sts.Client) func() error {
			return func() error { _, err := s.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); return err }
		}
		probes := map[string]func() error{"B": whoAmI(bSTS), "C": whoAmI(cSTS)}
		flAwait(t, "CreateAccessKey on A", flPropagation, start, "", "InvalidClientTokenId", probes)
		id, err := bSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		stsOK(t, err)
		if got, want := aws.ToString(id.Arn), "arn:aws:iam::"+a.Account+":user/fl-authn"; got != want {
			t.Errorf("caller on B is %s, want %s", got, want)
		}

		// With the key cached on B and C, deactivating it on A must reach them.
		nodes := map[string]*env{"B": b, "C": c}
		flWarm(t, "", probes, nodes, "credentials")
		setStatus := func(s iamtypes.StatusType) time.Time {
			_, err := a.IAM.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("fl-authn"), AccessKeyId: aws.String(keyID), Status: s})
			start := time.Now()
			stsOK(t, err)
			return start
		}
		flAwait(t, "UpdateAccessKey Inactive on A", flPropagation, setStatus(iamtypes.StatusTypeInactive), "InvalidClientTokenId", "", probes)
		_, err = bSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		stsErr(t, err, "InvalidClientTokenId", "The security token included in the request is invalid")
		flAwait(t, "UpdateAccessKey Active on A", flPropagation, setStatus(iamtypes.StatusTypeActive), "", "InvalidClientTokenId", probes)

		flWarm(t, "", probes, nodes, "credentials")
		_, err = a.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("fl-authn"), AccessKeyId: aws.String(keyID)})
		start = time.Now()
		stsOK(t, err)
		flAwait(t, "DeleteAccessKey on A", flPropagation, start, "InvalidClientTokenId", "", probes)
	})

	t.Run("authorization", func(t *testing.T) {
		_, keyID, secretKey := flUser(t, a, "fl-authz", "")
		bIAM, _ := flClients(b, keyID, secretKey, "")
		cIAM, _ := flClients(c, keyID, secretKey, "")
		listUsers := func(c *iam.Client) func() error {
			return func() error { _, err := c.ListUsers(ctx, &iam.ListUsersInput{}); return err }
		}
		probes := map[string]func() error{"B": listUsers(bIAM), "C": listUsers(cIAM)}
		nodes := map[string]*env{"B": b, "C": c}
		_, err := bIAM.ListUsers(ctx, &iam.ListUsersInput{})
		stsErr(t, err, "AccessDenied", "is not authorized to perform: iam:ListUsers")
		_, err = cIAM.ListUsers(ctx, &iam.ListUsersInput{})
		stsErr(t, err, "AccessDenied", "is not authorized to perform: iam:ListUsers")

		pol, err := a.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("fl-list-users"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}`)})
		stsOK(t, err)
		attach := &iam.AttachUserPolicyInput{UserName: aws.String("fl-authz"), PolicyArn: pol.Policy.Arn}
		// B and C have the user's grants (none) cached.
		flWarm(t, "AccessDenied", probes, nodes, "credentials", "grants")
		_, err = a.IAM.AttachUserPolicy(ctx, attach)
		start := time.Now()
		stsOK(t, err)
		flAwait(t, "AttachUserPolicy on A", flPropagation, start, "", "AccessDenied", probes)

		flWarm(t, "", probes, nodes, "credentials", "grants")
		_, err = a.IAM.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: attach.UserName, PolicyArn: attach.PolicyArn})
		start = time.Now()
		stsOK(t, err)
		flAwait(t, "DetachUserPolicy on A", flPropagation, start, "AccessDenied", "", probes)
	})
}

// TestFleetSessions checks that temporary credentials issued by any node verify on every node,
// with the permissions of their session.
func TestFleetSessions(t *testing.T) {
	t.Parallel()
	f := flStart(t, 3)
	a := f.nodes[0]
	ctx := context.Background()
	userARN, keyID, secretKey := flUser(t, a, "fl-sessions", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	roleARN := stsRole(t, a.IAM, "fl-role", trustDoc(`{"AWS":"arn:aws:iam::`+a.Account+`:root"}`, `"sts:AssumeRole"`, ""),
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}`, 0)
	names := []string{"A", "B", "C"}

	// The first session of the fleet (node A makes the server key), then one from each node.
	for i, issuer := range f.nodes {
		_, userSTS := issuer.clients(keyID, secretKey, "")
		sessionName := "from-" + names[i]
		ar, err := userSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String(sessionName)})
		stsOK(t, err)
		gst, err := userSTS.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
		stsOK(t, err)
		for j, verifier := range f.nodes {
			t.Run("issuer="+names[i]+"/verifier="+names[j], func(t *testing.T) {
				roleIAM, roleSTS := flSessionClients(verifier, ar.Credentials)
				id, err := roleSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				stsOK(t, err)
				if got, want := aws.ToString(id.Arn), "arn:aws:sts::"+a.Account+":assumed-role/fl-role/"+sessionName; got != want {
					t.Errorf("role session is %s, want %s", got, want)
				}
				// The role's policy allows ListUsers and nothing else.
				_, err = roleIAM.ListUsers(ctx, &iam.ListUsersInput{})
				stsOK(t, err)
				_, err = roleIAM.ListRoles(ctx, &iam.ListRolesInput{})
				stsErr(t, err, "AccessDenied", "is not authorized to perform: iam:ListRoles")

				_, userSession := flSessionClients(verifier, gst.Credentials)
				id, err = userSession.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				stsOK(t, err)
				if got := aws.ToString(id.Arn); got != userARN {
					t.Errorf("user session is %s, want %s", got, userARN)
				}
			})
		}
	}
}

// TestFleetSessionAfterForgedToken sends nodes B and C a forged session token naming a key id
// nobody has (anyone can send one: it needs no credentials), which makes them reload the server
// keys, and then has node A make the fleet's first key with a session: B and C must accept that
// session once A's write is announced, not refuse it for the rest of their reload interval (a
// second; session.Options.ReloadInterval). The limit is one change poll (250 ms) and margin.
func TestFleetSessionAfterForgedToken(t *testing.T) {
	t.Parallel()
	f := flStart(t, 3)
	a, b, c := f.nodes[0], f.nodes[1], f.nodes[2]
	ctx := context.Background()
	raw := make([]byte, 1+8+12+16+64) // format, key id, nonce, tag, sealed claims
	raw[0] = 1                        // a session token
	copy(raw[1:9], "forged!!")
	for _, e := range []*env{b, c} {
		_, forged := flClients(e, "ASIAQAAAAAAAAFORGED1", "forgedforgedforgedforged", base64.RawURLEncoding.EncodeToString(raw))
		_, err := forged.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		stsErr(t, err, "InvalidClientTokenId", "The security token included in the request is invalid")
	}
	out, err := a.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	start := time.Now()
	stsOK(t, err)
	_, bSTS := flSessionClients(b, out.Credentials)
	_, cSTS := flSessionClients(c, out.Credentials)
	whoAmI := func(s *sts.Client) func() error {
		return func() error { _, err := s.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); return err }
	}
	flAwait(t, "A's first session, after a forged token", 500*time.Millisecond, start, "", "InvalidClientTokenId",
		map[string]func() error{"B": whoAmI(bSTS), "C": whoAmI(cSTS)})
}

// TestFleetMFAReplay checks that an MFA code used on one node is refused on the others, and
// that one fresh code sent to all three nodes at once works exactly once. AWS answers a reused
// code as it answers a wrong one: AccessDenied, "MultiFactorAuthentication failed ..." (see
// TestGetSessionToken, case=mfa; AWS's answers quoted in aws/aws-cli#6325 for GetSessionToken
// and aws/aws-cli#2279 for a code reused by AssumeRole in a loop).
func TestFleetMFAReplay(t *testing.T) {
	t.Parallel()
	f := flStart(t, 3)
	a := f.nodes[0]
	ctx := context.Background()
	names := []string{"A", "B", "C"}

	type mfaUser struct {
		serial, keyID, secretKey string
		seed                     []byte
	}
	newMFAUser := func(name string) mfaUser {
		_, keyID, secretKey := flUser(t, a, name, "")
		serial, seed := stsEnableMFA(t, a, name) // through node A
		return mfaUser{serial, keyID, secretKey, seed}
	}

	t.Run("case=sequential", func(t *testing.T) {
		u := newMFAUser("fl-mfa")
		code := totp.Default.CodeAt(u.seed, stsStep())
		in := &sts.GetSessionTokenInput{SerialNumber: aws.String(u.serial), TokenCode: aws.String(code)}
		_, aSTS := a.clients(u.keyID, u.secretKey, "")
		out, err := aSTS.GetSessionToken(ctx, in)
		stsOK(t, err)
		for i, e := range f.nodes[1:] {
			_, s := e.clients(u.keyID, u.secretKey, "")
			_, err := s.GetSessionToken(ctx, in)
			if err == nil {
				t.Fatalf("node %s accepted the code node A had accepted", names[i+1])
			}
			stsErr(t, err, "AccessDenied", "MultiFactorAuthentication failed")
			// The MFA session node A issued works here (and may call IAM, being MFA-authenticated).
			si, ss := flSessionClients(e, out.Credentials)
			_, err = ss.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			stsOK(t, err)
			_, err = si.ListUsers(ctx, &iam.ListUsersInput{})
			stsErr(t, err, "AccessDenied", "is not authorized to perform: iam:ListUsers")
		}
	})

	// Several rounds, one user each, so the race is run more than once.
	for round := range 3 {
		u := newMFAUser("fl-mfa-race-" + string(rune('a'+round)))
		t.Run("case=concurrent/round="+string(rune('a'+round)), func(t *testing.T) {
			code := totp.Default.CodeAt(u.seed, stsStep())
			in := &sts.GetSessionTokenInput{SerialNumber: aws.String(u.serial), TokenCode: aws.String(code)}
			clients := make([]*sts.Client, len(f.nodes))
			for i, e := range f.nodes {
				_, clients[i] = flClients(e, u.keyID, u.secretKey, "")
			}
			errs := make([]error, len(clients))
			gate := make(chan struct{})
			var wg sync.WaitGroup
			for i, c := range clients {
				wg.Go(func() {
					<-gate
					_, errs[i] = c.GetSessionToken(ctx, in)
				})
			}
			close(gate)
			wg.Wait()
			var won []string
			for i, err := range errs {
				if err == nil {
					won = append(won, names[i])
					continue
				}
				stsErr(t, err, "AccessDenied", "MultiFactorAuthentication failed")
			}
			if len(won) != 1 {
				t.Fatalf("the code sent to every node at once was accepted by %v, want exactly one node", won)
			}
			t.Logf("accepted by node %s only", won[0])
		})
	}
}

// TestFleetOncePerFleet checks what a fleet does once, not once per node: three nodes started
// at once on an empty database make one first account; the credential report generated on all
// three at once is one report; a service-linked role deleted through all three at once is
// deleted by one deletion task.
func TestFleetOncePerFleet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := flStart(t, 3)
	a := f.nodes[0]
	st := flStore(t, f.url)

	t.Run("case=first account", func(t *testing.T) {
		// Two more fleets, so the race between the bootstraps is run three times.
		for round, g := range []*flFleet{f, flStart(t, 3), flStart(t, 3)} {
			n := 0
			for _, c := range g.created {
				if c {
					n++
				}
			}
			if n != 1 {
				t.Errorf("round %d: %d of the nodes started at once created the first account (%v), want 1", round, n, g.created)
			}
			if n := flCount(t, flStore(t, g.url), store.KindAccount, ""); n != 1 {
				t.Errorf("round %d: %d accounts after three nodes bootstrapped at once, want 1", round, n)
			}
			t.Logf("round %d: created by nodes %v", round, g.created)
		}
		// The account's root key works on every node.
		for i, e := range f.nodes {
			id, err := e.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			stsOK(t, err)
			if got := aws.ToString(id.Account); got != a.Account {
				t.Errorf("node %d: root user of account %s, want %s", i, got, a.Account)
			}
		}
	})

	t.Run("case=credential report", func(t *testing.T) {
		_, err := a.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("fl-report")})
		stsOK(t, err)
		states := make([]iamtypes.ReportStateType, len(f.nodes))
		errs := make([]error, len(f.nodes))
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for i, e := range f.nodes {
			wg.Go(func() {
				<-gate
				out, err := e.IAM.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
				if errs[i] = err; err == nil {
					states[i] = out.State
				}
			})
		}
		close(gate)
		wg.Wait()
		started := 0
		for i, err := range errs {
			stsOK(t, err)
			switch states[i] {
			case iamtypes.ReportStateTypeStarted:
				started++
			case iamtypes.ReportStateTypeComplete:
			default:
				t.Errorf("node %d: State %q", i, states[i])
			}
		}
		if started != 1 {
			t.Errorf("%d nodes started a report generation (%v), want 1", started, states)
		}
		var first *iam.GetCredentialReportOutput
		for i, e := range f.nodes {
			out, err := e.IAM.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
			stsOK(t, err)
			if !strings.Contains(string(out.Content), "\nfl-report,") {
				t.Errorf("node %d: the report has no row of fl-report:\n%s", i, out.Content)
			}
			if first == nil {
				first = out
				continue
			}
			if !aws.ToTime(out.GeneratedTime).Equal(aws.ToTime(first.GeneratedTime)) || string(out.Content) != string(first.Content) {
				t.Errorf("node %d answers a report generated at %v, node 0 one generated at %v", i, out.GeneratedTime, first.GeneratedTime)
			}
		}
		if n := flCount(t, st, store.KindCredentialReport, a.Account); n != 1 {
			t.Errorf("%d credential reports stored, want 1", n)
		}
	})

	t.Run("case=deletion task", func(t *testing.T) {
		r, err := a.IAM.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("autoscaling.amazonaws.com")})
		stsOK(t, err)
		name := aws.ToString(r.Role.RoleName)
		tasks := make([]string, len(f.nodes))
		errs := make([]error, len(f.nodes))
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for i, e := range f.nodes {
			wg.Go(func() {
				<-gate
				out, err := e.IAM.DeleteServiceLinkedRole(ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: aws.String(name)})
				if errs[i] = err; err == nil {
					tasks[i] = aws.ToString(out.DeletionTaskId)
				}
			})
		}
		close(gate)
		wg.Wait()
		var task string
		for i, err := range errs {
			if err != nil {
				// The role is gone for the nodes that came second (the message as in
				// TestServiceLinkedRolesSDK).
				stsErr(t, err, "NoSuchEntity", "The role with name "+name+" cannot be found.")
				continue
			}
			if task != "" {
				t.Errorf("node %d made a second deletion task %s (first %s)", i, tasks[i], task)
			}
			task = tasks[i]
		}
		if task == "" {
			t.Fatal("no node deleted the role")
		}
		for i, e := range f.nodes {
			out, err := e.IAM.GetServiceLinkedRoleDeletionStatus(ctx, &iam.GetServiceLinkedRoleDeletionStatusInput{DeletionTaskId: aws.String(task)})
			stsOK(t, err)
			if out.Status != iamtypes.DeletionTaskStatusTypeSucceeded {
				t.Errorf("node %d: task %s is %s, want SUCCEEDED", i, task, out.Status)
			}
			_, err = e.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
			stsErr(t, err, "NoSuchEntity", name)
		}
		if n := flCount(t, st, store.KindSLRDeletionTask, a.Account); n != 1 {
			t.Errorf("%d deletion tasks stored, want 1", n)
		}
	})
}

// TestFleetSessionKeyRotation makes the fleet's server key due for rotation on every node at
// once and has all three seal a session at the same moment: one new key replaces it fleet-wide,
// and sessions sealed under the old key and the new one verify on every node. Rotation is due
// after a day (session.DefaultRotateAfter), so the test plants a key made 25 hours ago before any
// node has sealed anything.
func TestFleetSessionKeyRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := flStart(t, 3)
	a := f.nodes[0]
	st := flStore(t, f.url)
	mk, err := secret.ParseKey(f.masterKey)
	stsOK(t, err)
	box, err := secret.NewBox(mk)
	stsOK(t, err)

	then := time.Now().Add(-25 * time.Hour)
	past := session.NewKeyring(st, box, func() time.Time { return then }, slog.New(slog.NewTextHandler(io.Discard, nil)), session.Options{})
	p := principal.Principal{Type: principal.Root, Account: a.Account, ARN: "arn:aws:iam::" + a.Account + ":root", UserID: a.Account,
		Session: &principal.Session{IssuedAt: then, Expires: time.Now().Add(time.Hour), UserID: a.Account}}
	old, err := past.Issue(ctx, &p, 0)
	stsOK(t, err)
	if n := flCount(t, st, session.KindKey, ""); n != 1 {
		t.Fatalf("%d server keys after planting the stale one, want 1", n)
	}

	outs := make([]*sts.GetSessionTokenOutput, len(f.nodes))
	errs := make([]error, len(f.nodes))
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i, e := range f.nodes {
		wg.Go(func() {
			<-gate
			outs[i], errs[i] = e.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
		})
	}
	close(gate)
	wg.Wait()
	tokens := []*ststypes.Credentials{{AccessKeyId: aws.String(old.AccessKeyID), SecretAccessKey: aws.String(old.SecretAccessKey), SessionToken: aws.String(old.SessionToken)}}
	for _, err := range errs {
		stsOK(t, err)
	}
	for _, out := range outs {
		tokens = append(tokens, out.Credentials)
	}

	if n := flCount(t, st, session.KindKey, ""); n != 2 {
		t.Errorf("%d server keys after three nodes rotated at once, want 2 (the stale one and one new)", n)
	}
	oldKey := flKeyID(t, old.SessionToken)
	newKey := flKeyID(t, aws.ToString(tokens[1].SessionToken))
	for i, c := range tokens[1:] {
		switch k := flKeyID(t, aws.ToString(c.SessionToken)); k {
		case oldKey:
			t.Errorf("node %d sealed with the stale key", i)
		case newKey:
		default:
			t.Errorf("node %d sealed with key %s, node 0 with %s", i, k, newKey)
		}
	}
	for i, c := range tokens {
		for j, e := range f.nodes {
			_, s := flSessionClients(e, c)
			id, err := s.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Errorf("token %d on node %d: %v", i, j, err)
				continue
			}
			if got := aws.ToString(id.Arn); got != p.ARN {
				t.Errorf("token %d on node %d: caller %s, want %s", i, j, got, p.ARN)
			}
		}
	}
}

// flKeyID is the server key id a session token names (its bytes 1 to 8).
func flKeyID(t *testing.T, token string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 9 {
		t.Fatalf("session token %q: %v", token, err)
	}
	return hex.EncodeToString(raw[1:9])
}
