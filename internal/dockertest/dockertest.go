// Package dockertest helps tests build and run this project's images on the
// local Docker engine (20.10, legacy builder, no registry) and always clean up
// what they made.
//
// Policy, shared by every container test in the repo: when Docker is not
// usable a test is skipped, except under CI=true, where it fails, so a CI
// machine without Docker can never look green. Under -short, container tests
// are skipped unless CI=true.
//
// Everything a test creates is named imagelabel-test-<random> and labelled
// imagelabel.test=1, so a crashed run's leftovers can be found with
// `docker ps -a --filter label=imagelabel.test`.
package dockertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"imagelabel/internal/build"
)

// Label is set to "1" on every image, container and network this package makes.
const Label = "imagelabel.test"

var (
	availOnce sync.Once
	availErr  error
)

// Available reports whether the docker CLI is installed and its daemon
// answers, checking once per process.
func Available() error {
	availOnce.Do(func() {
		if _, err := exec.LookPath("docker"); err != nil {
			availErr = fmt.Errorf("docker CLI not found: %w", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := Docker(ctx, "info", "--format", "{{.ServerVersion}}"); err != nil {
			availErr = fmt.Errorf("docker daemon not reachable: %w", err)
		}
	})
	return availErr
}

// Decision is what a container test does given its environment.
type Decision int

// Decisions returned by Decide.
const (
	Proceed Decision = iota // run the test
	Skip                    // t.Skip
	Fail                    // t.Fatal
)

// Decide returns what a container test does when CI is ci, the run is -short
// or not, and the Docker check returned dockerErr. Under CI it never skips.
func Decide(ci, short bool, dockerErr error) Decision {
	switch {
	case ci && dockerErr != nil:
		return Fail
	case ci:
		return Proceed
	case short, dockerErr != nil:
		return Skip
	}
	return Proceed
}

// CI reports whether the CI environment variable is "true" (as CI sets it).
func CI() bool { return os.Getenv("CI") == "true" }

// Require makes t proceed only when Docker is usable: it calls t.Fatal under
// CI=true when Docker is not, and t.Skip otherwise (and under -short outside CI).
func Require(t testing.TB) {
	t.Helper()
	ci := CI()
	var err error
	if ci || !testing.Short() {
		err = Available()
	}
	switch Decide(ci, testing.Short(), err) {
	case Fail:
		t.Fatalf("CI=true but Docker is unavailable: %v (CI must install and start Docker; container tests never skip in CI)", err)
	case Skip:
		if err != nil {
			t.Skipf("Docker unavailable (%v); container tests skipped (they fail under CI=true)", err)
		}
		t.Skip("container test skipped under -short (runs under CI=true)")
	}
}

// Docker runs the docker CLI with args and returns its trimmed stdout; the
// error carries stderr. The legacy builder is forced (DOCKER_BUILDKIT=0):
// the engine here has no buildx, and the classic builder never pulls for
// FROM scratch.
func Docker(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return strings.TrimSpace(stdout.String()), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// UniqueName returns prefix followed by "-" and 8 random hex digits, under
// the imagelabel-test- namespace.
func UniqueName(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return "imagelabel-test-" + prefix + "-" + hex.EncodeToString(b)
}

func cleanup(t testing.TB, what string, args ...string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := Docker(ctx, args...); err != nil {
			t.Errorf("cleanup %s: %v", what, err)
		}
	})
}

// BuildImage runs `docker build` (with extra flags such as --no-cache) on
// res.Context, tags the image imagelabel-test-<name>-<random>:<res.Tag>,
// labels it, removes the tag when the test ends, and returns the reference.
func BuildImage(t testing.TB, res *build.Result, name string, extra ...string) string {
	t.Helper()
	ref := UniqueName(name) + ":" + res.Tag
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"build", "--label", Label + "=1", "--tag", ref}, extra...)
	if out, err := Docker(ctx, append(args, res.Context)...); err != nil {
		t.Fatalf("build image %s from %s: %v\n%s", ref, res.Context, err, out)
	}
	cleanup(t, "image "+ref, "image", "rm", ref)
	return ref
}

// NewNetwork creates a user-defined bridge network (internal: no route off
// the host) removed when the test ends, and returns its name.
func NewNetwork(t testing.TB, internal bool) string {
	t.Helper()
	name := UniqueName("net")
	args := []string{"network", "create", "--label", Label + "=1"}
	if internal {
		args = append(args, "--internal")
	}
	if _, err := Docker(context.Background(), append(args, name)...); err != nil {
		t.Fatalf("create network: %v", err)
	}
	cleanup(t, "network "+name, "network", "rm", name)
	return name
}

