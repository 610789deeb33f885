package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"imagelabel/app/localaws"
	"imagelabel/internal/testutil"
)

// chromium returns the browser to drive. Without one the test skips, except
// under CI=true, where a missing browser is a broken CI setup and fails.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium on PATH (Debian: apt-get install -y chromium)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser starts headless Chromium and returns a tab context and the
// console messages collected so far.
func browser(t *testing.T) (context.Context, func() []chromedp.ConsoleMessage) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.WindowSize(1024, 768),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts the browser with no deadline
		t.Fatalf("start chromium: %v", err)
	}
	var mu sync.Mutex
	var msgs []chromedp.ConsoleMessage
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, m)
			mu.Unlock()
		}
	}()
	return ctx, func() []chromedp.ConsoleMessage {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(msgs)
	}
}

// scrollSettled waits until the page has stopped scrolling (the results'
// smooth scroll after an upload): chromedp.Click measures where to click
// once, and a page still scrolling moves the element away (the click then
// misses, and e.g. the options stay closed).
func scrollSettled() chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](`(() => {
		const same = window.lastScrollY === scrollY;
		window.lastScrollY = scrollY;
		return same;
	})()`, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))
}

// click clicks the element once the page has stopped scrolling.
func click[S chromedp.Selectable](sel S) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(scrollSettled(), chromedp.Click(sel))
}

