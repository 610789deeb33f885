package upload

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"imagelabel/app/localaws"
	"imagelabel/app/upload/memlimit"
	"imagelabel/internal/testutil"
)

// memoryBoundMiB is upload's documented peak RSS bound with the defaults
// (UPLOAD_BUFFER_BYTES 96 MiB), the bound for the default 512 MiB task.
const memoryBoundMiB = memlimit.DefaultBufferBytes/(1<<20) + memlimit.OverheadBytes/(1<<20)

// defaultTaskMiB is the default task's memory (stack config uploadMemory).
const defaultTaskMiB = 512

// TestMemoryBound runs the upload binary as its own process (so its peak RSS
// is its own, read from /proc/PID/status VmHWM) against an in-process
// localaws and a fake rekog, under the hostile loads of the memory issue,
// and fails if any scenario's peak RSS crosses the bound. Everything is on
// loopback and bounded in count and time.
func TestMemoryBound(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak RSS is read from /proc (Linux only)")
	}
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("builds the binary and sends ~1.5 GB over loopback; skipped in -short")
	}
	rk := newStallableRekog(t)
	p := startUploadProcess(t, rk.URL)
	images := make([][]byte, 4) // a few distinct ~9 MiB images: localaws keeps one copy of each
	for i := range images {
		images[i] = bigPNG(9<<20+i*4096, uint64(i))
	}

	scenarios := []struct {
		name  string
		stall bool
		run   func(t *testing.T, url string) map[int]int
	}{
		{"48 concurrent 9 MiB uploads with Content-Length", false, func(t *testing.T, url string) map[int]int {
			return concurrentUploads(t, url, images, 48, false, 30*time.Second)
		}},
		{"48 concurrent 9 MiB uploads, chunked", false, func(t *testing.T, url string) map[int]int {
			return concurrentUploads(t, url, images, 48, true, 30*time.Second)
		}},
		{"stalled labeler, 48 uploads of 9 MiB at concurrency 8", true, func(t *testing.T, url string) map[int]int {
			return steadyUploads(t, url, images, 48, 8, 2*time.Second)
		}},
		{"64 requests declaring Content-Length 10485000, sending ~450 bytes", false, func(t *testing.T, url string) map[int]int {
			return lyingLengths(t, url, 64, 3*time.Second)
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			rk.setStall(sc.stall)
			defer rk.setStall(false)
			p.resetPeak(t)
			statuses := sc.run(t, p.url)
			peak := p.peakMiB(t)
			t.Logf("peak RSS %.1f MiB; answers %v", peak, statuses)
			if peak > memoryBoundMiB {
				t.Errorf("peak RSS of upload = %.1f MiB; want at most %d MiB", peak, memoryBoundMiB)
			}
			if statuses[http.StatusInternalServerError] > 0 {
				t.Errorf("%d answers were 500", statuses[http.StatusInternalServerError])
			}
			// Those that fit the budget get past buffering (200, or 502 when
			// the in-process S3 is too slow for its 5 s deadline, as under
			// -race on a busy machine): no livelock of partial buffers.
			if !sc.stall && strings.Contains(sc.name, "concurrent") &&
				statuses[http.StatusOK]+statuses[http.StatusBadGateway] == 0 {
				t.Errorf("no upload got past buffering; want the ones that fit the budget to be stored")
			}
		})
	}
}

// uploadProcess is the upload binary running as a child process.
type uploadProcess struct {
	pid int
	url string
}

// startUploadProcess builds ./cmd/upload and starts it on a free loopback
// port against an in-process localaws and rekogURL; it is killed at cleanup.
func startUploadProcess(t *testing.T, rekogURL string) *uploadProcess {
	t.Helper()
	return runUpload(t, buildUpload(t), rekogURL)
}

// buildUpload builds ./cmd/upload into a temporary directory of t.
func buildUpload(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "upload")
	build := exec.Command("go", "build", "-o", bin, "imagelabel/app/upload/cmd/upload")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build upload: %v\n%s", err, out)
	}
	return bin
}

// runUpload starts the upload binary bin as startUploadProcess does.
func runUpload(t *testing.T, bin, rekogURL string) *uploadProcess {
	t.Helper()
	fake, err := localaws.New(localaws.Options{Buckets: []string{"images"}})
	if err != nil {
		t.Fatal(err)
	}
	awsSrv := httptest.NewServer(fake)
	t.Cleanup(awsSrv.Close)

	port := freePort(t)
	env := awsEnv(awsSrv.URL)
	env["REKOG_URL"] = rekogURL
	env["PORT"] = strconv.Itoa(port)
	env["LOG_LEVEL"] = "warn"
	// The deployed settings of the default task (internal/program sets them
	// from the same functions).
	env["UPLOAD_BUFFER_BYTES"] = strconv.FormatInt(memlimit.BufferBytes(defaultTaskMiB), 10)
	env["GOMEMLIMIT"] = memlimit.GoMemLimit(defaultTaskMiB)
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// One writer for both: exec then copies them in one goroutine, and
	// the test reads it while upload still writes.
	var logs testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			t.Logf("upload's last log lines:\n%s", strings.Join(lines[max(0, len(lines)-20):], "\n"))
		}
	})
	p := &uploadProcess{pid: cmd.Process.Pid, url: "http://127.0.0.1:" + strconv.Itoa(port)}
	testutil.WaitHTTP(t, p.url+"/healthz", 10*time.Second, nil)
	return p
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// resetPeak resets the process's VmHWM ("5" to clear_refs, Linux 4.0+).
func (p *uploadProcess) resetPeak(t *testing.T) {
	t.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.pid), []byte("5"), 0); err != nil {
		t.Fatalf("reset peak RSS: %v", err)
	}
}

