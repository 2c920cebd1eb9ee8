package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/internal/app"
	"github.com/gatehouse-iam/gatehouse/internal/config"
)

func runAccount(ctx context.Context, env Env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "create":
			return runAccountCreate(ctx, env, args[1:])
		case "list":
			return runAccountList(ctx, env, args[1:])
		case "set-root-password":
			return runAccountSetRootPassword(ctx, env, args[1:])
		}
	}
	fmt.Fprint(env.Stderr, "Usage: gatehouse account create|list|set-root-password [flags]\n\nRun 'gatehouse account SUBCOMMAND --help' for its flags.\n")
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		return nil
	}
	return errUsage
}

// outputFlag is --output: text or json.
type outputFlag string

func (o *outputFlag) String() string { return string(*o) }
func (o *outputFlag) Set(s string) error {
	if s != "text" && s != "json" {
		return fmt.Errorf("must be text or json")
	}
	*o = outputFlag(s)
	return nil
}

// openForCLI opens the deployment in cfg.DataDir for a command other than serve. A directory
// without one is refused, naming it: a command run from the wrong folder must not quietly start
// a second, empty deployment there.
func openForCLI(ctx context.Context, env Env, cfg config.Config) (*app.App, error) {
	return openDeployment(ctx, env, cfg, nil)
}

// openDeployment is openForCLI for a command with --init: create is that flag (nil for a command
// without one), and when it is set a new, empty deployment is created if there is none.
func openDeployment(ctx context.Context, env Env, cfg config.Config, create *bool) (*app.App, error) {
	cfg.FromEnv(env.Getenv)
	cfg.Bootstrap = config.Credentials{} // only serve creates the first account from the environment
	cfg.MustExist = create == nil || !*create
	a, err := app.Open(ctx, cfg, newLogger(env.Stderr, cfg.LogFormat, slog.LevelWarn))
	if errors.Is(err, app.ErrNoDeployment) {
		if create == nil {
			return nil, fmt.Errorf("%w; run gatehouse serve there first", err)
		}
		return nil, fmt.Errorf("%w; run gatehouse serve there first, or pass --init to create one", err)
	}
	return a, err
}

// deploymentFlags registers --data-dir, --init and --log-format, the flags of a command that
// opens a data directory.
func deploymentFlags(fs *flag.FlagSet, cfg *config.Config) *bool {
	cfg.DataDirFlag(fs)
	logFormatFlag(fs, &cfg.LogFormat, "text")
	return fs.Bool("init", false, "create a new, empty deployment in the data directory when it holds none (only serve does so otherwise)")
}

func runAccountCreate(ctx context.Context, env Env, args []string) error {
	var cfg config.Config
	output := outputFlag("text")
	var want config.Credentials
	fs := newFlagSet(env, "account create [flags]", `Creates an account with its root user's access key, and prints them. The secret is shown
only here. It works while a server is running on the same data directory.`)
	create := deploymentFlags(fs, &cfg)
	fs.Var(&output, "output", "output format: text or json (json prints {\"AccountId\", \"AccessKeyId\", \"SecretAccessKey\"})")
	fs.StringVar(&want.AccountID, "account-id", "", "12-digit account id (default: generated)")
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openDeployment(ctx, env, cfg, create)
	if err != nil {
		return err
	}
	defer a.Close()
	c, err := a.CreateAccount(ctx, want)
	if err != nil {
		return err
	}
	if output == "json" {
		return writeJSON(env.Stdout, app.CredentialsJSON(c))
	}
	_, err = fmt.Fprintf(env.Stdout, "AccountId:       %s\nAccessKeyId:     %s\nSecretAccessKey: %s\n", c.AccountID, c.AccessKeyID, c.SecretAccessKey)
	return err
}

func runAccountList(ctx context.Context, env Env, args []string) error {
	var cfg config.Config
	output := outputFlag("text")
	fs := newFlagSet(env, "account list [flags]", "Lists the accounts of the deployment.")
	create := deploymentFlags(fs, &cfg)
	fs.Var(&output, "output", "output format: text or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openDeployment(ctx, env, cfg, create)
	if err != nil {
		return err
	}
	defer a.Close()
	accounts, err := a.IAM.ListAccounts(ctx)
	if err != nil {
		return err
	}
	if output == "json" {
		type item struct {
			AccountID  string `json:"AccountId"`
			CreateDate string `json:"CreateDate"`
		}
		items := make([]item, 0, len(accounts))
		for _, acct := range accounts {
			items = append(items, item{acct.ID, acct.CreateDate.UTC().Format(time.RFC3339)})
		}
		return writeJSON(env.Stdout, items)
	}
	for _, acct := range accounts {
		if _, err := fmt.Fprintf(env.Stdout, "%s  %s\n", acct.ID, acct.CreateDate.UTC().Format(time.RFC3339)); err != nil {
			return err
		}
	}
	return nil
}

func runAccountSetRootPassword(ctx context.Context, env Env, args []string) error {
	var cfg config.Config
	var account string
	fs := newFlagSet(env, "account set-root-password --account ID [flags] < FILE", `Sets the console password of the account's root user, who then signs in to the web console
with the account id or alias and this password. The password is the first line of standard
input, never a flag, so it stays out of shell history and process lists:

    printf '%s\n' "$ROOT_PASSWORD" | gatehouse account set-root-password --account ID

It replaces any password the root user had. AWS's rules for root passwords apply: 8 to 128
characters, at least three of uppercase letters, lowercase letters, numbers and the symbols
! @ # $ % ^ & * ( ) < > [ ] { } | _ + - =, and not the account's id or alias. It works while
a server is running on the same data directory.`)
	create := deploymentFlags(fs, &cfg)
	fs.StringVar(&account, "account", "", "12-digit id of the account (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if account == "" {
		fmt.Fprint(fs.Output(), "--account is required\n")
		fs.Usage()
		return errUsage
	}
	pw, err := readPasswordLine(env, "Password for the root user of account "+account+" (shown as you type): ")
	if err != nil {
		return err
	}
	a, err := openDeployment(ctx, env, cfg, create)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.IAM.SetRootPassword(ctx, account, pw); err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.Stdout, "The root user of account %s has a new console password.\n", account)
	return err
}

// readPasswordLine reads the first line of standard input, without its line ending,
// prompting on standard error when it is a terminal. At most 1 KiB is read: a root password
// has at most 128 characters, and a longer line is refused by the rules.
func readPasswordLine(env Env, prompt string) (string, error) {
	if env.Stdin == nil {
		return "", errors.New("no password on standard input")
	}
	if f, ok := env.Stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(env.Stderr, prompt)
		}
	}
	line, err := bufio.NewReader(io.LimitReader(env.Stdin, 1024)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	if line == "" {
		return "", errors.New("no password on standard input: pipe it in, e.g. printf '%s\\n' \"$ROOT_PASSWORD\" | gatehouse account set-root-password --account ID")
	}
	line = strings.TrimSuffix(line, "\n")
	return strings.TrimSuffix(line, "\r"), nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
