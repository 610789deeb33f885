// Package build compiles the services into static, reproducible linux binaries
// and lays out a Docker build context for each: the binary plus a copy of the
// service's app/<svc>/Dockerfile, and nothing else.
//
// The deploy (pulumi-docker) and the local container run both use it, so the
// image that runs on a laptop is built from the same bytes as the one in ECR.
// Two builds of the same source with the same Go version give byte-identical
// contexts, hence the same Digest and Tag: an unchanged service is neither
// rebuilt nor redeployed.
package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options says what to build and where.
type Options struct {
	// Root is the module root (the directory holding go.mod). "" means: search
	// for go.mod from the current directory upward.
	Root string
	// Service is one of Services().
	Service string
	// GOARCH is "amd64" or "arm64"; "" means runtime.GOARCH.
	GOARCH string
	// OutDir is the build context directory. "" means
	// <Root>/.build/<service>-linux-<goarch>. If it exists it may hold only the
	// files Build writes (Dockerfile and the binary), so a stale or foreign
	// file can never slip into an image.
	OutDir string
	// Log receives one progress line per step; nil discards them.
	Log io.Writer
	// Compiled, when set, is called as the go command compiles each package
	// that is not in its build cache: with the package's import path, how
	// many it has compiled so far and how many packages the build has in
	// all (0 until known), cached ones included. Nothing is called when
	// everything is cached. Calls come from one goroutine at a time.
	Compiled func(pkg string, n, total int)
}

// Result describes a finished build context.
type Result struct {
	// Context is the directory to pass to `docker build`: it holds exactly
	// Dockerfile and the binary.
	Context string
	// Dockerfile is the path of the Dockerfile inside Context.
	Dockerfile string
	// Binary is the path of the static linux binary inside Context.
	Binary string
	// Digest is the lowercase hex SHA-256 over the context's files (see
	// ContextDigest).
	Digest string
	// Tag is Digest[:12], a content-derived image tag.
	Tag string
}

// services lists the buildable services: each has app/<svc>/Dockerfile and
// a main package in app/<svc>/cmd/<svc>.
var services = []string{"localaws", "rekog", "upload"}

// archs lists the architectures Fargate runs (X86_64 and ARM64).
var archs = []string{"amd64", "arm64"}

// fixedMtime is stamped on every context file. `docker build` (legacy
// builder) copies file mtimes into the image layer, so a fixed time makes the
// layer itself reproducible, not only the binary.
var fixedMtime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Services returns the names of the buildable services, sorted.
func Services() []string { return slices.Clone(services) }

// Build compiles ./app/<svc>/cmd/<svc> for linux/<GOARCH> with CGO disabled,
// -trimpath, -buildvcs=false and -ldflags "-s -w -buildid=", and writes it with
// a copy of app/<svc>/Dockerfile into the context directory.
//
// Errors name the operation and argument: an unknown service or architecture,
// no go.mod, a missing Dockerfile, no go command in PATH, unexpected files in
// OutDir, or a failed compile (the error then carries the compiler output).
func Build(ctx context.Context, opts Options) (*Result, error) {
	svc, arch, err := checkTarget(opts)
	if err != nil {
		return nil, err
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}

	root, dockerfile, gobin, err := findInputs(opts.Root, svc)
	if err != nil {
		return nil, err
	}
	out, err := outDir(opts.OutDir, root, svc, arch)
	if err != nil {
		return nil, err
	}

	// Build into a sibling temporary directory and move each file into place
	// with rename(2): a concurrent builder or `docker build` reading the
	// context sees a whole old file or a whole new one, never half a binary.
	tmp, err := os.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", svc, err)
	}
	defer os.RemoveAll(tmp)

	pkg := mainPackage(svc)
	fmt.Fprintf(logw, "build: %s linux/%s: go build %s\n", svc, arch, pkg)
	start := time.Now()
	if err := goBuild(ctx, gobin, root, tmp, arch, []string{pkg}, opts.Compiled); err != nil {
		return nil, fmt.Errorf("build %s %w", svc, err)
	}
	res, err := finishContext(tmp, out, svc, dockerfile)
	if err != nil {
		return nil, err
	}
	logResult(logw, res, svc, arch, start)
	return res, nil
}

// finishContext completes the context in tmp, which holds the binary: it
// adds the Dockerfile, takes the digest and moves both files to out.
func finishContext(tmp, out, svc string, dockerfile []byte) (*Result, error) {
	if err := writeContextFiles(tmp, svc, dockerfile); err != nil {
		return nil, err
	}
	digest, err := ContextDigest(tmp)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", svc, err)
	}
	if err := moveContext(tmp, out, svc); err != nil {
		return nil, err
	}
	return &Result{
		Context:    out,
		Dockerfile: filepath.Join(out, "Dockerfile"),
		Binary:     filepath.Join(out, svc),
		Digest:     digest,
		Tag:        digest[:12],
	}, nil
}

