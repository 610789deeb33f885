package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"imagelabel/app/upload/memlimit"
	"imagelabel/internal/build"
)

// Names of the container run. The DNS names mirror the deployment: rekog is
// reached through Service Connect as rekog.<namespace>, namespace
// imagelabel.internal (CONTRACT: ports and Service Connect DNS name).
const (
	namespace       = "imagelabel.internal"
	rekogAlias      = "rekog." + namespace
	localawsAlias   = "localaws." + namespace
	containerRekog  = 9090
	containerUpload = 8080
	containerAWS    = 4566
	// runLabel marks every container and network a container run creates;
	// its value is the run id, so cleanup removes exactly what this run made.
	runLabel = "imagelabel.local.run"
	// imageRepo prefixes the image names: imagelabel/<svc>:<tag>.
	imageRepo = "imagelabel/"
	// localTag is the tag compose.yaml uses; every build moves it.
	localTag = "local"
)

// Timeouts of the container run.
const (
	dockerPingTimeout = 20 * time.Second
	containerReady    = 60 * time.Second
	// containerStop is how long `docker stop` waits after SIGTERM before
	// SIGKILL; the services drain in-flight requests well within it.
	containerStop  = 15
	cleanupTimeout = 60 * time.Second
)

// taskMemoryMiB is the memory limit of the upload and rekog containers: the
// deploy's default Fargate task size (uploadMemory and rekogMemory, 512 MiB),
// so a service that would run out of memory in AWS does so here too.
const taskMemoryMiB = 512

// taskMemory is taskMemoryMiB as docker run's --memory value.
var taskMemory = itoa(taskMemoryMiB) + "m"

// dockerCLI runs the docker command line. It uses the CLI rather than the
// Engine API so that the user's Docker context, DOCKER_HOST and credentials
// apply exactly as in their shell, and no Docker SDK joins the module.
type dockerCLI struct{ bin string }

// run runs docker with args and returns its trimmed standard output. A
// failure carries docker's own message.
func (d dockerCLI) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, d.bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			msg = strings.TrimSpace(out.String())
		}
		if msg != "" {
			return "", fmt.Errorf("docker %s: %w: %s", strings.Join(args[:min(2, len(args))], " "), err, msg)
		}
		return "", fmt.Errorf("docker %s: %w", strings.Join(args[:min(2, len(args))], " "), err)
	}
	return strings.TrimSpace(out.String()), nil
}

// newDocker finds the docker CLI and checks that the engine answers. It
// returns the engine's architecture (the images are built for it, which is
// the host's unless DOCKER_HOST points elsewhere).
func newDocker(ctx context.Context) (dockerCLI, string, error) {
	bin, err := exec.LookPath("docker")
	if err != nil {
		return dockerCLI{}, "", errors.New("docker command not found in PATH: install Docker (engine and CLI), or run without -containers")
	}
	d := dockerCLI{bin}
	pctx, cancel := context.WithTimeout(ctx, dockerPingTimeout)
	defer cancel()
	arch, err := d.run(pctx, "version", "--format", "{{.Server.Arch}}")
	if err != nil {
		return d, "", fmt.Errorf("the Docker engine is not available: start it (or check DOCKER_HOST / docker context), or run without -containers: %w", err)
	}
	switch arch {
	case "x86_64":
		arch = "amd64"
	case "aarch64":
		arch = "arm64"
	}
	return d, arch, nil
}

// builtImage is one built image.
type builtImage struct {
	service string
	ref     string // imagelabel/<svc>:<content tag>
	size    int64  // bytes, as docker reports
	built   bool   // false when an identical image already existed
}

// buildImages builds the three images for the engine's architecture with
// internal/build (the deploy's binaries and Dockerfiles) and `docker build`,
// skipping images whose content tag already exists, and tags each
// imagelabel/<svc>:local as well. Progress goes to stdout; the compiler's
// and docker's output only on failure.
func buildImages(ctx context.Context, cfg config, stdout, stderr io.Writer, standalone bool) ([]builtImage, error) {
	d, arch, err := newDocker(ctx)
	if err != nil {
		return nil, err
	}
	return d.buildImages(ctx, arch, stdout, standalone)
}

