package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"golang.org/x/term"
)

// cmdInfo prints GET /getInfo: the API's JSON with --json, else one field a
// line (the labeler among them, when upload names it); a warning on stderr
// when the service that answers is not upload.
func cmdInfo(ctx context.Context, cl *apiClient, c config, stdout, stderr io.Writer) error {
	body, err := cl.get(ctx, nil, "getInfo")
	if err != nil {
		if errors.As(err, new(*notUploadError)) {
			return err // it names the URL already
		}
		return fmt.Errorf("info from %s: %w", cl.base.Redacted(), err)
	}
	if c.json {
		return writeJSONLine(stdout, body)
	}
	var info map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // sizes print as integers, not 1.048576e+07
	if err := dec.Decode(&info); err != nil {
		return fmt.Errorf("info from %s: the answer is not a JSON object: %w", cl.base.Redacted(), err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "url\t%s\n", cl.base.Redacted())
	keys := make([]string, 0, len(info))
	for k := range info {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\n", k, infoValue(k, info[k]))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if name, _ := info["name"].(string); name != "upload" {
		fmt.Fprintf(stderr, "warning: %s does not look like the upload API: its GET /getInfo names %q, not \"upload\"\n", cl.base.Redacted(), name)
	}
	return nil
}

// infoValue renders one /getInfo field; a byte count also in IEC units.
func infoValue(key string, v any) string {
	if n, ok := v.(json.Number); ok && strings.HasSuffix(key, "Bytes") {
		if b, err := n.Int64(); err == nil {
			return fmt.Sprintf("%d (%s)", b, formatBytes(b))
		}
	}
	return fmt.Sprint(v)
}

// labelerNote returns a line saying where labels come from when upload's
// /getInfo names a labeler other than Amazon Rekognition (the local
// stand-in), so its labels are not taken for Rekognition's; "" otherwise,
// also when /getInfo has no "labeler" field (older services).
func labelerNote(ctx context.Context, cl *apiClient) string {
	if cl.whoAnswers(ctx) != "" {
		return ""
	}
	l, _ := cl.identifyInfo["labeler"].(string)
	if l == "" || l == labelerRekognition {
		return ""
	}
	return "labels by " + l + ", not Amazon Rekognition"
}

// labelerRekognition is the labeler upload's /getInfo names in AWS.
const labelerRekognition = "Amazon Rekognition"

// cmdLabels prints GET /labels/{key}.
func cmdLabels(ctx context.Context, cl *apiClient, c config, key string, stdout, stderr io.Writer) error {
	body, err := cl.labels(ctx, key, labelQuery(c))
	if err != nil {
		// Under --json the API's error JSON still goes to stdout, as for upload.
		if c.json && len(body) > 0 && json.Valid(body) {
			_ = writeJSONLine(stdout, body)
		}
		return fmt.Errorf("labels %s: %w", key, err)
	}
	if c.json {
		return writeJSONLine(stdout, body)
	}
	var r labelsResult
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("labels %s: the answer is not the API's JSON: %w", key, err)
	}
	if r.Key == "" {
		r.Key = key
	}
	fmt.Fprintln(stdout, r.Key)
	if err := writeTable(stdout, r.Labels); err != nil {
		return err
	}
	if note := labelerNote(ctx, cl); note != "" {
		fmt.Fprintln(stderr, note)
	}
	return nil
}

// uploadResult is what one file's upload produced.
type uploadResult struct {
	body []byte // the API's answer (success or error JSON); nil when none came
	res  labelsResult
	err  error
}

