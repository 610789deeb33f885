package rekog

import (
	"log/slog"
	"net/http"

	"imagelabel/app/internal/httpx"
)

// newHandler returns rekog's whole HTTP API behind the shared middleware.
func newHandler(cfg config, det detector, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	addRoutes(mux, cfg, det)
	return httpx.Wrap(log, mux)
}

func addRoutes(mux *http.ServeMux, cfg config, det detector) {
	mux.Handle("GET /healthz", httpx.HandleHealthz())
	mux.Handle("GET /getInfo", httpx.HandleInfo("rekog"))
	mux.Handle("POST /labels", handleLabels(cfg, det))
}
