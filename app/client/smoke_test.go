package main

import (
	"bytes"
	"errors"
	"image/jpeg"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"

	"imagelabel/app/e2e"
	"imagelabel/app/localaws"
)

func TestSmokeImageIsAJPEG(t *testing.T) {
	img, err := jpeg.Decode(bytes.NewReader(smokeImage()))
	if err != nil {
		t.Fatalf("decode the smoke image: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 96 || b.Dy() != 64 {
		t.Errorf("smoke image is %v; want 96x64", b)
	}
	if n := len(smokeImage()); n > 8<<10 {
		t.Errorf("smoke image is %d bytes; want a small one", n)
	}
}

// hopLines matches the printed hop lines: status, hop name, timing.
var hopLine = regexp.MustCompile(`(?m)^  (ok|FAIL) +(\w+) +\d+(\.\d+)?(ns|µs|ms|s) +\S`)

func hops(out string) []string {
	var got []string
	for _, m := range hopLine.FindAllStringSubmatch(out, -1) {
		got = append(got, m[1]+" "+m[2])
	}
	return got
}

func TestSmokePasses(t *testing.T) {
	sys := e2e.Start(t, nil)
	hostport := strings.TrimPrefix(sys.URL, "http://")
	out, _, err := runClient(t, nil, "--url", hostport, "smoke")
	if err != nil {
		t.Fatalf("smoke against the local system: %v\n%s", err, out)
	}
	want := "ok api,ok health,ok store,ok label,ok relabel"
	if got := strings.Join(hops(out), ","); got != want {
		t.Errorf("smoke hops = %s; want %s\n%s", got, want, out)
	}
	for _, re := range []string{
		`(?m)^smoke test of ` + regexp.QuoteMeta(sys.URL) + `$`,
		`POST /upload stored uploads/[0-9a-f]{64}\.jpg \(\d+(\.\d)? KiB\)`,
		`label +\S+ +[1-5] labels?: \w`,
		`GET /labels/\{key\} returned the same labels`,
		`(?m)^smoke: ok, 5 hops in \S+$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("smoke output lacks %s:\n%s", re, out)
		}
	}
}

// TestSmokeFailures breaks one hop at a time in the local system and checks
// that smoke fails there, names it, and says where to look.
func TestSmokeFailures(t *testing.T) {
	// rekog stopped: upload's REKOG_URL refuses connections.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadRekog := "http://" + ln.Addr().String()
	ln.Close()

	t.Run("rekog stopped", func(t *testing.T) {
		sys := e2e.Start(t, map[string]string{"REKOG_URL": deadRekog})
		out, _, err := runClient(t, nil, "--url", sys.URL, "smoke")
		checkSmokeFailure(t, out, err, "label", []string{"ok api", "ok health", "ok store", "FAIL label"},
			`FAIL +label .*POST /upload: 503 unavailable: the image is stored`,
			`could not reach rekog through Service Connect`,
			`log lines of "upload", "rekog" and "localaws" in the output of .go run \./app/local.`)
	})

	t.Run("S3 refuses writes", func(t *testing.T) {
		sys := e2e.Start(t, nil)
		sys.AWS.SetFault(localaws.Fault{Service: "s3", Kind: localaws.FaultServerError, Status: 403})
		out, _, err := runClient(t, nil, "--url", sys.URL, "smoke")
		checkSmokeFailure(t, out, err, "store", []string{"ok api", "ok health", "FAIL store"},
			`FAIL +store .*POST /upload: 502 store_failed: `,
			`upload could not write to S3 \(PutObject\)`,
			`log lines of "upload" and "localaws"`)
	})

	t.Run("S3 refuses writes, URL from the stack", func(t *testing.T) {
		sys := e2e.Start(t, nil)
		sys.AWS.SetFault(localaws.Fault{Service: "s3", Kind: localaws.FaultServerError, Status: 500})
		fakePulumi(t, `{"apiUrl":"`+sys.URL+`","region":"eu-west-1","clusterName":"imagelabel-dev-c1",`+
			`"uploadLogGroup":"/imagelabel/dev/upload","rekogLogGroup":"/imagelabel/dev/rekog","apiLogGroup":"/imagelabel/dev/api"}`, false)
		out, _, err := runClient(t, nil, "--project-dir", t.TempDir(), "smoke")
		checkSmokeFailure(t, out, err, "store", []string{"ok api", "ok health", "FAIL store"},
			`(?m)^    aws logs tail /imagelabel/dev/upload --since 10m --region eu-west-1$`,
			`aws ecs describe-services --region eu-west-1 --cluster imagelabel-dev-c1 `,
			"`pulumi stack output --stack dev bucketName`")
	})

	t.Run("not the upload API", func(t *testing.T) {
		_, url := startFake(t) // answers /getInfo as upload, then...
		out, _, err := runClient(t, map[string]string{"API_URL": url + "/nothing-here"}, "smoke")
		checkSmokeFailure(t, out, err, "api", []string{"FAIL api"},
			`FAIL +api .*does not look like the upload API: its GET /getInfo answers 404 Not Found`,
			"`go run ./app/local` prints upload's URL")
	})
}

// TestSmokeHintsWithoutStack: a deployed API given by --url or API_URL has
// no outputs at hand; the commands read them with pulumi in place.
func TestSmokeHintsWithoutStack(t *testing.T) {
	u, err := parseBaseURL("--url", "https://abc123.execute-api.us-east-1.amazonaws.com")
	if err != nil {
		t.Fatal(err)
	}
	h := newHints(config{stack: "dev"}, &target{base: u})
	got := strings.Join(slices.Concat(h.api(), h.health(), h.store(nil), h.label(nil), h.relabel(nil)), "\n")
	for _, want := range []string{
		"`pulumi stack output apiUrl`",
		`aws logs tail "$(pulumi stack output apiLogGroup)" --since 10m` + "\n",
		`aws logs tail "$(pulumi stack output uploadLogGroup)" --since 10m` + "\n",
		`aws logs tail "$(pulumi stack output rekogLogGroup)" --since 10m` + "\n",
		`aws ecs describe-services --cluster "$(pulumi stack output clusterName)" --services $(aws ecs list-services --cluster "$(pulumi stack output clusterName)" --query serviceArns --output text)`,
	} {
		if !strings.Contains(got+"\n", want) {
			t.Errorf("hints lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "app/local") {
		t.Errorf("hints for a deployed API mention the local run:\n%s", got)
	}
}

func checkSmokeFailure(t *testing.T, out string, err error, hop string, wantHops []string, wantOut ...string) {
	t.Helper()
	var f *hopFailure
	if !errors.As(err, &f) || f.hop.name != hop || !strings.Contains(err.Error(), `hop "`+hop+`" failed`) {
		t.Errorf("smoke error = %v; want hop %q named", err, hop)
	}
	if got := strings.Join(hops(out), ","); got != strings.Join(wantHops, ",") {
		t.Errorf("smoke hops = %s; want %s\n%s", got, strings.Join(wantHops, ","), out)
	}
	var more strings.Builder
	if code := report(err, &more); code != 1 || more.Len() > 0 {
		t.Errorf("main after a failed smoke: exit %d, prints %q; want exit 1 and nothing after smoke's own FAILED line", code, more.String())
	}
	if !strings.Contains(out, `smoke: FAILED at hop "`+hop+`"`) || !strings.Contains(out, "look at:") {
		t.Errorf("smoke output does not name hop %q and what to look at:\n%s", hop, out)
	}
	for _, re := range wantOut {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("smoke output lacks %s:\n%s", re, out)
		}
	}
}

// TestSmokeHintsDomainAndIAM: a failing API hop on a custom domain says
// what to check of DNS (and the record left to the user); a 403 at upload
// names signing and the caller policy.
func TestSmokeHintsDomainAndIAM(t *testing.T) {
	h := hints{stack: "dev", outputs: map[string]any{
		"apiUrl": "https://api.example.org/", "apiDomainTarget": "d-abc.execute-api.us-east-1.amazonaws.com",
		"domainDnsRecord": "api.example.org CNAME d-abc.execute-api.us-east-1.amazonaws.com",
	}}
	api := strings.Join(h.api(), "\n")
	for _, want := range []string{"dig +short api.example.org", "d-abc.execute-api.us-east-1.amazonaws.com", "the DNS record this stack leaves to you: api.example.org CNAME"} {
		if !strings.Contains(api, want) {
			t.Errorf("api hints lack %q:\n%s", want, api)
		}
	}
	if plain := strings.Join(hints{stack: "dev", outputs: map[string]any{"apiUrl": "https://x.execute-api.us-east-1.amazonaws.com/"}}.api(), "\n"); strings.Contains(plain, "dig") {
		t.Errorf("api hints without a domain mention DNS:\n%s", plain)
	}
	store := strings.Join(h.store(&apiError{Status: 403, Message: "Forbidden"}), "\n")
	for _, want := range []string{"IAM authorization", "--sign", "callerPolicy"} {
		if !strings.Contains(store, want) {
			t.Errorf("store hints for a 403 lack %q:\n%s", want, store)
		}
	}
}
