package e2e

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-iam/gatehouse/internal/app"
	"github.com/gatehouse-iam/gatehouse/internal/config"
)

// benchEnv starts a server on loopback for a benchmark, as newEnv does for tests.
func benchEnv(b *testing.B) *env { return benchEnvWith(b, nil) }

// benchEnvWith is benchEnv with the configuration adjusted by adjust (nil: none).
func benchEnvWith(b *testing.B, adjust func(*config.Config)) *env {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := config.Config{DataDir: b.TempDir(), LogLevel: slog.LevelWarn}
	if adjust != nil {
		adjust(&cfg)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.Open(ctx, cfg, logger)
	if err != nil {
		b.Fatal(err)
	}
	root, _, err := a.Bootstrap(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	b.Cleanup(func() {
		cancel()
		<-done
		a.Close()
	})
	e := &env{URL: "http://" + ln.Addr().String(), Account: root.AccountID, DataDir: cfg.DataDir, Root: root, app: a}
	e.IAM, e.STS = e.clients(root.AccessKeyID, root.SecretAccessKey, "")
	return e
}

// benchRoleUser makes a user whose key may assume a role with a small permission policy.
func benchRoleUser(b *testing.B, e *env) (*sts.Client, string) {
	b.Helper()
	ctx := context.Background()
	u, err := e.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	k, err := e.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	r, err := e.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bench-role"),
		AssumeRolePolicyDocument: aws.String(trustDoc(`{"AWS":"`+aws.ToString(u.User.Arn)+`"}`, `"sts:AssumeRole"`, ""))})
	if err != nil {
		b.Fatal(err)
	}
	_, sc := e.clients(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), "")
	return sc, aws.ToString(r.Role.Arn)
}

// BenchmarkAssumeRole measures AssumeRole over loopback HTTP with aws-sdk-go-v2: SigV4
// verification, the trust-policy decision, sealing the session token, XML out. Reported as
// req/s as well.
func BenchmarkAssumeRole(b *testing.B) {
	e := benchEnv(b)
	sc, role := benchRoleUser(b, e)
	ctx := context.Background()
	in := &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("bench")}
	if _, err := sc.AssumeRole(ctx, in); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := sc.AssumeRole(ctx, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkGetCallerIdentityTemporary measures GetCallerIdentity signed with temporary
// credentials over loopback HTTP: the session token is opened on every request (no store
// read).
func BenchmarkGetCallerIdentityTemporary(b *testing.B) {
	e := benchEnv(b)
	sc, role := benchRoleUser(b, e)
	ctx := context.Background()
	out, err := sc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	_, rs := e.sessionClients(out.Credentials)
	if _, err := rs.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := rs.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
