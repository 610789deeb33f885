package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"imagelabel/app/localaws"
	"imagelabel/app/rekog"
	"imagelabel/app/upload"
)

// Timeouts of the in-process run.
const (
	// readyTimeout bounds the wait for the services' /healthz after start.
	readyTimeout = 30 * time.Second
	// stopTimeout bounds each service's graceful shutdown; it is longer than
	// the services' own drain bound (25 s), so they get to finish first.
	stopTimeout = 30 * time.Second
)

// runInProcess runs localaws, rekog and upload in this process on loopback
// until ctx is cancelled, then stops them in the reverse order of the request
// flow (upload, rekog, localaws) so that in-flight requests can finish.
func runInProcess(ctx context.Context, cfg config, stdout io.Writer, logs *logMux) error {
	start := time.Now()
	if dropped := dropShellAWSEnv(); len(dropped) > 0 {
		fmt.Fprintf(stdout, "not using %s from the environment: the local run talks only to localaws\n", strings.Join(dropped, ", "))
	}
	dataDesc, err := absDataDir(&cfg)
	if err != nil {
		return err
	}

	// Every port is bound before anything starts, so a taken port is a clear
	// one-line error and not a half-started system.
	lns, err := listenAll([]portSpec{
		{"upload", cfg.port, "port"},
		{"rekog", cfg.rekogPort, "rekog-port"},
		{"localaws", cfg.awsPort, "aws-port"},
	})
	if err != nil {
		return err
	}
	uploadLn, rekogLn, awsLn := lns[0], lns[1], lns[2]
	uploadURL := fmt.Sprintf("http://%s:%d", loopback, portOf(uploadLn))
	rekogURL := fmt.Sprintf("http://%s:%d", loopback, portOf(rekogLn))
	awsURL := fmt.Sprintf("http://%s:%d", loopback, portOf(awsLn))

	awsLogW := logs.writer("localaws")
	aws, err := newLocalAWS(cfg, awsLogW)
	if err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		return fmt.Errorf("start localaws (data %s): %w", dataDesc, err)
	}
	rekogEnv, uploadEnv := inProcessEnv(cfg, awsURL, rekogURL, portOf(rekogLn), portOf(uploadLn))

	// Each service gets its own context so shutdown can go in order.
	base := context.WithoutCancel(ctx)
	uploadCtx, stopUpload := context.WithCancel(base)
	rekogCtx, stopRekog := context.WithCancel(base)
	defer stopUpload()
	defer stopRekog()

	p := &inProcess{base: base, stopUpload: stopUpload, stopRekog: stopRekog,
		exits: make(chan serviceExit, 3), awsLogW: awsLogW}
	p.serveAWS(aws, awsLn)
	p.rekogLogW = logs.writer("rekog")
	go func() {
		p.exits <- serviceExit{"rekog", rekog.Serve(rekogCtx, rekogLn, serviceEnv(rekogEnv), p.rekogLogW)}
	}()
	p.uploadLogW = logs.writer("upload")
	go func() {
		p.exits <- serviceExit{"upload", upload.Serve(uploadCtx, uploadLn, serviceEnv(uploadEnv), p.uploadLogW)}
	}()

	if ready, err := p.waitReady(ctx, uploadURL, rekogURL, awsURL); !ready {
		return err
	}
	printBanner(stdout, banner{
		mode:      "one process",
		upload:    uploadURL,
		data:      dataDesc,
		bucket:    cfg.bucket,
		extra:     fmt.Sprintf("  rekog:     %s (private in AWS: only upload calls it)\n  localaws:  %s (S3 + Rekognition stand-in)\n", rekogURL, awsURL),
		startedIn: time.Since(start),
	})
	return p.runUntilStopped(ctx, stdout)
}

// dropShellAWSEnv removes every AWS_* variable from this process's
// environment and returns their names. The services get their settings from
// serviceEnv, but the AWS SDK also reads the process environment itself:
// AWS_PROFILE=foo (common for AWS CLI users) made it require profile foo and
// the run exit at once, and AWS_RETRY_MODE, AWS_CA_BUNDLE or
// AWS_REQUEST_CHECKSUM_CALCULATION with values meant for other tools did the
// same. The local run talks only to its own stand-in.
func dropShellAWSEnv() []string {
	var dropped []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") {
			_ = os.Unsetenv(name)
			dropped = append(dropped, name)
		}
	}
	slices.Sort(dropped)
	return dropped
}