// checkTarget validates the service and architecture of opts, resolving an
// empty GOARCH to runtime.GOARCH.
func checkTarget(opts Options) (svc, arch string, err error) {
	svc = opts.Service
	if !slices.Contains(services, svc) {
		return "", "", fmt.Errorf("build %q: unknown service (want one of %v)", svc, services)
	}
	arch = opts.GOARCH
	if arch == "" {
		arch = runtime.GOARCH
	}
	if !slices.Contains(archs, arch) {
		return "", "", fmt.Errorf("build %s: unsupported GOARCH %q (want one of %v)", svc, arch, archs)
	}
	return svc, arch, nil
}

// findInputs locates what a build needs before it touches any output: the
// module root, the service's Dockerfile and the go command.
func findInputs(rootOpt, svc string) (root string, dockerfile []byte, gobin string, err error) {
	root, err = moduleRoot(rootOpt)
	if err != nil {
		return "", nil, "", fmt.Errorf("build %s: %w", svc, err)
	}
	dockerfile, err = os.ReadFile(filepath.Join(root, "app", svc, "Dockerfile"))
	if err != nil {
		return "", nil, "", fmt.Errorf("build %s: read Dockerfile: %w", svc, err)
	}
	gobin, err = exec.LookPath("go")
	if err != nil {
		return "", nil, "", fmt.Errorf("build %s: go command not found in PATH: %w", svc, err)
	}
	return root, dockerfile, gobin, nil
}

// outDir returns the absolute build context directory (OutDir, or the
// default under <root>/.build), created and checked by prepareOutDir.
func outDir(outOpt, root, svc, arch string) (string, error) {
	out := outOpt
	defaultOut := out == ""
	if defaultOut {
		out = filepath.Join(root, ".build", svc+"-linux-"+arch)
	}
	out, err := filepath.Abs(out)
	if err != nil {
		return "", fmt.Errorf("build %s: out dir %s: %w", svc, outOpt, err)
	}
	if err := prepareOutDir(out, svc, defaultOut); err != nil {
		return "", fmt.Errorf("build %s: %w", svc, err)
	}
	return out, nil
}

// mainPackage is the main package of svc, relative to the module root.
func mainPackage(svc string) string { return "./app/" + svc + "/cmd/" + svc }