func (d dockerCLI) buildImages(ctx context.Context, arch string, stdout io.Writer, standalone bool) ([]builtImage, error) {
	start := time.Now()
	services := build.Services()
	fmt.Fprintf(stdout, "building images for linux/%s (Go builds are cached; unchanged images are reused)\n", arch)
	results, err := compileServices(ctx, arch, services, stdout, isTerminal(stdout))
	if err != nil {
		return nil, err
	}

	var images []builtImage
	for i, svc := range services {
		res := results[i]
		img := builtImage{service: svc, ref: imageRepo + svc + ":" + res.Tag}
		fmt.Fprintf(stdout, "  %-9s ", svc)
		if _, err := d.run(ctx, "image", "inspect", "--format", "{{.Id}}", img.ref); err != nil {
			fmt.Fprint(stdout, "docker build ... ")
			t1 := time.Now()
			if _, err := d.run(ctx, "build", "--quiet", "--tag", img.ref, "--file", res.Dockerfile, res.Context); err != nil {
				fmt.Fprintln(stdout, "failed")
				return nil, fmt.Errorf("build %s image: %w", svc, err)
			}
			img.built = true
			fmt.Fprintf(stdout, "%v, ", time.Since(t1).Round(100*time.Millisecond))
		} else {
			fmt.Fprint(stdout, "up to date, ")
		}
		if _, err := d.run(ctx, "tag", img.ref, imageRepo+svc+":"+localTag); err != nil {
			fmt.Fprintln(stdout, "failed")
			return nil, fmt.Errorf("tag %s image: %w", svc, err)
		}
		size, err := d.run(ctx, "image", "inspect", "--format", "{{.Size}}", img.ref)
		if err != nil {
			fmt.Fprintln(stdout, "failed")
			return nil, fmt.Errorf("inspect %s image: %w", svc, err)
		}
		img.size, _ = strconv.ParseInt(size, 10, 64)
		fmt.Fprintf(stdout, "%s (%s)\n", img.ref, mb(img.size))
		images = append(images, img)
	}
	fmt.Fprintf(stdout, "images ready in %v", time.Since(start).Round(100*time.Millisecond))
	if standalone {
		fmt.Fprintf(stdout, "; also tagged imagelabel/<svc>:%s for compose.yaml:\n  docker compose up   (or docker-compose up)\n", localTag)
	} else {
		fmt.Fprintln(stdout)
	}
	return images, nil
}

// compileServices compiles the services' binaries for linux/arch with one
// `go build` (internal/build.BuildServices: the packages they share are
// compiled once), showing progress on w. A warm cache gives one line,
// "compiling ... 4.6s". A cold one (the first run, or after a Go upgrade)
// compiles the standard library and every dependency for a static binary,
// which shares nothing with an ordinary `go build` (see goBuild in
// internal/build): that takes minutes, so it says so and counts packages.
func compileServices(ctx context.Context, arch string, services []string, w io.Writer, tty bool) ([]*build.Result, error) {
	start := time.Now()
	fmt.Fprintf(w, "  compiling %s ... ", strings.Join(services, ", "))
	p := &compileProgress{w: w, tty: tty, arch: arch, now: time.Now}
	results, err := build.BuildServices(ctx, build.Options{GOARCH: arch, Compiled: p.compiled}, services)
	p.end()
	took := time.Since(start).Round(100 * time.Millisecond)
	switch {
	case err != nil && p.n == 0:
		fmt.Fprintln(w, "failed")
	case err != nil:
		fmt.Fprintf(w, "  compiling failed after %v\n", took)
	case p.n == 0:
		fmt.Fprintf(w, "%v\n", took)
	default:
		fmt.Fprintf(w, "  compiled %d packages in %v\n", p.n, took)
	}
	if err != nil {
		return nil, fmt.Errorf("build images: %w", err)
	}
	return results, nil
}

