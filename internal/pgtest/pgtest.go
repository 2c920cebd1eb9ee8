// Package pgtest gives tests a real PostgreSQL server: a throwaway cluster on loopback, made with
// the initdb and pg_ctl of the machine's PostgreSQL (Debian's postgresql package), or the server
// named by GATEHOUSE_TEST_POSTGRES. Each test gets a database of its own.
//
// A package whose tests need PostgreSQL calls Main from its TestMain; the cluster lives as long
// as the test binary. Without PostgreSQL the tests skip, saying so, unless
// GATEHOUSE_REQUIRE_POSTGRES is set (CI sets it), in which case they fail.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables of the test harness.
const (
	// EnvServer is a URL of a PostgreSQL server on which the user may CREATE DATABASE; when set,
	// no cluster is started.
	EnvServer = "GATEHOUSE_TEST_POSTGRES"
	// EnvRequire makes a missing PostgreSQL fail the tests instead of skipping them.
	EnvRequire = "GATEHOUSE_REQUIRE_POSTGRES"
)

// server is the URL of the test binary's PostgreSQL server, set by Main; why is the reason it is
// missing. They are written once, before any test runs.
var (
	server  string
	why     string
	counter atomic.Int64
)

// Main starts a cluster (unless EnvServer names a server), runs the tests and stops it. Use it
// as: func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }.
func Main(m *testing.M) int {
	if u := os.Getenv(EnvServer); u != "" {
		server = u
		return m.Run()
	}
	if fuzzWorker() {
		why = "fuzz workers run no PostgreSQL"
		return m.Run()
	}
	c, err := Start(context.Background())
	if err != nil {
		why = err.Error()
		return m.Run()
	}
	server = c.URL("postgres")
	code := m.Run()
	if err := c.Remove(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
	}
	return code
}

// fuzzWorker reports whether this process is a worker of `go test -fuzz`, which runs only the
// fuzz target: starting a cluster per worker would be wasted.
func fuzzWorker() bool {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-test.fuzzworker") {
			return true
		}
	}
	return false
}

// Database creates an empty database for t on the test server and returns its URL; it is
// dropped when t ends. Without a server t skips (or fails, under EnvRequire).
func Database(t testing.TB) string {
	t.Helper()
	if server == "" {
		reason := why
		if reason == "" {
			reason = "pgtest.Main did not run in TestMain"
		}
		if os.Getenv(EnvRequire) != "" {
			t.Fatalf("PostgreSQL is required (%s) but unavailable: %s", EnvRequire, reason)
		}
		t.Skipf("no PostgreSQL to test against (%s); set %s or install postgresql", reason, EnvServer)
	}
	name := fmt.Sprintf("gh_test_%d_%d", os.Getpid(), counter.Add(1))
	u, err := CreateDatabase(context.Background(), server, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := DropDatabase(context.Background(), server, name); err != nil {
			t.Logf("pgtest: %v", err)
		}
	})
	return u
}

// CreateDatabase creates database name on the server at serverURL and returns its URL.
func CreateDatabase(ctx context.Context, serverURL, name string) (string, error) {
	if err := adminExec(ctx, serverURL, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// DropDatabase drops database name, closing the sessions still connected to it.
func DropDatabase(ctx context.Context, serverURL, name string) error {
	if err := adminExec(ctx, serverURL, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("pgtest: drop database %s: %w", name, err)
	}
	return nil
}

func adminExec(ctx context.Context, serverURL, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// Cluster is a PostgreSQL cluster in a directory of its own, listening on a loopback port.
type Cluster struct {
	dir  string // holds data/ and the server log
	bin  string // directory of initdb, pg_ctl and postgres
	port int
	cred *syscall.Credential // the user the server runs as, when this process is root
}

// superuser is the cluster's superuser, allowed in without a password from loopback only.
const superuser = "gatehouse"

// Start makes a new cluster in a temporary directory and starts it. It runs with fsync on, as
// in production: the durability tests rely on it.
func Start(ctx context.Context) (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gatehouse-pg-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	c := &Cluster{dir: dir, bin: bin}
	// PostgreSQL refuses to run as root; run it as the package's postgres user instead.
	if os.Geteuid() == 0 {
		if c.cred, err = postgresUser(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if err := os.Chown(dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
	if err := c.run(ctx, "initdb", "--pgdata", c.dataDir(), "--username", superuser, "--auth", "trust", "--encoding", "UTF8", "--no-instructions"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if c.port, err = freePort(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := c.StartServer(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// URL is the connection URL of database db.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, c.port, db)
}

// Port is the loopback port the cluster listens on.
func (c *Cluster) Port() int { return c.port }

// StartServer starts the server of the cluster (again) and waits until it accepts connections.
func (c *Cluster) StartServer(ctx context.Context) error {
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories='' -c max_connections=300 -c fsync=on", c.port)
	return c.run(ctx, "pg_ctl", "start", "--pgdata", c.dataDir(), "--wait", "--timeout", "60", "--log", filepath.Join(c.dir, "server.log"), "-o", opts)
}

// StopServer stops the server: "fast" ends sessions and shuts down cleanly; "immediate" is a
// crash (like kill -9 of the postmaster), after which the next start recovers from the WAL.
func (c *Cluster) StopServer(ctx context.Context, mode string) error {
	return c.run(ctx, "pg_ctl", "stop", "--pgdata", c.dataDir(), "--wait", "--mode", mode)
}

// Remove stops the server and deletes the cluster.
func (c *Cluster) Remove() error {
	err := c.StopServer(context.Background(), "immediate")
	return errors.Join(err, os.RemoveAll(c.dir))
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }

func (c *Cluster) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
		return fmt.Errorf("pgtest: %s %s: %w\n%s%s", name, strings.Join(args, " "), err, out, tail(log, 2000))
	}
	return nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// findBin finds the PostgreSQL server programs: on PATH (pg_ctl), else in Debian's
// /usr/lib/postgresql/<version>/bin, newest version first.
func findBin() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("pgtest: PostgreSQL's initdb and pg_ctl are not installed (Debian: apt-get install postgresql)")
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root needs the postgres user (Debian's postgresql package makes it): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
