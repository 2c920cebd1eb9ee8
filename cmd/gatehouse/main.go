// Command gatehouse serves AWS IAM and STS. Run `gatehouse --help` for its commands.
package main

import (
	"context"
	"os"

	"github.com/gatehouse-iam/gatehouse/internal/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}, os.Args[1:]))
}