// compileProgress shows a cold build's progress: on a terminal one line
// rewritten in place, elsewhere (a pipe, a log) a line every progressEvery.
type compileProgress struct {
	w    io.Writer
	tty  bool
	arch string
	now  func() time.Time

	n     int       // packages compiled so far
	shown time.Time // when the last progress line was written (not tty)
	last  string    // the last progress line (not tty), written again at the end if newer
}

// progressEvery spaces the progress lines of a cold build off a terminal.
const progressEvery = 10 * time.Second

// compiled is build.Options.Compiled.
func (p *compileProgress) compiled(pkg string, n, total int) {
	p.n = n
	count := fmt.Sprint(n)
	if total >= n {
		count = fmt.Sprintf("%d/%d", n, total)
	}
	line := fmt.Sprintf("    compiled %s packages: %s", count, pkg)
	if n == 1 {
		// The time is the one docs/local.md gives, measured there.
		fmt.Fprintf(p.w, "\n    first build for linux/%s: Go compiles the standard library and every dependency\n"+
			"    for the static binaries, once (about 3.5 min on a busy 2-core machine; later runs take seconds)\n", p.arch)
	}
	switch {
	case p.tty:
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	case n == 1 || p.now().Sub(p.shown) >= progressEvery:
		fmt.Fprintln(p.w, line)
		p.shown, p.last = p.now(), ""
	default:
		p.last = line
	}
}

// end finishes the progress display: the terminal's line is kept, and
// elsewhere the latest count is written if it was not yet.
func (p *compileProgress) end() {
	switch {
	case p.n == 0:
	case p.tty:
		fmt.Fprintln(p.w)
	case p.last != "":
		fmt.Fprintln(p.w, p.last)
	}
}