// absDataDir makes cfg.dataDir absolute and returns how the banner and
// errors describe where the data is kept.
func absDataDir(cfg *config) (string, error) {
	dataDesc := "in memory, nothing kept after exit"
	if cfg.dataDir != "" {
		abs, err := filepath.Abs(cfg.dataDir)
		if err != nil {
			return "", fmt.Errorf("data directory %s: %w", cfg.dataDir, err)
		}
		cfg.dataDir = abs
		dataDesc = abs
	}
	return dataDesc, nil
}

// newLocalAWS creates the S3 + Rekognition stand-in, logging as JSON to w at
// the services' level.
func newLocalAWS(cfg config, w io.Writer) (*localaws.Server, error) {
	level, _ := parseLevel(cfg.logLevel) // validated by parseFlags
	return localaws.New(localaws.Options{
		Dir:     cfg.dataDir,
		Buckets: []string{cfg.bucket},
		Logger:  slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})),
	})
}

// inProcessEnv returns rekog's and upload's environments.
func inProcessEnv(cfg config, awsURL, rekogURL string, rekogPort, uploadPort int) (rekogEnv, uploadEnv map[string]string) {
	// The services' environment: what their ECS task definitions give them,
	// with the AWS endpoint pointed at localaws.
	common := map[string]string{
		"BUCKET":                    cfg.bucket,
		"AWS_REGION":                defaultRegion,
		"AWS_ENDPOINT_URL":          awsURL,
		"AWS_ACCESS_KEY_ID":         fakeKey,
		"AWS_SECRET_ACCESS_KEY":     fakeKey,
		"AWS_EC2_METADATA_DISABLED": "true",
		"LOG_LEVEL":                 cfg.logLevel,
	}
	rekogEnv = clone(common)
	rekogEnv["PORT"] = itoa(rekogPort)
	uploadEnv = clone(common)
	uploadEnv["PORT"] = itoa(uploadPort)
	uploadEnv["REKOG_URL"] = rekogURL
	uploadEnv["MAX_UPLOAD_BYTES"] = fmt.Sprint(cfg.maxUpload)
	return rekogEnv, uploadEnv
}

// namedError is a service's error under a prefix that names the service.
type namedError struct {
	msg string
	err error
}

func (e namedError) Error() string { return e.msg }
func (e namedError) Unwrap() error { return e.err }

// serviceError returns err prefixed with prefix, dropping the service's own
// "name: " prefix from err's message: the services name themselves in their
// errors ("upload: load aws config: ..."), which read "upload: upload: ...".
func serviceError(prefix, name string, err error) error {
	return namedError{msg: prefix + strings.TrimPrefix(err.Error(), name+": "), err: err}
}

// serviceExit is a service's Serve returning, with its error.
type serviceExit struct {
	name string
	err  error
}

// inProcess is the running services of an in-process run: what it takes to
// stop them in order and collect how they ended.
type inProcess struct {
	base                  context.Context // the run's context, never cancelled
	stopUpload, stopRekog context.CancelFunc
	exits                 chan serviceExit
	awsSrv                *http.Server

	awsLogW, rekogLogW, uploadLogW *lineWriter
}

// serveAWS serves localaws on ln; its end is reported on p.exits.
func (p *inProcess) serveAWS(aws *localaws.Server, ln net.Listener) {
	p.awsSrv = &http.Server{
		Handler:           aws,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(slog.NewJSONHandler(p.awsLogW, nil), slog.LevelWarn),
	}
	go func() {
		err := p.awsSrv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		p.exits <- serviceExit{"localaws", err}
	}()
}

