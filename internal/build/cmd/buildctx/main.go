// Command buildctx makes the Docker build context of one or more services
// with imagelabel/internal/build and prints, one per line, the context
// directory (or, with -json, the whole build.Result):
//
//	go run ./internal/build/cmd/buildctx -service upload -arch arm64
//	docker build -t imagelabel/upload "$(go run ./internal/build/cmd/buildctx -service upload)"
//
// -service takes a name, a comma-separated list, or "all".
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"imagelabel/internal/build"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "buildctx:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	fs := flag.NewFlagSet("buildctx", flag.ContinueOnError)
	fs.SetOutput(stderr)
	service := fs.String("service", "all", `service to build: `+strings.Join(build.Services(), ", ")+`, a comma-separated list, or "all"`)
	arch := fs.String("arch", "", "GOARCH: amd64 or arm64 (default: this machine's)")
	root := fs.String("root", "", "module root (default: the nearest go.mod upward)")
	out := fs.String("out", "", "context directory (one service only; default <root>/.build/<service>-linux-<arch>)")
	asJSON := fs.Bool("json", false, "print each build.Result as a JSON line")
	quiet := fs.Bool("q", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	svcs := build.Services()
	if *service != "all" {
		svcs = strings.Split(*service, ",")
	}
	if *out != "" && len(svcs) != 1 {
		return fmt.Errorf("-out needs exactly one -service, got %d", len(svcs))
	}
	logw := stderr
	if *quiet {
		logw = nil
	}
	for _, svc := range svcs {
		res, err := build.Build(ctx, build.Options{Root: *root, Service: strings.TrimSpace(svc), GOARCH: *arch, OutDir: *out, Log: logw})
		if err != nil {
			return err
		}
		if *asJSON {
			if err := json.NewEncoder(stdout).Encode(res); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintln(stdout, res.Context)
	}
	return nil
}