// isTerminal reports whether w is a terminal, where a progress line can be
// rewritten in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// mb formats a byte count in MB (10^6 bytes, as docker prints sizes).
func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// runContainers is the container run: it builds the images, then runs them on
// two networks shaped like the deployment until ctx is cancelled:
//
//   - <run>-private: internal (no route out), and its bridge has no IPv4
//     address on the host, so the host cannot reach rekog or localaws at
//     all; rekog and localaws live only here, under their DNS aliases.
//   - <run>-public: an ordinary bridge, so upload can publish its port.
//     upload is on both; only it publishes a port, on 127.0.0.1.
//
// On exit it stops the containers in the reverse order of the request flow
// and removes every container and network labelled with this run's id.
// Images are kept, so the next start is quick.
func runContainers(ctx context.Context, cfg config, stdout, stderr io.Writer, logs *logMux) (err error) {
	start := time.Now()
	d, arch, err := newDocker(ctx)
	if err != nil {
		return err
	}
	if err := checkFree(portSpec{"upload", cfg.port, "port"}); err != nil {
		return err
	}
	warnLeftovers(ctx, d, stderr)
	images, err := d.buildImages(ctx, arch, stdout, false)
	if err != nil {
		if ctx.Err() != nil {
			return nil // interrupted while building: nothing to clean up
		}
		return err
	}
	ref := map[string]string{}
	for _, img := range images {
		ref[img.service] = img.ref
	}

	id, err := runID()
	if err != nil {
		return err
	}
	r := &containerRun{d: d, id: id, cfg: cfg, logs: logs, stdout: stdout}
	defer func() {
		if cfg.keep {
			fmt.Fprintf(stdout, "kept containers and networks (-keep); remove them with:\n  docker rm -f $(docker ps -aq --filter label=%s=%s) && docker network rm %s %s\n",
				runLabel, id, r.name("public"), r.name("private"))
			return
		}
		if cerr := r.cleanup(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	err = r.start(ctx, ref)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if err := r.waitReady(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	printBanner(stdout, banner{
		mode:   "containers",
		upload: r.uploadURL,
		data:   "in memory in the localaws container, gone when it stops",
		bucket: cfg.bucket,
		extra: fmt.Sprintf("  network:   upload published on %s only; rekog (%s:%d) and localaws (%s:%d)\n"+
			"             on the internal network %s, unreachable from the host\n"+
			"  docker:    containers %s-*, label %s=%s\n",
			strings.TrimPrefix(r.uploadURL, "http://"), rekogAlias, containerRekog, localawsAlias, containerAWS,
			r.name("private"), r.name(""), runLabel, id),
		startedIn: time.Since(start),
	})

	select {
	case <-ctx.Done():
		fmt.Fprintln(stdout, "stopping containers ...")
		return nil // the deferred cleanup stops and removes them
	case name := <-r.died:
		return r.deathError(name)
	}
}

// warnLeftovers points out containers and networks of earlier container
// runs whose program is gone (killed before it could clean up), with a
// command that removes exactly those runs' objects: another run, started
// since and still going, must not lose its containers to a copied command.
// It removes nothing itself.
func warnLeftovers(ctx context.Context, d dockerCLI, w io.Writer) {
	format := fmt.Sprintf(`{{.Label %q}}\t{{.Label %q}}\t{{.Label %q}}\t`, runLabel, hostLabel, pidLabel)
	cs, err1 := d.run(ctx, "ps", "-a", "--filter", "label="+runLabel, "--format", format+"{{.Names}}")
	ns, err2 := d.run(ctx, "network", "ls", "--filter", "label="+runLabel, "--format", format+"{{.Name}}")
	if err1 != nil || err2 != nil {
		return
	}
	host, _ := os.Hostname()
	fmt.Fprint(w, leftoverAdvice(parseLeftovers(cs, "container"), parseLeftovers(ns, "network"), host, processAlive))
}

// Labels naming the program that created a run's containers and networks,
// so a later run can tell whether it is still alive.
const (
	hostLabel = "imagelabel.local.host"
	pidLabel  = "imagelabel.local.pid"
)

// ownerLabels returns the --label arguments of this program's run.
func ownerLabels(id string) []string {
	host, _ := os.Hostname()
	return []string{
		"--label", runLabel + "=" + id,
		"--label", hostLabel + "=" + host,
		"--label", pidLabel + "=" + itoa(os.Getpid()),
	}
}

// leftover is one container or network of some run.
type leftover struct {
	kind, name, run, host string
	pid                   int
}

// parseLeftovers reads warnLeftovers' tab-separated listing.
func parseLeftovers(out, kind string) []leftover {
	var ls []leftover
	for line := range strings.SplitSeq(out, "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 || f[0] == "" {
			continue
		}
		pid, _ := strconv.Atoi(f[2])
		ls = append(ls, leftover{kind: kind, run: f[0], host: f[1], pid: pid, name: f[3]})
	}
	return ls
}

// leftoverAdvice groups leftovers by run and returns the note to print:
// runs whose program (same host, pid not alive) is gone get their removal
// commands, filtered by their run id; runs made elsewhere or by an older
// version (no pid) are named with a caution; live runs are left out.
func leftoverAdvice(containers, networks []leftover, host string, alive func(int) bool) string {
	type run struct {
		names               []string
		containers, network bool
		unknown             bool
	}
	runs := map[string]*run{}
	var order []string
	for _, l := range slices.Concat(containers, networks) {
		known := l.pid > 0 && l.host == host
		if known && alive(l.pid) {
			continue
		}
		r := runs[l.run]
		if r == nil {
			r = &run{}
			runs[l.run] = r
			order = append(order, l.run)
		}
		r.names = append(r.names, l.name)
		r.containers = r.containers || l.kind == "container"
		r.network = r.network || l.kind == "network"
		r.unknown = r.unknown || !known
	}
	var b strings.Builder
	for _, id := range order {
		r := runs[id]
		why := "its program is gone"
		if r.unknown {
			why = "started on another host or by an older version: check that nothing uses it"
		}
		filter := "label=" + runLabel + "=" + id
		var cmds []string
		if r.containers {
			cmds = append(cmds, "docker rm -f $(docker ps -aq --filter "+filter+")")
		}
		if r.network {
			cmds = append(cmds, "docker network rm $(docker network ls -q --filter "+filter+")")
		}
		fmt.Fprintf(&b, "note: container run %s left %s (%s); remove them with:\n  %s\n",
			id, strings.Join(r.names, ", "), why, strings.Join(cmds, "; "))
	}
	return b.String()
}

// processAlive reports whether a process with this pid exists on this host
// (one of another user counts: signalling it is refused, not unknown).
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// containerRun is one container run's state.
type containerRun struct {
	d      dockerCLI
	id     string
	cfg    config
	logs   *logMux
	stdout io.Writer

	uploadURL string
	died      chan string // a service whose container stopped by itself

	mu        sync.Mutex
	followers []*exec.Cmd
	stopping  bool
}

// runID returns a short random id naming this run's containers and networks.
func runID() (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("run id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// name returns imagelabel-<run>-<suffix>.
func (r *containerRun) name(suffix string) string {
	if suffix == "" {
		return "imagelabel-" + r.id
	}
	return "imagelabel-" + r.id + "-" + suffix
}

// start creates the networks and starts localaws, rekog and upload, in the
// order the deployment creates them (a dependency before its caller).
func (r *containerRun) start(ctx context.Context, ref map[string]string) error {
	r.died = make(chan string, 3)
	owner := ownerLabels(r.id)
	if err := r.createNetworks(ctx, owner); err != nil {
		return err
	}

	common := slices.Concat(owner, []string{
		// As in ECS: read-only root file system, no capabilities, and the
		// non-root user the image declares.
		"--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
	})
	for _, s := range r.containerSpecs() {
		if err := r.startContainer(ctx, s, common, ref[s.svc]); err != nil {
			return err
		}
	}
	return r.findUploadURL(ctx)
}

// createNetworks creates the run's public and private networks.
func (r *containerRun) createNetworks(ctx context.Context, owner []string) error {
	if _, err := r.d.run(ctx, slices.Concat([]string{"network", "create"}, owner, []string{r.name("public")})...); err != nil {
		return fmt.Errorf("create network %s: %w", r.name("public"), err)
	}
	// internal: no gateway to the outside world. inhibit_ipv4: the host's
	// bridge interface gets no address, so the host has no route into this
	// network either (on Linux it otherwise can reach every container IP).
	if _, err := r.d.run(ctx, slices.Concat([]string{"network", "create", "--internal",
		"--opt", "com.docker.network.bridge.inhibit_ipv4=true"}, owner, []string{r.name("private")})...); err != nil {
		return fmt.Errorf("create network %s: %w", r.name("private"), err)
	}
	return nil
}

// containerSpec is how one service's container is created.
type containerSpec struct {
	svc     string
	network string
	alias   string
	env     []string
	extra   []string
}

// containerSpecs returns the three services' containers in start order, each
// with the environment its task definition gives it, pointed at the other
// containers by their network aliases.
func (r *containerRun) containerSpecs() []containerSpec {
	awsEnv := []string{
		"BUCKET=" + r.cfg.bucket,
		"LOG_LEVEL=" + r.cfg.logLevel,
		// localaws answers only loopback Host names and these (against DNS
		// rebinding): the services reach it by its network alias.
		"LOCALAWS_ALLOWED_HOSTS=" + localawsAlias,
	}
	svcEnv := []string{
		"BUCKET=" + r.cfg.bucket,
		"AWS_REGION=" + defaultRegion,
		"AWS_ENDPOINT_URL=" + fmt.Sprintf("http://%s:%d", localawsAlias, containerAWS),
		"AWS_ACCESS_KEY_ID=" + fakeKey,
		"AWS_SECRET_ACCESS_KEY=" + fakeKey,
		"AWS_EC2_METADATA_DISABLED=true",
		"LOG_LEVEL=" + r.cfg.logLevel,
	}
	publish := fmt.Sprintf("%s:%s:%d", loopback, portArg(r.cfg.port), containerUpload)
	return []containerSpec{
		{"localaws", "private", localawsAlias, awsEnv, nil},
		{"rekog", "private", rekogAlias, slices.Concat(svcEnv, []string{"PORT=" + itoa(containerRekog)}),
			[]string{"--memory", taskMemory}},
		{"upload", "public", "", slices.Concat(svcEnv, []string{
			"PORT=" + itoa(containerUpload),
			"REKOG_URL=" + fmt.Sprintf("http://%s:%d", rekogAlias, containerRekog),
			"MAX_UPLOAD_BYTES=" + fmt.Sprint(r.cfg.maxUpload),
			// As the deploy sets them for a task of taskMemory.
			"UPLOAD_BUFFER_BYTES=" + fmt.Sprint(max(memlimit.BufferBytes(taskMemoryMiB), r.cfg.maxUpload)),
			"GOMEMLIMIT=" + memlimit.GoMemLimit(taskMemoryMiB),
		}), []string{"--publish", publish, "--memory", taskMemory}},
	}
}

// startContainer creates s's container from image (on both networks for
// upload), starts it and follows its logs.
func (r *containerRun) startContainer(ctx context.Context, s containerSpec, common []string, image string) error {
	args := []string{"create", "--name", r.name(s.svc), "--hostname", s.svc,
		"--label", "imagelabel.local.service=" + s.svc, "--network", r.name(s.network)}
	if s.alias != "" {
		args = append(args, "--network-alias", s.alias)
	}
	args = append(args, common...)
	for _, e := range s.env {
		args = append(args, "--env", e)
	}
	args = append(args, s.extra...)
	args = append(args, image)
	if _, err := r.d.run(ctx, args...); err != nil {
		return fmt.Errorf("create %s container: %w", s.svc, err)
	}
	if s.svc == "upload" {
		// upload calls rekog and localaws over the private network.
		if _, err := r.d.run(ctx, "network", "connect", r.name("private"), r.name(s.svc)); err != nil {
			return fmt.Errorf("connect upload to %s: %w", r.name("private"), err)
		}
	}
	if _, err := r.d.run(ctx, "start", r.name(s.svc)); err != nil {
		if isPortTaken(err) {
			return fmt.Errorf("port %d is already in use (upload); choose another with -port", r.cfg.port)
		}
		return fmt.Errorf("start %s container: %w", s.svc, err)
	}
	r.follow(s.svc)
	return nil
}

// findUploadURL sets r.uploadURL from the host port docker published for
// upload.
func (r *containerRun) findUploadURL(ctx context.Context) error {
	hostPort, err := r.d.run(ctx, "port", r.name("upload"), fmt.Sprintf("%d/tcp", containerUpload))
	if err != nil {
		return fmt.Errorf("published port of upload: %w", err)
	}
	hostPort = strings.SplitN(hostPort, "\n", 2)[0]
	host, port, err := net.SplitHostPort(strings.TrimSpace(hostPort))
	if err != nil {
		return fmt.Errorf("published port of upload %q: %w", hostPort, err)
	}
	if host == "0.0.0.0" || host == "" {
		host = loopback
	}
	r.uploadURL = "http://" + net.JoinHostPort(host, port)
	return nil
}

// portArg renders a host port for --publish: empty means any free port.
func portArg(p int) string {
	if p == 0 {
		return ""
	}
	return itoa(p)
}

// isPortTaken matches the engine's messages for a taken host port.
func isPortTaken(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "port is already allocated") || strings.Contains(msg, "address already in use")
}

// follow streams a container's logs through the log renderer until the
// container stops; a stop that this run did not ask for is reported on died.
func (r *containerRun) follow(svc string) {
	w := r.logs.writer(svc)
	cmd := exec.Command(r.d.bin, "logs", "--follow", r.name(svc))
	cmd.Stdout = w
	cmd.Stderr = w
	r.mu.Lock()
	r.followers = append(r.followers, cmd)
	r.mu.Unlock()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(r.stdout, "cannot follow %s logs: %v\n", svc, err)
		return
	}
	go func() {
		cmd.Wait() //nolint:errcheck // its end is what matters, not its status
		w.Flush()
		r.mu.Lock()
		stopping := r.stopping
		r.mu.Unlock()
		if stopping {
			return
		}
		// `docker logs` also ends when the terminal's Ctrl-C reaches it
		// before it reaches us: only a container that is no longer
		// running counts as dead.
		state, err := r.d.run(context.Background(), "inspect", "--format", "{{.State.Running}}", r.name(svc))
		if err == nil && state == "true" {
			return
		}
		r.died <- svc
	}()
}

// deathError describes a container that stopped by itself.
func (r *containerRun) deathError(svc string) error {
	code, err := r.d.run(context.Background(), "inspect", "--format", "{{.State.ExitCode}} {{.State.Error}}", r.name(svc))
	if err != nil {
		return fmt.Errorf("%s container stopped (its logs are above)", svc)
	}
	return fmt.Errorf("%s container stopped with exit code %s (its logs are above)", svc, strings.TrimSpace(code))
}

// waitReady waits until upload answers /healthz on its published port and
// rekog and localaws pass their own -healthcheck inside their containers
// (the images' HEALTHCHECK only runs every 10 s; this is quicker).
func (r *containerRun) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, containerReady)
	defer cancel()
	for _, svc := range []string{"localaws", "rekog"} {
		for {
			_, err := r.d.run(ctx, "exec", r.name(svc), "/"+svc, "-healthcheck")
			if err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s container not healthy within %v: %w", svc, containerReady, err)
			case name := <-r.died:
				return r.deathError(name)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- waitHealthy(ctx, r.uploadURL+"/healthz") }()
	select {
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("upload container not ready: %w", err)
		}
		return nil
	case name := <-r.died:
		return r.deathError(name)
	}
}

