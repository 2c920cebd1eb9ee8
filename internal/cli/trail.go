package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-iam/gatehouse/internal/audit"
	"github.com/gatehouse-iam/gatehouse/internal/config"
)

// runTrail runs `gatehouse trail export`: the audit trail of an account as JSON lines, one
// CloudTrail record a line, newest first, read from the deployment while the server may run.
func runTrail(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "export" {
		fmt.Fprintln(env.Stderr, "Usage: gatehouse trail export --account ID [flags]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return errUsage
	}
	var cfg config.Config
	var account string
	fs := newFlagSet(env, "trail export --account ID [flags] > events.jsonl",
		"Writes the audit trail of an account (every IAM and STS call and protected-service decision,\n"+
			"as CloudTrail records) to standard output as JSON lines, newest first.")
	create := deploymentFlags(fs, &cfg)
	fs.StringVar(&account, "account", "", "the 12-digit account whose trail to write (required)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if account == "" {
		fmt.Fprintln(env.Stderr, "--account is required")
		fs.Usage()
		return errUsage
	}
	a, err := openDeployment(ctx, env, cfg, create)
	if err != nil {
		return err
	}
	defer a.Close()
	log, ok := a.EventLog()
	if !ok {
		return errors.New("this deployment's database keeps no audit trail")
	}
	return audit.WriteJSONLines(ctx, log, account, env.Stdout)
}
