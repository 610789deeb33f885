// Package api holds the wire types and validation rules that the upload and
// rekog services share: object keys, label options, labels and JSON errors.
package api

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// KeyPrefix is the prefix of every object the services store and label.
const KeyPrefix = "uploads/"

// MaxKeyLength bounds a key before the pattern is even tried. A valid key is
// len("uploads/")+64+len(".jpg") = 76 bytes; anything longer is refused cheaply.
const MaxKeyLength = 76

// keyPattern is the only key shape either service accepts: content-addressed
// objects under uploads/, so callers can never name another prefix or bucket.
var keyPattern = regexp.MustCompile(`^uploads/[0-9a-f]{64}\.(jpg|png)$`)

// ValidateKey returns nil when key has the shape uploads/<sha256 hex>.<jpg|png>,
// and an *Error with code CodeInvalidKey otherwise.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return &Error{Code: CodeInvalidKey, Message: "key is required"}
	case len(key) > MaxKeyLength:
		return &Error{Code: CodeInvalidKey, Message: fmt.Sprintf("key is longer than %d bytes", MaxKeyLength)}
	case !keyPattern.MatchString(key):
		return &Error{Code: CodeInvalidKey, Message: `key must look like uploads/<64 lowercase hex digits>.jpg or .png`}
	}
	return nil
}

// Limits of the label options. The filter limits are Rekognition's own
// (GeneralLabelsSettings: at most 100 entries of at most 50 characters,
// https://docs.aws.amazon.com/rekognition/latest/APIReference/API_GeneralLabelsSettings.html),
// checked here so callers get a 400 naming the parameter instead of a 502.
const (
	MinMaxLabels        = 1
	MaxMaxLabels        = 1000
	MaxFilterEntries    = 100
	MaxFilterNameLength = 50
	DefaultMaxLabels    = 10
	DefaultMinConf      = 70.0
)

// filterPattern is a conservative subset of Rekognition's documented pattern
// [A-Za-z0-9àâèçñó'-_(). ]* (the doc's "'-_" is read as three literal
// characters here, so everything accepted is also accepted by Rekognition).
var filterPattern = regexp.MustCompile(`^[A-Za-z0-9àâèçñó'\-_(). ]*$`)

// Options are the label options both services accept.
type Options struct {
	MaxLabels         int      `json:"maxLabels"`
	MinConfidence     float64  `json:"minConfidence"`
	IncludeCategories []string `json:"includeCategories,omitempty"`
	ExcludeLabels     []string `json:"excludeLabels,omitempty"`
}

// DefaultOptions returns the options used when a caller gives none: MAX_LABELS
// and MIN_CONFIDENCE from getenv, else 10 and 70. It returns an error naming
// the variable when a value is set but invalid.
func DefaultOptions(getenv func(string) string) (Options, error) {
	o := Options{MaxLabels: DefaultMaxLabels, MinConfidence: DefaultMinConf}
	if v := strings.TrimSpace(getenv("MAX_LABELS")); v != "" {
		n, err := parseMaxLabels(v)
		if err != nil {
			return o, fmt.Errorf("MAX_LABELS=%q: %w", v, err)
		}
		o.MaxLabels = n
	}
	if v := strings.TrimSpace(getenv("MIN_CONFIDENCE")); v != "" {
		f, err := parseMinConfidence(v)
		if err != nil {
			return o, fmt.Errorf("MIN_CONFIDENCE=%q: %w", v, err)
		}
		o.MinConfidence = f
	}
	return o, nil
}

// Numbers are plain decimal: strconv also takes a sign ("+3"), hexadecimal
// floats ("0x1p6"), underscores, "Inf" and "NaN", none of which a caller
// means as a label option.
var (
	decimalInt   = regexp.MustCompile(`^[0-9]{1,10}$`)
	decimalFloat = regexp.MustCompile(`^([0-9]{1,20}(\.[0-9]{0,20})?|\.[0-9]{1,20})([eE][+-]?[0-9]{1,3})?$`)
)

func parseMaxLabels(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if !decimalInt.MatchString(v) || err != nil || n < MinMaxLabels || n > MaxMaxLabels {
		return 0, fmt.Errorf("must be a decimal integer from %d to %d", MinMaxLabels, MaxMaxLabels)
	}
	return n, nil
}

