// Command localaws serves a local stand-in for S3 and Rekognition
// DetectLabels on one port, so the imagelabel services run without an AWS
// account: point them at it with AWS_ENDPOINT_URL=http://127.0.0.1:4566 and
// fake static credentials. Objects live in memory, or as plain files under
// -dir. Labels are computed from the pixels by a documented stand-in method,
// not by Rekognition's model (see docs/localaws.md).
//
// Usage:
//
//	localaws [-addr 127.0.0.1:4566] [-dir DIR] [-bucket NAME[,NAME...]]... [-allow-host NAME]... [-log-format json|text]
//	localaws -healthcheck [-addr ...]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/netutil"

	"imagelabel/app/localaws"
)

// defaultAddr is loopback: a stand-in that does not check signatures must
// not be reachable from other machines unless asked (-addr :4566 in a
// container). 4566 is the port AWS emulators conventionally use.
const defaultAddr = "127.0.0.1:4566"

// shutdownGrace bounds how long in-flight requests may finish after
// SIGINT/SIGTERM (ECS waits 30 s before SIGKILL by default).
const shutdownGrace = 10 * time.Second

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "localaws:", err)
		os.Exit(1)
	}
}

// listFlag is a repeatable flag whose values may also be comma lists; its
// first use replaces the default taken from the environment.
type listFlag struct {
	names []string
	set   bool
}

func (b *listFlag) String() string { return strings.Join(b.names, ",") }

func (b *listFlag) Set(v string) error {
	if !b.set { // the first use replaces the environment default
		b.names, b.set = nil, true
	}
	b.names = append(b.names, splitComma(v)...)
	return nil
}

func splitComma(v string) []string {
	var out []string
	for p := range strings.SplitSeq(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// run is the whole program: flags, logging, signals, serving until ctx ends
// or a signal arrives. It returns nil after a graceful shutdown.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("localaws", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr(getenv, "LOCALAWS_ADDR", defaultAddr), "listen address (env LOCALAWS_ADDR)")
	dir := fs.String("dir", getenv("LOCALAWS_DIR"), `store objects as files under this directory; "" keeps them in memory (env LOCALAWS_DIR)`)
	buckets := &listFlag{names: splitComma(getenv("BUCKET"))}
	fs.Var(buckets, "bucket", "bucket to create at start; repeatable or comma-separated (env BUCKET)")
	hosts := &listFlag{names: splitComma(getenv("LOCALAWS_ALLOWED_HOSTS"))}
	fs.Var(hosts, "allow-host", "host name requests may address besides loopback (localhost, 127.0.0.0/8, ::1), e.g. a container network alias; repeatable or comma-separated (env LOCALAWS_ALLOWED_HOSTS)")
	logFormat := fs.String("log-format", envOr(getenv, "LOG_FORMAT", "json"), "log format on stderr: json or text (env LOG_FORMAT)")
	logLevel := fs.String("log-level", envOr(getenv, "LOG_LEVEL", "info"), "debug, info, warn or error (env LOG_LEVEL)")
	healthcheck := fs.Bool("healthcheck", false, "probe GET "+localaws.HealthPath+" on -addr and exit 0 if healthy (for container health checks)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *healthcheck {
		return probe(ctx, *addr, stdout)
	}

	logger, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	srv, err := localaws.New(localaws.Options{Dir: *dir, Buckets: buckets.names, Logger: logger, AllowedHosts: hosts.names})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	setMemoryLimit(getenv)
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s (is another localaws or program using the port? choose one with -addr): %w", *addr, err)
	}
	// Connections beyond MaxConns wait in the kernel's accept queue.
	ln = netutil.LimitListener(ln, localaws.MaxConns)
	conns := &connTracker{}
	hs := &http.Server{
		ConnState:         conns.track,
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		// Objects up to localaws.MaxObjectBytes from slow clients; latency
		// faults may hold a response for a while.
		ReadTimeout:    5 * time.Minute,
		WriteTimeout:   10 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: localaws.MaxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	store := *dir
	if store == "" {
		store = "memory"
	}
	logger.Info("listening", "addr", ln.Addr().String(), "store", store, "buckets", buckets.names,
		"endpoint", "http://"+ln.Addr().String())

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", shutdownGrace.String())
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// connTracker counts open connections and closes a connection as soon as it
// turns idle while more than half of MaxConns are open: idle keep-alive
// connections would otherwise hold the listener's slots for IdleTimeout
// while new connections wait in the accept queue (measured: a flood of
// 1,500 clients left 986 of them unanswered for two minutes).
type connTracker struct{ open atomic.Int64 }

func (c *connTracker) track(conn net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		c.open.Add(1)
	case http.StateIdle:
		if c.open.Load() > localaws.MaxConns/2 {
			_ = conn.Close() // net/http reports it closed next
		}
	case http.StateClosed, http.StateHijacked:
		c.open.Add(-1)
	}
}

// defaultMemoryLimit is the Go runtime's soft memory limit unless
// GOMEMLIMIT says otherwise: above what localaws admits (InputBudget, the
// 256 MiB decode budget, MaxConns connections; docs/localaws.md), so that
// garbage is collected before the heap doubles it, as it would with
// GOGC=100 alone.
const defaultMemoryLimit = 512 << 20

// setMemoryLimit applies defaultMemoryLimit when GOMEMLIMIT is unset (the
// runtime has then read no limit of its own).
func setMemoryLimit(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want json or text", format)
}

// probe GETs the health endpoint of a server listening on addr; a wildcard
// host (":4566", "0.0.0.0:4566") is probed on loopback.
func probe(ctx context.Context, addr string, stdout io.Writer) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("healthcheck: address %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + localaws.HealthPath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", url, err)
	}
	// No proxy: the probe is always local, whatever HTTP_PROXY says.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck %s: status %d", url, resp.StatusCode)
	}
	fmt.Fprintf(stdout, "%s", body)
	return nil
}