// stopAll shuts the services down in order and collects their exits;
// first is the exit that caused the stop, if any.
func (p *inProcess) stopAll(first *serviceExit) error {
	var errs []error
	if first != nil && first.err != nil {
		errs = append(errs, serviceError(first.name+" stopped: ", first.name, first.err))
	}
	done := map[string]bool{}
	if first != nil {
		done[first.name] = true
	}
	wait := func(name string) {
		timer := time.NewTimer(stopTimeout)
		defer timer.Stop()
		for !done[name] {
			select {
			case e := <-p.exits:
				done[e.name] = true
				if e.err != nil {
					errs = append(errs, serviceError(e.name+": ", e.name, e.err))
				}
			case <-timer.C:
				errs = append(errs, fmt.Errorf("%s did not stop within %v", name, stopTimeout))
				done[name] = true
			}
		}
	}
	p.stopUpload()
	wait("upload")
	p.stopRekog()
	wait("rekog")
	sctx, cancel := context.WithTimeout(p.base, stopTimeout)
	defer cancel()
	if err := p.awsSrv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("localaws shutdown: %w", err))
		p.awsSrv.Close()
	}
	wait("localaws")
	p.uploadLogW.Flush()
	p.rekogLogW.Flush()
	p.awsLogW.Flush()
	return errors.Join(errs...)
}

// waitReady waits until all three services answer their health checks. When
// they do not (ctx cancelled, too slow, or one exited) it has stopped them
// and returns ready false with the error to return.
func (p *inProcess) waitReady(ctx context.Context, uploadURL, rekogURL, awsURL string) (ready bool, err error) {
	// Ready when all three answer their health checks (rekog's and
	// localaws's too: upload's /healthz does not touch its dependencies).
	readyCtx, cancelReady := context.WithTimeout(ctx, readyTimeout)
	readyErr := make(chan error, 1)
	go func() {
		readyErr <- waitHealthy(readyCtx, uploadURL+"/healthz", rekogURL+"/healthz", awsURL+"/_localaws/healthz")
	}()
	select {
	case err := <-readyErr:
		cancelReady()
		if err != nil {
			if ctx.Err() != nil {
				return false, p.stopAll(nil)
			}
			return false, errors.Join(fmt.Errorf("services did not become ready: %w", err), p.stopAll(nil))
		}
	case e := <-p.exits:
		cancelReady()
		if e.err == nil {
			e.err = errors.New("exited during start-up")
		}
		return false, p.stopAll(&e)
	}
	return true, nil
}

// runUntilStopped waits for ctx to end (Ctrl-C) or a service to exit on its
// own, then stops them all.
func (p *inProcess) runUntilStopped(ctx context.Context, stdout io.Writer) error {
	select {
	case <-ctx.Done():
		fmt.Fprintln(stdout, "stopping (Ctrl-C again to force) ...")
		err := p.stopAll(nil)
		if err == nil {
			fmt.Fprintln(stdout, "stopped")
		}
		return err
	case e := <-p.exits:
		if e.err == nil {
			e.err = errors.New("exited unexpectedly")
		}
		return p.stopAll(&e)
	}
}

// banner is what the user needs once the system is up.
type banner struct {
	mode      string
	upload    string // base URL, no trailing slash
	data      string
	bucket    string
	extra     string
	startedIn time.Duration
}

// printBanner tells the user where to point a browser and the client.
func printBanner(w io.Writer, b banner) {
	fmt.Fprintf(w, `
imagelabel is running locally (%s, no AWS account), ready in %v
  browser:   %s/
  client:    go run ./app/client --url %s upload FILE
  data:      %s (bucket %s)
%sPress Ctrl-C to stop.

`, b.mode, b.startedIn.Round(time.Millisecond), b.upload, b.upload, b.data, b.bucket, b.extra)
}

// waitHealthy polls each URL until it answers 200 or ctx ends.
func waitHealthy(ctx context.Context, urls ...string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	for _, u := range urls {
		var last error
		for {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				return fmt.Errorf("health check %s: %w", u, err)
			}
			resp, err := client.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body) //nolint:errcheck // draining only
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
				err = fmt.Errorf("status %s", resp.Status)
			}
			last = err
			select {
			case <-ctx.Done():
				if last == nil {
					return fmt.Errorf("health check %s: %w", u, ctx.Err())
				}
				return fmt.Errorf("health check %s: %w (last: %w)", u, ctx.Err(), last)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// clone copies a string map.
func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
