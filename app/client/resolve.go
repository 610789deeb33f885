package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
)

// stackOutputAPIURL is the stack output the Pulumi program exports with the
// API's invoke URL (team contract: output names).
const stackOutputAPIURL = "apiUrl"

// errNoURL says how to give the client an API URL; returned when no source has one.
var errNoURL = errors.New("no API URL: pass --url (e.g. --url http://127.0.0.1:8080 for `go run ./app/local`) " +
	"or set API_URL, or install the Pulumi CLI (https://www.pulumi.com/docs/iac/download-install/) " +
	"and deploy or select a stack (--stack, --project-dir)")

// target is where the client talks to and what it knows about it.
type target struct {
	base *url.URL
	// outputs are the stack's outputs when the URL came from the stack
	// (the smoke command names log groups from them); nil otherwise.
	outputs map[string]any
}

// resolveTarget returns the API base URL from, in order: --url, API_URL,
// the Pulumi stack's output apiUrl. Each source's value is validated.
func resolveTarget(ctx context.Context, c config, getenv func(string) string) (*target, error) {
	if c.url != "" {
		u, err := parseBaseURL("--url", c.url)
		return &target{base: u}, err
	}
	if v := getenv("API_URL"); v != "" {
		u, err := parseBaseURL("API_URL", v)
		return &target{base: u}, err
	}
	outs, err := stackOutputs(ctx, c.stack, c.projectDir)
	if err != nil {
		return nil, err
	}
	out, ok := outs[stackOutputAPIURL]
	if !ok {
		return nil, fmt.Errorf("pulumi stack %q has no output %s (has it been deployed? run `pulumi up`); pass --url or set API_URL instead", c.stack, stackOutputAPIURL)
	}
	v, ok := out.(string)
	if !ok || v == "" {
		return nil, fmt.Errorf("pulumi stack %q output %s is %v, not a URL", c.stack, stackOutputAPIURL, out)
	}
	u, err := parseBaseURL(fmt.Sprintf("stack %s output %s", c.stack, stackOutputAPIURL), v)
	return &target{base: u, outputs: outs}, err
}

// stackOutputs runs `pulumi stack output --json` for stack in projectDir and
// returns the outputs. The pulumi CLI must be installed and logged in to the
// stack's backend. Without --show-secrets the CLI prints secret outputs as
// "[secret]" and reads the plain ones (apiUrl is plain) without the
// passphrase of a passphrase-protected stack: CLIs that include
// pulumi/pulumi#23820 (merged July 2026); older ones still ask for
// PULUMI_CONFIG_PASSPHRASE, as `pulumi up` does.
func stackOutputs(ctx context.Context, stack, projectDir string) (map[string]any, error) {
	if _, err := exec.LookPath("pulumi"); err != nil {
		return nil, fmt.Errorf("%w (no pulumi CLI on PATH)", errNoURL)
	}
	dir, err := filepath.Abs(projectDir)
	if err != nil {
		return nil, fmt.Errorf("project dir %s: %w", projectDir, err)
	}
	cmd := exec.CommandContext(ctx, "pulumi", "--non-interactive", "--cwd", dir, "stack", "output", "--json", "--stack", stack)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "no stack named") {
			return nil, fmt.Errorf("no Pulumi stack %q in %s (deploy it with `pulumi up`, or name another with --stack): %w", stack, dir, errNoURL)
		}
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("read outputs of Pulumi stack %q in %s: %s\n%w", stack, dir, msg, errNoURL)
	}
	var outs map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &outs); err != nil {
		return nil, fmt.Errorf("read outputs of Pulumi stack %q: `pulumi stack output --json` printed no JSON object: %w", stack, err)
	}
	return outs, nil
}

// parseBaseURL accepts an absolute http(s) URL with a host. A bare
// host[:port] on loopback ("127.0.0.1:8080", "localhost:8080": the local
// run) is taken as http://; any other host must say its scheme, since a
// deployed API answers only HTTPS and guessing would hide that.
func parseBaseURL(source, s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		host, _, _ := strings.Cut(s, "/")
		if !isLoopbackHost(host) {
			return nil, fmt.Errorf("%s %q: no scheme; add https:// (a deployed API) or http:// (a local run)", source, s)
		}
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", source, s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s %q: want an absolute http:// or https:// URL", source, s)
	}
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// isLoopbackHost reports whether hostport names this machine: localhost or
// a loopback IP, with or without a port.
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
