// Package prof wraps a service's Run in runtime/pprof for the benchmark's
// -profile mode: a CPU profile from start to exit and an allocation profile
// at exit. The shipped binaries never contain it.
package prof

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// RunFunc is a service's Run.
type RunFunc func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// Main runs run with the process's arguments and environment and exits 1 on
// error. When BENCH_PROFILE_PREFIX is set, it writes PREFIX.cpu.pprof and
// PREFIX.allocs.pprof (written once run returned, i.e. after SIGTERM and
// the drain).
func Main(name string, run RunFunc) {
	if err := main(name, run); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

func main(name string, run RunFunc) error {
	prefix := os.Getenv("BENCH_PROFILE_PREFIX")
	if prefix == "" {
		return run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	}
	cpu, err := os.Create(prefix + ".cpu.pprof")
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	defer cpu.Close()
	if err := pprof.StartCPUProfile(cpu); err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	runErr := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	pprof.StopCPUProfile()
	allocs, err := os.Create(prefix + ".allocs.pprof")
	if err != nil {
		return fmt.Errorf("allocs profile: %w", err)
	}
	defer allocs.Close()
	if err := pprof.Lookup("allocs").WriteTo(allocs, 0); err != nil {
		return fmt.Errorf("allocs profile: %w", err)
	}
	return runErr
}
