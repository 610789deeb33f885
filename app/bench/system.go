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
	tmp     string // HOME and profiles of the services
	logw    io.Writer
	profile string // directory for pprof profiles, "" for none
}

// system is the three processes of one run.
type system struct {
	localaws, rekog, upload *proc
}

func (s *system) stop() {
	// upload first, so it never sees rekog or localaws gone mid-request.
	s.upload.stop()
	s.rekog.stop()
	s.localaws.stop()
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
		s.localaws.stop()
		return nil, err
	}
	s.upload, err = startProc(ctx, "upload", rc.bins.Upload, nil,
		serviceEnv(rc, awsURL, "PORT="+ports[2], "REKOG_URL="+rekogURL, prof("upload")),
		"http://127.0.0.1:"+ports[2], "/healthz", rc.logw)
	if err != nil {
		s.rekog.stop()
		s.localaws.stop()
		return nil, err
	}
	return s, nil
}

// runOne measures one size at one concurrency: n uploads through a fresh
// system, then n direct backend calls (the ceiling) against the same
// localaws, each after an unmeasured warm-up of conc operations.
func runOne(ctx context.Context, rc runConfig, sc sizeClass, base []byte, conc, n int, tag string) (*result, error) {
	sys, err := startSystem(ctx, rc, tag)
	if err != nil {
		return nil, err
	}
	defer sys.stop()
	r := &result{Size: sc.Name, ImageBytes: len(base), Concurrency: conc}
	procs := []*proc{sys.upload, sys.rekog, sys.localaws}
	stats := []*procStats{&r.Upload, &r.Rekog, &r.Localaws}
	var before [3]float64
	measure := func() error {
		for i, p := range procs {
			if before[i], err = cpuSeconds(p.cmd.Process.Pid); err != nil {
				return err
			}
		}
		return nil
	}

	client := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: conc}}
	defer client.CloseIdleConnections()
	upOp := uploadOp(client, sys.upload.url, images{base: base, run: tag + "-sys"})
	runPhase(ctx, conc, 0, conc, upOp, nil) // warm-up
	if err := measure(); err != nil {
		return nil, err
	}
	r.System = drive(ctx, conc, 0, n, func(ctx context.Context, i int) error { return upOp(ctx, conc+i) })
	for i, p := range procs {
		pid := p.cmd.Process.Pid
		after, err := cpuSeconds(pid)
		if err != nil {
			return nil, err
		}
		stats[i].CPUPer1000 = (after - before[i]) * 1000 / float64(n)
		if stats[i].PeakRSS, err = peakRSS(pid); err != nil {
			return nil, err
		}
		stats[i].Startup = p.startup
	}

	if r.Ceiling, err = ceiling(ctx, sys.localaws.url, conc, n, images{base: base, run: tag + "-ceil"}); err != nil {
		return nil, err
	}
	if r.Ceiling.PerSecond > 0 {
		r.Ratio = r.System.PerSecond / r.Ceiling.PerSecond
	}
	if r.Ceiling.P99 > 0 {
		r.P99Ratio = float64(r.System.P99) / float64(r.Ceiling.P99)
	}
	return r, nil
}

// ceiling drives the direct backend calls with the services' own SDK
// configuration (awsconf), so SDK tuning helps the ceiling exactly as much
// as the services and the ratio isolates the services' own overhead.
func ceiling(ctx context.Context, awsURL string, conc, n int, im images) (loadResult, error) {
	env := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": awsURL,
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := awsconf.Load(ctx, getenv)
	if err != nil {
		return loadResult{}, fmt.Errorf("ceiling: %w", err)
	}
	do := ceilingOp(awsconf.NewS3(cfg, getenv), awsconf.NewRekognition(cfg, getenv), bucket, im)
	return drive(ctx, conc, conc, n, do), nil
}

// runsFor bounds a run's uploads by bytes: localaws keeps every object in
// memory (system, ceiling and warm-ups), so large images get fewer uploads,
// never fewer than two rounds of the concurrency.
func runsFor(n, conc, imageBytes int) int {
	const budget = 1 << 30
	return min(n, max(2*conc, budget/(2*imageBytes)))
}

var errNoRuns = errors.New("nothing to run: give at least one size and one concurrency")

func mkTemp() (string, error) {
	dir, err := os.MkdirTemp("", "imagelabel-bench-")
	if err != nil {
		return "", fmt.Errorf("temp dir: %w", err)
	}
	return dir, nil
}
