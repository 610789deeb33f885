package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"imagelabel/app/upload/memlimit"
	"imagelabel/internal/testutil"
)

// composeFile is compose.yaml at the module root (tests run in app/local).
var composeFile = filepath.Join("..", "..", "compose.yaml")

// composeCmd returns the Compose command line (docker-compose v1, else the
// `docker compose` plugin). Without one the test is skipped, or fails under
// CI=true.
func composeCmd(t *testing.T) []string {
	t.Helper()
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return []string{p}
	}
	if p, err := exec.LookPath("docker"); err == nil && exec.Command(p, "compose", "version").Run() == nil {
		return []string{p, "compose"}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true and neither docker-compose nor `docker compose` is installed")
	}
	t.Skip("neither docker-compose nor `docker compose` is installed")
	return nil
}

// compose runs the Compose command with args and extra environment.
func compose(ctx context.Context, cmdline []string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, cmdline[0], append(slices.Clone(cmdline[1:]), args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", strings.Join(cmdline, " "), strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

// composeConfig is the part of `compose config` the test checks.
type composeConfig struct {
	Services map[string]struct {
		Image       string
		ReadOnly    bool     `yaml:"read_only"`
		MemLimit    string   `yaml:"mem_limit"`
		CapDrop     []string `yaml:"cap_drop"`
		Ports       []any
		Environment map[string]string
		Networks    map[string]*struct {
			Aliases []string
		}
		Healthcheck struct {
			Test []string
		}
	}
	Networks map[string]*struct {
		Internal   bool
		DriverOpts map[string]string `yaml:"driver_opts"`
	}
}

// compose.yaml is valid for the installed Compose and shaped like the
// deployment: only upload publishes a port, on loopback; rekog and localaws
// are only on the internal network, under their DNS names.
func TestComposeConfig(t *testing.T) {
	cmdline := composeCmd(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := compose(ctx, cmdline, []string{"IMAGELABEL_PORT=18080"}, "-f", composeFile, "config")
	if err != nil {
		t.Fatal(err)
	}
	var c composeConfig
	if err := yaml.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("parse compose config: %v\n%s", err, out)
	}
	var names []string
	for n := range c.Services {
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"localaws", "rekog", "upload"}) {
		t.Fatalf("services = %v; want localaws, rekog, upload", names)
	}
	for name, s := range c.Services {
		if s.Image != imageRepo+name+":"+localTag {
			t.Errorf("%s image = %q; want %s%s:%s (what -build-images tags)", name, s.Image, imageRepo, name, localTag)
		}
		if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") {
			t.Errorf("%s: read_only %v, cap_drop %v; want read-only without capabilities", name, s.ReadOnly, s.CapDrop)
		}
		if want := []string{"CMD", "/" + name, "-healthcheck"}; !slices.Equal(s.Healthcheck.Test, want) {
			t.Errorf("%s healthcheck = %q; want %q (exec form: no shell in the image)", name, s.Healthcheck.Test, want)
		}
		if name != "localaws" && s.MemLimit != "512m" && s.MemLimit != "536870912" {
			t.Errorf("%s mem_limit = %q; want 512m, the deploy's task memory", name, s.MemLimit)
		}
		if name != "upload" {
			if len(s.Ports) != 0 {
				t.Errorf("%s publishes %v; want nothing published", name, s.Ports)
			}
			alias := name + "." + namespace
			if len(s.Networks) != 1 || s.Networks["private"] == nil || !slices.Contains(s.Networks["private"].Aliases, alias) {
				t.Errorf("%s networks = %v; want only private, alias %s", name, s.Networks, alias)
			}
		}
	}
	up := c.Services["upload"]
	if got, want := up.Environment["GOMEMLIMIT"], memlimit.GoMemLimit(512); got != want {
		t.Errorf("upload GOMEMLIMIT = %q; want %q, as the deploy sets it for a 512 MiB task", got, want)
	}
	if got, want := up.Environment["UPLOAD_BUFFER_BYTES"], fmt.Sprint(memlimit.BufferBytes(512)); got != want {
		t.Errorf("upload UPLOAD_BUFFER_BYTES = %q; want %q, as the deploy sets it for a 512 MiB task", got, want)
	}
	if len(up.Ports) != 1 || !publishedOnLoopback(up.Ports[0], "18080") {
		t.Errorf("upload ports = %v; want 127.0.0.1:18080 -> 8080 only", up.Ports)
	}
	if _, ok := up.Networks["public"]; !ok || len(up.Networks) != 2 {
		t.Errorf("upload networks = %v; want public and private", up.Networks)
	}
	if got := up.Environment["REKOG_URL"]; got != "http://rekog.imagelabel.internal:9090" {
		t.Errorf("upload REKOG_URL = %q", got)
	}
	if p := c.Networks["private"]; p == nil || !p.Internal || p.DriverOpts["com.docker.network.bridge.inhibit_ipv4"] != "true" {
		t.Errorf("private network = %+v; want internal with inhibit_ipv4", p)
	}
}

