package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// stackOutputAPIURL is the stack output the Pulumi program exports with the
// API's invoke URL (team contract: output names).
const stackOutputAPIURL = "apiUrl"

// errNoURL says how to give the client an API URL; returned when no source has one.
var errNoURL = errors.New("no API URL: pass --url (e.g. --url http://127.0.0.1:8080 for `go run ./app/local`) " +
	"or set API_URL, or install the Pulumi CLI (https://www.pulumi.com/docs/iac/download-install/) " +
	"and deploy or select a stack (--stack, --project-dir)")

// resolveURL returns the API base URL from, in order: --url, API_URL, the
// Pulumi stack's output apiUrl. Each source's value is validated.
func resolveURL(ctx context.Context, c config, getenv func(string) string) (*url.URL, error) {
	if c.url != "" {
		return parseBaseURL("--url", c.url)
	}
	if v := getenv("API_URL"); v != "" {
		return parseBaseURL("API_URL", v)
	}
	v, err := stackURL(ctx, c.stack, c.projectDir)
	if err != nil {
		return nil, err
	}
	return parseBaseURL(fmt.Sprintf("stack %s output %s", c.stack, stackOutputAPIURL), v)
}

// stackURL reads the output apiUrl of stack in projectDir with the Automation
// API, which drives the pulumi CLI (so the CLI must be installed and logged in
// to the stack's backend).
func stackURL(ctx context.Context, stack, projectDir string) (string, error) {
	// The Automation API's own error for a missing CLI is "failed to run
	// `pulumi version`: exec: not found"; say what to do instead.
	if _, err := exec.LookPath("pulumi"); err != nil {
		return "", fmt.Errorf("%w (no pulumi CLI on PATH)", errNoURL)
	}
	dir, err := filepath.Abs(projectDir)
	if err != nil {
		return "", fmt.Errorf("project dir %s: %w", projectDir, err)
	}
	s, err := auto.SelectStackLocalSource(ctx, stack, dir)
	if auto.IsSelectStack404Error(err) {
		return "", fmt.Errorf("no Pulumi stack %q in %s (deploy it with `pulumi up`, or name another with --stack): %w", stack, dir, errNoURL)
	}
	if err != nil {
		return "", fmt.Errorf("select Pulumi stack %q in %s: %w\n%w", stack, dir, err, errNoURL)
	}
	outs, err := s.Outputs(ctx)
	if err != nil {
		return "", fmt.Errorf("read outputs of Pulumi stack %q: %w\n%w", stack, err, errNoURL)
	}
	out, ok := outs[stackOutputAPIURL]
	if !ok {
		return "", fmt.Errorf("pulumi stack %q has no output %s (has it been deployed? run `pulumi up`); pass --url or set API_URL instead", stack, stackOutputAPIURL)
	}
	v, ok := out.Value.(string)
	if !ok || v == "" {
		return "", fmt.Errorf("pulumi stack %q output %s is %v, not a URL", stack, stackOutputAPIURL, out.Value)
	}
	return v, nil
}

// parseBaseURL accepts an absolute http(s) URL with a host.
func parseBaseURL(source, s string) (*url.URL, error) {
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
