package cli

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionText(t *testing.T) {
	t.Parallel()
	platform := runtime.GOOS + "/" + runtime.GOARCH
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build info", nil, false, "gatehouse devel\nrevision unknown\n" + runtime.Version() + " " + platform + "\n"},
		{"go run", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Path: "github.com/gatehouse-iam/gatehouse", Version: "(devel)"}}, true,
			"gatehouse devel\nrevision unknown\ngo1.26.1 " + platform + "\n"},
		{"go build in a modified checkout", &debug.BuildInfo{GoVersion: "go1.26.1",
			Main: debug.Module{Path: "github.com/gatehouse-iam/gatehouse", Version: "v0.0.0-20261204010203-00bfea7e1c2d+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "00bfea7e1c2d3f4a5b6c7d8e9f0a1b2c3d4e5f60"},
				{Key: "vcs.time", Value: "2026-12-04T01:02:03Z"}, {Key: "vcs.modified", Value: "true"}}}, true,
			"gatehouse v0.0.0-20261204010203-00bfea7e1c2d+dirty\nrevision 00bfea7e1c2d3f4a5b6c7d8e9f0a1b2c3d4e5f60 (2026-12-04T01:02:03Z, modified)\ngo1.26.1 " + platform + "\n"},
		{"go install of a release", &debug.BuildInfo{GoVersion: "go1.26.1",
			Main:     debug.Module{Path: "github.com/gatehouse-iam/gatehouse", Version: "v1.2.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "false"}}}, true,
			"gatehouse v1.2.0\nrevision abc123\ngo1.26.1 " + platform + "\n"},
	} {
		if got := versionText(tc.bi, tc.ok); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// TestVersionCommand: `gatehouse version` and `gatehouse --version` print the same three
// lines, exit 0, and the top-level help lists the command.
func TestVersionCommand(t *testing.T) {
	t.Parallel()
	code, out, errOut := runCLI(t, "version")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || errOut != "" || len(lines) != 3 || !strings.HasPrefix(lines[0], "gatehouse ") ||
		!strings.HasPrefix(lines[1], "revision ") || !strings.HasPrefix(lines[2], "go1.") {
		t.Fatalf("version: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, out2, _ := runCLI(t, "--version"); code != 0 || out2 != out {
		t.Errorf("--version: exit %d, %q; want %q", code, out2, out)
	}
	if code, _, errOut := runCLI(t, "version", "extra"); code != 2 || !strings.Contains(errOut, `unexpected argument "extra"`) {
		t.Errorf("version extra: exit %d, %q", code, errOut)
	}
	if _, help, _ := runCLI(t, "--help"); !strings.Contains(help, "\n  version ") {
		t.Errorf("help does not list version:\n%s", help)
	}
}
