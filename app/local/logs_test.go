package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRenderLine(t *testing.T) {
	ts := time.Date(2026, 11, 26, 18, 0, 1, 234_000_000, time.UTC)
	clock := ts.Local().Format("15:04:05.000")
	tests := []struct {
		in, want string
	}{
		{
			`{"time":"2026-11-26T18:00:01.234Z","level":"INFO","msg":"request","service":"upload","method":"POST","status":200,"request_id":"abc"}`,
			clock + " INFO  request method=POST status=200 request_id=abc",
		},
		{ // attribute order is the service's, values needing quotes are quoted
			`{"level":"WARN","msg":"label failed","service":"rekog","err":"rekog: 503 Service Unavailable","key":"uploads/x.jpg","n":1.5,"ok":true,"z":null}`,
			`WARN  label failed service=rekog err="rekog: 503 Service Unavailable" key=uploads/x.jpg n=1.5 ok=true z=null`,
		},
		{ // slog groups flatten with dots; arrays stay JSON
			`{"msg":"m","http":{"method":"GET","path":"/healthz"},"tags":["a","b"],"empty":""}`,
			`m http.method=GET http.path=/healthz tags=["a","b"] empty=""`,
		},
		{"not json at all", "not json at all"},
		{`{"broken":`, `{"broken":`},
		{`{"a":1} trailing`, `{"a":1} trailing`},
		{`["array"]`, `["array"]`},
		{`{"msg":"new\nline"}`, `"new\nline"`},
		// Every control and bidi character is quoted wherever it appears:
		// U+202E (right-to-left override), U+0085 (C1 next line), U+009B
		// (C1 CSI), U+2066 (isolate), U+2028 (line separator), ESC.
		{"{\"msg\":\"evil\u202egpj.exe\"}", `"evil\u202egpj.exe"`},
		{"{\"msg\":\"m\",\"key\":\"a\u0085b\"}", `m key="a\u0085b"`},
		{"{\"msg\":\"m\",\"key\":\"\u009b31m\"}", `m key="\u009b31m"`},
		{"{\"msg\":\"m\",\"k\":\"\u2066x\u2069\"}", `m k="\u2066x\u2069"`},
		{"{\"msg\":\"m\",\"k\":\"a\u2028b\"}", `m k="a\u2028b"`},
		{`{"msg":"m","k":"\u001b[2J"}`, `m k="\x1b[2J"`}, // escaped in the JSON, raw once decoded
		{"{\"msg\":\"m\",\"tags\":[\"\u202e\"]}", `m tags="[\"\u202e\"]"`},
		{"{\"msg\":\"m\",\"a\u202eb\":1}", `m "a\u202eb"=1`},
		{"{\"msg\":\"caf\u00e9 \u65e5\u672c\"}", "caf\u00e9 \u65e5\u672c"}, // printable text stays as is
		{"plain \u202e line", `"plain \u202e line"`},
		{"plain \x9b line", `"plain \x9b line"`},
		{"\tat main.go:12", "\tat main.go:12"}, // a panic trace's tab is harmless
	}
	for _, tt := range tests {
		if got := renderLine("upload", []byte(tt.in)); got != tt.want {
			t.Errorf("renderLine(%s)\n got  %q\n want %q", tt.in, got, tt.want)
		}
	}
}

// A slog JSON handler writing into a service writer comes out as one
// readable, prefixed line per record, even when records arrive in pieces and
// several services write at once.
func TestLogMuxServices(t *testing.T) {
	var out bytes.Buffer
	mux := &logMux{out: &out}
	var wg sync.WaitGroup
	for _, name := range []string{"upload", "rekog"} {
		w := mux.writer(name)
		log := slog.New(slog.NewJSONHandler(w, nil))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				log.Info("hello", "i", i, "svc", name)
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 100 {
		t.Fatalf("got %d lines; want 100:\n%s", len(lines), out.String())
	}
	for _, l := range lines {
		var name string
		switch {
		case strings.HasPrefix(l, "upload   | "):
			name = "upload"
		case strings.HasPrefix(l, "rekog    | "):
			name = "rekog"
		default:
			t.Fatalf("line %q has no service prefix", l)
		}
		if !strings.Contains(l, " INFO  hello i=") || !strings.HasSuffix(l, " svc="+name) {
			t.Errorf("line %q: want a rendered record of %s", l, name)
		}
	}

	out.Reset()
	w := mux.writer("localaws")
	w.Write([]byte(`{"msg":"par`))
	w.Write([]byte("ts\"}\nplain line\n\n  \n"))
	if got, want := out.String(), "localaws | parts\nlocalaws | plain line\n"; got != want {
		t.Errorf("split writes: got %q; want %q", got, want)
	}
	out.Reset()
	w.Write([]byte("no newline yet"))
	if out.Len() != 0 {
		t.Errorf("incomplete line emitted early: %q", out.String())
	}
	w.Flush()
	if got, want := out.String(), "localaws | no newline yet\n"; got != want {
		t.Errorf("Flush: got %q; want %q", got, want)
	}

	out.Reset()
	raw := &logMux{out: &out, raw: true}
	raw.writer("upload").Write([]byte(`{"msg":"x"}` + "\n"))
	if got, want := out.String(), `upload   | {"msg":"x"}`+"\n"; got != want {
		t.Errorf("raw: got %q; want %q", got, want)
	}

	out.Reset()
	big := strings.Repeat("x", maxPending+10)
	mux.writer("upload").Write([]byte(big))
	if !strings.HasPrefix(out.String(), "upload   | xxx") {
		t.Errorf("a line longer than %d bytes was held back", maxPending)
	}
}

// TestRawLogsEscapeUnsafe: -json-logs passes JSON lines through, but with
// every unsafe character escaped, and the line still decodes to the same
// text.
func TestRawLogsEscapeUnsafe(t *testing.T) {
	var out bytes.Buffer
	mux := &logMux{out: &out, raw: true}
	w := mux.writer("upload")
	in := "{\"msg\":\"a\u202eb\u0085c\u009bd\U000e0001e\"}\n"
	if _, err := w.Write([]byte(in)); err != nil {
		t.Fatal(err)
	}
	got := strings.TrimPrefix(strings.TrimSpace(out.String()), "upload   | ")
	if strings.ContainsFunc(got, unsafeRune) {
		t.Fatalf("raw line %q still holds unsafe characters", got)
	}
	var rec struct{ Msg string }
	if err := json.Unmarshal([]byte(got), &rec); err != nil || rec.Msg != "a\u202eb\u0085c\u009bd\U000e0001e" {
		t.Errorf("raw line %q decodes to %q, %v; want the original message", got, rec.Msg, err)
	}
}
