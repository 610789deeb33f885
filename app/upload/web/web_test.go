package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestIndex(t *testing.T) {
	h := Handler()
	rec := get(t, h, "GET", "/", nil)
	if rec.Code != 200 {
		t.Fatalf("GET / = %d; want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("GET / Content-Type = %q; want text/html; charset=utf-8", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("GET / Cache-Control = %q; want no-cache", cc)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("GET / Content-Security-Policy = %q; want script-src 'self' and no unsafe-inline", csp)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`<meta name="viewport"`,
		`<input id="file" name="file" type="file"`,
		`<label for="file">`,
		`aria-live="polite"`,
		`<progress`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET / body lacks %q", want)
		}
	}
	// No inline script or style (CSP), no external origins (offline, no CDN).
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|<style|style="|https?://`).MatchString(body) {
		t.Errorf("GET / body has inline script/style or an absolute URL:\n%s", body)
	}
	// Every asset the page references is served, with its version.
	refs := regexp.MustCompile(`"assets/([a-z.]+)\?v=([0-9a-f]{12})"`).FindAllStringSubmatch(body, -1)
	if len(refs) != 3 {
		t.Fatalf("GET / references %d versioned assets; want 3 (css, js, icon): %v", len(refs), refs)
	}
	for _, ref := range refs {
		rec := get(t, h, "GET", "/assets/"+ref[1]+"?v="+ref[2], nil)
		if rec.Code != 200 {
			t.Errorf("GET /assets/%s = %d; want 200", ref[1], rec.Code)
		}
		if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("GET /assets/%s?v=current Cache-Control = %q; want immutable", ref[1], cc)
		}
	}
}

func TestAssets(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		path, ct, contains string
	}{
		{"/assets/app.js", "text/javascript; charset=utf-8", "XMLHttpRequest"},
		{"/assets/app.css", "text/css; charset=utf-8", ":focus-visible"},
		{"/assets/icon.svg", "image/svg+xml", "<svg"},
	} {
		rec := get(t, h, "GET", tc.path, nil)
		if rec.Code != 200 {
			t.Errorf("GET %s = %d; want 200", tc.path, rec.Code)
			continue
		}
		if got := rec.Header().Get("Content-Type"); got != tc.ct {
			t.Errorf("GET %s Content-Type = %q; want %q", tc.path, got, tc.ct)
		}
		if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s X-Content-Type-Options = %q; want nosniff", tc.path, got)
		}
		// Without the current version the asset must be revalidated, not cached for a year.
		if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s (unversioned) Cache-Control = %q; want no-cache", tc.path, got)
		}
		if !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("GET %s body lacks %q", tc.path, tc.contains)
		}
		etag := rec.Header().Get("ETag")
		if etag == "" {
			t.Errorf("GET %s has no ETag", tc.path)
			continue
		}
		if rec := get(t, h, "GET", tc.path, map[string]string{"If-None-Match": etag}); rec.Code != http.StatusNotModified {
			t.Errorf("GET %s If-None-Match current = %d; want 304", tc.path, rec.Code)
		}
		if rec := get(t, h, "HEAD", tc.path, nil); rec.Code != 200 || rec.Body.Len() != 0 {
			t.Errorf("HEAD %s = %d with %d body bytes; want 200 and none", tc.path, rec.Code, rec.Body.Len())
		}
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/assets/nope.js", "/assets/", "/assets/../static/index.html", "/index.html", "/assets/static/app.js"} {
		rec := get(t, h, "GET", p, nil)
		if rec.Code != http.StatusNotFound || !isJSONError(rec, "not_found") {
			t.Errorf("GET %s = %d %q %s; want a 404 not_found JSON error", p, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
	}
	rec := get(t, h, "POST", "/", nil)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" || !isJSONError(rec, "method_not_allowed") {
		t.Errorf("POST / = %d Allow %q %s; want a 405 method_not_allowed JSON error with Allow GET, HEAD",
			rec.Code, rec.Header().Get("Allow"), rec.Body)
	}
	// A range ServeContent would refuse in plain text is ignored: the whole asset.
	for name := range Handler().(*page).assets {
		rec := get(t, h, "GET", "/assets/"+name, map[string]string{"Range": "bytes=999999-"})
		if rec.Code != http.StatusOK {
			t.Errorf("GET /assets/%s with an unsatisfiable Range = %d %q; want 200", name, rec.Code, rec.Body)
		}
		break
	}
}

func isJSONError(rec *httptest.ResponseRecorder, code string) bool {
	var body struct {
		Error struct{ Code string } `json:"error"`
	}
	return rec.Header().Get("Content-Type") == "application/json" &&
		json.Unmarshal(rec.Body.Bytes(), &body) == nil && body.Error.Code == code
}

func TestVersionChangesWithContent(t *testing.T) {
	mk := func(js string) *page {
		p, err := load(fstest.MapFS{
			"static/index.html": {Data: []byte(`<script src="assets/app.js"></script>`)},
			"static/app.js":     {Data: []byte(js)},
		})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := mk("one"), mk("two")
	if string(a.index.body) == string(b.index.body) {
		t.Errorf("index for different app.js is identical: %s", a.index.body)
	}
	if !strings.Contains(string(a.index.body), `assets/app.js?v=`+a.assets["app.js"].version) {
		t.Errorf("index = %s; want the app.js version %s", a.index.body, a.assets["app.js"].version)
	}
}

func TestLoadErrors(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"no index":     {"static/app.js": {Data: []byte("x")}},
		"unknown type": {"static/index.html": {Data: []byte("x")}, "static/a.bin": {Data: []byte("x")}},
		"no dir":       {},
	} {
		if _, err := load(fsys); err == nil {
			t.Errorf("load(%s) = nil error; want an error", name)
		}
	}
}
