package upload

import (
	"log/slog"
	"strings"
	"testing"
)

// TestInfoSaysAPIAuth: with API_AUTH=iam, GET /getInfo says so (the page
// shows its notice); without it the field is absent, and a value that is
// not iam or none stops upload at start.
func TestInfoSaysAPIAuth(t *testing.T) {
	env := map[string]string{"BUCKET": "b", "REKOG_URL": deadURL(t)}
	for _, tc := range []struct{ apiAuth, want string }{{"", ""}, {"none", ""}, {"iam", "iam"}} {
		env["API_AUTH"] = tc.apiAuth
		cfg, err := loadConfig(getenvOf(env))
		if err != nil {
			t.Fatalf("loadConfig(API_AUTH=%q): %v", tc.apiAuth, err)
		}
		h := newHandler(cfg, newBudget(cfg.bufferBytes), newFakeStore(), newRekogClient(cfg), slog.New(slog.DiscardHandler))
		info, raw := getInfo(t, h)
		if info.APIAuth != tc.want || (tc.want == "" && strings.Contains(raw, "apiAuth")) {
			t.Errorf("API_AUTH=%q: GET /getInfo = %s; want apiAuth %q", tc.apiAuth, raw, tc.want)
		}
	}
	env["API_AUTH"] = "IAM"
	if _, err := loadConfig(getenvOf(env)); err == nil || !strings.Contains(err.Error(), "API_AUTH") {
		t.Errorf("loadConfig(API_AUTH=IAM) = %v; want an error naming API_AUTH", err)
	}
}
