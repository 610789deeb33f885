package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"imagelabel/internal/build"
)

// binaries are the static linux binaries the benchmark runs: exactly what
// the images hold (each image is FROM scratch plus its binary), so their
// sizes are the images' sizes up to a few hundred bytes of metadata.
type binaries struct {
	Localaws, Rekog, Upload string
}

// buildBinaries compiles the three services with internal/build (the
// deploy's own reproducible build) into dir: real. The binaries to run are
// the same, unless profiled is set: then upload and rekog come from
// app/bench/profiled/<svc>, the same Run wrapped in runtime/pprof (never
// shipped, and not what the sizes report).
func buildBinaries(ctx context.Context, dir string, profiled bool, logw io.Writer) (real, run binaries, _ error) {
	paths := map[string]*string{"localaws": &real.Localaws, "rekog": &real.Rekog, "upload": &real.Upload}
	for _, svc := range []string{"localaws", "rekog", "upload"} {
		res, err := build.Build(ctx, build.Options{Service: svc, OutDir: filepath.Join(dir, svc), Log: logw})
		if err != nil {
			return real, run, fmt.Errorf("build %s: %w", svc, err)
		}
		*paths[svc] = res.Binary
	}
	run = real
	if !profiled {
		return real, run, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return real, run, err
	}
	for svc, out := range map[string]*string{"rekog": &run.Rekog, "upload": &run.Upload} {
		*out = filepath.Join(dir, svc+"-profiled")
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", *out, "./app/bench/profiled/"+svc)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		cmd.Dir = root
		if raw, err := cmd.CombinedOutput(); err != nil {
			return real, run, fmt.Errorf("build profiled %s: %w\n%s", svc, err, raw)
		}
	}
	return real, run, nil
}

// moduleRoot is the nearest directory from the working directory up that
// holds go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("module root: no go.mod here or above; run from the repository")
		}
		dir = parent
	}
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// proc is a started service process.
type proc struct {
	name    string
	cmd     *exec.Cmd
	url     string
	startup time.Duration // exec to the first 200 from the health endpoint
	exited  chan error
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, nil
}

// startProc starts bin with exactly env (nothing inherited, so the shell's
// AWS settings cannot leak in) and waits until GET url+health answers 200,
// polling every 100 µs: the start-up time is measured from just before exec.
func startProc(ctx context.Context, name, bin string, args, env []string, url, health string, logw io.Writer) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logw, logw
	p := &proc{name: name, cmd: cmd, url: url, exited: make(chan error, 1)}
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: time.Second}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { p.exited <- cmd.Wait() }()
	deadline := t0.Add(20 * time.Second)
	for {
		resp, err := client.Get(url + health)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.startup = time.Since(t0)
				return p, nil
			}
		}
		select {
		case err := <-p.exited:
			return nil, fmt.Errorf("%s exited during start-up: %w", name, err)
		case <-ctx.Done():
			_ = p.stop() // the start-up error says enough
			return nil, fmt.Errorf("start %s: %w", name, ctx.Err())
		case <-time.After(100 * time.Microsecond):
		}
		if time.Now().After(deadline) {
			_ = p.stop() // the start-up error says enough
			return nil, fmt.Errorf("start %s: not healthy after 20s", name)
		}
	}
}

// stop sends SIGTERM (the services drain and, when profiled, write their
// profiles), waits up to 30 s before killing, and returns how the process
// ended (nil for a clean exit).
func (p *proc) stop() error {
	if p == nil || p.cmd.Process == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		return err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		return fmt.Errorf("%s: killed after 30 s: %w", p.name, <-p.exited)
	}
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat:
// 100 on every Linux architecture Go supports (the kernel fixes it for
// user space whatever its internal HZ).
const clockTicks = 100

// cpuSeconds returns utime+stime of pid from /proc/PID/stat.
// https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html
func cpuSeconds(pid int) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read stat of %d: %w", pid, err)
	}
	return parseStatCPU(raw)
}

// parseStatCPU reads fields 14 (utime) and 15 (stime) of a stat line. The
// command name (field 2) is in parentheses and may hold spaces or ')', so
// fields are counted after the last ')'.
func parseStatCPU(raw []byte) (float64, error) {
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, errors.New("parse stat: no ')' after the command name")
	}
	f := strings.Fields(string(raw[i+1:]))
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 13 {
		return 0, fmt.Errorf("parse stat: %d fields after the command name; want at least 13", len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("parse stat utime/stime: %w", err)
	}
	return float64(ut+st) / clockTicks, nil
}

// peakRSS returns VmHWM (the peak resident set size) of pid in bytes.
// https://man7.org/linux/man-pages/man5/proc_pid_status.5.html
func peakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read status of %d: %w", pid, err)
	}
	defer f.Close()
	return parseVmHWM(f)
}

func parseVmHWM(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		kb, ok := strings.CutSuffix(strings.TrimSpace(rest), " kB")
		if !ok {
			return 0, fmt.Errorf("parse VmHWM %q: want a size in kB", rest)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(kb), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse VmHWM %q: %w", rest, err)
		}
		return n << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read status: %w", err)
	}
	return 0, errors.New("no VmHWM line in status")
}