// publishedOnLoopback accepts both renderings of a port: v1's
// "127.0.0.1:18080:8080/tcp" and v2's long form.
func publishedOnLoopback(p any, hostPort string) bool {
	switch v := p.(type) {
	case string:
		return strings.HasPrefix(v, "127.0.0.1:"+hostPort+":8080")
	case map[string]any:
		return fmt.Sprint(v["host_ip"]) == "127.0.0.1" && fmt.Sprint(v["published"]) == hostPort &&
			fmt.Sprint(v["target"]) == "8080"
	}
	return false
}

// compose.yaml really runs: build and tag the images as the docs say, bring
// the project up on a free port, upload an image, bring it down.
func TestComposeUp(t *testing.T) {
	d := requireDocker(t)
	cmdline := composeCmd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	_, arch, err := newDocker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.buildImages(ctx, arch, &testutil.SyncBuffer{}, true); err != nil {
		t.Fatal(err)
	}
	ln := listenLoopback(t)
	port := portOf(ln)
	ln.Close() // free again for docker to publish

	id, err := runID()
	if err != nil {
		t.Fatal(err)
	}
	project := "imagelabeltest" + id
	env := []string{"IMAGELABEL_PORT=" + itoa(port)}
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer ccancel()
		if _, err := compose(cctx, cmdline, env, "-p", project, "-f", composeFile, "down", "--volumes", "--remove-orphans"); err != nil {
			t.Errorf("compose down: %v", err)
		}
		if left, _ := d.run(cctx, "ps", "-aq", "--filter", "label=com.docker.compose.project="+project); left != "" {
			t.Errorf("containers left after compose down: %s", left)
		}
	})
	if out, err := compose(ctx, cmdline, env, "-p", project, "-f", composeFile, "up", "--detach"); err != nil {
		logs, _ := compose(context.Background(), cmdline, env, "-p", project, "-f", composeFile, "logs", "--no-color")
		t.Fatalf("compose up: %v\n%s\n%s", err, out, logs)
	}
	base := "http://127.0.0.1:" + itoa(port)
	if err := waitHealthy(ctx, base+"/healthz"); err != nil {
		t.Fatal(err)
	}
	ur := postImage(t, base, testJPEG(t, 3))
	t.Logf("compose: uploaded %s, %d labels", ur.Key, len(ur.Labels))

	// rekog and localaws: nothing published, and the host has no route to
	// their addresses on the internal network.
	for svc, path := range map[string]string{"rekog": ":9090/healthz", "localaws": ":4566/_localaws/healthz"} {
		id, err := d.run(ctx, "ps", "-q", "--filter", "label=com.docker.compose.project="+project,
			"--filter", "label=com.docker.compose.service="+svc)
		if err != nil || id == "" {
			t.Fatalf("find %s container: %q %v", svc, id, err)
		}
		c := inspectContainer(t, d, id)
		if len(c.HostConfig.PortBindings) != 0 {
			t.Errorf("compose %s port bindings = %v; want none", svc, c.HostConfig.PortBindings)
		}
		if len(c.NetworkSettings.Networks) != 1 {
			t.Errorf("compose %s networks = %v; want only the private one", svc, networkNames(c))
		}
		for _, n := range c.NetworkSettings.Networks {
			if code, body := getStatus("http://"+n.IPAddress+path, 2*time.Second); code == 200 {
				t.Errorf("host reached compose %s at %s: %d %s", svc, n.IPAddress, code, body)
			}
		}
	}
}

