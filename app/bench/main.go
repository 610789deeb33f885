// Command bench measures the imagelabel system against its ceiling. It
// builds localaws, rekog and upload as the static binaries the images hold,
// runs each as its own process on loopback (fresh for every run), drives
// POST /upload with distinct JPEGs, and then makes the same backend calls
// directly with aws-sdk-go-v2 against the same localaws at the same
// concurrency: the ceiling. For every image size and concurrency it reports
// uploads/s, p50/p90/p99, errors, the ratio to the ceiling, and per process
// peak RSS (VmHWM), CPU seconds per 1,000 uploads (/proc/PID/stat) and
// start-up to healthy; and the binaries' (= images') sizes. Linux only
// (it reads /proc). BENCHMARKS.md documents the method and the figures.
//
// Usage:
//
//	go run ./app/bench [-c 1,8,32,64] [-sizes 50KB,300KB,3MB,9MB] [-n 400] [-repeat 1] [-json] [-quick] [-profile DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	concs   []int
	sizes   []sizeClass
	n       int
	repeat  int
	json    bool
	profile string
	verbose bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	concs := fs.String("c", "1,8,32,64", "concurrencies, comma-separated")
	sizes := fs.String("sizes", "50KB,300KB,3MB,9MB", "image sizes, comma-separated: 50KB, 300KB, 3MB, 9MB")
	n := fs.Int("n", 400, "measured uploads per run (fewer for large images: about 1 GiB of images per run)")
	repeat := fs.Int("repeat", 1, "runs per size and concurrency; the table shows their median")
	quick := fs.Bool("quick", false, "one short run (50KB, concurrency 8, 24 uploads): proves the benchmark works, measures nothing")
	asJSON := fs.Bool("json", false, "print JSON (every run and the medians) instead of the table")
	profile := fs.String("profile", "", "run pprof-instrumented builds of upload and rekog, writing CPU and allocation profiles to this directory")
	verbose := fs.Bool("v", false, "show the services' logs and build steps on stderr")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o := options{n: *n, repeat: *repeat, json: *asJSON, profile: *profile, verbose: *verbose}
	if *quick {
		*concs, *sizes, o.n, o.repeat = "8", "50KB", 24, 1
	}
	for c := range strings.SplitSeq(*concs, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || v < 1 || v > 1024 {
			return o, fmt.Errorf("-c %q: want integers from 1 to 1024", *concs)
		}
		o.concs = append(o.concs, v)
	}
	for s := range strings.SplitSeq(*sizes, ",") {
		sc, err := findSize(strings.TrimSpace(s))
		if err != nil {
			return o, err
		}
		o.sizes = append(o.sizes, sc)
	}
	if o.n < 1 || o.repeat < 1 {
		return o, fmt.Errorf("-n and -repeat must be at least 1")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("linux only: peak RSS and CPU time are read from /proc")
	}
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	tmp, err := mkTemp()
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	logw := io.Discard
	if o.verbose {
		logw = stderr
	}
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return fmt.Errorf("profile dir: %w", err)
		}
	}
	fmt.Fprintln(stderr, "bench: building localaws, rekog and upload (static, as in the images)")
	real, bins, err := buildBinaries(ctx, tmp, o.profile != "", logw)
	if err != nil {
		return err
	}
	rc := runConfig{bins: bins, tmp: tmp, logw: logw, errw: stderr, profile: o.profile}
	rep := report{Machine: machine(), Binaries: map[string]int64{
		"localaws": fileSize(real.Localaws), "rekog": fileSize(real.Rekog), "upload": fileSize(real.Upload)}}
	for _, sc := range o.sizes {
		fmt.Fprintf(stderr, "bench: making a ~%s JPEG (%dx%d)\n", sc.Name, sc.Width, sc.Height)
		base, err := baseImage(sc)
		if err != nil {
			return err
		}
		for _, c := range o.concs {
			n := runsFor(o.n, c, len(base))
			var runs []result
			for i := range o.repeat {
				fmt.Fprintf(stderr, "bench: %s, concurrency %d, %d uploads (run %d of %d)\n", sc.Name, c, n, i+1, o.repeat)
				tag := fmt.Sprintf("%s-c%d-r%d-%d", sc.Name, c, i, time.Now().UnixNano())
				r, err := runOne(ctx, rc, sc, base, c, n, tag)
				if err != nil {
					return fmt.Errorf("run %s c=%d: %w", sc.Name, c, err)
				}
				runs = append(runs, *r)
			}
			rep.Runs = append(rep.Runs, runs...)
			rep.Medians = append(rep.Medians, median(runs))
		}
	}
	if o.json {
		return rep.writeJSON(stdout)
	}
	rep.writeTable(stdout)
	return nil
}
