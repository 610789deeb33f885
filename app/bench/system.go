package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"imagelabel/app/internal/awsconf"
	"imagelabel/app/localaws"
)

// bucket is the bucket the benchmark's localaws creates.
const bucket = "imagelabel-bench"

// procStats are one service process's figures over one run.
type procStats struct {
	Startup time.Duration `json:"startupNs"`
	// PeakRSS is VmHWM at the end of the run: the process's peak since exec.
	PeakRSS int64 `json:"peakRssBytes"`
	// CPUPer1000 is utime+stime over the measured phase, per 1,000 uploads.
	CPUPer1000 float64 `json:"cpuSecondsPer1000"`
}

// result is one run: one image size at one concurrency.
type result struct {
	Size        string     `json:"size"`
	ImageBytes  int        `json:"imageBytes"`
	Concurrency int        `json:"concurrency"`
	System      loadResult `json:"system"`
	Ceiling     loadResult `json:"ceiling"`
	// Ratio is the system's uploads/s over the ceiling's; P99Ratio the
	// system's p99 over the ceiling's.
	Ratio    float64   `json:"ratio"`
	P99Ratio float64   `json:"p99Ratio"`
	Upload   procStats `json:"upload"`
	Rekog    procStats `json:"rekog"`
	Localaws procStats `json:"localaws"`
}

// runConfig is what every run shares.
type runConfig struct {
	bins    binaries
	tmp     string    // HOME and profiles of the services
	logw    io.Writer // the services' logs (stderr with -v)
	errw    io.Writer // the benchmark's own warnings (stderr)
	profile string    // directory for pprof profiles, "" for none
}

// system is the three processes of one run.
type system struct {
	localaws, rekog, upload *proc
}

// stop stops the processes, upload first so it never sees rekog or
// localaws gone mid-request, and reports any that did not exit cleanly on
// SIGTERM (the run's figures are taken by then; -v shows their logs).
func (s *system) stop(logw io.Writer) {
	if err := errors.Join(s.upload.stop(), s.rekog.stop(), s.localaws.stop()); err != nil {
		fmt.Fprintf(logw, "bench: stopping the services: %v\n", err)
	}
}

// serviceEnv is the whole environment of a service: nothing inherited from
// the shell (no AWS profile, proxy or endpoint can leak in); HOME is an
// empty directory so the SDK finds no shared config files.
func serviceEnv(rc runConfig, awsURL string, extra ...string) []string {
	return append([]string{
		"HOME=" + rc.tmp,
		"BUCKET=" + bucket,
		"AWS_REGION=us-east-1",
		"AWS_ENDPOINT_URL=" + awsURL,
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_EC2_METADATA_DISABLED=true",
	}, extra...)
}

// startSystem starts localaws, rekog and upload, each waiting for the one
// before to be healthy (as ECS starts rekog before upload).
func startSystem(ctx context.Context, rc runConfig, tag string) (*system, error) {
	var ports [3]string
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	awsURL := "http://127.0.0.1:" + ports[0]
	s := &system{}
	var err error
	s.localaws, err = startProc(ctx, "localaws", rc.bins.Localaws,
		[]string{"-addr", "127.0.0.1:" + ports[0], "-bucket", bucket, "-log-level", "warn"},
		[]string{"HOME=" + rc.tmp}, awsURL, localaws.HealthPath, rc.logw)
	if err != nil {
		return nil, err
	}
	prof := func(svc string) string {
		if rc.profile == "" {
			return "BENCH_PROFILE_PREFIX="
		}
		return "BENCH_PROFILE_PREFIX=" + filepath.Join(rc.profile, svc+"-"+tag)
	}
	rekogURL := "http://127.0.0.1:" + ports[1]
	s.rekog, err = startProc(ctx, "rekog", rc.bins.Rekog, nil,
		serviceEnv(rc, awsURL, "PORT="+ports[1], prof("rekog")), rekogURL, "/healthz", rc.logw)
	if err != nil {
		_ = s.localaws.stop() // the start-up error says enough
		return nil, err
	}
	s.upload, err = startProc(ctx, "upload", rc.bins.Upload, nil,
		serviceEnv(rc, awsURL, "PORT="+ports[2], "REKOG_URL="+rekogURL, prof("upload")),
		"http://127.0.0.1:"+ports[2], "/healthz", rc.logw)
	if err != nil {
		_, _ = s.rekog.stop(), s.localaws.stop() // the start-up error says enough
		return nil, err
	}
	return s, nil
}

