package upload

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"imagelabel/app/internal/api"
	"imagelabel/app/internal/httpx"
)

// infoTimeout bounds the call to rekog's GET /getInfo; the page waits for
// this answer before it names the labeler.
const infoTimeout = 2 * time.Second

// handleInfo answers GET /getInfo: the build info, the body limit
// (maxUploadBytes, for clients to check a file before sending it) and
// rekog's labeler, asked on each call so it is the answer of the rekog that
// labels now; left out when rekog does not answer.
func handleInfo(cfg config, rk *rekogClient) http.Handler {
	base := httpx.BuildInfo("upload")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := base
		info.MaxUploadBytes = cfg.maxUpload
		info.APIAuth = cfg.apiAuth
		l, err := rk.labeler(r.Context(), cfg.rekogURL.JoinPath("getInfo").String())
		if err != nil {
			httpx.Logger(r.Context()).Warn("rekog getInfo failed; answering without the labeler", "err", err.Error())
		}
		info.Labeler = l
		httpx.WriteJSON(w, r, http.StatusOK, info)
	})
}

// labeler returns the labeler rekog's GET /getInfo at url names.
func (c *rekogClient) labeler(ctx context.Context, url string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, infoTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("get %s: %w", url, err)
	}
	req.Header.Set(httpx.HeaderRequestID, httpx.RequestID(ctx))
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("get %s: status %d", url, resp.StatusCode)
	}
	var info api.Info
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&info); err != nil {
		return "", fmt.Errorf("get %s: decode: %w", url, err)
	}
	return info.Labeler, nil
}
