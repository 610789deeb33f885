package httpx

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
	"syscall"
	"time"

	"imagelabel/app/internal/api"
)

// Limits are a server's timeouts and bounds.
type Limits struct {
	// ReadHeaderTimeout bounds the request line and headers: the slowloris guard.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading the whole request including the body.
	ReadTimeout time.Duration
	// WriteTimeout bounds everything after the headers were read (for HTTP/1.1),
	// so it must exceed ReadTimeout plus the handler's own deadlines.
	WriteTimeout time.Duration
	// IdleTimeout closes idle keep-alive connections.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request headers (net/http reads up to 4096
	// bytes more before answering 431).
	MaxHeaderBytes int
	// MaxConns, when positive, bounds the connections open at once: further
	// ones wait in the listen backlog (see limitListener).
	MaxConns int
	// Drain bounds graceful shutdown: in-flight requests get this long to finish.
	Drain time.Duration
}

// DrainTimeout is how long both services let in-flight requests finish after
// SIGTERM. ECS waits stopTimeout (default 30 s) before SIGKILL, so the task
// definition's stopTimeout must be at least this plus a margin:
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html
const DrainTimeout = 25 * time.Second

// Serve serves h on ln with lim until ctx is cancelled, then shuts down
// gracefully: the listener closes at once (new connections are refused),
// idle connections close, and in-flight requests get lim.Drain to finish.
// It returns nil after a clean drain, an error when the drain bound passed
// (remaining connections are then closed) or when serving failed.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, lim Limits, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.ReadHeaderTimeout,
		ReadTimeout:       lim.ReadTimeout,
		WriteTimeout:      lim.WriteTimeout,
		IdleTimeout:       lim.IdleTimeout,
		MaxHeaderBytes:    lim.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if lim.MaxConns > 0 {
		l := newLimitListener(ln, lim.MaxConns)
		srv.ConnState = l.connState
		ln = l
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "drain_timeout", lim.Drain.String())
	sctx, cancel := context.WithTimeout(context.Background(), lim.Drain)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), serr)
	}
	if err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: requests still in flight after %s: %w", lim.Drain, err)
	}
	log.Info("stopped")
	return nil
}

// ServeFunc is a service's Serve.
type ServeFunc func(ctx context.Context, ln net.Listener, getenv func(string) string, logw io.Writer) error

// Run is the shared body of both services' Run: it parses args (-healthcheck),
// reads PORT (default defaultPort), and either probes /healthz or listens on
// ":"+PORT and calls serve until SIGINT/SIGTERM or ctx cancellation. Logs go
// to stdout (where ECS's awslogs driver reads them); usage and probe failures
// to stderr.
func Run(ctx context.Context, name, defaultPort string, serve ServeFunc, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	health := fs.Bool("healthcheck", false, "probe http://127.0.0.1:$PORT/healthz and exit 0 if healthy, 1 if not")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", name, fs.Args())
	}
	port := getenv("PORT")
	if port == "" {
		port = defaultPort
	}
	if *health {
		return Healthcheck(ctx, port)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", ":"+port)
	if err != nil {
		return fmt.Errorf("%s: listen :%s: %w", name, port, err)
	}
	return serve(ctx, ln, getenv, stdout)
}

// Healthcheck GETs http://127.0.0.1:<port>/healthz with a short timeout and
// returns nil on 200. It is the container health check of a scratch image,
// which has no curl.
func Healthcheck(ctx context.Context, port string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	url := "http://127.0.0.1:" + port + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck %s: status %d", url, resp.StatusCode)
	}
	return nil
}

// HandleHealthz answers GET /healthz with 200 {"status":"ok"}, touching no
// dependency (a dependency outage must not make ECS kill healthy tasks).
func HandleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, r, http.StatusOK, api.Health{Status: "ok"})
	})
}

// HandleInfo answers GET /getInfo with info (BuildInfo plus what the
// service adds).
func HandleInfo(info api.Info) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, r, http.StatusOK, info)
	})
}

// BuildInfo returns the service name, the module version from the build
// info and the Go version, the part of GET /getInfo both services share.
func BuildInfo(name string) api.Info {
	info := api.Info{Name: name, Version: "devel"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		info.GoVersion = bi.GoVersion
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			info.Version = v
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && info.Version == "devel" {
				info.Version = s.Value
			}
		}
	}
	return info
}
