package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

func runVersion(_ context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "version", "Prints the module version, the VCS revision it was built from and the Go version.")
	if err := parse(fs, args); err != nil {
		return err
	}
	bi, ok := debug.ReadBuildInfo()
	_, err := fmt.Fprint(env.Stdout, versionText(bi, ok))
	return err
}

// versionText describes a build: the main module's version ("devel" when it has none, as with
// go run and go test), the VCS revision with its time and whether the tree was modified (when
// go build stamped them), and the Go toolchain.
func versionText(bi *debug.BuildInfo, ok bool) string {
	version, revision, when, modified := "devel", "", "", false
	goVersion := runtime.Version()
	if ok && bi != nil {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			version = v
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "gatehouse %s\n", version)
	if revision == "" {
		b.WriteString("revision unknown\n")
	} else {
		details := []string{}
		if when != "" {
			details = append(details, when)
		}
		if modified {
			details = append(details, "modified")
		}
		fmt.Fprintf(&b, "revision %s", revision)
		if len(details) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(details, ", "))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}