// do runs actions with a deadline, failing the test with what step failed.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// scene writes a PNG whose top is sky blue and bottom grass green, the kind
// of picture localaws gives several labels.
func scene(t *testing.T, dir string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := range 240 {
		for x := range 320 {
			c := color.RGBA{90, 160, 235, 255}
			if y > 150 {
				c = color.RGBA{40, 150, 50, 255}
			}
			img.Set(x, y, c)
		}
	}
	p := filepath.Join(dir, "scene.png")
	if err := os.WriteFile(p, testutil.EncodePNG(t, img), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// apiUpload posts path to the API directly, for the answer the page must show.
func apiUpload(t *testing.T, base, path string) (int, map[string]any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", filepath.Base(path))
	fw.Write(b)
	mw.Close()
	res, err := http.Post(base+"/upload", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatalf("POST /upload %s: %v", path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("POST /upload %s: %d %q is not JSON", path, res.StatusCode, raw)
	}
	return res.StatusCode, v
}

// shot saves a full-page screenshot as dir/name.png and checks it is a PNG.
func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	buf, err := chromedp.Run(tctx, chromedp.FullScreenshot(100)) // 100 = PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if _, err := png.DecodeConfig(bytes.NewReader(buf)); err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", name, err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}

type shownLabel struct {
	Name  string  `json:"name"`
	Pct   string  `json:"pct"`
	Width float64 `json:"width"` // rendered width of the bar's fill, px
	Track float64 `json:"track"` // rendered width of the bar, px
	Meta  string  `json:"meta"`
}

const readLabels = `[...document.querySelectorAll('#labels li.label')].map(li => ({
	name: li.querySelector('.name').textContent,
	pct: li.querySelector('.pct').textContent,
	width: li.querySelector('.fill').getBoundingClientRect().width,
	track: li.querySelector('.bar').getBoundingClientRect().width,
	meta: (li.querySelector('.meta') || {textContent: ''}).textContent,
}))`

func TestPage(t *testing.T) {
	ctx, console := browser(t)
	// A small limit, so the size check has a file over it to refuse.
	const maxUpload = 64 << 10
	sys := Start(t, map[string]string{"MAX_UPLOAD_BYTES": fmt.Sprint(maxUpload)})
	dir := t.TempDir()
	img := scene(t, dir)
	shots := os.Getenv("E2E_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	}

	// The labels the API gives for this image: the page must show exactly these.
	status, want := apiUpload(t, sys.URL, img)
	if status != 200 {
		t.Fatalf("POST /upload scene.png = %d %v; want 200", status, want)
	}
	var wantNames []string
	for _, l := range want["labels"].([]any) {
		wantNames = append(wantNames, l.(map[string]any)["name"].(string))
	}
	if len(wantNames) == 0 {
		t.Fatalf("the API gave no labels for scene.png; the test needs some: %v", want)
	}

	do(t, ctx, "load the page", chromedp.Navigate(sys.URL+"/"), chromedp.WaitVisible(chromedp.ID("file")))
	// The labels come from localaws, and the page says so (from GET /getInfo).
	do(t, ctx, "wait for the labeler", chromedp.Poll[chromedp.Void](`document.getElementById('lead').textContent.includes('local stand-in')`))
	if lead := eval[string](t, ctx, `document.getElementById('lead').textContent`); strings.Contains(lead, "see what Amazon Rekognition finds") ||
		!strings.Contains(lead, "labels from the local stand-in (localaws)") {
		t.Errorf("lead = %q; want it to say the labels come from the local stand-in (localaws)", lead)
	}
	// The native file chooser button looks like the Upload button.
	for _, prop := range []string{"backgroundColor", "color", "borderRadius", "fontWeight"} {
		chooser := eval[string](t, ctx, `getComputedStyle(document.getElementById('file'), '::file-selector-button').`+prop)
		button := eval[string](t, ctx, `getComputedStyle(document.getElementById('submit')).`+prop)
		if chooser != button {
			t.Errorf("file chooser button %s = %s; want the Upload button's %s", prop, chooser, button)
		}
	}

	// Keyboard: the first Tab reaches the real file input, and focus shows.
	do(t, ctx, "tab to the file input", chromedp.KeyEvent(kb.Tab))
	if id := eval[string](t, ctx, `document.activeElement.id`); id != "file" {
		t.Errorf("first Tab focuses #%s; want #file", id)
	}
	if o := eval[string](t, ctx, `getComputedStyle(document.activeElement).outlineStyle`); o == "none" {
		t.Errorf("the focused file input has no visible outline")
	}
	if lbl := eval[string](t, ctx, `document.getElementById('file').labels[0].textContent`); !strings.Contains(lbl, "Choose an image") {
		t.Errorf("file input label = %q; want it to say Choose an image", lbl)
	}

	do(t, ctx, "choose scene.png",
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{img}),
		chromedp.WaitVisible(chromedp.ID("preview")),
		chromedp.WaitEnabled(chromedp.ID("submit")),
	)
	if w := eval[float64](t, ctx, `document.getElementById('preview').naturalWidth`); w != 320 {
		t.Errorf("preview naturalWidth = %v; want 320 (the chosen image)", w)
	}
	// Record every status the page announces, to see the XHR upload events fire.
	do(t, ctx, "watch the status", chromedp.Evaluate[chromedp.Void](`window.statusTrail = [];
		new MutationObserver(() => statusTrail.push(document.getElementById('status').textContent))
			.observe(document.getElementById('status'), {childList: true, characterData: true, subtree: true})`))
	do(t, ctx, "upload and wait for labels",
		click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.CSS("#labels li.label")),
	)
	labels := eval[[]shownLabel](t, ctx, readLabels)
	trail := eval[[]string](t, ctx, `statusTrail`)
	for _, want := range []string{"Uploading scene.png", "Uploaded scene.png; labeling…"} {
		if !slices.ContainsFunc(trail, func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("statuses announced %q; want one starting %q (upload progress events)", trail, want)
		}
	}
	var gotNames []string
	for _, l := range labels {
		gotNames = append(gotNames, l.Name)
		if l.Width <= 0 || l.Width > l.Track+0.5 || !strings.HasSuffix(l.Pct, "%") {
			t.Errorf("label %q: bar %.1f of %.1f px, %q; want a visible bar within its track and a percentage", l.Name, l.Width, l.Track, l.Pct)
		}
	}
	if !slices.Equal(gotNames, wantNames) {
		t.Errorf("page shows labels %q; the API gives %q", gotNames, wantNames)
	}
	if len(labels) > 1 && labels[0].Width < labels[len(labels)-1].Width {
		t.Errorf("bars do not follow confidence: first %.1f px < last %.1f px", labels[0].Width, labels[len(labels)-1].Width)
	}
	statusText := eval[string](t, ctx, `document.getElementById('status').textContent`)
	if want := fmt.Sprintf("Found %d label", len(wantNames)); !strings.Contains(statusText, want) {
		t.Errorf("status = %q; want it to contain %q", statusText, want)
	}
	if key := eval[string](t, ctx, `document.getElementById('key').textContent`); key != "Stored as "+want["key"].(string) {
		t.Errorf("key line = %q; want Stored as %s", key, want["key"])
	}
	// The page has scrolled to the results, past the lead: the results say
	// again where the labels come from.
	if note := eval[string](t, ctx, `(() => {
		const n = document.getElementById('labeler');
		return n.closest('#results') && n.checkVisibility() ? n.textContent : '';
	})()`); !strings.Contains(note, "local stand-in (localaws), not Amazon Rekognition") {
		t.Errorf("stand-in notice in the results = %q; want it to say the labels are from the local stand-in (localaws), not Amazon Rekognition", note)
	}
	if p := eval[float64](t, ctx, `document.getElementById('progress').value`); p != 100 {
		t.Errorf("progress after upload = %v; want 100", p)
	}
	shot(t, ctx, shots, "page-desktop")

	// Options: Max labels 2 sends maxLabels=2 and the page shows two labels.
	do(t, ctx, "upload again with max labels 2",
		click(chromedp.CSS("#options summary")),
		chromedp.SendKeys(chromedp.ID("maxLabels"), "2"),
		click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.CSS("#labels li.label")),
	)
	if n := eval[int](t, ctx, `document.querySelectorAll('#labels li.label').length`); n != 2 {
		t.Errorf("with Max labels 2 the page shows %d labels; want 2", n)
	}
	do(t, ctx, "clear max labels", chromedp.SetValue(chromedp.ID("maxLabels"), ""))

	// Phone-sized viewport: nothing wider than the screen.
	do(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	if w := eval[float64](t, ctx, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("page is %v px wide at a 390 px viewport; want no horizontal scrolling", w)
	}
	// On a phone the results start below the fold: after Upload the page
	// brings them into view.
	do(t, ctx, "scroll to the top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	// A click from script: chromedp.Click would scroll to the button itself.
	do(t, ctx, "upload on the phone",
		chromedp.Evaluate[chromedp.Void](`document.getElementById('submit').click()`),
		chromedp.WaitVisible(chromedp.CSS("#labels li.label")),
	)
	do(t, ctx, "results scrolled into view", chromedp.Poll[chromedp.Void](`(() => {
		const r = document.getElementById('resultsTitle').getBoundingClientRect();
		return scrollY > 0 && r.top >= 0 && r.bottom <= innerHeight;
	})()`, chromedp.WithPollingTimeout(10*time.Second)))
	// The lead is scrolled away; the stand-in notice is on screen with the results.
	do(t, ctx, "scroll settled", scrollSettled())
	if where := eval[string](t, ctx, `(() => {
		const lead = document.getElementById('lead').getBoundingClientRect();
		const note = document.getElementById('labeler').getBoundingClientRect();
		const ok = lead.bottom <= 0 && note.height > 0 && note.top >= 0 && note.bottom <= innerHeight;
		return ok ? '' : JSON.stringify({lead: [lead.top, lead.bottom], note: [note.top, note.bottom], innerHeight});
	})()`); where != "" {
		t.Errorf("on the phone, after the scroll to the results, the stand-in notice is not on screen, or the lead still is: %s", where)
	}
	// Unscrolled, the labels would have ended below the fold.
	if below := eval[float64](t, ctx, `[...document.querySelectorAll('#labels li')].pop().getBoundingClientRect().bottom + scrollY - innerHeight`); below <= 0 {
		t.Errorf("the labels end %v px above the bottom of the unscrolled phone screen; the scroll test needs them below the fold", -below)
	}
	shot(t, ctx, shots, "page-phone")
	// Dark colour scheme: the page follows prefers-color-scheme.
	dark := func(on bool) {
		t.Helper()
		f := []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "light"}}
		if on {
			f[0].Value = "dark"
		}
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: f}); err != nil {
			t.Fatalf("emulate prefers-color-scheme: %v", err)
		}
	}
	dark(true)
	if bg := eval[string](t, ctx, `getComputedStyle(document.documentElement).backgroundColor`); bg != "rgb(13, 17, 23)" {
		t.Errorf("dark scheme background = %s; want rgb(13, 17, 23)", bg)
	}
	shot(t, ctx, shots, "page-phone-dark")
	dark(false)
	do(t, ctx, "desktop viewport", chromedp.EmulateViewport(1024, 768))

	// Not an image, though named .png: the API's 415 message, in words.
	notes := filepath.Join(dir, "notes.png")
	if err := os.WriteFile(notes, []byte("these are notes, not a picture\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	status, apiErr := apiUpload(t, sys.URL, notes)
	if status != 415 {
		t.Fatalf("POST /upload notes.png = %d; want 415", status)
	}
	wantMsg := apiErr["error"].(map[string]any)["message"].(string)
	do(t, ctx, "upload notes.png",
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{notes}),
		chromedp.WaitEnabled(chromedp.ID("submit")),
		click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("error")),
	)
	// A sentence for people that names the file, and the API's own words below it.
	if got := eval[string](t, ctx, `document.getElementById('errorText').textContent`); !strings.Contains(got, "notes.png is not a JPEG or PNG image") {
		t.Errorf("error shown = %q; want a sentence naming notes.png (not a JPEG or PNG image)", got)
	}
	if got := eval[string](t, ctx, `document.getElementById('errorDetail').textContent`); got != "The server said: "+wantMsg {
		t.Errorf("error detail = %q; want the API's message %q", got, wantMsg)
	}
	if eval[bool](t, ctx, `!document.getElementById('preview').hidden`) {
		t.Errorf("a broken preview is shown for notes.png")
	}
	if eval[bool](t, ctx, `!document.getElementById('retry').hidden`) {
		t.Errorf("retry button shown for a 415 (nothing was stored)")
	}
	if eval[bool](t, ctx, `!document.getElementById('results').hidden`) {
		t.Errorf("old labels still shown after a failed upload")
	}
	shot(t, ctx, shots, "page-error")

	// Over the limit: refused on the page, nothing sent.
	big := filepath.Join(dir, "big.png")
	if err := os.WriteFile(big, bytes.Repeat([]byte{0x89}, maxUpload), 0o644); err != nil {
		t.Fatal(err)
	}
	sentBefore := uploadRequests(t, sys)
	do(t, ctx, "count requests", chromedp.Evaluate[chromedp.Void](`window.xhrs = 0;
		const open = XMLHttpRequest.prototype.open;
		XMLHttpRequest.prototype.open = function (...a) { window.xhrs++; return open.apply(this, a); }`))
	do(t, ctx, "choose big.png",
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{big}),
		chromedp.Poll[chromedp.Void](`document.getElementById('errorTitle').textContent === 'File too large'`),
	)
	// One limit, in the server's words: its 413 says "larger than 64 KiB".
	if got := eval[string](t, ctx, `document.getElementById('errorText').textContent`); !strings.Contains(got, "big.png is 64 KiB, more than this server accepts (64 KiB per upload") ||
		len(regexp.MustCompile(`\d[\d.]* (B|KiB|MiB)\b`).FindAllString(got, -1)) != 2 {
		t.Errorf("error for big.png = %q; want it to name the file, its size and the server's limit, and no other size", got)
	}
	if !eval[bool](t, ctx, `document.getElementById('submit').disabled`) {
		t.Errorf("Upload is enabled for a file over the limit")
	}
	shot(t, ctx, shots, "page-too-large")
	// Even a submit forced past the disabled button sends nothing.
	do(t, ctx, "force a submit", chromedp.Evaluate[chromedp.Void](`document.getElementById('form').requestSubmit()`))
	if n := eval[int](t, ctx, `window.xhrs`); n != 0 {
		t.Errorf("the page opened %d requests for big.png; want none", n)
	}
	if n := uploadRequests(t, sys); n != sentBefore {
		t.Errorf("the server got %d POST /upload for big.png; want none", n-sentBefore)
	}
	// The check counts the multipart framing: a file that fits with its
	// framing is sent (and the server takes it).
	fits := filepath.Join(dir, "fits.png")
	if err := os.WriteFile(fits, pngOfSize(t, maxUpload-400), 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "upload fits.png",
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{fits}),
		chromedp.WaitEnabled(chromedp.ID("submit")),
		click(chromedp.ID("submit")),
		chromedp.Poll[chromedp.Void](`window.xhrs === 1 && !document.getElementById('submit').disabled`),
	)
	if title := eval[string](t, ctx, `document.getElementById('error').hidden ? '' : document.getElementById('errorTitle').textContent`); title == "File too large" ||
		strings.Contains(eval[string](t, ctx, `document.getElementById('errorDetail').textContent`), "larger than") {
		t.Errorf("fits.png (%d bytes, under the limit with its framing) was refused: %s", maxUpload-400, title)
	}

	// Stored but not labeled (Rekognition failing): the message, the key, and
	// a retry button that works once Rekognition is back.
	// This image arrives by drag and drop: a PNG drawn on a canvas, dropped
	// on the drop zone as a browser would deliver a dragged file.
	sys.AWS.SetFault(localaws.Fault{Service: "rekognition", Kind: localaws.FaultServerError, Status: 500})
	do(t, ctx, "drop a red image", chromedp.Evaluate[chromedp.Void](dropRedPNG, chromedp.EvalAwaitPromise))
	if name := eval[string](t, ctx, `document.getElementById('file').files[0].name`); name != "dropped.png" {
		t.Errorf("after the drop the file input holds %q; want dropped.png", name)
	}
	do(t, ctx, "upload while labeling fails",
		chromedp.WaitVisible(chromedp.ID("preview")),
		chromedp.WaitEnabled(chromedp.ID("submit")),
		click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("retry")),
	)
	if title := eval[string](t, ctx, `document.getElementById('errorTitle').textContent`); title != "Stored, but labeling failed" {
		t.Errorf("error title = %q; want Stored, but labeling failed", title)
	}
	shot(t, ctx, shots, "page-retry")
	errText := eval[string](t, ctx, `document.getElementById('errorText').textContent`)
	if errText == "" || strings.HasPrefix(errText, "{") || strings.Contains(errText, `"error"`) {
		t.Errorf("error shown for a failed labeling = %q; want a plain message", errText)
	}
	sys.AWS.ClearFaults()
	do(t, ctx, "retry labeling",
		click(chromedp.ID("retry")),
		chromedp.WaitVisible(chromedp.CSS("#labels li.label")),
		chromedp.WaitNotVisible(chromedp.ID("error")),
	)
	if key := eval[string](t, ctx, `document.getElementById('key').textContent`); !strings.HasPrefix(key, "Stored as uploads/") {
		t.Errorf("after retry the key line = %q; want Stored as uploads/…", key)
	}

	// The page must run under its own CSP with no errors other than the
	// failed requests this test caused on purpose.
	for _, m := range console() {
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") ||
			(m.Type == chromedp.ConsoleError && !strings.Contains(m.Text, "Failed to load resource")) {
			t.Errorf("browser console: %s %s", m.Type, m.Text)
		}
	}
}

