package localaws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// TestConcurrentPutGetNeverTorn rewrites one key with two different bodies
// while readers GET it: every read must be one body or the other, whole.
// Before writes were atomic, a rewrite truncated the file a reader had open.
func TestConcurrentPutGetNeverTorn(t *testing.T) {
	srv, err := New(Options{Dir: t.TempDir(), Buckets: []string{testBucket}})
	if err != nil {
		t.Fatal(err)
	}
	const size = 1 << 20
	bodies := [][]byte{bytes.Repeat([]byte{'a'}, size), bytes.Repeat([]byte{'b'}, size)}
	put := func(body []byte) error {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, localRequest(http.MethodPut, "/"+testBucket+"/same/key.jpg", bytes.NewReader(body)))
		if rec.Code != http.StatusOK {
			return fmt.Errorf("PUT = %d %s", rec.Code, rec.Body.String())
		}
		return nil
	}
	if err := put(bodies[0]); err != nil {
		t.Fatal(err)
	}

	const writes, readers = 40, 4
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	errc := make(chan error, readers+1)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer cancel() // readers stop when the writer is done
		for i := range writes {
			if err := put(bodies[(i+1)%2]); err != nil {
				errc <- err
				return
			}
		}
	})
	reads := make([]int, readers)
	for r := range readers {
		wg.Go(func() {
			for ctx.Err() == nil {
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, localRequest(http.MethodGet, "/"+testBucket+"/same/key.jpg", nil))
				got := rec.Body.Bytes()
				if rec.Code != http.StatusOK || !(bytes.Equal(got, bodies[0]) || bytes.Equal(got, bodies[1])) {
					errc <- fmt.Errorf("GET = %d, %d bytes (%q...); want 200 and one whole body of %d bytes",
						rec.Code, len(got), got[:min(len(got), 8)], size)
					return
				}
				reads[r]++
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	t.Logf("%d rewrites, reads per reader %v", writes, reads)
}

// killHelperEnv, when set, makes TestKillMidWriteKeepsOldObject the helper
// process: it starts rewriting the object in the directory the variable
// names and blocks halfway until it is killed.
const killHelperEnv = "LOCALAWS_TEST_KILL_MID_WRITE_DIR"

// TestKillMidWriteKeepsOldObject kills a process (this test binary re-run as
// a helper) in the middle of rewriting an object, then reopens the
// directory: the object must be the old one, whole. Before writes were
// atomic, the file was truncated in place and kept the half-written stub.
func TestKillMidWriteKeepsOldObject(t *testing.T) {
	const size = 4 << 20
	oldBody, newBody := bytes.Repeat([]byte{'o'}, size), bytes.Repeat([]byte{'n'}, size)
	if dir := os.Getenv(killHelperEnv); dir != "" {
		srv, err := New(Options{Dir: dir, Buckets: []string{testBucket}})
		if err != nil {
			t.Fatal(err)
		}
		// Half the new body, then the marker, then nothing: the process is
		// killed inside the backend's copy to the file.
		body := io.MultiReader(bytes.NewReader(newBody[:size/2]), &markThenBlock{marker: filepath.Join(dir, "mid-write")})
		_, err = srv.backend.PutObject(testBucket, "photo.jpg", map[string]string{}, body, size, nil)
		t.Fatalf("PutObject returned %v; the helper should have been killed", err)
	}

	dir := t.TempDir()
	srv, err := New(Options{Dir: dir, Buckets: []string{testBucket}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.backend.PutObject(testBucket, "photo.jpg", map[string]string{}, bytes.NewReader(oldBody), size, nil); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestKillMidWriteKeepsOldObject$", "-test.count=1")
	cmd.Env = append(os.Environ(), killHelperEnv+"="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := waitForFile(filepath.Join(dir, "mid-write"), 30*time.Second); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("helper never reached the middle of its write: %v\n%s", err, out.String())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	reopened, err := New(Options{Dir: dir, Buckets: []string{testBucket}})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := reopened.backend.GetObject(testBucket, "photo.jpg", nil)
	if err != nil {
		t.Fatalf("GetObject after the kill: %v", err)
	}
	got, err := io.ReadAll(obj.Contents)
	obj.Contents.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, oldBody) {
		t.Fatalf("after a kill mid-write the object is %d bytes starting %q; want the old %d bytes of 'o'", len(got), got[:min(len(got), 8)], size)
	}
	// The killed write's temporary file is not an object.
	list, err := reopened.backend.ListBucket(testBucket, nil, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) != 1 || list.Contents[0].Key != "photo.jpg" {
		t.Fatalf("listing after the kill = %d objects; want photo.jpg only", len(list.Contents))
	}
}

// markThenBlock creates marker on its first Read, then blocks forever.
type markThenBlock struct{ marker string }

func (m *markThenBlock) Read([]byte) (int, error) {
	if err := os.WriteFile(m.marker, nil, 0o600); err != nil {
		return 0, err
	}
	select {}
}

func waitForFile(name string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(name); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("timed out waiting for " + name)
}

func TestRemoveStaleTemps(t *testing.T) {
	dir := t.TempDir()
	old, fresh := filepath.Join(dir, "put-old"), filepath.Join(dir, "put-fresh")
	for _, p := range []string{old, fresh} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * staleTempAge)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	removeStaleTemps(dir, time.Now().Add(-staleTempAge))
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("stale temp file kept (stat err %v); want removed", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temp file removed (%v); another process may still be writing it", err)
	}
}
