package policy_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps policy, its subpackages and arn free of HTTP, SQL and the server's
// internal packages, so that other programs can import them.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps",
		"github.com/gatehouse-iam/gatehouse/policy/...", "github.com/gatehouse-iam/gatehouse/arn").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "net/http", dep == "database/sql",
			strings.HasPrefix(dep, "github.com/gatehouse-iam/gatehouse/internal/"):
			t.Errorf("policy depends on %s", dep)
		}
	}
}