// uploadRequests counts the POST /upload requests upload logged.
func uploadRequests(t *testing.T, sys *System) int {
	t.Helper()
	n := 0
	for _, l := range sys.Logs.JSONLines(t) {
		if l["msg"] == "request" && l["method"] == "POST" && l["path"] == "/upload" {
			n++
		}
	}
	return n
}

// pngOfSize returns a PNG of exactly size bytes: a small image followed by
// an ancillary chunk of filler, which decoders skip.
func pngOfSize(t *testing.T, size int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	raw := testutil.EncodePNG(t, img)
	iend := raw[len(raw)-12:]
	body := raw[:len(raw)-12]
	fill := size - len(raw) - 12 // the filler chunk's length, type and CRC take 12
	if fill < 0 {
		t.Fatalf("pngOfSize(%d): smaller than the image itself", size)
	}
	chunk := make([]byte, 12+fill)
	binary.BigEndian.PutUint32(chunk, uint32(fill))
	copy(chunk[4:], "tEXt")
	copy(chunk[8:], "c\x00")
	crc := crc32.ChecksumIEEE(chunk[4 : 8+fill])
	binary.BigEndian.PutUint32(chunk[8+fill:], crc)
	out := append(append(append([]byte{}, body...), chunk...), iend...)
	if len(out) != size {
		t.Fatalf("pngOfSize(%d) = %d bytes", size, len(out))
	}
	return out
}

// dropRedPNG draws a red PNG on a canvas and drops it on #drop.
const dropRedPNG = `(async () => {
	const c = document.createElement('canvas');
	c.width = 64; c.height = 48;
	const g = c.getContext('2d');
	g.fillStyle = '#dc2828'; g.fillRect(0, 0, 64, 48);
	const blob = await new Promise(r => c.toBlob(r, 'image/png'));
	const dt = new DataTransfer();
	dt.items.add(new File([blob], 'dropped.png', {type: 'image/png'}));
	const zone = document.getElementById('drop');
	for (const type of ['dragenter', 'dragover', 'drop']) {
		zone.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
	}
})()`
