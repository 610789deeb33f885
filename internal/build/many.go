package build

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// BuildServices is Build for several services of one architecture with a
// single `go build`: the packages they share (the runtime, net/http, the AWS
// SDK) are compiled once, where three Builds at once would each compile them
// (the go command does not share work in progress between processes). Each
// context and digest is the one Build gives: same flags, same environment,
// byte-identical binaries.
//
// The contexts go to their default directories, <root>/.build/<svc>-linux-<arch>;
// opts.Service and opts.OutDir must be empty. The results are in the order of
// services.
func BuildServices(ctx context.Context, opts Options, services []string) ([]*Result, error) {
	if opts.Service != "" || opts.OutDir != "" {
		return nil, fmt.Errorf("build %v: Service and OutDir must be empty (each service has its own context directory)", services)
	}
	if len(services) == 0 {
		return nil, fmt.Errorf("build: no services given")
	}
	jobs := make([]job, len(services))
	var gobin, root, arch string
	for i, svc := range services {
		o := opts
		o.Service = svc
		var err error
		if _, arch, err = checkTarget(o); err != nil {
			return nil, err
		}
		j := job{svc: svc}
		if root, j.dockerfile, gobin, err = findInputs(opts.Root, svc); err != nil {
			return nil, err
		}
		if j.out, err = outDir("", root, svc, arch); err != nil {
			return nil, err
		}
		jobs[i] = j
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	return buildJobs(ctx, gobin, root, arch, jobs, opts.Compiled, logw)
}

// job is one service of BuildServices.
type job struct {
	svc        string
	dockerfile []byte
	out        string
}

// buildJobs compiles every job's binary with one go command into a
// temporary directory beside the contexts (all under <root>/.build), then
// lays out and moves each context into place as Build does.
func buildJobs(ctx context.Context, gobin, root, arch string, jobs []job, compiled func(string, int, int), logw io.Writer) ([]*Result, error) {
	names := make([]string, len(jobs))
	pkgs := make([]string, len(jobs))
	for i, j := range jobs {
		names[i], pkgs[i] = j.svc, mainPackage(j.svc)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(jobs[0].out), ".services.tmp-")
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", strings.Join(names, ", "), err)
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bin")
	fmt.Fprintf(logw, "build: %s linux/%s: go build %s\n", strings.Join(names, ", "), arch, strings.Join(pkgs, " "))
	start := time.Now()
	if err := goBuild(ctx, gobin, root, bin, arch, pkgs, compiled); err != nil {
		return nil, fmt.Errorf("build %s %w", strings.Join(names, ", "), err)
	}
	results := make([]*Result, len(jobs))
	for i, j := range jobs {
		dir := filepath.Join(tmp, j.svc)
		if err := os.Mkdir(dir, 0o755); err != nil {
			return nil, fmt.Errorf("build %s: %w", j.svc, err)
		}
		if err := os.Rename(filepath.Join(bin, j.svc), filepath.Join(dir, j.svc)); err != nil {
			return nil, fmt.Errorf("build %s: %w", j.svc, err)
		}
		if results[i], err = finishContext(dir, j.out, j.svc, j.dockerfile); err != nil {
			return nil, err
		}
		logResult(logw, results[i], j.svc, arch, start)
	}
	return results, nil
}

// progressWriter is the go command's stderr under -v: a line that is an
// import path is a package being compiled and goes to fn; anything else
// (errors, downloads) to rest, for the error message.
type progressWriter struct {
	rest  io.Writer
	fn    func(pkg string, n, total int)
	total func() int // called once, at the first package: cached builds never pay for it

	buf      []byte
	n, count int
}

func (w *progressWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

// flush handles a last line without a newline.
func (w *progressWriter) flush() {
	if len(w.buf) > 0 {
		w.line(string(w.buf))
		w.buf = nil
	}
}

func (w *progressWriter) line(l string) {
	// Import paths have no spaces or colons; the go command's other lines
	// ("# pkg", "file.go:3:1: ...", "go: downloading ...") do.
	if l == "" || strings.ContainsAny(l, " \t:") || strings.HasPrefix(l, "#") {
		fmt.Fprintln(w.rest, l)
		return
	}
	if w.n == 0 {
		w.count = w.total()
	}
	w.n++
	w.fn(l, w.n, w.count)
}

// countPackages returns how many packages building pkgs involves, the
// standard library's included (`go list -deps`); 0 when go list fails.
func countPackages(gobin, root, arch string, pkgs []string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, append([]string{"list", "-deps"}, pkgs...)...)
	cmd.Dir = root
	cmd.Env = buildEnv(os.Environ(), arch)
	out, err := cmd.Output()
	if err != nil {
		return 0
	}
	return bytes.Count(out, []byte("\n"))
}
