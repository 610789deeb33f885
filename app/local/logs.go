package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// logMux serialises the log lines of every service onto one writer, so lines
// from services writing concurrently never interleave mid-line.
type logMux struct {
	mu  sync.Mutex
	out io.Writer
	raw bool // pass JSON lines through unchanged (-json-logs)
}

// writer returns an io.Writer for one service. Each complete line written to
// it is re-rendered readably (or passed through when raw) with the service
// name in front; an incomplete trailing line is kept until its newline comes
// or Flush is called.
func (m *logMux) writer(name string) *lineWriter {
	return &lineWriter{mux: m, name: name}
}

// lineWriter is one service's view of a logMux: it splits what it is given
// into lines and hands each complete line to the mux.
type lineWriter struct {
	mux  *logMux
	name string

	mu  sync.Mutex
	buf []byte
}

// maxPending bounds the bytes a lineWriter keeps while waiting for a newline,
// so a service writing one enormous line cannot grow memory without limit.
const maxPending = 64 << 10

// Write implements io.Writer. It never fails: a log line that cannot be
// rendered is printed as it came.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.mux.emit(w.name, w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxPending {
		w.mux.emit(w.name, w.buf)
		w.buf = nil
	}
	if len(w.buf) == 0 {
		w.buf = nil // let a large, consumed buffer be collected
	}
	return len(p), nil
}

// Flush emits a pending incomplete line, if any.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.mux.emit(w.name, w.buf)
		w.buf = nil
	}
}

// emit writes one line for the named service.
func (m *logMux) emit(name string, line []byte) {
	line = bytes.TrimRight(line, "\r")
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	var s string
	if m.raw {
		s = fmt.Sprintf("%-8s | %s\n", name, escapeUnsafe(line))
	} else {
		s = fmt.Sprintf("%-8s | %s\n", name, renderLine(name, line))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	io.WriteString(m.out, s) //nolint:errcheck // nowhere better to report a failing log writer
}

// renderLine turns one slog JSON line such as
//
//	{"time":"2026-11-26T18:00:00.123Z","level":"INFO","msg":"request","status":200,"request_id":"x"}
//
// into
//
//	18:00:00.123 INFO  request status=200 request_id=x
//
// keeping the other attributes in the order the service wrote them and
// dropping service=<name>, which the line's prefix already says. A line that
// is not a JSON object is returned unchanged.
func renderLine(name string, line []byte) string {
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return plainLine(line)
	}
	attrs, err := decodeOrdered(trimmed)
	if err != nil {
		return plainLine(line)
	}
	var ts, level, msg string
	var rest []kv
	for _, a := range attrs {
		switch {
		case a.key == "time" && ts == "":
			ts = formatTime(a.val)
		case a.key == "level" && level == "":
			level = a.val
		case a.key == "msg" && msg == "":
			msg = a.val
		case a.key == "service" && a.val == name:
			// Already in the line's prefix.
		default:
			rest = append(rest, a)
		}
	}
	var b strings.Builder
	if ts != "" {
		b.WriteString(ts)
		b.WriteByte(' ')
	}
	if level != "" {
		fmt.Fprintf(&b, "%-5s ", level)
	}
	if hasUnsafe(msg) {
		msg = strconv.Quote(msg) // one record, one line, no terminal tricks
	}
	b.WriteString(msg)
	for _, a := range rest {
		b.WriteByte(' ')
		b.WriteString(quoteIfNeeded(a.key))
		b.WriteByte('=')
		if a.raw && !hasUnsafe(a.val) {
			b.WriteString(a.val)
		} else {
			// Arrays are JSON, whose encoders leave U+202E or U+0085 raw.
			b.WriteString(quoteIfNeeded(a.val))
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// kv is one attribute of a log line, its value rendered as text; raw values
// (numbers, booleans, null, arrays) are printed as their JSON.
type kv struct {
	key, val string
	raw      bool
}

// decodeOrdered decodes a JSON object into its attributes in document order;
// nested objects (slog groups) are flattened with dotted keys, as slog's text
// handler does.
func decodeOrdered(data []byte) ([]kv, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out []kv
	if err := decodeObject(dec, "", &out); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("decode log line: trailing data")
	}
	return out, nil
}

// decodeObject reads one object (its opening brace included) from dec,
// appending its attributes to out with prefix before each key.
func decodeObject(dec *json.Decoder, prefix string, out *[]kv) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("decode log line: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("decode log line: want object, got %v", tok)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("decode log line: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("decode log line: key %v is not a string", tok)
		}
		key = prefix + key
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("decode log line: value of %s: %w", key, err)
		}
		raw = bytes.TrimSpace(raw)
		switch {
		case len(raw) > 0 && raw[0] == '{':
			sub := json.NewDecoder(bytes.NewReader(raw))
			sub.UseNumber()
			if err := decodeObject(sub, key+".", out); err != nil {
				return err
			}
		case len(raw) > 0 && raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("decode log line: value of %s: %w", key, err)
			}
			*out = append(*out, kv{key: key, val: s})
		default:
			// Numbers, booleans, null and arrays read fine as their JSON.
			*out = append(*out, kv{key: key, val: string(raw), raw: true})
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return fmt.Errorf("decode log line: %w", err)
	}
	return nil
}

// formatTime shortens an RFC 3339 time to the local wall clock with
// milliseconds: the date is noise in a terminal watching a local run.
func formatTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.Local().Format("15:04:05.000")
}

// unsafeRune reports whether r must not reach a terminal raw: control
// characters (C0, DEL and C1, such as U+0085 NEXT LINE and U+009B CSI, which
// terminals obey), format characters (the bidi overrides and isolates such
// as U+202E, which reorder what is shown), the line and paragraph
// separators, and bytes that are not UTF-8.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) ||
		r == '\u2028' || r == '\u2029' || r == utf8.RuneError
}

// hasUnsafe reports whether s holds an unsafeRune.
func hasUnsafe(s string) bool { return strings.ContainsFunc(s, unsafeRune) }

// plainLine renders a line that is not a JSON record (a panic trace, a
// runtime message): as it is unless it holds an unsafe rune other than a
// tab, then quoted.
func plainLine(line []byte) string {
	if strings.ContainsFunc(string(line), func(r rune) bool { return r != '\t' && unsafeRune(r) }) {
		return strconv.Quote(string(line))
	}
	return string(line)
}

// escapeUnsafe replaces unsafe runes in a line passed through as JSON
// (-json-logs) with \uXXXX escapes, which keep a JSON line valid JSON and
// the same text once decoded (unsafe runes are only valid inside strings).
// Bytes that are not UTF-8 become U+FFFD's escape.
func escapeUnsafe(line []byte) []byte {
	if !hasUnsafe(string(line)) {
		return line
	}
	var b bytes.Buffer
	for _, r := range string(line) {
		if !unsafeRune(r) {
			b.WriteRune(r)
			continue
		}
		if r1, r2 := utf16.EncodeRune(r); r1 != unicode.ReplacementChar {
			fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
		} else {
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.Bytes()
}

// quoteIfNeeded quotes a value that would otherwise be ambiguous in
// key=value form (empty, or holding spaces, quotes or '=') or unsafe for a
// terminal (see unsafeRune).
func quoteIfNeeded(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if r <= ' ' || r == '"' || r == '=' || unsafeRune(r) || r > 0x7e && !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
