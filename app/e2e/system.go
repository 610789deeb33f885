// Package e2e runs the whole imagelabel system (localaws, rekog and upload)
// inside a test process on loopback, wired as in AWS, for end-to-end tests
// of the browser page (this package's tests) and of the client (app/client).
package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"imagelabel/app/localaws"
	"imagelabel/app/rekog"
	"imagelabel/app/upload"
	"imagelabel/internal/testutil"
)

// Bucket is the bucket the system stores images in.
const Bucket = "imagelabel-e2e"

// System is a running in-process system.
type System struct {
	// URL is upload's base URL, e.g. http://127.0.0.1:40123.
	URL string
	// AWS is the S3/Rekognition stand-in, for injecting faults.
	AWS *localaws.Server
	// Logs holds the services' JSON log lines (shown when a test fails).
	Logs *SyncBuffer
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers; an alias kept
// so that System.Logs keeps its type name for callers.
type SyncBuffer = testutil.SyncBuffer

// Start starts localaws, rekog and upload on loopback ports and waits until
// all three answer their health checks. env overrides the services' settings
// (e.g. MAX_UPLOAD_BYTES). Everything stops, gracefully, when tb ends; the
// services' logs are printed if tb failed. Start fails tb when the system
// does not come up within 30 s.
func Start(tb testing.TB, env map[string]string) *System {
	tb.Helper()
	awsLn, rekogLn, uploadLn := listenLoopback(tb)
	logs := &SyncBuffer{}
	aws, awsSrv := serveLocalAWS(tb, awsLn, logs)
	getenv := servicesEnv(awsLn, rekogLn, env)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- rekog.Serve(ctx, rekogLn, getenv, logs) }()
	go func() { done <- upload.Serve(ctx, uploadLn, getenv, logs) }()

	sys := &System{URL: "http://" + uploadLn.Addr().String(), AWS: aws, Logs: logs}
	exited := 0 // services whose Serve already returned
	stopOnCleanup(tb, cancel, done, &exited, awsSrv, logs)
	waitHealthy(tb, []string{
		"http://" + awsLn.Addr().String() + localaws.HealthPath,
		"http://" + rekogLn.Addr().String() + "/healthz",
		sys.URL + "/healthz",
	}, done, &exited, logs)
	return sys
}

// listenLoopback binds the three services' ports, localaws's, rekog's and
// upload's, on free loopback ports.
func listenLoopback(tb testing.TB) (awsLn, rekogLn, uploadLn net.Listener) {
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("e2e: listen on loopback: %v", err)
		}
		return ln
	}
	return listen(), listen(), listen()
}

// serveLocalAWS starts the S3/Rekognition stand-in on ln; a Serve error
// other than the shutdown's goes to logs.
func serveLocalAWS(tb testing.TB, ln net.Listener, logs *SyncBuffer) (*localaws.Server, *http.Server) {
	tb.Helper()
	aws, err := localaws.New(localaws.Options{Buckets: []string{Bucket}})
	if err != nil {
		tb.Fatalf("e2e: localaws.New: %v", err)
	}
	awsSrv := &http.Server{Handler: aws, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := awsSrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(logs, "e2e: localaws server: %v\n", err)
		}
	}()
	return aws, awsSrv
}

// servicesEnv returns the services' getenv: their AWS settings pointed at
// localaws, upload's REKOG_URL at rekog, with env's overrides on top.
func servicesEnv(awsLn, rekogLn net.Listener, env map[string]string) func(string) string {
	base := map[string]string{
		"BUCKET":                    Bucket,
		"AWS_REGION":                "us-east-1",
		"AWS_ENDPOINT_URL":          "http://" + awsLn.Addr().String(),
		"AWS_ACCESS_KEY_ID":         "local",
		"AWS_SECRET_ACCESS_KEY":     "local",
		"AWS_EC2_METADATA_DISABLED": "true",
		"LOG_LEVEL":                 "debug",
		"REKOG_URL":                 "http://" + rekogLn.Addr().String(),
	}
	for k, v := range env {
		base[k] = v
	}
	return func(k string) string { return base[k] }
}

// stopOnCleanup stops the system gracefully when tb ends: rekog and upload
// (those of them not already *exited) first, then localaws. It prints the
// services' logs if tb failed.
func stopOnCleanup(tb testing.TB, cancel context.CancelFunc, done <-chan error, exited *int, awsSrv *http.Server, logs *SyncBuffer) {
	tb.Cleanup(func() {
		cancel()
		var errs []error
		for range 2 - *exited {
			select {
			case err := <-done:
				errs = append(errs, err)
			case <-time.After(40 * time.Second):
				errs = append(errs, errors.New("a service did not stop within 40s"))
			}
		}
		// Shutdown counts a connection that has not sent its first request
		// as idle only once it is 5 s old (net/http, closeIdleConns, Go issue
		// 22682): a 5 s limit lost that race about once in 20 runs.
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		if err := awsSrv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("localaws shutdown: %w", err))
		}
		if err := errors.Join(errs...); err != nil {
			tb.Errorf("e2e: stopping the system: %v", err)
		}
		if tb.Failed() {
			tb.Logf("e2e: service logs:\n%s", logs.String())
		}
	})
}

// waitHealthy waits until every URL answers 200, failing tb if a service
// exits first (counted in *exited, so the cleanup does not wait for it).
func waitHealthy(tb testing.TB, urls []string, done <-chan error, exited *int, logs *SyncBuffer) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, u := range urls {
		// One 30 s budget for all three; the cleanup prints the logs on failure.
		testutil.WaitHTTP(tb, u, time.Until(deadline), func() error {
			select {
			case err := <-done:
				*exited++
				return fmt.Errorf("e2e: a service exited during start-up: %w\nlogs:\n%s", err, logs.String())
			default:
				return nil
			}
		})
	}
}
