package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestPageSignedOnly: on an apiAuth=iam stack (upload's API_AUTH=iam) the
// page says uploads need signed requests and points at the client, and
// its Upload button stays off even with an image chosen, instead of
// failing on the first upload with API Gateway's 403.
func TestPageSignedOnly(t *testing.T) {
	ctx, console := browser(t)
	sys := Start(t, map[string]string{"API_AUTH": "iam"})
	img := scene(t, t.TempDir())

	do(t, ctx, "load the page", chromedp.Navigate(sys.URL+"/"), chromedp.WaitVisible(chromedp.ID("file")))
	do(t, ctx, "wait for the notice", chromedp.WaitVisible(chromedp.ID("signed")))
	text := eval[string](t, ctx, `document.getElementById('signed').textContent`)
	for _, want := range []string{"signed with AWS credentials", "go run ./app/client upload FILE"} {
		if !strings.Contains(strings.Join(strings.Fields(text), " "), want) {
			t.Errorf("notice = %q; want it to contain %q", text, want)
		}
	}
	do(t, ctx, "choose an image", chromedp.SetUploadFiles(chromedp.ID("file"), []string{img}))
	do(t, ctx, "let the page settle", chromedp.Poll[chromedp.Void](`document.getElementById('preview').complete`))
	if !eval[bool](t, ctx, `document.getElementById('submit').disabled`) {
		t.Errorf("Upload button enabled on a signed-only API")
	}
	if n := uploadRequests(t, sys); n != 0 {
		t.Errorf("%d uploads reached upload; want none", n)
	}
	for _, m := range console() {
		t.Errorf("console: %v", m)
	}
}
