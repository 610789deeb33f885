package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"imagelabel/app/upload/memlimit"
	"imagelabel/internal/testutil"
)

// requireDocker returns the docker CLI when the engine answers. Without it
// the test is skipped, except under CI=true, where it fails: CI must run
// the container tests.
func requireDocker(t *testing.T) dockerCLI {
	t.Helper()
	ci := os.Getenv("CI") == "true"
	if testing.Short() && !ci {
		t.Skip("container test skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, _, err := newDocker(ctx)
	if err != nil {
		if ci {
			t.Fatalf("CI=true and Docker is not usable: %v", err)
		}
		t.Skipf("Docker is not usable: %v", err)
	}
	return d
}

// inspected is the part of `docker inspect` the container test checks.
type inspected struct {
	Name   string
	Config struct {
		User   string
		Labels map[string]string
		Env    []string
	}
	HostConfig struct {
		ReadonlyRootfs bool
		Memory         int64
		CapDrop        []string
		PortBindings   map[string][]struct{ HostIp, HostPort string }
	}
	NetworkSettings struct {
		Ports    map[string][]struct{ HostIp, HostPort string }
		Networks map[string]struct {
			Aliases   []string
			IPAddress string
		}
	}
}

func inspectContainer(t *testing.T, d dockerCLI, name string) inspected {
	t.Helper()
	out, err := d.run(context.Background(), "inspect", "--type", "container", name)
	if err != nil {
		t.Fatalf("inspect %s: %v", name, err)
	}
	var v []inspected
	if err := json.Unmarshal([]byte(out), &v); err != nil || len(v) != 1 {
		t.Fatalf("inspect %s: %v (%d results)", name, err, len(v))
	}
	return v[0]
}

func networkNames(c inspected) []string {
	var names []string
	for n := range c.NetworkSettings.Networks {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// The container run: the deploy's images on a private network. Upload
// through the only published port, check from docker inspect and from the
// host that rekog and localaws have no way in from the host, then stop and
// check that everything the run created is gone.
func TestRunContainers(t *testing.T) {
	d := requireDocker(t)
	t0 := time.Now()
	rr := startRun(t, 10*time.Minute, "-containers", "-port=0")
	base, stop, stdout, stderr := rr.base, rr.stop, rr.stdout, rr.stderr
	t.Logf("container run ready in %v", time.Since(t0))
	out := stdout.String()
	for _, m := range regexp.MustCompile(`(?m)^\s+(\w+)\s.*(imagelabel/\w+:[0-9a-f]{12}) \(([\d.]+) MB\)$`).FindAllStringSubmatch(out, -1) {
		t.Logf("image %s: %s MB", m[2], m[3])
		if mbs, _ := strconv.ParseFloat(m[3], 64); mbs <= 0 || mbs > 40 {
			t.Errorf("image %s is %s MB; want a few MB (FROM scratch + one static binary)", m[2], m[3])
		}
	}
	m := regexp.MustCompile(runLabel + `=([0-9a-f]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no run id in the banner:\n%s", out)
	}
	id := m[1]
	r := &containerRun{id: id}
	public, private := r.name("public"), r.name("private")

	if code, body := getStatus(base+"/healthz", 5*time.Second); code != 200 {
		t.Fatalf("GET %s/healthz = %d %s", base, code, body)
	}
	ur := postImage(t, base, testJPEG(t, 2))
	// A large image too: nothing on the way may need a writable root file
	// system (ECS runs these containers read-only).
	big := noisePNG(t, 1100, 1000)
	if large := postImage(t, base, big); large.Size != int64(len(big)) || large.ContentType != "image/png" {
		t.Errorf("large upload = %d bytes %s; want %d image/png", large.Size, large.ContentType, len(big))
	}
	if code, body := getStatus(base+"/labels/"+ur.Key, 10*time.Second); code != 200 {
		t.Errorf("GET /labels/%s = %d %s", ur.Key, code, body)
	}

	// upload: on both networks, only 8080 published, on loopback only.
	up := inspectContainer(t, d, r.name("upload"))
	if got, want := networkNames(up), []string{public, private}; !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("upload networks = %v; want %v", got, want)
	}
	if len(up.HostConfig.PortBindings) != 1 || len(up.HostConfig.PortBindings["8080/tcp"]) != 1 ||
		up.HostConfig.PortBindings["8080/tcp"][0].HostIp != "127.0.0.1" {
		t.Errorf("upload port bindings = %+v; want only 8080/tcp on 127.0.0.1", up.HostConfig.PortBindings)
	}
	for _, svc := range []string{"upload", "rekog", "localaws"} {
		c := inspectContainer(t, d, r.name(svc))
		if !c.HostConfig.ReadonlyRootfs || c.Config.User != "65532:65532" || !slices.Contains(c.HostConfig.CapDrop, "ALL") {
			t.Errorf("%s: read-only %v, user %q, cap-drop %v; want read-only, 65532:65532, ALL",
				svc, c.HostConfig.ReadonlyRootfs, c.Config.User, c.HostConfig.CapDrop)
		}
		if c.Config.Labels[runLabel] != id {
			t.Errorf("%s: label %s = %q; want %q", svc, runLabel, c.Config.Labels[runLabel], id)
		}
		if svc != "localaws" && c.HostConfig.Memory != 512<<20 {
			t.Errorf("%s memory limit = %d; want 512 MiB, the deploy's task size", svc, c.HostConfig.Memory)
		}
		if svc == "upload" {
			if !slices.Contains(c.Config.Env, "GOMEMLIMIT="+memlimit.GoMemLimit(512)) ||
				!slices.Contains(c.Config.Env, fmt.Sprint("UPLOAD_BUFFER_BYTES=", memlimit.BufferBytes(512))) {
				t.Errorf("upload env = %q; want GOMEMLIMIT and UPLOAD_BUFFER_BYTES of a 512 MiB task", c.Config.Env)
			}
			continue
		}
		// rekog and localaws: no published port, only the internal network,
		// reachable under their DNS names.
		if len(c.HostConfig.PortBindings) != 0 {
			t.Errorf("%s port bindings = %v; want none", svc, c.HostConfig.PortBindings)
		}
		for port, b := range c.NetworkSettings.Ports {
			if len(b) != 0 {
				t.Errorf("%s publishes %s on %v; want nothing published", svc, port, b)
			}
		}
		if got := networkNames(c); !slices.Equal(got, []string{private}) {
			t.Errorf("%s networks = %v; want only %s", svc, got, private)
		}
		alias := map[string]string{"rekog": rekogAlias, "localaws": localawsAlias}[svc]
		if !slices.Contains(c.NetworkSettings.Networks[private].Aliases, alias) {
			t.Errorf("%s aliases = %v; want %s", svc, c.NetworkSettings.Networks[private].Aliases, alias)
		}
		// The host has no route into the private network: a request to the
		// container's own address must not reach the service.
		ip := c.NetworkSettings.Networks[private].IPAddress
		port := map[string]string{"rekog": "9090/healthz", "localaws": "4566/_localaws/healthz"}[svc]
		if code, body := getStatus("http://"+ip+":"+port, 2*time.Second); code == 200 {
			t.Errorf("host reached %s at %s: %d %s", svc, ip, code, body)
		}
	}
	netOut, err := d.run(context.Background(), "network", "inspect", "--format",
		`{{.Internal}} {{index .Options "com.docker.network.bridge.inhibit_ipv4"}}`, private)
	if err != nil || netOut != "true true" {
		t.Errorf("network %s: internal, inhibit_ipv4 = %q (%v); want true true", private, netOut, err)
	}

	if err := stop(); err != nil {
		t.Errorf("run after cancel = %v; want nil\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	filter := "label=" + runLabel + "=" + id
	if left, err := d.run(context.Background(), "ps", "-a", "-q", "--filter", filter); err != nil || left != "" {
		t.Errorf("containers left after stop: %q (%v)", left, err)
	}
	if left, err := d.run(context.Background(), "network", "ls", "-q", "--filter", filter); err != nil || left != "" {
		t.Errorf("networks left after stop: %q (%v)", left, err)
	}
	if !strings.Contains(stderr.String(), "upload   | ") {
		t.Errorf("no upload container log lines on stderr:\n%s", stderr)
	}
}

// A taken port stops the container run before it builds or creates anything.
func TestRunContainersPortTaken(t *testing.T) {
	requireDocker(t)
	taken := listenLoopback(t)
	port := itoa(portOf(taken))
	var stdout testutil.SyncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := run(ctx, []string{"-containers", "-port", port}, func(string) string { return "" }, &stdout, &testutil.SyncBuffer{})
	want := "port " + port + " is already in use (upload); choose another with -port"
	if err == nil || err.Error() != want {
		t.Errorf("run -containers -port %s = %v; want %q", port, err, want)
	}
	if strings.Contains(stdout.String(), "building") {
		t.Errorf("built images despite the taken port:\n%s", stdout.String())
	}
}

// Without a Docker engine the container run fails at once and says so.
func TestRunContainersNoDocker(t *testing.T) {
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("no docker CLI: the missing-engine path needs the CLI")
	}
	t.Setenv("DOCKER_HOST", "unix://"+t.TempDir()+"/no-docker.sock")
	t.Setenv("DOCKER_CONTEXT", "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := run(ctx, []string{"-containers", "-port=0"}, func(string) string { return "" }, &testutil.SyncBuffer{}, &testutil.SyncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "Docker engine is not available") {
		t.Errorf("run -containers without an engine = %v; want 'Docker engine is not available'", err)
	}
}

// A container that dies on its own ends the container run with an error
// naming it, and the run still removes everything it created.
func TestRunContainersDeath(t *testing.T) {
	d := requireDocker(t)
	rr := startRun(t, 10*time.Minute, "-containers", "-port=0")
	m := regexp.MustCompile(runLabel + `=([0-9a-f]+)`).FindStringSubmatch(rr.stdout.String())
	if m == nil {
		t.Fatalf("no run id in the banner:\n%s", rr.stdout)
	}
	r := &containerRun{id: m[1]}
	if _, err := d.run(context.Background(), "kill", r.name("rekog")); err != nil {
		t.Fatal(err)
	}
	err, ok := rr.wait(time.Minute)
	if !ok {
		t.Fatal("run still running a minute after its rekog container was killed")
	}
	if err == nil || !strings.Contains(err.Error(), "rekog container stopped with exit code 137") {
		t.Errorf("run after rekog died = %v; want 'rekog container stopped with exit code 137'", err)
	}
	filter := "label=" + runLabel + "=" + r.id
	if left, err := d.run(context.Background(), "ps", "-a", "-q", "--filter", filter); err != nil || left != "" {
		t.Errorf("containers left: %q (%v)", left, err)
	}
	if left, err := d.run(context.Background(), "network", "ls", "-q", "--filter", filter); err != nil || left != "" {
		t.Errorf("networks left: %q (%v)", left, err)
	}
}

// Leftovers of a run whose program is gone are pointed out with a command
// that removes that run only, by its id; a live run's are left out.
func TestWarnLeftovers(t *testing.T) {
	d := requireDocker(t)
	ctx := context.Background()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	ids := map[string]int{} // run id -> owner pid
	for _, pid := range []int{dead.Process.Pid, os.Getpid()} {
		id, err := runID()
		if err != nil {
			t.Fatal(err)
		}
		ids[id] = pid
		name := "imagelabel-" + id + "-leftover"
		if _, err := d.run(ctx, "network", "create", "--label", runLabel+"="+id,
			"--label", hostLabel+"="+host, "--label", pidLabel+"="+strconv.Itoa(pid), name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.run(ctx, "network", "rm", name) })
	}
	var out testutil.SyncBuffer
	warnLeftovers(ctx, d, &out)
	for id, pid := range ids {
		cmd := "docker network rm $(docker network ls -q --filter label=" + runLabel + "=" + id + ")"
		if pid == os.Getpid() {
			if strings.Contains(out.String(), id) {
				t.Errorf("warnLeftovers = %q; names run %s, whose program (this test) is alive", out.String(), id)
			}
		} else if !strings.Contains(out.String(), "imagelabel-"+id+"-leftover") || !strings.Contains(out.String(), cmd) {
			t.Errorf("warnLeftovers = %q; want the stale run's network named and %q", out.String(), cmd)
		}
	}
	if strings.Contains(out.String(), "--filter label="+runLabel+")") {
		t.Errorf("warnLeftovers = %q; a command filters on every run's label", out.String())
	}
}

func TestLeftoverAdvice(t *testing.T) {
	alive := func(pid int) bool { return pid == 100 }
	cs := parseLeftovers("aaa\th\t100\timagelabel-aaa-upload\n"+
		"bbb\th\t200\timagelabel-bbb-upload\nbbb\th\t200\timagelabel-bbb-rekog\n"+
		"ccc\tother\t300\timagelabel-ccc-upload\n", "container")
	ns := parseLeftovers("bbb\th\t200\timagelabel-bbb-private\nddd\t\t\timagelabel-ddd-public\n", "network")
	got := leftoverAdvice(cs, ns, "h", alive)
	want := "note: container run bbb left imagelabel-bbb-upload, imagelabel-bbb-rekog, imagelabel-bbb-private (its program is gone); remove them with:\n" +
		"  docker rm -f $(docker ps -aq --filter label=imagelabel.local.run=bbb); docker network rm $(docker network ls -q --filter label=imagelabel.local.run=bbb)\n" +
		"note: container run ccc left imagelabel-ccc-upload (started on another host or by an older version: check that nothing uses it); remove them with:\n" +
		"  docker rm -f $(docker ps -aq --filter label=imagelabel.local.run=ccc)\n" +
		"note: container run ddd left imagelabel-ddd-public (started on another host or by an older version: check that nothing uses it); remove them with:\n" +
		"  docker network rm $(docker network ls -q --filter label=imagelabel.local.run=ddd)\n"
	if got != want {
		t.Errorf("leftoverAdvice =\n%s\nwant\n%s", got, want)
	}
	if got := leftoverAdvice(cs[:1], nil, "h", alive); got != "" {
		t.Errorf("leftoverAdvice(live run only) = %q; want nothing", got)
	}
	if !processAlive(os.Getpid()) {
		t.Error("processAlive(own pid) = false")
	}
}
