// Command imagelabel is the Pulumi program of the image-labeling system: it
// builds both service images, pushes them to ECR and stands up the VPC, the
// ECS Fargate services with Service Connect, Cloud Map, the API Gateway HTTP
// API and the bucket.
//
// Run by the Pulumi CLI (`pulumi preview`, `pulumi up`) it is an ordinary
// Pulumi program. `go run . plan [--json] [--stack NAME] [--set key=value]`
// runs the same program offline under mocks and prints what it would
// declare; see plan.go.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"imagelabel/infra"
	"imagelabel/internal/build"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "plan" {
		if err := runPlan(os.Args[2:], ".", os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "plan:", err)
			os.Exit(1)
		}
		return
	}
	pulumi.Run(program(buildImage, nil))
}

// program is the Pulumi program: read and validate the config once, declare
// everything, export the outputs. onExport, if not nil, also sees every
// exported output (the offline plan records them).
func program(b builder, onExport func(name string, v pulumi.StringOutput)) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		cfg, err := loadConfig(func(key string) (string, bool) {
			return ctx.GetConfig(configNamespace + ":" + key)
		})
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
