package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/store"
)

// Child processes: the test binary re-executes itself with these variables set, and TestMain
// runs the child's part instead of the tests.
const (
	envChild  = "GATEHOUSE_SQLITE_TEST_CHILD" // "crash" or "write"
	envPath   = "GATEHOUSE_SQLITE_TEST_PATH"  // database file
	envPrefix = "GATEHOUSE_SQLITE_TEST_PREFIX"
	envCount  = "GATEHOUSE_SQLITE_TEST_COUNT" // records per worker, for "write"
)

const childAccount = "111111111111"

func TestMain(m *testing.M) {
	if mode := os.Getenv(envChild); mode != "" {
		os.Exit(runChild(mode))
	}
	os.Exit(m.Run())
}

// runChild is the child process: "crash" writes until it is killed, printing each acknowledged
// key; "write" writes a fixed number of records and exits 0 when every Update succeeded.
func runChild(mode string) int {
	ctx := context.Background()
	s, err := Open(ctx, os.Getenv(envPath), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	prefix := os.Getenv(envPrefix)
	var out sync.Mutex
	var failed sync.Once
	code := 0
	var wg sync.WaitGroup
	const workers = 8
	count, _ := strconv.Atoi(os.Getenv(envCount))
	for w := range workers {
		wg.Go(func() {
			for i := 0; mode == "crash" || i < count; i++ {
				key := fmt.Sprintf("%s-w%d-%06d", prefix, w, i)
				err := childWrite(ctx, s, key, i%5 == 4)
				if errors.Is(err, errChildFails) {
					continue
				}
				if err != nil {
					failed.Do(func() { code = 1 })
					fmt.Fprintf(os.Stderr, "update %s: %v\n", key, err)
					return
				}
				if mode == "crash" {
					// One write(2) per line, straight to the pipe: what the parent reads was
					// acknowledged before the kill.
					out.Lock()
					_, _ = os.Stdout.WriteString("ack " + key + "\n")
					out.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return code
}

// errChildFails is returned by the child's failing Updates.
var errChildFails = errors.New("deliberate failure")

// childWrite inserts a user record and a link to it in one Update; fail makes fn write both and
// then fail, so that nothing of it may be stored.
func childWrite(ctx context.Context, s store.Store, key string, fail bool) error {
	return s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.Insert(ctx, store.Record{Account: childAccount, Kind: store.KindUser, Key: key, ID: "AIDA" + key, Path: "/", Data: []byte(`{"k":"` + key + `"}`)}); err != nil {
			return err
		}
		if err := tx.AddLink(ctx, store.Link{Account: childAccount, Kind: store.LinkMember, From: "AGPAALL", To: "AIDA" + key}); err != nil {
			return err
		}
		if fail {
			return errChildFails
		}
		return nil
	})
}

// child returns the command that runs this test binary as a child.
func child(ctx context.Context, mode, path, prefix string, count int) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		envChild+"="+mode, envPath+"="+path, envPrefix+"="+prefix, envCount+"="+strconv.Itoa(count))
	return cmd
}

// TestCrashKeepsAcknowledgedWrites kills a writing child process with SIGKILL in the middle of
// its load, several times over the same file, and checks after each kill that every write the
// child acknowledged is in the file, that each Update is all-or-nothing, and that the database
// is intact. (kill -9 loses what was not written to the kernel; power loss also loses what was
// not fsynced, which synchronous=FULL covers and TestDurabilitySettings checks.)
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "crash.db")
	const rounds, killAfter = 3, 400
	var acked []string // over all rounds: a later crash must not lose an earlier write either
	for round := range rounds {
		got := crashChild(t, path, fmt.Sprintf("r%d", round), killAfter)
		if len(got) < killAfter {
			t.Fatalf("round %d: child acknowledged %d writes before the kill, want %d", round, len(got), killAfter)
		}
		acked = append(acked, got...)
		checkAfterCrash(t, path, acked)
	}
}

