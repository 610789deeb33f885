package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// smokeQuery asks for a few labels at any confidence: the smoke test checks
// that labels flow, not their quality, and Rekognition's confidence on a
// drawn scene is not ours to predict.
var smokeQuery = url.Values{"maxLabels": {"5"}, "minConfidence": {"0"}}

// hop is one step of the request flow the smoke command checks.
type hop struct {
	name string // short, printed and used in the error: "api", "health", ...
	what string // what a pass proves
}

var (
	hopAPI     = hop{"api", "the API answers and it is upload (GET /getInfo)"}
	hopHealth  = hop{"health", "upload is healthy behind the API (GET /healthz)"}
	hopStore   = hop{"store", "upload stored the image in S3 (POST /upload returned a key)"}
	hopLabel   = hop{"label", "upload reached rekog (Service Connect), and rekog reached Rekognition (labels returned)"}
	hopRelabel = hop{"relabel", "GET /labels/{key} labels the stored image again"}
)

// hopFailure is a failed hop: what went wrong and where to look.
type hopFailure struct {
	hop    hop
	reason string
	look   []string // hints, each a sentence or a command to run
}

func (f *hopFailure) Error() string {
	return fmt.Sprintf("smoke: hop %q failed: %s", f.hop.name, f.reason)
}

// cmdSmoke checks the API end to end with the built-in image, printing each
// hop with its timing; on the first failure it prints what to look at and
// returns an error naming the hop.
func cmdSmoke(ctx context.Context, cl *apiClient, c config, tgt *target, stdout io.Writer) error {
	fmt.Fprintf(stdout, "smoke test of %s\n", cl.base.Redacted())
	s := &smoke{ctx: ctx, cl: cl, w: stdout, began: time.Now(), hints: newHints(c, tgt)}
	err := s.run()
	var f *hopFailure
	if errors.As(err, &f) {
		fmt.Fprintf(stdout, "smoke: FAILED at hop %q (%s)\n", f.hop.name, f.hop.what)
		fmt.Fprintln(stdout, "look at:")
		for _, l := range f.look {
			fmt.Fprintf(stdout, "  %s\n", l)
		}
		return reportedError{err}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "smoke: ok, 5 hops in %s\n", time.Since(s.began).Round(time.Millisecond))
	return nil
}

// smoke is one run of the smoke command.
type smoke struct {
	ctx   context.Context
	cl    *apiClient
	w     io.Writer
	began time.Time
	hints hints
}

func (s *smoke) run() error {
	if err := s.checkAPI(); err != nil {
		return err
	}
	if err := s.checkHealth(); err != nil {
		return err
	}
	key, labels, err := s.checkUpload()
	if err != nil {
		return err
	}
	return s.checkRelabel(key, labels)
}

// pass prints a passed hop's line.
func (s *smoke) pass(h hop, d time.Duration, detail string) {
	fmt.Fprintf(s.w, "  ok    %-8s %8s  %s\n", h.name, roundDur(d), detail)
}

// fail prints a failed hop's line and returns its failure.
func (s *smoke) fail(h hop, d time.Duration, reason string, look ...string) error {
	fmt.Fprintf(s.w, "  FAIL  %-8s %8s  %s\n", h.name, roundDur(d), reason)
	return &hopFailure{hop: h, reason: reason, look: look}
}

// roundDur rounds d to a millisecond, or to a microsecond below one (a
// local hop can take less).
func roundDur(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

func (s *smoke) checkAPI() error {
	t := time.Now()
	body, err := s.cl.get(s.ctx, nil, "getInfo")
	d := time.Since(t)
	if err != nil {
		return s.fail(hopAPI, d, "GET /getInfo: "+err.Error(), s.hints.api()...)
	}
	var info struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Labeler string `json:"labeler"`
	}
	if err := json.Unmarshal(body, &info); err != nil || info.Name != "upload" {
		reason := fmt.Sprintf("GET /getInfo names %q, not \"upload\": the URL does not look like the upload API", info.Name)
		if err != nil {
			reason = "GET /getInfo answered no JSON object: the URL does not look like the upload API"
		}
		return s.fail(hopAPI, d, reason, s.hints.api()...)
	}
	detail := "upload " + info.Version
	if info.Labeler != "" {
		detail += ", labels by " + info.Labeler
	}
	s.pass(hopAPI, d, detail)
	return nil
}

