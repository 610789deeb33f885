package upload

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"imagelabel/app/internal/api"
)

// getInfo asks h for GET /getInfo and decodes the answer.
func getInfo(t *testing.T, h http.Handler) (api.Info, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/getInfo", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /getInfo = %d %s; want 200", rec.Code, rec.Body)
	}
	var info api.Info
	if err := json.Unmarshal(rec.Body.Bytes(), &info); err != nil {
		t.Fatalf("GET /getInfo = %s: %v", rec.Body, err)
	}
	return info, rec.Body.String()
}

// TestInfoPassesOnRekogsLabeler: upload's getInfo has its body limit and the
// labeler rekog's getInfo names, and stays up without it when rekog is down.
func TestInfoPassesOnRekogsLabeler(t *testing.T) {
	rekogInfo := `{"name":"rekog","version":"x","goVersion":"go","labeler":"Amazon Rekognition"}`
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "GET" || r.URL.Path != "/getInfo" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, rekogInfo)
	}))
	t.Cleanup(fake.Close)
	handler := func(rekogURL string) http.Handler {
		cfg := testConfig(rekogURL)
		return newHandler(cfg, newBudget(cfg.bufferBytes), newFakeStore(), newRekogClient(cfg), slog.New(slog.DiscardHandler))
	}

	info, _ := getInfo(t, handler(fake.URL))
	if info.Name != "upload" || info.Labeler != api.LabelerRekognition || info.MaxUploadBytes != 1<<20 {
		t.Errorf("GET /getInfo = %+v; want upload, labeler %q, maxUploadBytes %d", info, api.LabelerRekognition, 1<<20)
	}
	info, raw := getInfo(t, handler(deadURL(t)))
	if info.Labeler != "" || strings.Contains(raw, "labeler") || info.MaxUploadBytes != 1<<20 {
		t.Errorf("GET /getInfo with rekog down = %s; want maxUploadBytes and no labeler", raw)
	}
}

// TestInfoNamesTheStandIn: in the system against localaws, getInfo says the
// labels come from the stand-in (rekog's endpoint is localaws's).
func TestInfoNamesTheStandIn(t *testing.T) {
	s := startSystem(t)
	resp, err := http.Get(s.uploadURL + "/getInfo")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info api.Info
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	if info.Labeler != api.LabelerStandIn || info.MaxUploadBytes != DefaultMaxUploadBytes || info.RekognitionEndpoint != "" {
		t.Errorf("GET /getInfo = %+v; want labeler %q, maxUploadBytes %d, no endpoint of rekog's", info, api.LabelerStandIn, DefaultMaxUploadBytes)
	}
}