// `docker compose up` before `go run ./app/local -build-images` fails at
// once, locally, saying to run that command, instead of trying to pull
// imagelabel/* from a registry. The test renames the images in a copy of
// compose.yaml, so they are surely missing, whatever this machine has built.
func TestComposeMissingImagesSaysBuild(t *testing.T) {
	requireDocker(t)
	cmdline := composeCmd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	id, err := runID()
	if err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	repo := "imagelabel-missing-" + id + "/"
	renamed := strings.ReplaceAll(string(orig), "image: "+imageRepo, "image: "+repo)
	if strings.Count(renamed, repo) != 3 {
		t.Fatalf("compose.yaml does not name the three images as image: %s<svc>", imageRepo)
	}
	file := filepath.Join(t.TempDir(), "compose.yaml")
	if err := os.WriteFile(file, []byte(renamed), 0o600); err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	project := "imagelabeltest" + id
	base := []string{"-p", project, "-f", file, "--project-directory", root}
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
		defer ccancel()
		if _, err := compose(cctx, cmdline, nil, append(base, "down", "--remove-orphans")...); err != nil {
			t.Errorf("compose down: %v", err)
		}
	})
	out, err := compose(ctx, cmdline, []string{"IMAGELABEL_PORT=0"}, append(base, "up", "--detach")...)
	if err == nil {
		t.Fatalf("compose up with missing images succeeded:\n%s", out)
	}
	msg := out + err.Error()
	if !strings.Contains(msg, "go run ./app/local -build-images") {
		t.Errorf("compose up with missing images failed without saying to run go run ./app/local -build-images:\n%s", msg)
	}
	if strings.Contains(strings.ToLower(msg), "pull") {
		t.Errorf("compose up with missing images tried a registry:\n%s", msg)
	}
	// Compose creates the networks before it builds, and leaves them: the
	// message says how to remove them, and that command does.
	if !strings.Contains(msg, "docker compose down to remove the networks") {
		t.Errorf("compose up with missing images does not say how to remove the networks it left:\n%s", msg)
	}
	if _, err := compose(ctx, cmdline, nil, append(base, "down")...); err != nil {
		t.Fatal(err)
	}
	expectNothingLeft(ctx, t, requireDocker(t), project)
}

// expectNothingLeft fails when a container or network of the Compose
// project remains.
func expectNothingLeft(ctx context.Context, t *testing.T, d dockerCLI, project string) {
	t.Helper()
	filter := "label=com.docker.compose.project=" + project
	cs, err1 := d.run(ctx, "ps", "-aq", "--filter", filter)
	ns, err2 := d.run(ctx, "network", "ls", "-q", "--filter", filter)
	if err1 != nil || err2 != nil || cs != "" || ns != "" {
		t.Errorf("after compose down: containers %q, networks %q (%v, %v); want none", cs, ns, err1, err2)
	}
}

// With upload's port taken, `up` fails on Compose's bind error after
// starting localaws and rekog (Compose's own behaviour); `down`, which
// docs/local.md gives for this case, removes everything it created.
func TestComposePortTaken(t *testing.T) {
	d := requireDocker(t)
	cmdline := composeCmd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	_, arch, err := newDocker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.buildImages(ctx, arch, &testutil.SyncBuffer{}, true); err != nil {
		t.Fatal(err)
	}
	taken := listenLoopback(t)
	id, err := runID()
	if err != nil {
		t.Fatal(err)
	}
	project := "imagelabeltest" + id
	env := []string{"IMAGELABEL_PORT=" + itoa(portOf(taken))}
	base := []string{"-p", project, "-f", composeFile}
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer ccancel()
		compose(cctx, cmdline, env, append(base, "down", "--remove-orphans")...) //nolint:errcheck // the test's own down is checked
	})
	out, err := compose(ctx, cmdline, env, append(base, "up", "--detach")...)
	if err == nil {
		t.Fatalf("compose up on a taken port succeeded:\n%s", out)
	}
	if msg := err.Error(); !isPortTaken(err) {
		t.Errorf("compose up on a taken port failed otherwise:\n%s", msg)
	}
	running, _ := d.run(ctx, "ps", "--filter", "label=com.docker.compose.project="+project, "--format", "{{.Label \"com.docker.compose.service\"}}")
	t.Logf("running after the failed up: %q", running)
	if _, err := compose(ctx, cmdline, env, append(base, "down")...); err != nil {
		t.Fatal(err)
	}
	expectNothingLeft(ctx, t, d, project)
}