// crashChild runs a "crash" child on path, kills it once it has acknowledged killAfter writes,
// and returns every key it acknowledged.
func crashChild(t *testing.T, path, prefix string, killAfter int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := child(ctx, "crash", path, prefix, 0)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	killed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		key, ok := strings.CutPrefix(sc.Text(), "ack ")
		if !ok {
			t.Errorf("child printed %q", sc.Text())
			continue
		}
		acked = append(acked, key)
		if len(acked) == killAfter && !killed {
			// SIGKILL: no deferred function, no Close, no flush runs in the child.
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	// Lines written before the kill are still in the pipe and were read above.
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child exited before the kill: %v\n%s", err, stderr.String())
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != -1 {
		t.Fatalf("child did not die of the kill: %v\n%s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("child stderr:\n%s", stderr.String())
	}
	return acked
}

// checkAfterCrash reopens path and checks the acknowledged keys, atomicity and integrity.
func checkAfterCrash(t *testing.T, path string, acked []string) {
	t.Helper()
	ctx := t.Context()
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	var ok string
	if err := s.wconn.sql.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
	err = s.View(ctx, func(ctx context.Context, tx store.Tx) error {
		recs, err := tx.List(ctx, store.KindUser, childAccount, store.Query{})
		if err != nil {
			return err
		}
		links, err := tx.LinksFrom(ctx, childAccount, store.LinkMember, "AGPAALL")
		if err != nil {
			return err
		}
		have, linked := map[string]bool{}, map[string]bool{}
		for _, r := range recs {
			have[r.Key] = true
		}
		for _, l := range links {
			linked[strings.TrimPrefix(l.To, "AIDA")] = true
		}
		missing := 0
		for _, k := range acked {
			if !have[k] {
				missing++
				if missing <= 10 {
					t.Errorf("acknowledged key %q lost in the crash", k)
				}
			}
		}
		if missing > 0 {
			t.Errorf("%d of %d acknowledged keys lost", missing, len(acked))
		}
		// Each Update wrote a record and a link: both or neither survive.
		if len(have) != len(linked) {
			t.Errorf("%d records but %d links: an Update was stored in part", len(have), len(linked))
		}
		for k := range have {
			if !linked[k] {
				t.Errorf("record %q survived without its link", k)
			}
			if i := strings.LastIndexByte(k, '-'); i >= 0 {
				if n, err := strconv.Atoi(k[i+1:]); err == nil && n%5 == 4 {
					t.Errorf("record %q of a failed Update is stored", k)
				}
			}
		}
		t.Logf("%d acknowledged, %d stored (the rest committed after the last ack was printed)", len(acked), len(have))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestProcessesShareFile runs two writer processes and this one on one database file at the
// same time, as `gatehouse account create` next to a running server: every Update must succeed
// (no SQLITE_BUSY), and all records must be there.
func TestProcessesShareFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shared.db")
	s, err := Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	const perWorker = 60 // 8 workers per process
	var wg sync.WaitGroup
	for p := range 2 {
		wg.Go(func() {
			cmd := child(ctx, "write", path, fmt.Sprintf("p%d", p), perWorker)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("child %d: %v\n%s", p, err, out)
			}
		})
	}
	for w := range 8 {
		wg.Go(func() {
			for i := range perWorker {
				key := fmt.Sprintf("parent-w%d-%06d", w, i)
				if err := childWrite(ctx, s, key, i%5 == 4); err != nil && !errors.Is(err, errChildFails) {
					t.Errorf("parent update %s: %v", key, err)
					return
				}
			}
		})
	}
	wg.Wait()
	want := 3 * 8 * (perWorker - perWorker/5)
	err = s.View(ctx, func(ctx context.Context, tx store.Tx) error {
		n, err := tx.Count(ctx, store.KindUser, childAccount, "")
		if err == nil && n != want {
			err = fmt.Errorf("%d records, want %d", n, want)
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
}