func parseMinConfidence(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if !decimalFloat.MatchString(v) || err != nil || f > 100 {
		return 0, fmt.Errorf("must be a decimal number from 0 to 100")
	}
	return f, nil
}

// Validate checks every option and returns an *Error with code
// CodeInvalidOption whose message names the offending parameter.
func (o Options) Validate() error {
	if o.MaxLabels < MinMaxLabels || o.MaxLabels > MaxMaxLabels {
		return optErr("maxLabels", fmt.Sprintf("must be an integer from %d to %d", MinMaxLabels, MaxMaxLabels))
	}
	if math.IsNaN(o.MinConfidence) || o.MinConfidence < 0 || o.MinConfidence > 100 {
		return optErr("minConfidence", "must be a number from 0 to 100")
	}
	if err := validateFilter("includeCategories", o.IncludeCategories); err != nil {
		return err
	}
	return validateFilter("excludeLabels", o.ExcludeLabels)
}

func validateFilter(name string, list []string) error {
	if len(list) > MaxFilterEntries {
		return optErr(name, fmt.Sprintf("has more than %d entries", MaxFilterEntries))
	}
	for _, s := range list {
		if s == "" || len([]rune(s)) > MaxFilterNameLength || !filterPattern.MatchString(s) {
			return optErr(name, fmt.Sprintf("entries must be 1 to %d characters of letters, digits, spaces and '-_().", MaxFilterNameLength))
		}
	}
	return nil
}

func optErr(param, msg string) error {
	return &Error{Code: CodeInvalidOption, Message: param + " " + msg}
}

// ParseRawQuery parses raw (a URL's RawQuery) strictly and reads the options
// from it as ParseQuery does. A query that does not parse (a bad %-escape, a
// ';' separator) is an *Error with code CodeInvalidOption instead of being
// silently dropped, as url.URL.Query would.
func ParseRawQuery(raw string, defaults Options) (Options, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return defaults, &Error{Code: CodeInvalidOption, Err: err,
			Message: "malformed query string (use & between parameters and valid %-escapes)"}
	}
	return ParseQuery(q, defaults)
}

// queryParams are the parameters ParseQuery knows; any other is refused, so
// that a misspelled option ("maxlabels") is not silently ignored.
var queryParams = []string{"maxLabels", "minConfidence", "includeCategories", "excludeLabels"}

// ParseQuery reads maxLabels, minConfidence, includeCategories and
// excludeLabels from q over defaults (filters may be comma-separated and/or
// repeated) and validates the result. Errors are *Error with code
// CodeInvalidOption naming the parameter, also for a parameter that is not
// one of these.
func ParseQuery(q url.Values, defaults Options) (Options, error) {
	o := defaults
	if err := unknownParam(q); err != nil {
		return o, err
	}
	o.IncludeCategories = nil
	o.ExcludeLabels = nil
	if vs, ok := q["maxLabels"]; ok {
		if len(vs) != 1 {
			return o, optErr("maxLabels", "must be given once")
		}
		n, err := parseMaxLabels(vs[0])
		if err != nil {
			return o, optErr("maxLabels", err.Error())
		}
		o.MaxLabels = n
	}
	if vs, ok := q["minConfidence"]; ok {
		if len(vs) != 1 {
			return o, optErr("minConfidence", "must be given once")
		}
		f, err := parseMinConfidence(vs[0])
		if err != nil {
			return o, optErr("minConfidence", err.Error())
		}
		o.MinConfidence = f
	}
	o.IncludeCategories = splitList(q["includeCategories"])
	o.ExcludeLabels = splitList(q["excludeLabels"])
	return o, o.Validate()
}