func (s *smoke) checkHealth() error {
	t := time.Now()
	body, err := s.cl.get(s.ctx, nil, "healthz")
	d := time.Since(t)
	var h struct {
		Status string `json:"status"`
	}
	if err == nil && (json.Unmarshal(body, &h) != nil || h.Status != "ok") {
		err = fmt.Errorf("answer %q is not {\"status\":\"ok\"}", strings.TrimSpace(string(body)))
	}
	if err != nil {
		return s.fail(hopHealth, d, "GET /healthz: "+err.Error(), s.hints.health()...)
	}
	s.pass(hopHealth, d, "ok")
	return nil
}

// checkUpload posts the image: one request, two hops. An error without a
// key means nothing was stored (the store hop); an error with a key, or no
// labels, means the image is stored but labeling failed (the label hop).
func (s *smoke) checkUpload() (string, []label, error) {
	img := smokeImage()
	t := time.Now()
	body, err := s.cl.postImage(s.ctx, "smoke.jpg", "image/jpeg", bytes.NewReader(img), int64(len(img)), smokeQuery, nil)
	d := time.Since(t)
	var ae *apiError
	if err != nil && (!errors.As(err, &ae) || ae.Key == "") {
		return "", nil, s.fail(hopStore, d, "POST /upload: "+err.Error(), s.hints.store(ae)...)
	}
	var r labelsResult
	if err == nil {
		if jerr := json.Unmarshal(body, &r); jerr != nil || r.Key == "" {
			return "", nil, s.fail(hopStore, d, "POST /upload answered 200 without a key", s.hints.store(nil)...)
		}
	} else {
		r.Key = ae.Key
	}
	s.pass(hopStore, d, fmt.Sprintf("POST /upload stored %s (%s)", r.Key, formatBytes(int64(len(img)))))
	if err != nil {
		return "", nil, s.fail(hopLabel, d, "POST /upload: "+err.Error(), s.hints.label(ae)...)
	}
	if len(r.Labels) == 0 {
		return "", nil, s.fail(hopLabel, d, "POST /upload returned no labels (asked for up to 5 at any confidence)", s.hints.label(nil)...)
	}
	s.pass(hopLabel, d, fmt.Sprintf("%s (same request)", labelSummary(r.Labels)))
	return r.Key, r.Labels, nil
}

func (s *smoke) checkRelabel(key string, first []label) error {
	t := time.Now()
	body, err := s.cl.labels(s.ctx, key, smokeQuery)
	d := time.Since(t)
	var r labelsResult
	if err == nil && (json.Unmarshal(body, &r) != nil || len(r.Labels) == 0) {
		err = errors.New("answer has no labels")
	}
	if err != nil {
		var ae *apiError
		errors.As(err, &ae)
		return s.fail(hopRelabel, d, "GET /labels/"+key+": "+err.Error(), s.hints.relabel(ae)...)
	}
	same := "the same labels"
	if labelSummary(r.Labels) != labelSummary(first) {
		same = "labels (not the same as the upload's: " + labelSummary(r.Labels) + ")"
	}
	s.pass(hopRelabel, d, fmt.Sprintf("GET /labels/{key} returned %s", same))
	return nil
}

// labelSummary is "3 labels: Sky, Outdoors, Nature".
func labelSummary(ls []label) string {
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = l.Name
	}
	return fmt.Sprintf("%d label%s: %s", len(ls), plural(len(ls)), strings.Join(names, ", "))
}

// hints says where to look for each hop: the stack's log groups and the
// aws/pulumi commands that show them. Names come from the stack's outputs
// when the URL came from the stack; otherwise the commands read them with
// `pulumi stack output` in place. For a loopback URL (the local run) the
// logs are the local run's output instead.
type hints struct {
	local   bool
	outputs map[string]any
	stack   string // --stack, when the outputs came from it
}

func newHints(c config, tgt *target) hints {
	h := hints{outputs: tgt.outputs}
	if tgt.outputs != nil {
		h.stack = c.stack
	} else {
		h.local = isLoopbackHost(tgt.base.Host)
	}
	return h
}

// out is the stack output name's value, or a shell substitution reading it.
func (h hints) out(name string) string {
	if v, ok := h.outputs[name].(string); ok && v != "" {
		return v
	}
	return `"$(pulumi stack output ` + name + `)"`
}

func (h hints) region() string {
	if v, ok := h.outputs["region"].(string); ok && v != "" {
		return " --region " + v
	}
	return ""
}

