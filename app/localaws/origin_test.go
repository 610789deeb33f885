package localaws

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// localRequest is an in-process request as a local program sends it: Host
// is the loopback address the services use.
func localRequest(method, target string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, target, body)
	r.Host = "127.0.0.1:4566"
	return r
}

// TestRefusesBrowserPagesAndForeignHosts: what a web page can send (a CORS
// preflight, a simple cross-origin GET, a no-cors <img> load, a DNS
// rebinding Host) is refused with 403 and no CORS header; what the
// services' SDKs send (Host 127.0.0.1:port, localhost, ::1, the container
// alias) is served.
func TestRefusesBrowserPagesAndForeignHosts(t *testing.T) {
	srv, err := New(Options{Buckets: []string{testBucket}, AllowedHosts: []string{"localaws.imagelabel.internal"}})
	if err != nil {
		t.Fatal(err)
	}
	put := localRequest(http.MethodPut, "/"+testBucket+"/k.txt", strings.NewReader("secret"))
	if rec := serve(srv, put); rec.Code != http.StatusOK {
		t.Fatalf("PUT from 127.0.0.1 = %d; want 200", rec.Code)
	}
	tests := []struct {
		name    string
		method  string
		host    string
		headers map[string]string
		want    int
	}{
		{"sdk on 127.0.0.1", "GET", "127.0.0.1:4566", nil, 200},
		{"sdk on 127.0.0.2", "GET", "127.0.0.2:4566", nil, 200},
		{"localhost", "GET", "localhost:4566", nil, 200},
		{"localhost no port", "GET", "LOCALHOST", nil, 200},
		{"ipv6 loopback", "GET", "[::1]:4566", nil, 200},
		{"container alias", "GET", "localaws.imagelabel.internal:4566", nil, 200},
		{"same origin", "GET", "127.0.0.1:4566", map[string]string{"Origin": "http://127.0.0.1:4566"}, 200},
		{"rebinding host", "GET", "evil.example:4566", nil, 403},
		{"rebinding host no port", "GET", "evil.example", nil, 403},
		{"alias lookalike", "GET", "localaws.imagelabel.internal.evil.example", nil, 403},
		{"no host", "GET", "", nil, 403},
		{"public address", "GET", "192.0.2.1:4566", nil, 403},
		{"cross-origin GET", "GET", "127.0.0.1:4566", map[string]string{"Origin": "https://evil.example"}, 403},
		{"null origin", "GET", "127.0.0.1:4566", map[string]string{"Origin": "null"}, 403},
		{"no-cors img", "GET", "127.0.0.1:4566", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"preflight", "OPTIONS", "127.0.0.1:4566", map[string]string{
			"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT",
		}, 403},
		{"same-origin preflight", "OPTIONS", "127.0.0.1:4566", map[string]string{
			"Origin": "http://127.0.0.1:4566", "Access-Control-Request-Method": "DELETE",
		}, 403},
		{"cross-origin DELETE", "DELETE", "127.0.0.1:4566", map[string]string{"Origin": "https://evil.example"}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/"+testBucket+"/k.txt", nil)
			r.Host = tt.host
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			rec := serve(srv, r)
			if rec.Code != tt.want {
				t.Errorf("%s Host %q %v = %d %s; want %d", tt.method, tt.host, tt.headers, rec.Code, rec.Body.String(), tt.want)
			}
			for k := range rec.Header() {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("response has %s: %q; want no CORS header", k, rec.Header().Get(k))
				}
			}
			if tt.want == 200 && rec.Body.String() != "secret" {
				t.Errorf("body = %q; want the object", rec.Body.String())
			}
		})
	}
	// The object survived the refused DELETE.
	if rec := serve(srv, localRequest(http.MethodGet, "/"+testBucket+"/k.txt", nil)); rec.Body.String() != "secret" {
		t.Errorf("after a refused cross-origin DELETE, GET = %d %q; want the object", rec.Code, rec.Body.String())
	}
}

// TestRefusedRekognitionIsJSON: a refused Rekognition call gets the AWS
// JSON error shape the SDK parses.
func TestRefusedRekognitionIsJSON(t *testing.T) {
	srv, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
	r.Host = "evil.example"
	r.Header.Set("X-Amz-Target", "RekognitionService.DetectLabels")
	rec := serve(srv, r)
	if rec.Code != http.StatusForbidden || rec.Header().Get("X-Amzn-ErrorType") != "AccessDeniedException" {
		t.Errorf("DetectLabels with Host evil.example = %d %s; want 403 AccessDeniedException", rec.Code, rec.Header().Get("X-Amzn-ErrorType"))
	}
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}