// cmdUpload uploads files with at most c.concurrency in flight, reports
// progress on stderr, prints the results on stdout in argument order and a
// summary on stderr. It fails when any file failed.
func cmdUpload(ctx context.Context, cl *apiClient, c config, files []string, stdout, stderr io.Writer) error {
	began := time.Now()
	q := labelQuery(c)
	p := newProgress(stderr, isTerminal(stderr), files)
	results := make([]uploadResult, len(files))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(c.concurrency, len(files)) {
		wg.Go(func() {
			for i := range jobs {
				results[i] = uploadOne(ctx, cl, q, files[i], i, p)
				p.finish(i, resultLines(c, files[i], results[i])...)
			}
		})
	}
	for i := range files {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	failed := 0
	for i, r := range results {
		if r.err != nil {
			failed++
		}
		if c.json {
			if err := writeJSONLine(stdout, jsonFor(files[i], r)); err != nil {
				return err
			}
			continue
		}
		if r.err != nil {
			continue
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "%s  %s  %s  %s\n", files[i], r.res.Key, r.res.ContentType, formatBytes(r.res.Size))
		if err := writeTable(stdout, r.res.Labels); err != nil {
			return err
		}
	}
	if failed < len(files) {
		if note := labelerNote(ctx, cl); note != "" {
			fmt.Fprintln(stderr, note)
		}
	}
	noun := "files"
	if len(files) == 1 {
		noun = "file"
	}
	fmt.Fprintf(stderr, "%d uploaded, %d failed (%d %s in %s)\n", len(files)-failed, failed, len(files), noun,
		time.Since(began).Round(time.Millisecond))
	if failed > 0 {
		return reportedError{fmt.Errorf("%d of %d uploads failed", failed, len(files))}
	}
	return nil
}

func uploadOne(ctx context.Context, cl *apiClient, q map[string][]string, path string, i int, p *progress) uploadResult {
	started := false
	body, err := cl.upload(ctx, path, q, func(sent, total int64) {
		if !started {
			started = true
			p.start(i, total)
			return
		}
		p.update(i, sent, total)
	})
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already in the line
		}
		return uploadResult{body: body, err: err}
	}
	var r labelsResult
	if err := json.Unmarshal(body, &r); err != nil {
		return uploadResult{err: fmt.Errorf("the answer is not the API's JSON: %w", err)}
	}
	return uploadResult{body: body, res: r}
}

// resultLines are the permanent progress lines for a finished file: a
// success line, or the error in words, and for an image stored but not
// labeled, the command that retries labeling.
func resultLines(c config, name string, r uploadResult) []string {
	if r.err == nil {
		n := len(r.res.Labels)
		return []string{fmt.Sprintf("%s: ok, %d label%s, %s", name, n, plural(n), r.res.Key)}
	}
	lines := []string{fmt.Sprintf("%s: %v", name, r.err)}
	var ae *apiError
	if errors.As(r.err, &ae) && ae.Key != "" {
		cmd := "go run ./app/client"
		if c.url != "" {
			cmd += " --url " + quoteArg(c.url)
		}
		lines = append(lines, fmt.Sprintf("  stored as %s; retry labeling with: %s labels %s", ae.Key, cmd, quoteArg(ae.Key)))
	}
	return lines
}

// jsonFor is a file's line under --json: the API's own JSON, or an error in
// the API's shape when no usable answer came, so every FILE gets a line;
// either way with "file" first, so `jq` output can be matched to its file.
func jsonFor(file string, r uploadResult) []byte {
	body := bytes.TrimSpace(r.body)
	var nu *notUploadError
	var ae *apiError
	switch {
	case errors.As(r.err, &nu):
		// The other server's own JSON would read as upload's answer.
		body = clientError("client_error", r.err.Error())
	case json.Valid(body) && len(body) >= 2 && body[0] == '{':
	case errors.As(r.err, &ae):
		body = clientError(fmt.Sprintf("http_%d", ae.Status), ae.Message)
	case r.err != nil:
		body = clientError("client_error", r.err.Error())
	default:
		body = clientError("client_error", "no answer")
	}
	name, _ := json.Marshal(file)
	out := append([]byte(`{"file":`), name...)
	if rest := bytes.TrimSpace(body[1:]); len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, body[1:]...)
}

// clientError is an error body in the API's shape.
func clientError(code, msg string) []byte {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	return b
}

// writeJSONLine writes body compacted onto one line.
func writeJSONLine(w io.Writer, body []byte) error {
	var b bytes.Buffer
	if err := json.Compact(&b, body); err != nil {
		return fmt.Errorf("the answer is not JSON: %w", err)
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// writeTable prints labels as LABEL, CONFIDENCE (a bar and the percentage)
// and PARENTS columns.
func writeTable(w io.Writer, labels []label) error {
	if len(labels) == 0 {
		_, err := fmt.Fprintln(w, "  (no labels above the confidence threshold)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  LABEL\tCONFIDENCE\tPARENTS")
	for _, l := range labels {
		parents := strings.Join(l.Parents, ", ")
		if parents == "" {
			parents = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s %5.1f%%\t%s\n", l.Name, bar(l.Confidence, 20), l.Confidence, parents)
	}
	return tw.Flush()
}

// bar draws pct (0..100) as width cells of █ (filled) and ░ (empty).
func bar(pct float64, width int) string {
	if math.IsNaN(pct) {
		pct = 0
	}
	n := int(math.Round(math.Max(0, math.Min(100, pct)) / 100 * float64(width)))
	return strings.Repeat("█", n) + strings.Repeat("░", width-n)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// isTerminal reports whether w is a terminal (live progress lines make sense).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
