// Package web serves upload's browser page: one HTML document at GET / and
// its script, stylesheet and icon under /assets/, all embedded in the binary
// so the page works offline and with no CDN.
//
// Cache policy: the HTML is revalidated on every load (no-cache + ETag), and
// it references each asset with a ?v=<content hash> query, so an asset
// requested with its current hash is cached for a year as immutable, while any
// other request for it is revalidated. A new binary therefore never serves a
// stale script to a cached page.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"imagelabel/app/internal/api"
	"imagelabel/app/internal/httpx"
)

//go:embed static
var static embed.FS

// contentSecurityPolicy allows only this origin's scripts, styles and API,
// plus blob: images for the local preview of the chosen file.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// contentTypes maps the asset extensions this package ships to their types;
// set explicitly so the answer does not depend on the host's MIME tables.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

type file struct {
	body        []byte
	contentType string
	etag        string // quoted strong validator
	version     string // first 12 hex digits of the SHA-256 of body
}

// page is what Handler serves, computed once from the embedded files.
type page struct {
	index  file
	assets map[string]file // by name under /assets/
}

// Handler returns the handler for the browser page. It answers GET and HEAD
// for "/" (the HTML) and "/assets/<name>" (embedded assets); any other path
// gets 404 and any other method 405. It expects the request's full path,
// as upload mounts it at "GET /{$}" and "GET /assets/" without stripping.
func Handler() http.Handler {
	p, err := embedded()
	if err != nil {
		// The files are compiled in; failing here means the binary is broken.
		panic(err)
	}
	return p
}

// embedded hashes and indexes the embedded files once, however many routes
// mount Handler.
var embedded = sync.OnceValues(func() (*page, error) { return load(static) })

func load(fsys fs.FS) (*page, error) {
	p := &page{assets: map[string]file{}}
	entries, err := fs.ReadDir(fsys, "static")
	if err != nil {
		return nil, fmt.Errorf("read embedded dir static: %w", err)
	}
	var index []byte
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := fs.ReadFile(fsys, "static/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read embedded file %s: %w", e.Name(), err)
		}
		if e.Name() == "index.html" {
			index = b
			continue
		}
		ct, ok := contentTypes[path.Ext(e.Name())]
		if !ok {
			return nil, fmt.Errorf("embedded file %s: no content type for its extension", e.Name())
		}
		p.assets[e.Name()] = newFile(b, ct)
	}
	if index == nil {
		return nil, fmt.Errorf("embedded file index.html: missing")
	}
	// Point the HTML at versioned asset URLs (see the package comment).
	var pairs []string
	for name, f := range p.assets {
		pairs = append(pairs, `"assets/`+name+`"`, `"assets/`+name+`?v=`+f.version+`"`)
	}
	index = []byte(strings.NewReplacer(pairs...).Replace(string(index)))
	p.index = newFile(index, contentTypes[".html"])
	return p, nil
}

func newFile(b []byte, contentType string) file {
	sum := sha256.Sum256(b)
	v := hex.EncodeToString(sum[:])[:12]
	return file{body: b, contentType: contentType, etag: `"` + v + `"`, version: v}
}

func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpx.WriteError(w, r, &api.Error{Code: api.CodeMethodNotAllowed, Message: "method " + r.Method + " not allowed here"})
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	switch {
	case r.URL.Path == "/":
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		serve(w, r, p.index)
	case strings.HasPrefix(r.URL.Path, "/assets/"):
		f, ok := p.assets[strings.TrimPrefix(r.URL.Path, "/assets/")]
		if !ok {
			notFound(w, r)
			return
		}
		if r.URL.Query().Get("v") == f.version {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		serve(w, r, f)
	default:
		notFound(w, r)
	}
}

// notFound answers 404 as every other error of upload: JSON.
func notFound(w http.ResponseWriter, r *http.Request) {
	httpx.WriteError(w, r, &api.Error{Code: api.CodeNotFound, Message: "no such asset"})
}

// serve writes f with its type and validator; http.ServeContent answers
// If-None-Match with 304 and HEAD without a body. Range requests are not
// served (the files are a few KB): ServeContent would answer a bad range
// with a plain-text 416, and every error of upload is JSON.
func serve(w http.ResponseWriter, r *http.Request, f file) {
	r.Header.Del("Range")
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("ETag", f.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