// rounds is how many alternating rounds of system and ceiling a run has:
// the machine's background load changes over seconds, and alternating
// exposes both to the same changes.
const rounds = 4

// runOne measures one size at one concurrency: n uploads through a fresh
// system and n direct backend calls (the ceiling) against the same
// localaws, in alternating rounds, after an unmeasured warm-up of conc
// operations of each.
func runOne(ctx context.Context, rc runConfig, sc sizeClass, base []byte, conc, n int, tag string) (*result, error) {
	sys, err := startSystem(ctx, rc, tag)
	if err != nil {
		return nil, err
	}
	defer sys.stop(rc.errw)
	client := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: conc}}
	defer client.CloseIdleConnections()
	sysOp := uploadOp(client, sys.upload.url, images{base: base, run: tag + "-sys"})
	ceilOp, err := ceiling(ctx, sys.localaws.url, images{base: base, run: tag + "-ceil"})
	if err != nil {
		return nil, err
	}
	runPhase(ctx, conc, 0, conc, sysOp, nil) // warm-up: connections, lazy initialisation
	runPhase(ctx, conc, 0, conc, ceilOp, nil)

	procs := []*proc{sys.upload, sys.rekog, sys.localaws}
	var cpu [3]float64 // CPU seconds of each process during the system's rounds
	var sysM, ceilM meter
	from := conc
	for k := range rounds {
		m := n/rounds + btoi(k < n%rounds)
		before, err := cpuOf(procs)
		if err != nil {
			return nil, err
		}
		sysM.round(ctx, conc, from, m, sysOp)
		after, err := cpuOf(procs)
		if err != nil {
			return nil, err
		}
		for i := range cpu {
			cpu[i] += after[i] - before[i]
		}
		ceilM.round(ctx, conc, from, m, ceilOp)
		from += m
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &result{Size: sc.Name, ImageBytes: len(base), Concurrency: conc, System: sysM.result(), Ceiling: ceilM.result()}
	for i, st := range []*procStats{&r.Upload, &r.Rekog, &r.Localaws} {
		st.Startup = procs[i].startup
		st.CPUPer1000 = cpu[i] * 1000 / float64(n)
		if st.PeakRSS, err = peakRSS(procs[i].cmd.Process.Pid); err != nil {
			return nil, err
		}
	}
	if r.Ceiling.PerSecond > 0 {
		r.Ratio = r.System.PerSecond / r.Ceiling.PerSecond
	}
	if r.Ceiling.P99 > 0 {
		r.P99Ratio = float64(r.System.P99) / float64(r.Ceiling.P99)
	}
	return r, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func cpuOf(procs []*proc) ([3]float64, error) {
	var out [3]float64
	for i, p := range procs {
		v, err := cpuSeconds(p.cmd.Process.Pid)
		if err != nil {
			return out, err
		}
		out[i] = v
	}
	return out, nil
}

// ceiling returns the direct backend calls, made with the services' own SDK
// configuration (awsconf), so SDK tuning helps the ceiling exactly as much
// as the services and the ratio isolates the services' own overhead.
func ceiling(ctx context.Context, awsURL string, im images) (op, error) {
	env := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": awsURL,
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := awsconf.Load(ctx, getenv)
	if err != nil {
		return nil, fmt.Errorf("ceiling: %w", err)
	}
	return ceilingOp(awsconf.NewS3(cfg, getenv), awsconf.NewRekognition(cfg, getenv), bucket, im), nil
}

// runsFor bounds a run's uploads by bytes: localaws keeps every object in
// memory (system, ceiling and warm-ups), so large images get fewer uploads,
// never fewer than two rounds of the concurrency.
func runsFor(n, conc, imageBytes int) int {
	const budget = 1 << 30
	return min(n, max(2*conc, budget/(2*imageBytes)))
}

func mkTemp() (string, error) {
	dir, err := os.MkdirTemp("", "imagelabel-bench-")
	if err != nil {
		return "", fmt.Errorf("temp dir: %w", err)
	}
	return dir, nil
}