// tail is the command that shows the last 10 minutes of a log group.
func (h hints) tail(what, output string) string {
	return fmt.Sprintf("%s (log group %s):\n    aws logs tail %s --since 10m%s", what, output, h.out(output), h.region())
}

// services is the command that shows both ECS services' counts and events.
func (h hints) services() string {
	cluster := h.out("clusterName")
	return fmt.Sprintf("the ECS services (running vs desired tasks, recent events: failed health checks, tasks that stopped):\n"+
		"    aws ecs describe-services%[2]s --cluster %[1]s --services $(aws ecs list-services%[2]s --cluster %[1]s --query serviceArns --output text) "+
		"--query 'services[].{name:serviceName,running:runningCount,desired:desiredCount,events:events[:5].message}'", cluster, h.region())
}

func (h hints) localLogs(services string) string {
	return "this is a local run: read the log lines of " + services + " in the output of `go run ./app/local` " +
		"(each line is tagged with its service)"
}

func (h hints) stackCmd() string {
	if h.stack != "" {
		return "pulumi stack output --stack " + quoteArg(h.stack)
	}
	return "pulumi stack output"
}

func (h hints) api() []string {
	if h.local {
		return []string{"the URL: `go run ./app/local` prints upload's URL when it starts (is it running, on this port?)",
			h.localLogs(`"upload"`)}
	}
	return append(h.domain(), []string{
		"the URL: `" + h.stackCmd() + " apiUrl` is the API's; a deploy still in progress or a stack destroyed has none",
		h.tail("API Gateway's access log (status and integration error of each request)", "apiLogGroup"),
	}...)
}

func (h hints) health() []string {
	if h.local {
		return []string{h.localLogs(`"upload"`)}
	}
	return []string{
		"a 503 from API Gateway means it reached no healthy upload task through the VPC link",
		h.services(),
		h.tail("upload's log", "uploadLogGroup"),
		h.tail("API Gateway's access log", "apiLogGroup"),
	}
}

func (h hints) store(ae *apiError) []string {
	var first string
	switch {
	case ae != nil && ae.Code == "store_failed":
		first = "upload could not write to S3 (PutObject): its log line for this request has S3's error (access denied, no such bucket, throttling)"
	case ae != nil && ae.Status == http.StatusForbidden:
		first = "API Gateway refused the request (IAM authorization, apiAuth=iam): the client signs when the stack output apiAuth is iam or with --sign, " +
			"and the credentials need the policy `" + h.stackCmd() + " callerPolicy`"
	case ae != nil && ae.Status/100 == 4:
		first = "upload refused the built-in image: a client and service of different versions?"
	default:
		first = "upload stored nothing: see its log line for this request"
	}
	if h.local {
		return []string{first, h.localLogs(`"upload" and "localaws"`)}
	}
	return []string{first, h.tail("upload's log", "uploadLogGroup"), "the bucket: `" + h.stackCmd() + " bucketName`", h.services()}
}

func (h hints) label(ae *apiError) []string {
	var first string
	switch {
	case ae == nil:
		first = "the image is stored but no labels came back: rekog's log has Rekognition's answer"
	case ae.Status == http.StatusServiceUnavailable && ae.Code == "unavailable":
		first = "upload could not reach rekog through Service Connect (is rekog running?), or Rekognition is throttling"
	case ae.Status == http.StatusGatewayTimeout:
		first = "rekog or Rekognition did not answer in time"
	case ae.Status == http.StatusUnprocessableEntity:
		first = "Rekognition could not analyze the image"
	default:
		first = "rekog answered an error: its log line for this request (same request id) has Rekognition's error " +
			"(region without Rekognition, missing rekognition:DetectLabels or s3:GetObject)"
	}
	if h.local {
		return []string{first, h.localLogs(`"upload", "rekog" and "localaws"`)}
	}
	return []string{first, h.tail("rekog's log", "rekogLogGroup"), h.tail("upload's log", "uploadLogGroup"), h.services()}
}

func (h hints) relabel(ae *apiError) []string {
	first := "the image was stored and labeled a moment ago; labeling it again failed"
	if ae != nil && ae.Status == http.StatusNotFound {
		first = "rekog found no readable object for the key upload just stored: do upload and rekog use the same bucket?"
	}
	if h.local {
		return []string{first, h.localLogs(`"upload" and "rekog"`)}
	}
	return []string{first, h.tail("rekog's log", "rekogLogGroup"), h.tail("upload's log", "uploadLogGroup")}
}
