package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestBackupRestore: `gatehouse backup` copies a serving deployment during a write load; the
// copy holds every user acknowledged before the backup began; `gatehouse restore` refuses a
// data directory without the master key and one with another key, and with the right key the
// restored deployment serves the same users and the same root key (a sealed secret) through
// aws-sdk-go-v2.
func TestBackupRestore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	p := startProcess(t, dir)
	client, _ := procClients(p, testRoot.KeyID, testRoot.Secret)
	for i := range 20 {
		if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("before-%02d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	// Writes go on while the backup runs.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("during-%04d", i))}); err != nil {
				t.Errorf("CreateUser during the backup: %v", err)
				return
			}
		}
	}()
	backup := filepath.Join(t.TempDir(), "gatehouse-backup.db")
	out, err := exec.Command(gatehouseBinary(t), "backup", "--data-dir", dir, "--to", backup).CombinedOutput()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if out, err := exec.Command(gatehouseBinary(t), "backup", "--data-dir", dir, "--to", backup).CombinedOutput(); err == nil {
		t.Errorf("a backup over an existing file succeeded: %s", out)
	}

	restore := func(target string, env ...string) (string, error) {
		cmd := exec.Command(gatehouseBinary(t), "restore", "--data-dir", target, "--from", backup)
		cmd.Env = append(withoutGatehouseEnv(os.Environ()), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// Without the master key, and with another deployment's, nothing is restored.
	target := t.TempDir()
	if out, err := restore(target); err == nil || !strings.Contains(out, "no master key") {
		t.Fatalf("restore without a master key: %v %s", err, out)
	}
	other := "GATEHOUSE_MASTER_KEY=" + strings.Repeat("ab", 32)
	if out, err := restore(target, other); err == nil || !strings.Contains(out, "not this deployment's key") {
		t.Fatalf("restore with another master key: %v %s", err, out)
	}
	if _, err := os.Stat(filepath.Join(target, "gatehouse.db")); err == nil {
		t.Fatalf("a refused restore left a database behind")
	}
	key, err := os.ReadFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "master.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := restore(target); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}

	// The restored deployment answers with the same root key and every user made before.
	q := startProcess(t, target)
	restored, restoredSTS := procClients(q, testRoot.KeyID, testRoot.Secret)
	if _, err := restoredSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity on the restored deployment: %v", err)
	}
	names := map[string]bool{}
	pages := iam.NewListUsersPaginator(restored, &iam.ListUsersInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Users {
			names[aws.ToString(u.UserName)] = true
		}
	}
	for i := range 20 {
		if n := fmt.Sprintf("before-%02d", i); !names[n] {
			t.Errorf("restored deployment lacks %s", n)
		}
	}
	t.Logf("restored %d users (20 before the backup, %d written during it)", len(names), len(names)-20)
}
