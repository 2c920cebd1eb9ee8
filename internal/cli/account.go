package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
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
		}
	}
	fmt.Fprint(env.Stderr, "Usage: gatehouse account create|list [flags]\n\nRun 'gatehouse account create --help' for its flags.\n")
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

func openForCLI(ctx context.Context, env Env, cfg config.Config) (*app.App, error) {
	cfg.FromEnv(env.Getenv)
	cfg.Bootstrap = config.Credentials{} // only serve creates the first account from the environment
	logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return app.Open(ctx, cfg, logger)
}

func runAccountCreate(ctx context.Context, env Env, args []string) error {
	var cfg config.Config
	output := outputFlag("text")
	var want config.Credentials
	fs := newFlagSet(env, "account create [flags]", `Creates an account with its root user's access key, and prints them. The secret is shown
only here. It works while a server is running on the same data directory.`)
	cfg.DataDirFlag(fs)
	fs.Var(&output, "output", "output format: text or json (json prints {\"AccountId\", \"AccessKeyId\", \"SecretAccessKey\"})")
	fs.StringVar(&want.AccountID, "account-id", "", "12-digit account id (default: generated)")
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openForCLI(ctx, env, cfg)
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
	cfg.DataDirFlag(fs)
	fs.Var(&output, "output", "output format: text or json")
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openForCLI(ctx, env, cfg)
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

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