// cleanup stops this run's containers (upload first, so in-flight requests
// can still reach rekog and localaws), then removes every container and
// network labelled with the run id. It runs on a fresh context: the run's
// own is already cancelled when Ctrl-C brings us here.
func (r *containerRun) cleanup() error {
	r.mu.Lock()
	r.stopping = true
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	filter := "label=" + runLabel + "=" + r.id
	var errs []error
	for _, svc := range []string{"upload", "rekog", "localaws"} {
		// Errors are expected for containers that were never created.
		r.d.run(ctx, "stop", "--time", itoa(containerStop), r.name(svc)) //nolint:errcheck
	}
	if ids, err := r.d.run(ctx, "ps", "-aq", "--filter", filter); err != nil {
		errs = append(errs, fmt.Errorf("list containers of run %s: %w", r.id, err))
	} else if ids != "" {
		if _, err := r.d.run(ctx, append([]string{"rm", "--force", "--volumes"}, strings.Fields(ids)...)...); err != nil {
			errs = append(errs, fmt.Errorf("remove containers of run %s: %w", r.id, err))
		}
	}
	if ids, err := r.d.run(ctx, "network", "ls", "-q", "--filter", filter); err != nil {
		errs = append(errs, fmt.Errorf("list networks of run %s: %w", r.id, err))
	} else if ids != "" {
		if _, err := r.d.run(ctx, append([]string{"network", "rm"}, strings.Fields(ids)...)...); err != nil {
			errs = append(errs, fmt.Errorf("remove networks of run %s: %w", r.id, err))
		}
	}
	r.mu.Lock()
	for _, c := range r.followers {
		if c.Process != nil {
			c.Process.Kill() //nolint:errcheck // already gone when its container went
		}
	}
	r.mu.Unlock()
	if len(errs) == 0 {
		fmt.Fprintf(r.stdout, "removed containers and networks of run %s (images kept: docker image ls %s*)\n", r.id, imageRepo)
	}
	return errors.Join(errs...)
}
