// Package program is the Pulumi program of one stack: it reads and
// validates the stack's config (imagelabel/internal/stackconfig), settles
// where the stack goes and refuses at preview what AWS would refuse later
// (region, zones, endpoint and instance offerings, names), composes the
// component resources of imagelabel/infra into the whole system, the
// optional budget included, and exports the stack outputs. The Pulumi CLI
// runs it through Main; the offline plan runs RunFunc under mocks.
package program

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/constant"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"imagelabel/infra"
	"imagelabel/internal/build"
	"imagelabel/internal/stackconfig"
)

// Exit statuses of Main besides the Pulumi CLI's logged-error status.
const (
	exitOK    = 0
	exitError = 1
)

// Main runs the program for the Pulumi CLI and returns the process's exit
// status. Unlike pulumi.Run, which logs any failure as one "unhandled
// error", it logs each config problem as its own error, so the CLI's count
// matches the problems listed.
func Main() int {
	if plugins, _ := strconv.ParseBool(os.Getenv("PULUMI_PLUGINS")); plugins {
		pulumi.Run(RunFunc(BuildImage, nil)) // prints the plugins; RunErr cannot
		return exitOK
	}
	err := pulumi.RunErr(logErrors(RunFunc(BuildImage, nil), engineLog))
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
	var ce stackconfig.Errors
	if errors.As(err, &ce) {
		return ce
	}
	return []string{fmt.Sprintf("program failed: %v", err)}
}

// RunFunc is the Pulumi program: read and validate the config once, declare
// everything with images from b, export the outputs. onExport, if not nil,
// also sees every exported output (the offline plan records them).
func RunFunc(b Builder, onExport func(name string, v pulumi.StringOutput)) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		cfg, err := stackconfig.LoadStack(func(key string) (string, bool) {
			return ctx.GetConfig(stackconfig.Namespace + ":" + key)
		}, stackconfig.NamesIn(os.Getenv(pulumi.EnvConfig)))
		if err != nil {
			return err
		}
		out, err := Deploy(ctx, cfg, b)
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

// BuildImage is the Builder of `pulumi up`: it cross-compiles a service and
// lays out its Docker build context (imagelabel/internal/build). The Pulumi
// CLI runs the program in the project directory, which is the module root
// the build looks for.
func BuildImage(service, goarch string) (infra.ImageSource, error) {
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
