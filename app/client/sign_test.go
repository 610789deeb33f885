package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image/color"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"imagelabel/app/e2e"
)

// The credentials and time of AWS's published SigV4 test suite
// (https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html).
const (
	suiteKeyID  = "AKIDEXAMPLE"
	suiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	suiteDate   = "20150830T123600Z"
)

// verifySigV4 recomputes a request's SigV4 signature from scratch, as AWS
// documents it (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html),
// and returns nil when the Authorization header carries it. It shares no
// code with the SDK's signer. secrets maps access key IDs to secrets;
// region and service are what the server expects.
func verifySigV4(r *http.Request, body []byte, secrets map[string]string, region, service string, now time.Time) error {
	const alg = "AWS4-HMAC-SHA256 "
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), alg)
	if !ok {
		return fmt.Errorf("no %sAuthorization header", alg)
	}
	fields := map[string]string{}
	for _, f := range strings.Split(auth, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || scope[2] != region || scope[3] != service {
		return fmt.Errorf("credential scope %q; want <key>/<date>/%s/%s/aws4_request", fields["Credential"], region, service)
	}
	secret, known := secrets[scope[0]]
	if !known {
		return fmt.Errorf("unknown access key %s", scope[0])
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil || !strings.HasPrefix(amzDate, scope[1]) || now.Sub(t).Abs() > 5*time.Minute {
		return fmt.Errorf("X-Amz-Date %q does not match the scope date %s or is not within 5 minutes of now", amzDate, scope[1])
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	if !sort.StringsAreSorted(signed) || !contains(signed, "host") || !contains(signed, "x-amz-date") {
		return fmt.Errorf("signed headers %v: want sorted, with host and x-amz-date", signed)
	}
	canonical := strings.Join([]string{
		r.Method, canonicalPath(r.URL), canonicalQuery(r.URL.Query()),
		canonicalHeaders(r, signed), fields["SignedHeaders"], sha256Hex(body),
	}, "\n")
	toSign := strings.Join([]string{"AWS4-HMAC-SHA256", amzDate, strings.Join(scope[1:], "/"), sha256Hex([]byte(canonical))}, "\n")
	key := []byte("AWS4" + secret)
	for _, part := range scope[1:] {
		key = hmacSHA256(key, part)
	}
	if want := hex.EncodeToString(hmacSHA256(key, toSign)); !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return fmt.Errorf("signature %s; recomputed %s over:\n%s", fields["Signature"], want, canonical)
	}
	return nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// uriEncode is SigV4's UriEncode: every byte but A-Z a-z 0-9 - . _ ~ as %XX.
func uriEncode(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// canonicalPath encodes each segment of the path as sent once more (all
// services but S3 take the path encoded twice).
func canonicalPath(u *url.URL) string {
	segs := strings.Split(u.EscapedPath(), "/")
	for i, s := range segs {
		segs[i] = uriEncode(s)
	}
	if p := strings.Join(segs, "/"); p != "" {
		return p
	}
	return "/"
}

// canonicalQuery sorts the parameters by encoded name, then value.
func canonicalQuery(q url.Values) string {
	var pairs []string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, uriEncode(k)+"="+uriEncode(v))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// canonicalHeaders lists the signed headers as received: lowercase name,
// values trimmed with inner runs of spaces collapsed. Go's server keeps
// Host and Content-Length out of r.Header.
func canonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, h := range signed {
		var vals []string
		switch h {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		default:
			vals = r.Header.Values(h)
		}
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		b.WriteString(h + ":" + strings.Join(vals, ",") + "\n")
	}
	return b.String()
}

// suiteRequest is a request of the test suite: GET https://example.amazonaws.com<pathQuery>.
func suiteRequest(t *testing.T, pathQuery string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, "https://example.amazonaws.com"+pathQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("X-Amz-Date", suiteDate)
	return r
}

// TestSigV4TestSuite holds both sides to AWS's published vectors: the
// SDK's signer, as the client calls it, produces the published
// signatures, and the test's verifier accepts exactly those.
func TestSigV4TestSuite(t *testing.T) {
	at, _ := time.Parse("20060102T150405Z", suiteDate)
	for _, v := range []struct{ name, pathQuery, signature string }{
		{"get-vanilla", "/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"get-vanilla-query-order-key-case", "/?Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
	} {
		t.Run(v.name, func(t *testing.T) {
			r := suiteRequest(t, v.pathQuery)
			creds := aws.Credentials{AccessKeyID: suiteKeyID, SecretAccessKey: suiteSecret}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, sha256Hex(nil), "service", "us-east-1", at); err != nil {
				t.Fatal(err)
			}
			want := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + v.signature
			if got := r.Header.Get("Authorization"); got != want {
				t.Errorf("SDK signer: Authorization = %q; want %q", got, want)
			}

			pub := suiteRequest(t, v.pathQuery)
			pub.Host = pub.URL.Host
			pub.Header.Set("Authorization", want)
			if err := verifySigV4(pub, nil, map[string]string{suiteKeyID: suiteSecret}, "us-east-1", "service", at); err != nil {
				t.Errorf("verifier refuses the published vector: %v", err)
			}
			flipped := "0"
			if strings.HasSuffix(want, "0") {
				flipped = "1"
			}
			pub.Header.Set("Authorization", want[:len(want)-1]+flipped)
			if err := verifySigV4(pub, nil, map[string]string{suiteKeyID: suiteSecret}, "us-east-1", "service", at); err == nil {
				t.Errorf("verifier accepts a signature with its last digit changed")
			}
		})
	}
}

// verifierAPI is API Gateway with AWS_IAM authorization in front of the
// fake upload API: requests to the signed routes need a valid signature
// (for region us-west-2), else 403 with API Gateway's own body.
type verifierAPI struct {
	next    http.Handler
	secrets map[string]string
	bodies  int // signed requests that carried a body
}

func (v *verifierAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost || strings.HasPrefix(r.URL.Path, "/labels/") {
		body, _ := io.ReadAll(r.Body)
		if err := verifySigV4(r, body, v.secrets, "us-west-2", "execute-api", time.Now()); err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			msg := "Forbidden"
			if r.Header.Get("Authorization") != "" {
				msg = "The request signature we calculated does not match the signature you provided."
			}
			fmt.Fprintf(w, `{"message":%q}`, msg)
			return
		}
		if len(body) > 0 {
			v.bodies++
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	v.next.ServeHTTP(w, r)
}

// TestSignedClientEndToEnd runs the client against the local verifier:
// signed with the credentials the SDK finds in the environment it uploads
// and reads labels; unsigned, or signed with a wrong secret, its 403 says
// why in one sentence naming the credentials.
func TestSignedClientEndToEnd(t *testing.T) {
	fake := &fakeAPI{maxBytes: 64 << 10}
	const keyID = "AKIAIOSFODNN7EXAMPLE"
	v := &verifierAPI{next: fake, secrets: map[string]string{keyID: "the-right-secret"}}
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	img := writePNG(t, t.TempDir(), "cat.png", color.RGBA{200, 30, 30, 255}, "")

	sdkEnv(t, keyID, "the-right-secret")

	out, errOut, err := runClient(t, nil, "--url", srv.URL, "--sign", "upload", img)
	if err != nil || !strings.Contains(out, "uploads/") {
		t.Fatalf("signed upload = %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	if v.bodies != 1 {
		t.Errorf("the verifier saw %d signed bodies; want the upload's 1", v.bodies)
	}
	_, key, _ := strings.Cut(out, "uploads/")
	key = "uploads/" + strings.Fields(key)[0]
	if _, _, err := runClient(t, nil, "--url", srv.URL, "--sign", "labels", key); err != nil {
		t.Errorf("signed labels %s: %v", key, err)
	}

	_, errOut, err = runClient(t, nil, "--url", srv.URL, "upload", img)
	if err == nil || !strings.Contains(errOut, "403 Forbidden: the request was not signed") || !strings.Contains(errOut, "--sign") {
		t.Errorf("unsigned upload: err = %v, stderr:\n%s\nwant the 403 explained, naming --sign", err, errOut)
	}

	t.Setenv("AWS_SECRET_ACCESS_KEY", "a-wrong-secret")
	_, _, err = runClient(t, nil, "--url", srv.URL, "--sign", "labels", key)
	for _, want := range []string{"403", "signed with access key AKIA...MPLE from EnvConfigCredentials", "execute-api:Invoke", "callerPolicy"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("wrongly signed labels: err = %v; want it to contain %q", err, want)
		}
	}
}

func TestSigningRegionAndWhen(t *testing.T) {
	u := func(s string) *url.URL { p, _ := url.Parse(s); return p }
	for _, tc := range []struct {
		tgt  *target
		sdk  string
		want string
	}{
		{&target{base: u("https://abc123.execute-api.eu-west-1.amazonaws.com/"), outputs: map[string]any{"region": "eu-central-1"}}, "us-east-1", "eu-central-1"},
		{&target{base: u("https://abc123.execute-api.eu-west-1.amazonaws.com/")}, "us-east-1", "eu-west-1"},
		{&target{base: u("https://api.example.com/")}, "ap-south-1", "ap-south-1"},
		{&target{base: u("https://api.example.com/")}, "", ""},
	} {
		if got := signingRegion(tc.tgt, tc.sdk); got != tc.want {
			t.Errorf("signingRegion(%s, %v, %q) = %q; want %q", tc.tgt.base, tc.tgt.outputs, tc.sdk, got, tc.want)
		}
	}
	iam := &target{base: u("https://x/"), outputs: map[string]any{"apiAuth": "iam"}}
	open := &target{base: u("https://x/"), outputs: map[string]any{}}
	if !wantSigning(config{}, iam) || wantSigning(config{}, open) || !wantSigning(config{sign: true}, open) {
		t.Errorf("wantSigning: iam stack %v, open stack %v, --sign %v; want true, false, true",
			wantSigning(config{}, iam), wantSigning(config{}, open), wantSigning(config{sign: true}, open))
	}
}

// sdkEnv gives the AWS SDK, which reads the process environment, static
// credentials for us-west-2 and nothing of this machine's AWS configuration.
func sdkEnv(t *testing.T, keyID, secret string) {
	t.Helper()
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "us-west-2")
	t.Setenv("AWS_ACCESS_KEY_ID", keyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
}

// TestSmokeSigned: smoke passes every hop of the real system (upload,
// rekog, localaws in this process, upload with API_AUTH=iam) behind the
// local verifier when it signs, and fails at the store hop, naming
// signing, when it does not.
func TestSmokeSigned(t *testing.T) {
	sys := e2e.Start(t, map[string]string{"API_AUTH": "iam"})
	backend, err := url.Parse(sys.URL)
	if err != nil {
		t.Fatal(err)
	}
	const keyID = "AKIAIOSFODNN7EXAMPLE"
	v := &verifierAPI{next: httputil.NewSingleHostReverseProxy(backend), secrets: map[string]string{keyID: "s3cret"}}
	srv := httptest.NewServer(v)
	t.Cleanup(srv.Close)
	sdkEnv(t, keyID, "s3cret")

	out, _, err := runClient(t, nil, "--url", srv.URL, "--sign", "smoke")
	if err != nil || !strings.Contains(out, "smoke: ok, 5 hops") {
		t.Errorf("signed smoke = %v:\n%s", err, out)
	}
	out, _, err = runClient(t, nil, "--url", srv.URL, "smoke")
	if err == nil || !strings.Contains(out, `FAILED at hop "store"`) || !strings.Contains(out, "the request was not signed") || !strings.Contains(out, "--sign") {
		t.Errorf("unsigned smoke = %v:\n%s\nwant a failure at the store hop naming signing", err, out)
	}
}
