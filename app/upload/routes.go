package upload

import (
	"log/slog"
	"net/http"

	"imagelabel/app/internal/httpx"
	"imagelabel/app/upload/web"
)

// newHandler returns upload's whole HTTP API behind the shared middleware;
// images are buffered within mem.
func newHandler(cfg config, mem *budget, store objectStore, rk *rekogClient, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	for _, rt := range routes(cfg, mem, store, rk) {
		mux.Handle(rt.pattern, rt.handler)
	}
	return httpx.Wrap(log, mux)
}

type route struct {
	pattern string
	handler http.Handler
}

// routes is upload's public API, the one table both the mux and Patterns
// read.
func routes(cfg config, mem *budget, store objectStore, rk *rekogClient) []route {
	return []route{
		{"GET /healthz", httpx.HandleHealthz()},
		{"GET /getInfo", handleInfo(cfg, rk)},
		{"GET /{$}", web.Handler()},
		{"GET /assets/", web.Handler()},
		{"POST /upload", handleUpload(cfg, mem, store, rk)},
		{"GET /labels/{key...}", handleLabels(cfg, rk)},
	}
}

// Patterns returns the net/http ServeMux patterns of upload's routes, in
// order. The deploy's API Gateway routes must match them one for one (tested
// in the root package), so a route added here cannot silently stay private.
func Patterns() []string {
	var out []string
	for _, rt := range routes(config{}, nil, nil, nil) {
		out = append(out, rt.pattern)
	}
	return out
}
