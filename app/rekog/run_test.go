package rekog

import (
	"context"
	"io"
	"net"
	"testing"
)

func TestRunHealthcheckAndFlags(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	env := func(k string) string {
		if k == "PORT" {
			return port
		}
		return ""
	}
	if err := Run(context.Background(), []string{"-healthcheck"}, env, io.Discard, io.Discard); err == nil {
		t.Errorf("Run(-healthcheck) with nothing listening = nil; want error (exit 1)")
	}
	if err := Run(context.Background(), []string{"-nope"}, env, io.Discard, io.Discard); err == nil {
		t.Errorf("Run(-nope) = nil; want a flag error")
	}
	// Without BUCKET, Run fails at configuration instead of serving.
	if err := Run(context.Background(), nil, env, io.Discard, io.Discard); err == nil {
		t.Errorf("Run() without BUCKET = nil; want error")
	}
}
