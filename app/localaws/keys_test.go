package localaws

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rawDo sends one plain HTTP request to e and returns status, headers and
// body.
func rawDo(t *testing.T, e *testEnv, method, path string, body string, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.hs.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.hs.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestDirKeysCheckedEverywhere: in -dir mode a key from a DeleteObjects
// body, an x-amz-copy-source header or a list prefix goes through the same
// check as a URL key, so "../" cannot reach another bucket's files or the
// metadata under .localaws. Before, DeleteObjects deleted both files below
// and answered 200.
func TestDirKeysCheckedEverywhere(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, Options{Dir: dir})
	e.put(t, "a.txt", []byte("a"), "text/plain")
	e.put(t, "m.txt", []byte("m"), "text/plain")
	metas, _ := filepath.Glob(filepath.Join(dir, metaDirName, "metadata", testBucket, "m.txt-*"))
	if len(metas) != 1 {
		t.Fatalf("metadata files of m.txt: %q; want one", metas)
	}
	meta := metas[0]
	outside := filepath.Join(dir, "outside", "keep.txt")
	if err := os.MkdirAll(filepath.Dir(outside), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(outside, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	survives := func(what string) {
		t.Helper()
		for _, f := range []string{meta, outside} {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("after %s: %s is gone: %v", what, f, err)
			}
		}
	}

	del := `<Delete><Object><Key>../` + metaDirName + `/metadata/` + testBucket + `/` + filepath.Base(meta) +
		`</Key></Object><Object><Key>../outside/keep.txt</Key></Object><Object><Key>a.txt</Key></Object></Delete>`
	code, _, body := rawDo(t, e, http.MethodPost, "/"+testBucket+"?delete", del, nil)
	survives("DeleteObjects")
	if code != http.StatusOK || strings.Count(body, "<Code>InvalidArgument</Code>") != 2 || !strings.Contains(body, "<Key>a.txt</Key>") {
		t.Errorf("DeleteObjects = %d %s; want 200 with a.txt deleted and two InvalidArgument errors", code, body)
	}
	for _, src := range []string{"/" + testBucket + "/../outside/keep.txt", testBucket + "/a/%2E%2E/%2E%2E/outside/keep.txt", "/.localaws/metadata/x"} {
		code, _, body := rawDo(t, e, http.MethodPut, "/"+testBucket+"/copied", "", map[string]string{"X-Amz-Copy-Source": src})
		if code == http.StatusOK {
			t.Errorf("CopyObject from %q = %d %s; want refused", src, code, body)
		}
		if _, err := os.Stat(filepath.Join(dir, testBucket, "copied")); err == nil {
			t.Fatalf("CopyObject from %q created %s/copied", src, testBucket)
		}
	}
	code, _, body = rawDo(t, e, http.MethodGet, "/"+testBucket+"?list-type=2&delimiter=/&prefix=../outside/", "", nil)
	if strings.Contains(body, "keep.txt") || code != http.StatusBadRequest {
		t.Errorf("ListObjectsV2 with prefix ../outside/ = %d %s; want 400 and nothing from outside the bucket", code, body)
	}
	survives("CopyObject and ListObjects")
}

// TestNoCORSHeaderOnAnyAnswer: no answer carries Access-Control-* headers,
// whether the handler wrote a body, only a status, or nothing at all
// (gofakes3's empty 200 to PUT object and PUT bucket, which net/http
// completes after the handler returns).
func TestNoCORSHeaderOnAnyAnswer(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		e := newEnv(t, Options{Dir: dir})
		e.put(t, "k.txt", []byte("hello"), "text/plain")
		del := `<Delete><Object><Key>gone.txt</Key></Object></Delete>`
		for _, c := range []struct{ method, path, body string }{
			{http.MethodPut, "/newbucket", ""},
			{http.MethodPut, "/" + testBucket + "/put.txt", "data"},
			{http.MethodPut, "/" + testBucket + "/empty.txt", ""},
			{http.MethodGet, "/" + testBucket + "/k.txt", ""},
			{http.MethodHead, "/" + testBucket + "/k.txt", ""},
			{http.MethodGet, "/" + testBucket + "/missing", ""},
			{http.MethodGet, "/" + testBucket + "?list-type=2", ""},
			{http.MethodGet, "/", ""},
			{http.MethodPost, "/" + testBucket + "?delete", del},
			{http.MethodDelete, "/" + testBucket + "/put.txt", ""},
			{http.MethodDelete, "/newbucket", ""},
			{http.MethodOptions, "/" + testBucket + "/k.txt", ""},
		} {
			code, hdr, _ := rawDo(t, e, c.method, c.path, c.body, nil)
			for k := range hdr {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("dir %q: %s %s = %d with %s: %q; want no Access-Control-* header", dir, c.method, c.path, code, k, hdr.Get(k))
				}
			}
		}
	}
}
