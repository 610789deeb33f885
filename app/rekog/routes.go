package rekog

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"imagelabel/app/internal/api"
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
	mux.Handle("GET /getInfo", handleInfo(cfg))
	mux.Handle("POST /labels", handleLabels(cfg, det))
}

// handleInfo answers GET /getInfo: the build info, the Rekognition endpoint
// when one is set, and what that makes the labeler.
func handleInfo(cfg config) http.Handler {
	info := httpx.BuildInfo("rekog")
	info.Labeler = labeler(cfg.endpoint)
	info.RekognitionEndpoint = cfg.endpoint
	return httpx.HandleInfo(info)
}

// labeler names what answers DetectLabels at endpoint: Amazon Rekognition
// for the SDK's default ("") or an AWS endpoint (a FIPS or VPC endpoint is
// still Rekognition), otherwise the stand-in the endpoint was set for. The
// services have no "local" switch; the endpoint is what they are told.
// AWS domains: https://docs.aws.amazon.com/general/latest/gr/rekognition.html
func labeler(endpoint string) string {
	if endpoint == "" {
		return api.LabelerRekognition
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return api.LabelerStandIn
	}
	host := strings.ToLower(u.Hostname())
	for _, aws := range []string{".amazonaws.com", ".amazonaws.com.cn", ".api.aws"} {
		if strings.HasSuffix(host, aws) {
			return api.LabelerRekognition
		}
	}
	return api.LabelerStandIn
}