// unknownParam returns an error naming the first (in sorted order) of q's
// parameters that is not an option, nil when there is none.
func unknownParam(q url.Values) error {
	var unknown []string
	for k := range q {
		if !slices.Contains(queryParams, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	k := slices.Min(unknown)
	msg := "is not an option; the options are " + strings.Join(queryParams, ", ")
	for _, p := range queryParams {
		if strings.EqualFold(k, p) {
			msg = "is not an option; did you mean " + p + "?"
		}
	}
	switch {
	case k == "":
		k = `""`
	case len(k) > MaxFilterNameLength: // the name is the caller's: keep the answer short
		k = k[:MaxFilterNameLength] + "..."
	}
	return optErr(strings.ToValidUTF8(k, "\uFFFD"), msg)
}

// splitList flattens repeated and comma-separated values, trimming spaces and
// dropping empty entries ("a,,b" is a and b).
func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// Query returns o as URL query parameters, the inverse of ParseQuery.
func (o Options) Query() url.Values {
	q := url.Values{}
	q.Set("maxLabels", strconv.Itoa(o.MaxLabels))
	q.Set("minConfidence", strconv.FormatFloat(o.MinConfidence, 'f', -1, 64))
	for _, s := range o.IncludeCategories {
		q.Add("includeCategories", s)
	}
	for _, s := range o.ExcludeLabels {
		q.Add("excludeLabels", s)
	}
	return q
}

// LabelsRequest is the body of rekog's POST /labels. Nil option pointers
// mean "use the service's defaults". There is deliberately no bucket field:
// rekog only reads its own bucket.
type LabelsRequest struct {
	Key               string   `json:"key"`
	MaxLabels         *int     `json:"maxLabels,omitempty"`
	MinConfidence     *float64 `json:"minConfidence,omitempty"`
	IncludeCategories []string `json:"includeCategories,omitempty"`
	ExcludeLabels     []string `json:"excludeLabels,omitempty"`
}

// NewLabelsRequest returns the request for key with every option of o set.
func NewLabelsRequest(key string, o Options) LabelsRequest {
	return LabelsRequest{
		Key:               key,
		MaxLabels:         &o.MaxLabels,
		MinConfidence:     &o.MinConfidence,
		IncludeCategories: o.IncludeCategories,
		ExcludeLabels:     o.ExcludeLabels,
	}
}

// Options returns the request's options over defaults, validated (an *Error
// with CodeInvalidOption on failure).
func (r LabelsRequest) Options(defaults Options) (Options, error) {
	o := defaults
	if r.MaxLabels != nil {
		o.MaxLabels = *r.MaxLabels
	}
	if r.MinConfidence != nil {
		o.MinConfidence = *r.MinConfidence
	}
	o.IncludeCategories = r.IncludeCategories
	o.ExcludeLabels = r.ExcludeLabels
	return o, o.Validate()
}

// Label is one detected label. Parents and Categories are never null on the
// wire, so clients can iterate without checks.
type Label struct {
	Name       string   `json:"name"`
	Confidence float64  `json:"confidence"`
	Parents    []string `json:"parents"`
	Categories []string `json:"categories"`
}

// LabelsResponse is rekog's answer to POST /labels.
type LabelsResponse struct {
	Labels []Label `json:"labels"`
}

// UploadResponse is upload's answer to POST /upload.
type UploadResponse struct {
	Key         string  `json:"key"`
	Size        int64   `json:"size"`
	ContentType string  `json:"contentType"`
	Labels      []Label `json:"labels"`
}

// KeyLabelsResponse is upload's answer to GET /labels/{key}.
type KeyLabelsResponse struct {
	Key    string  `json:"key"`
	Labels []Label `json:"labels"`
}

// Info is the answer to GET /getInfo.
type Info struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	GoVersion string `json:"goVersion"`
	// Labeler says what finds the labels: LabelerRekognition or
	// LabelerStandIn. rekog derives it from its Rekognition endpoint; upload
	// passes on rekog's, and leaves it out when rekog does not answer.
	Labeler string `json:"labeler,omitempty"`
	// RekognitionEndpoint is rekog's Rekognition endpoint URL when it is set
	// (AWS_ENDPOINT_URL_REKOGNITION or AWS_ENDPOINT_URL); rekog only.
	RekognitionEndpoint string `json:"rekognitionEndpoint,omitempty"`
	// MaxUploadBytes is the largest POST /upload body, multipart framing
	// included (MAX_UPLOAD_BYTES); upload only.
	MaxUploadBytes int64 `json:"maxUploadBytes,omitempty"`
	// APIAuth is "iam" when API Gateway requires SigV4-signed requests on
	// POST /upload and GET /labels/{key} (API_AUTH); left out otherwise.
	// upload only: its page says uploads need the client.
	APIAuth string `json:"apiAuth,omitempty"`
}

// Values of Info.Labeler.
const (
	LabelerRekognition = "Amazon Rekognition"
	LabelerStandIn     = "local stand-in (localaws)"
)

// Health is the answer to GET /healthz.
type Health struct {
	Status string `json:"status"`
}
