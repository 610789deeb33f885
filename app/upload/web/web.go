// Package web serves upload's browser page from embedded assets.
package web

import "net/http"

// Handler returns the handler for the browser page (GET / and its assets).
// Placeholder until the page lands.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>imagelabel</title><p>POST an image to /upload (multipart field <code>file</code>).</p>\n"))
	})
}