// peakMiB returns the process's peak resident set size (VmHWM) in MiB.
func (p *uploadProcess) peakMiB(t *testing.T) float64 {
	t.Helper()
	return p.statusMiB(t, "VmHWM:")
}

// statusMiB returns the field (VmHWM:, VmRSS:) of the process's
// /proc/PID/status in MiB.
func (p *uploadProcess) statusMiB(t *testing.T, field string) float64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		t.Fatalf("read status of upload: %v", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == field && f[2] == "kB" {
			kb, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb / 1024
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, p.pid)
	return 0
}

// stallableRekog answers labels at once, or, while stalled (or for the key
// stallKey), holds each call until its caller gives up (or 25 s pass,
// beyond upload's 20 s deadline).
type stallableRekog struct {
	*httptest.Server
	stall atomic.Bool
}

// stallKey is a key whose labeling the stallable rekog always stalls.
var stallKey = "uploads/" + strings.Repeat("f", 64) + ".png"

func newStallableRekog(t *testing.T) *stallableRekog {
	r := &stallableRekog{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		if r.stall.Load() || bytes.Contains(raw, []byte(stallKey)) {
			select {
			case <-req.Context().Done():
				return
			case <-time.After(25 * time.Second):
			}
		}
		okLabels(w)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *stallableRekog) setStall(v bool) { r.stall.Store(v) }

// bigPNG returns a structurally valid PNG of about size bytes: a header and
// one IDAT of random bytes with a correct CRC (upload verifies structure,
// not pixels), distinct per seed.
func bigPNG(size int, seed uint64) []byte {
	var b bytes.Buffer
	b.Write(pngSignature)
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], 2000)
	binary.BigEndian.PutUint32(ihdr[4:], 1500)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk("IHDR", ihdr)
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i+8 <= len(data); i += 8 {
		binary.LittleEndian.PutUint64(data[i:], rng.Uint64())
	}
	chunk("IDAT", data)
	chunk("IEND", nil)
	return b.Bytes()
}

// multipartBody returns a multipart body with data in field "file".
func multipartBody(data []byte) ([]byte, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, _ := mw.CreateFormFile("file", "big.png")
	_, _ = fw.Write(data)
	_ = mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

// statusCounter counts answers by status (0: transport error).
type statusCounter struct {
	mu sync.Mutex
	m  map[int]int
}

func (s *statusCounter) add(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[int]int{}
	}
	s.m[code]++
}

func (s *statusCounter) counts() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m
}

// postBig sends one upload (chunked when chunked is set) and returns its
// status, 0 on a transport error, checking that errors are JSON and that a
// 503 carries Retry-After.
func postBig(t *testing.T, client *http.Client, url string, data []byte, chunked bool) int {
	body, ct := multipartBody(data)
	var rd io.Reader = bytes.NewReader(body)
	if chunked {
		rd = io.MultiReader(rd) // hides the length: sent chunked
	}
	req, _ := http.NewRequest("POST", url+"/upload", rd)
	req.Header.Set("Content-Type", ct)
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
		t.Errorf("POST /upload = 503 without Retry-After")
	}
	if !json.Valid(raw) {
		t.Errorf("POST /upload = %d: body %q is not JSON", resp.StatusCode, raw)
	}
	return resp.StatusCode
}

func concurrentUploads(t *testing.T, url string, images [][]byte, n int, chunked bool, timeout time.Duration) map[int]int {
	client := &http.Client{Timeout: timeout}
	var sc statusCounter
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { sc.add(postBig(t, client, url, images[i%len(images)], chunked)) })
	}
	wg.Wait()
	return sc.counts()
}

// steadyUploads sends n uploads from conc workers; each client gives up
// after wait (the labeler is stalled, so no answer comes before that).
func steadyUploads(t *testing.T, url string, images [][]byte, n, conc int, wait time.Duration) map[int]int {
	client := &http.Client{Timeout: wait}
	var sc statusCounter
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for i := int(next.Add(1)); i <= n; i = int(next.Add(1)) {
				sc.add(postBig(t, client, url, images[i%len(images)], false))
			}
		})
	}
	wg.Wait()
	return sc.counts()
}

// lyingLengths opens n connections that each declare a 10485000-byte body,
// send ~450 bytes of it and then stall for hold before closing.
func lyingLengths(t *testing.T, url string, n int, hold time.Duration) map[int]int {
	addr := strings.TrimPrefix(url, "http://")
	var sc statusCounter
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				sc.add(0)
				return
			}
			defer conn.Close()
			const boundary = "liar"
			part := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n" +
				"Content-Type: image/png\r\n\r\n"
			head := bigPNG(300, 7)[:300]
			fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=%s\r\n"+
				"Content-Length: 10485000\r\n\r\n%s%s", addr, boundary, part, head)
			_ = conn.SetReadDeadline(time.Now().Add(hold))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				sc.add(0) // no answer while the body is incomplete: the expected case
				return
			}
			resp.Body.Close()
			sc.add(resp.StatusCode)
		})
	}
	wg.Wait()
	return sc.counts()
}
