// Package httpx is the HTTP plumbing the upload and rekog services share:
// request ids, JSON logging, panic recovery, JSON answers and errors, the
// server lifecycle (timeouts, graceful shutdown) and the -healthcheck probe.
package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
)

// HeaderRequestID carries the request id between client, upload and rekog.
const HeaderRequestID = "X-Request-Id"

// NewLogger returns a JSON slog logger writing to w at the level named by
// level (debug, info, warn or error; "" is info), tagged with service.
func NewLogger(w io.Writer, level, service string) (*slog.Logger, error) {
	var l slog.Level
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "debug":
		l = slog.LevelDebug
	case "", "info":
		l = slog.LevelInfo
	case "warn", "warning":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		return nil, fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", level)
	}
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})
	return slog.New(h).With("service", service), nil
}

type ctxKey int

const (
	loggerKey ctxKey = iota
	requestIDKey
)

// Logger returns the request's logger (tagged with its request_id) stored in
// ctx by the middleware, or a logger that discards when there is none.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// RequestID returns the request id stored in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// WithRequest returns ctx carrying id and a logger derived from base tagged
// with request_id=id.
func WithRequest(ctx context.Context, base *slog.Logger, id string) context.Context {
	ctx = context.WithValue(ctx, requestIDKey, id)
	return context.WithValue(ctx, loggerKey, base.With("request_id", id))
}

// validRequestID bounds what a client may choose as id: it ends up in log
// lines and in headers to rekog, so no spaces, quotes or control characters.
// It admits base64 ('=', '+', '/'), because API Gateway HTTP API request ids,
// which the integration passes as X-Request-Id ($context.requestId), look
// like "JKJaXmPLvHcESHA=":
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:=+/-]{1,128}$`)

// newRequestID returns 16 random bytes in hex.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
