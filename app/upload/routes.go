package upload

import (
	"log/slog"
	"net/http"

	"imagelabel/app/internal/httpx"
	"imagelabel/app/upload/web"
)

// newHandler returns upload's whole HTTP API behind the shared middleware.
func newHandler(cfg config, store objectStore, rk *rekogClient, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	addRoutes(mux, cfg, store, rk)
	return httpx.Wrap(log, mux)
}

func addRoutes(mux *http.ServeMux, cfg config, store objectStore, rk *rekogClient) {
	mux.Handle("GET /healthz", httpx.HandleHealthz())
	mux.Handle("GET /getInfo", httpx.HandleInfo("upload"))
	mux.Handle("GET /{$}", web.Handler())
	mux.Handle("GET /assets/", web.Handler())
	mux.Handle("POST /upload", handleUpload(cfg, store, rk))
	mux.Handle("GET /labels/{key...}", handleLabels(cfg, rk))
}