// RunOptions describe a container for Run.
type RunOptions struct {
	Image   string
	Name    string            // "" = a unique name
	Env     map[string]string // container environment
	Network string            // "" = the default bridge
	Aliases []string          // DNS names on Network
	Publish []int             // container ports published on a random 127.0.0.1 port
	Args    []string          // arguments after the image (appended to ENTRYPOINT)
	// Hardened runs the container as ECS does in this project: read-only root
	// file system, no capabilities, no privilege escalation.
	Hardened bool
}

// Container is a running container made by Run; it is force-removed when the
// test ends.
type Container struct {
	ID   string
	Name string
	t    testing.TB
}

// Run starts a detached container and registers its removal.
func Run(t testing.TB, o RunOptions) *Container {
	t.Helper()
	name := o.Name
	if name == "" {
		name = UniqueName("ctr")
	}
	args := []string{"run", "--detach", "--name", name, "--label", Label + "=1"}
	if o.Network != "" {
		args = append(args, "--network", o.Network)
		for _, a := range o.Aliases {
			args = append(args, "--network-alias", a)
		}
	}
	for _, p := range o.Publish {
		args = append(args, "--publish", "127.0.0.1::"+strconv.Itoa(p))
	}
	for k, v := range o.Env {
		args = append(args, "--env", k+"="+v)
	}
	if o.Hardened {
		args = append(args, "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true")
	}
	args = append(args, o.Image)
	args = append(args, o.Args...)
	id, err := Docker(context.Background(), args...)
	if id != "" {
		// Registered even on error: `docker run` can create and then fail to start.
		cleanup(t, "container "+name, "rm", "--force", "--volumes", name)
	}
	if err != nil {
		t.Fatalf("run %s: %v", o.Image, err)
	}
	return &Container{ID: id, Name: name, t: t}
}

// HostAddr returns the 127.0.0.1:port the container's port is published on.
func (c *Container) HostAddr(port int) string {
	c.t.Helper()
	out, err := Docker(context.Background(), "port", c.Name, strconv.Itoa(port)+"/tcp")
	if err != nil {
		c.t.Fatalf("port of %s: %v", c.Name, err)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "127.0.0.1:") {
			return strings.TrimSpace(line)
		}
	}
	c.t.Fatalf("port %d of %s is not published on 127.0.0.1: %q", port, c.Name, out)
	return ""
}

// Exec runs a command in the container (with extra env as KEY=VALUE) and
// returns its combined output and exit code; err is for failures to run it.
func (c *Container) Exec(ctx context.Context, env []string, cmd ...string) (string, int, error) {
	args := []string{"exec"}
	for _, e := range env {
		args = append(args, "--env", e)
	}
	args = append(append(args, c.Name), cmd...)
	x := exec.CommandContext(ctx, "docker", args...)
	out, err := x.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode(), nil
	}
	if err != nil {
		return string(out), -1, fmt.Errorf("docker exec %s %v: %w", c.Name, cmd, err)
	}
	return string(out), 0, nil
}

// Inspect returns `docker inspect` of the container decoded into v.
func (c *Container) Inspect(v any) error {
	return inspect(c.Name, "container", v)
}

// InspectImage decodes `docker image inspect ref` into v.
func InspectImage(ref string, v any) error { return inspect(ref, "image", v) }

func inspect(ref, kind string, v any) error {
	out, err := Docker(context.Background(), kind, "inspect", "--format", "{{json .}}", ref)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		return fmt.Errorf("decode %s inspect of %s: %w", kind, ref, err)
	}
	return nil
}

// Logs returns the container's stdout and stderr so far.
func (c *Container) Logs() string {
	cmd := exec.Command("docker", "logs", c.Name)
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// Signal sends sig (e.g. "TERM") to the container's main process, waits up
// to timeout for it to exit, and returns its exit code and how long it took.
func (c *Container) Signal(sig string, timeout time.Duration) (int, time.Duration, error) {
	start := time.Now()
	if _, err := Docker(context.Background(), "kill", "--signal", sig, c.Name); err != nil {
		return -1, 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := Docker(ctx, "wait", c.Name)
	took := time.Since(start)
	if err != nil {
		return -1, took, fmt.Errorf("container %s did not exit within %s of SIG%s: %w", c.Name, timeout, sig, err)
	}
	code, err := strconv.Atoi(out)
	if err != nil {
		return -1, took, fmt.Errorf("docker wait %s: exit code %q: %w", c.Name, out, err)
	}
	return code, took, nil
}

// WaitHTTP polls url until it answers 200 or timeout passes, and fails the
// test (with the container's logs, if c is not nil) otherwise.
func WaitHTTP(t testing.TB, c *Container, url string, timeout time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(200 * time.Millisecond)
	}
	logs := ""
	if c != nil {
		logs = c.Logs()
	}
	t.Fatalf("GET %s: no 200 within %s (last: %s)\ncontainer logs:\n%s", url, timeout, last, logs)
}
