// Command imagelabel is the Pulumi program of the image-labeling system: it
// builds both service images, pushes them to ECR and stands up the VPC, the
// ECS Fargate services with Service Connect, Cloud Map, the API Gateway HTTP
// API and the bucket.
//
// Run by the Pulumi CLI (`pulumi preview`, `pulumi up`) it is an ordinary
// Pulumi program (imagelabel/internal/program). `go run . plan [--json]
// [--stack NAME] [--set key=value]` runs the same program offline under
// mocks and prints what it would declare (imagelabel/internal/plancmd). Run
// any other way it prints what it is and what to run instead. This file
// only dispatches.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"imagelabel/internal/plancmd"
	"imagelabel/internal/program"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr, program.Main))
}

// Exit statuses of run besides the Pulumi program's own.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2 // the convention of flag and most Unix tools
)

// usage is what the program says when run outside the Pulumi CLI.
const usage = `imagelabel is the Pulumi program of the image-labeling system: it builds the
upload and rekog images and deploys them to AWS (ECS Fargate behind an API
Gateway HTTP API). The Pulumi CLI runs it; it does nothing on its own.

Deploy or preview with the Pulumi CLI, in this directory:
  pulumi stack select dev      (or: pulumi stack init NAME)
  pulumi preview               what would change in AWS
  pulumi up                    build, push and deploy

See what it declares offline (no AWS account, no Docker, no credentials):
  go run . plan                readable tree of every resource
  go run . plan --json         the same as JSON
  go run . plan --help         flags and every config key with its default
`

// run dispatches on how the program was started: by the Pulumi CLI (which
// sets the engine's addresses in the environment: pulumi.Run reads
// PULUMI_MONITOR and PULUMI_ENGINE), as `plan`, or by hand. It returns the
// process's exit status. pulumiMain runs the Pulumi program.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer, pulumiMain func() int) int {
	if underPulumi(getenv) {
		return pulumiMain()
	}
	if len(args) > 0 && args[0] == "plan" {
		err := plancmd.Run(args[1:], ".", stdout)
		switch {
		case errors.Is(err, plancmd.ErrHelp):
			return exitOK
		case errors.Is(err, plancmd.ErrUsage):
			fmt.Fprintln(stderr, "plan:", err)
			return exitUsage
		case err != nil:
			fmt.Fprintln(stderr, "plan:", err)
			return exitError
		}
		return exitOK
	}
	if len(args) == 1 && isHelp(args[0]) {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	if len(args) > 0 {
		fmt.Fprintf(stderr, "imagelabel: unknown command %q\n\n", strings.Join(args, " "))
	} else {
		fmt.Fprint(stderr, "imagelabel: not started by the Pulumi CLI\n\n")
	}
	fmt.Fprint(stderr, usage)
	return exitUsage
}

func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// underPulumi reports whether the Pulumi CLI started the program: it passes
// the engine's gRPC addresses, or asks for the required plugins
// (PULUMI_PLUGINS), through the environment
// (github.com/pulumi/pulumi/sdk/v3/go/pulumi, run.go getEnvInfo).
func underPulumi(getenv func(string) string) bool {
	plugins, _ := strconv.ParseBool(getenv("PULUMI_PLUGINS"))
	return getenv(pulumi.EnvMonitor) != "" || getenv(pulumi.EnvEngine) != "" || plugins
}
