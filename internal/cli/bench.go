package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os/signal"
	"syscall"

	"github.com/gatehouse-iam/gatehouse/internal/loadgen"
)

func runBench(ctx context.Context, env Env, args []string) error {
	var cfg loadgen.Config
	output := outputFlag("text")
	fs := newFlagSet(env, "bench --endpoint URL [flags]", `Drives a running IAM/STS endpoint (Gatehouse, moto_server, ...) with N concurrent clients, each
sending SigV4-signed AWS Query requests in a closed loop, and prints req/s and p50/p99/max
latency per operation. Each operation runs as its own phase: a warm-up that is not counted,
then the measured duration. req/s counts successful (HTTP 200) responses; latencies are those
of successful requests, from sending to having read the whole response.

Before the phases, GetUser's target user bench-target-RUN is created; CreateUser creates
bench-RUN-CLIENT-N. Created users are not deleted; the report says how many there are.
The exit status is 1 when any request failed; the report is printed first.`)
	fs.StringVar(&cfg.Endpoint, "endpoint", "", "URL of the endpoint to drive, e.g. http://127.0.0.1:7400 (required)")
	fs.StringVar(&cfg.AccessKeyID, "access-key-id", "", "access key id to sign with (default $AWS_ACCESS_KEY_ID)")
	fs.StringVar(&cfg.SecretAccessKey, "secret-access-key", "", "secret access key to sign with (default $AWS_SECRET_ACCESS_KEY)")
	fs.StringVar(&cfg.SessionToken, "session-token", "", "session token of temporary credentials (default $AWS_SESSION_TOKEN when the access key id comes from the environment)")
	fs.IntVar(&cfg.Concurrency, "concurrency", loadgen.DefaultConcurrency, "number of concurrent clients, each with one request in flight")
	fs.DurationVar(&cfg.Duration, "duration", loadgen.DefaultDuration, "measured time of each operation")
	fs.DurationVar(&cfg.Warmup, "warmup", loadgen.DefaultWarmup, "time each operation runs before it is measured (0 for none)")
	fs.Func("ops", "comma-separated operations to run, in this order, each as its own phase (default "+benchOpNames(loadgen.DefaultOps())+"; also AssumeRole, signed by an IAM user the run creates for a role that trusts it)", func(s string) error {
		ops, err := loadgen.ParseOps(s)
		cfg.Ops = ops
		return err
	})
	fs.StringVar(&cfg.Region, "region", loadgen.DefaultRegion, "SigV4 signing region")
	fs.IntVar(&cfg.ListMaxItems, "list-max-items", loadgen.DefaultListMaxItems, "MaxItems of each ListUsers request (1-1000)")
	fs.DurationVar(&cfg.RequestTimeout, "request-timeout", loadgen.DefaultRequestTimeout, "how long to wait for a response's headers before the request counts as failed")
	fs.Var(&output, "output", "output format: text (a table) or json (for scripts)")
	var logFormat string
	logFormatFlag(fs, &logFormat, "text")
	if err := parse(fs, args); err != nil {
		return err
	}
	if cfg.Endpoint == "" {
		fmt.Fprintln(fs.Output(), "--endpoint is required")
		fs.Usage()
		return errUsage
	}
	if cfg.AccessKeyID == "" {
		cfg.AccessKeyID = env.Getenv("AWS_ACCESS_KEY_ID")
		if cfg.SessionToken == "" {
			// A session token belongs to the key it was issued with, so only the
			// environment's key takes the environment's token.
			cfg.SessionToken = env.Getenv("AWS_SESSION_TOKEN")
		}
	}
	if cfg.SecretAccessKey == "" {
		cfg.SecretAccessKey = env.Getenv("AWS_SECRET_ACCESS_KEY")
	}

	logger := newLogger(env.Stderr, logFormat, slog.LevelInfo)
	g, err := loadgen.New(cfg, logger)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rep, runErr := g.Run(ctx)
	if len(rep.Results) > 0 || runErr == nil {
		write := loadgen.WriteText
		if output == "json" {
			write = loadgen.WriteJSON
		}
		if err := write(env.Stdout, rep); err != nil {
			return err
		}
	}
	if runErr != nil {
		return runErr
	}
	var failed, total uint64
	for _, res := range rep.Results {
		failed += res.Errors
		total += res.Requests
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d requests failed", failed, total)
	}
	return nil
}

// benchOpNames returns the names of ops separated by commas, the form --ops takes.
func benchOpNames(ops []loadgen.Op) string {
	s := ""
	for i, op := range ops {
		if i > 0 {
			s += ","
		}
		s += string(op)
	}
	return s
}