// goBuild compiles pkgs in one go command into dir, each binary named after
// its package's last element (app/<svc>/cmd/<svc>: <svc>), with the pinned
// flags and environment. One command for several binaries compiles the
// packages they share once. The error of a failed compile ("linux/<arch>:
// go build ...: exit status 1" and the compiler output) leaves naming the
// service or services to the caller.
//
// The flags keep the binary free of this machine (-trimpath: no file
// paths; -buildvcs=false and -buildid=: no commit or build id) and small
// (-s -w: no symbol table or DWARF). They, and CGO_ENABLED=0, also change
// every package's build cache key, so an ordinary `go build` or `go test`
// of the module shares nothing with this build, and the first one compiles
// the standard library and every dependency: on a cold cache, minutes.
func goBuild(ctx context.Context, gobin, root, dir, arch string, pkgs []string, compiled func(string, int, int)) error {
	args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -buildid="}
	var prog *progressWriter
	var out bytes.Buffer
	if compiled != nil {
		// -v names each package as it is compiled (cached ones are not).
		args = append(args, "-v")
		prog = &progressWriter{rest: &out, fn: compiled, total: func() int { return countPackages(gobin, root, arch, pkgs) }}
	}
	args = append(append(args, "-o", dir+string(filepath.Separator)), pkgs...)
	cmd := exec.CommandContext(ctx, gobin, args...)
	cmd.Dir = root
	cmd.Env = buildEnv(os.Environ(), arch)
	// One writer for both: exec then writes from one goroutine at a time
	// (two would race on out).
	var w io.Writer = &out
	if prog != nil {
		w = prog
	}
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	if prog != nil {
		prog.flush()
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("linux/%s: %w", arch, ctx.Err())
		}
		return fmt.Errorf("linux/%s: go build %s: %w\n%s", arch, strings.Join(pkgs, " "), err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// writeContextFiles adds the Dockerfile next to the binary in tmp and pins
// both files' modes and times.
func writeContextFiles(tmp, svc string, dockerfile []byte) error {
	if err := os.WriteFile(filepath.Join(tmp, "Dockerfile"), dockerfile, 0o644); err != nil {
		return fmt.Errorf("build %s: write Dockerfile: %w", svc, err)
	}
	// Fixed modes and times: umask and clock must not leak into the image.
	for name, mode := range map[string]fs.FileMode{svc: 0o755, "Dockerfile": 0o644} {
		p := filepath.Join(tmp, name)
		if err := os.Chmod(p, mode); err != nil {
			return fmt.Errorf("build %s: %w", svc, err)
		}
		if err := os.Chtimes(p, fixedMtime, fixedMtime); err != nil {
			return fmt.Errorf("build %s: %w", svc, err)
		}
	}
	return nil
}

// moveContext renames the finished files from tmp into out, one whole file
// at a time.
func moveContext(tmp, out, svc string) error {
	for _, name := range []string{svc, "Dockerfile"} {
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(out, name)); err != nil {
			return fmt.Errorf("build %s: %w", svc, err)
		}
	}
	return nil
}

// logResult writes the build's closing progress line: where the context is,
// the binary's size, the tag and how long the build took.
func logResult(logw io.Writer, res *Result, svc, arch string, start time.Time) {
	size := int64(-1)
	if fi, err := os.Stat(res.Binary); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(logw, "build: %s linux/%s: %s (%d bytes, tag %s) in %s\n",
		svc, arch, res.Context, size, res.Tag, time.Since(start).Round(time.Millisecond))
}

// buildEnv returns env with the settings that decide the binary's bytes
// pinned, so neither the caller's environment nor go env defaults change the
// output: static (no cgo), linux, the baseline instruction set of each arch
// (Fargate runs any x86-64 or Graviton generation), no workspace, no GOFLAGS
// (a caller's -race or -cover must not reach the image).
func buildEnv(env []string, arch string) []string {
	return append(slices.Clone(env),
		"CGO_ENABLED=0",
		"GOOS=linux",
		"GOARCH="+arch,
		"GOAMD64=v1",
		"GOARM64=v8.0",
		"GOFLAGS=",
		"GOWORK=off",
	)
}

// moduleRoot returns root made absolute after checking it holds go.mod, or,
// for "", the nearest directory at or above the current one that holds go.mod.
func moduleRoot(root string) (string, error) {
	if root != "" {
		abs, err := filepath.Abs(root)
		if err != nil {
			return "", fmt.Errorf("module root %s: %w", root, err)
		}
		if _, err := os.Stat(filepath.Join(abs, "go.mod")); err != nil {
			return "", fmt.Errorf("module root %s: %w", root, err)
		}
		return abs, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find module root: no go.mod in the current directory or any parent")
		}
		dir = parent
	}
}

// prepareOutDir creates out (and, for the default location, a .gitignore in
// .build so build output is never committed) and refuses a directory holding
// anything but the files Build writes.
func prepareOutDir(out, svc string, isDefault bool) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("out dir %s: %w", out, err)
	}
	if isDefault {
		ignore := filepath.Join(filepath.Dir(out), ".gitignore")
		if _, err := os.Stat(ignore); errors.Is(err, fs.ErrNotExist) {
			if err := os.WriteFile(ignore, []byte("# build contexts made by imagelabel/internal/build\n*\n"), 0o644); err != nil {
				return fmt.Errorf("out dir %s: %w", out, err)
			}
		}
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return fmt.Errorf("out dir %s: %w", out, err)
	}
	for _, e := range entries {
		if (e.Name() == svc || e.Name() == "Dockerfile") && e.Type().IsRegular() {
			continue
		}
		return fmt.Errorf("out dir %s: unexpected entry %q (a build context holds only Dockerfile and %s; use an empty directory)", out, e.Name(), svc)
	}
	return nil
}

// ContextDigest returns the lowercase hex SHA-256 over the regular files
// directly in dir, in byte order of their names; for each file it hashes the
// name, a NUL, the decimal size, a NUL, and the content. It fails on a
// subdirectory or any other non-regular entry, which a context never holds.
func ContextDigest(dir string) (string, error) {
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return "", fmt.Errorf("digest %s: %w", dir, err)
	}
	h := sha256.New()
	for _, e := range entries {
		if !e.Type().IsRegular() {
			return "", fmt.Errorf("digest %s: %s is not a regular file", dir, e.Name())
		}
		if err := hashFile(h, dir, e.Name()); err != nil {
			return "", fmt.Errorf("digest %s: %w", dir, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(w io.Writer, dir, name string) error {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s\x00%s\x00", name, strconv.FormatInt(fi.Size(), 10))
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return nil
}
