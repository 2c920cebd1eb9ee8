// Package cli implements the gatehouse command's subcommands.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Env is what a subcommand may use of the process: its streams and environment.
type Env struct {
	Stdin          io.Reader // nil reads as empty
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the IAM and STS endpoint", runServe},
		{"account", "create and list accounts, set the root password (account create | list | set-root-password)", runAccount},
		{"bench", "load-test a running endpoint: req/s and p50/p99 per operation", runBench},
		{"policy", "validate policy documents, evaluate requests offline, find actions (policy validate | eval | actions)", runPolicy},
		{"trail", "write an account's audit trail as JSON lines (trail export --account ID)", runTrail},
		{"version", "print the version, the VCS revision and the Go version (also --version)", runVersion},
		{"backup", "write a consistent copy of the database while the server runs (backup --to FILE)", runBackup},
		{"restore", "restore a backup into a data directory without a database (restore --from FILE)", runRestore},
		{"export", "write the whole deployment to a file while the server runs (export --to FILE)", runExport},
		{"migrate", "bring the database's schema up to this version's (before upgrading a fleet)", runMigrate},
		{"import", "load an export into a data directory without accounts (import --from FILE)", runImport},
	}
}

// errUsage marks a usage error that has already been reported with the command's help.
var errUsage = errors.New("usage")

// Main runs the command line args (without the program name) and returns the exit code.
func Main(ctx context.Context, env Env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "--version" || args[0] == "-version" {
		args = append([]string{"version"}, args[1:]...)
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(env.Stderr, "gatehouse %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(env.Stderr, "gatehouse: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return 2
}

func usage(w io.Writer) {
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	var b strings.Builder
	b.WriteString("Gatehouse: AWS IAM and STS, self-hosted.\n\nUsage: gatehouse COMMAND [flags]\n\nCommands:\n")
	for _, c := range cs {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'gatehouse COMMAND --help' for a command's flags.\n")
	io.WriteString(w, b.String())
}

// newFlagSet returns a flag set that prints its usage with a synopsis and reports errors
// instead of exiting.
func newFlagSet(env Env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: gatehouse %s\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, returning errUsage for bad flags and flag.ErrHelp for --help.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(io.Discard)
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	return nil
}
