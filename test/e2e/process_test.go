package e2e

import (
	"bufio"
	"encoding/json"
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
	stdout strings.Builder
	mu     sync.Mutex
	logs   []string
	exited chan error
}

// testRoot is the root key the process tests bootstrap with.
var testRoot = struct{ Account, KeyID, Secret string }{"123456789012", "AKIAGATEHOUSETEST001", "gatehouseTestSecretKey0123456789abcdefghij"}

// startProcess runs `gatehouse serve` on dataDir with a random loopback port and waits until it
// listens. extraEnv adds environment variables (KEY=VALUE).
func startProcess(t *testing.T, dataDir string, extraEnv ...string) *proc {
	t.Helper()
	cmd := exec.Command(gatehouseBinary(t), "serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir)
	cmd.Env = append(os.Environ(),
		"GATEHOUSE_ACCOUNT_ID="+testRoot.Account,
		"GATEHOUSE_ROOT_ACCESS_KEY_ID="+testRoot.KeyID,
		"GATEHOUSE_ROOT_SECRET_ACCESS_KEY="+testRoot.Secret,
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	p := &proc{cmd: cmd, exited: make(chan error, 1)}
	cmd.Stdout = &p.stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs = append(p.logs, line)
			p.mu.Unlock()
			var rec struct{ Msg, Address string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "gatehouse listening" {
				addr <- rec.Address
			}
		}
	}()
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	select {
	case a := <-addr:
		p.URL = "http://" + a
	case err := <-p.exited:
		t.Fatalf("gatehouse exited before listening: %v\n%s", err, strings.Join(p.Logs(), "\n"))
	case <-time.After(30 * time.Second):
		t.Fatalf("gatehouse did not start listening\n%s", strings.Join(p.Logs(), "\n"))
	}
	return p
}

// Logs returns the log lines printed so far.
func (p *proc) Logs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.logs...)
}

// Kill sends SIGKILL and waits for the process to end.
func (p *proc) Kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
}

// Stop sends SIGTERM and returns the exit error (nil for a clean exit).
func (p *proc) Stop(t *testing.T) error {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("gatehouse did not stop within 30s of SIGTERM")
		return nil
	}
}
