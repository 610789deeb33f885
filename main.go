// Command imagelabel is the Pulumi program of the image-labeling system: it
// builds both service images, pushes them to ECR and stands up the VPC, the
// ECS Fargate services with Service Connect, Cloud Map, the API Gateway HTTP
// API and the bucket.
//
// Run by the Pulumi CLI (`pulumi preview`, `pulumi up`) it is an ordinary
// Pulumi program. `go run . plan [--json] [--stack NAME] [--set key=value]`
// runs the same program offline under mocks and prints what it would
// declare; see plan.go. Run any other way it prints what it is and what to
// run instead.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/constant"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"imagelabel/infra"
	"imagelabel/internal/build"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr, runPulumi))
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
		err := runPlan(args[1:], ".", stdout)
		switch {
		case errors.Is(err, errHelp):
			return exitOK
		case errors.Is(err, errUsage):
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

// runPulumi runs the program for the Pulumi CLI. Unlike pulumi.Run, which
// logs any failure as one "unhandled error", it logs each config problem as
// its own error, so the CLI's count matches the problems listed.
func runPulumi() int {
	if plugins, _ := strconv.ParseBool(os.Getenv("PULUMI_PLUGINS")); plugins {
		pulumi.Run(program(buildImage, nil)) // prints the plugins; RunErr cannot
		return exitOK
	}
	err := pulumi.RunErr(logErrors(program(buildImage, nil), engineLog))
	if err == nil {
		return exitOK
	}
	if errors.As(err, new(loggedError)) {
		// Tells the CLI the errors are in its diagnostics already.
		return constant.ExitStatusLoggedError
	}
	fmt.Fprintln(os.Stderr, "imagelabel:", err)
	return exitError
}

// loggedError wraps an error the program already sent to the engine's log.
type loggedError struct{ error }

func (e loggedError) Unwrap() error { return e.error }

// engineLog sends msg to the Pulumi engine as an error diagnostic.
func engineLog(ctx *pulumi.Context, msg string) error { return ctx.Log.Error(msg, nil) }

// logErrors wraps body so that its error reaches the engine through logf:
// one message per config problem, else one message.
func logErrors(body pulumi.RunFunc, logf func(ctx *pulumi.Context, msg string) error) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		err := body(ctx)
		if err == nil {
			return nil
		}
		for _, msg := range errorLines(err) {
			if logErr := logf(ctx, msg); logErr != nil {
				return errors.Join(err, logErr)
			}
		}
		return loggedError{err}
	}
}

// errorLines splits err into the lines the engine should log: one per config
// problem, else the whole error.
func errorLines(err error) []string {
	var ce configErrors
	if errors.As(err, &ce) {
		return ce
	}
	return []string{fmt.Sprintf("program failed: %v", err)}
}

// program is the Pulumi program: read and validate the config once, declare
// everything, export the outputs. onExport, if not nil, also sees every
// exported output (the offline plan records them).
func program(b builder, onExport func(name string, v pulumi.StringOutput)) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		cfg, err := loadStackConfig(func(key string) (string, bool) {
			return ctx.GetConfig(configNamespace + ":" + key)
		}, configNames(os.Getenv(pulumi.EnvConfig)))
		if err != nil {
			return err
		}
		out, err := deploy(ctx, cfg, b)
		if err != nil {
			return err
		}
		for name, v := range out.Map() {
			ctx.Export(name, v)
			if onExport != nil {
				onExport(name, v)
			}
		}
		return nil
	}
}

// buildImage cross-compiles a service and lays out its Docker build context
// (imagelabel/internal/build). The Pulumi CLI runs the program in the
// project directory, which is the module root the build looks for.
func buildImage(service, goarch string) (infra.ImageSource, error) {
	res, err := build.Build(context.Background(), build.Options{Service: service, GOARCH: goarch, Log: os.Stderr})
	if err != nil {
		return infra.ImageSource{}, fmt.Errorf("build %s/%s: %w", service, goarch, err)
	}
	// Relative paths keep the stack's recorded inputs the same whichever
	// directory the project is checked out in (an absolute path would show
	// as a diff of the image on every other machine).
	return infra.ImageSource{Context: relPath(res.Context), Dockerfile: relPath(res.Dockerfile), Tag: res.Tag}, nil
}

// relPath returns p relative to the working directory when it lies below
// it, else p unchanged.
func relPath(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	rel, err := filepath.Rel(wd, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return p
	}
	return rel
}
