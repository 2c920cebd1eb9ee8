package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the gatehouse command built once for the tests that run it as a process.
var binary struct {
	once sync.Once
	path string
	err  error
}

func gatehouseBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "gatehouse-e2e-bin-")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "gatehouse")
		out, err := exec.Command("go", "build", "-o", binary.path, "github.com/gatehouse-iam/gatehouse/cmd/gatehouse").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// proc is a gatehouse serve process.
type proc struct {
	cmd    *exec.Cmd
	URL    string
	stderr lockedBuffer // the logs
	mu     sync.Mutex
	stdout []string
	done   chan struct{} // closed when the process has exited
	err    error         // the exit status, once done is closed
}

// testRoot is the root key the process tests bootstrap with.
var testRoot = struct{ Account, KeyID, Secret string }{"123456789012", "AKIAGATEHOUSETEST001", "gatehouseTestSecretKey0123456789abcdefghij"}

// startProcess runs `gatehouse serve` on dataDir with a random loopback port, bootstrapped with
// testRoot, and waits until it listens. args are further serve flags.
func startProcess(t *testing.T, dataDir string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(gatehouseBinary(t), append([]string{"serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--data-dir", dataDir}, args...)...)
	cmd.Env = append(withoutGatehouseEnv(os.Environ()),
		"GATEHOUSE_ACCOUNT_ID="+testRoot.Account,
		"GATEHOUSE_ROOT_ACCESS_KEY_ID="+testRoot.KeyID,
		"GATEHOUSE_ROOT_SECRET_ACCESS_KEY="+testRoot.Secret,
	)
	p := &proc{cmd: cmd}
	startCmd(t, p)
	return p
}

// startCmd starts p.cmd, a serve command, and waits until it listens.
func startCmd(t *testing.T, p *proc) {
	t.Helper()
	cmd := p.cmd
	cmd.Stderr = &p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stdout = append(p.stdout, line)
			p.mu.Unlock()
			if a, ok := strings.CutPrefix(line, "Listening on "); ok {
				addr <- a
			}
		}
	}()
	p.done = make(chan struct{})
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	select {
	case a := <-addr:
		p.URL = "http://" + a
	case <-p.done:
		t.Fatalf("gatehouse exited before listening: %v\n%s", p.err, strings.Join(p.Logs(), "\n"))
	case <-time.After(30 * time.Second):
		t.Fatalf("gatehouse did not start listening\n%s", strings.Join(p.Logs(), "\n"))
	}
}

// Logs returns the log lines printed so far.
func (p *proc) Logs() []string { return strings.Split(strings.TrimSpace(p.stderr.String()), "\n") }

// Stdout returns what the process printed on standard output so far.
func (p *proc) Stdout() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.stdout, "\n")
}

// lockedBuffer is a bytes.Buffer safe for the exec copier and the test to share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Kill sends SIGKILL and waits for the process to end.
func (p *proc) Kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// Stop sends SIGTERM and returns the exit error (nil for a clean exit).
func (p *proc) Stop(t *testing.T) error {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
		return p.err
	case <-time.After(30 * time.Second):
		t.Fatal("gatehouse did not stop within 30s of SIGTERM")
		return nil
	}
}
