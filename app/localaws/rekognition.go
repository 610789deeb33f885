package localaws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg" // DetectLabels accepts JPEG and PNG only.
	"image/png"
	"io"
	"math"
	"net/http"
	"strings"

	"github.com/johannesboyne/gofakes3"
	"golang.org/x/sync/semaphore"
)

const rekognitionTargetPrefix = "RekognitionService."

// Rekognition's fixed image limits.
// https://docs.aws.amazon.com/rekognition/latest/dg/limits.html
// https://docs.aws.amazon.com/rekognition/latest/APIReference/API_Image.html
const (
	// MaxS3ImageBytes is the largest S3 object DetectLabels reads (15 MB).
	MaxS3ImageBytes = 15 << 20
	// MaxBytesImageBytes is the largest Image.Bytes blob (5242880 bytes).
	MaxBytesImageBytes = 5 << 20
	// MaxImageDimension is the largest width or height DetectLabels accepts.
	MaxImageDimension = 10000
	// defaultMinConfidence is what Rekognition uses when MinConfidence is
	// omitted. https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectLabels.html
	defaultMinConfidence = 55
)

// decodeBudget bounds the bytes being decoded at once across all requests,
// counted by decodeCost from each image's header (a 16-bit PNG costs 8 bytes
// per pixel, a grey one 1). Concurrent large decodes queue for it; one image
// that alone would need more is refused with ImageTooLargeException (real
// Rekognition accepts it: a stand-in limit, documented in docs/localaws.md).
// 256 MiB admits every baseline JPEG Rekognition takes (10000×10000 4:2:0
// costs 150 MB) and 8-bit RGB(A) PNGs up to 67 megapixels.
const decodeBudget = 256 << 20

var decodeSem = semaphore.NewWeighted(decodeBudget)

// detectLabelsInput is the subset of DetectLabelsRequest localaws reads.
// https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectLabels.html
type detectLabelsInput struct {
	Image *struct {
		Bytes    []byte // base64 in JSON; encoding/json decodes it.
		S3Object *struct {
			Bucket  string
			Name    string
			Version string
		}
	}
	MaxLabels     *int64
	MinConfidence *float64
	Features      []string
	Settings      *struct {
		GeneralLabels *struct {
			LabelInclusionFilters         []string
			LabelExclusionFilters         []string
			LabelCategoryInclusionFilters []string
			LabelCategoryExclusionFilters []string
		}
	}
}

type nameJSON struct {
	Name string `json:"Name"`
}

type labelJSON struct {
	Name       string     `json:"Name"`
	Confidence float64    `json:"Confidence"`
	Instances  []struct{} `json:"Instances"`
	Parents    []nameJSON `json:"Parents"`
	Aliases    []nameJSON `json:"Aliases"`
	Categories []nameJSON `json:"Categories"`
}

type detectLabelsOutput struct {
	Labels            []labelJSON `json:"Labels"`
	LabelModelVersion string      `json:"LabelModelVersion"`
}

// rekError is an AWS JSON 1.1 error: the SDK reads the type from the
// X-Amzn-ErrorType header or the body's __type, and the message from Message.
type rekError struct {
	status int
	typ    string
	msg    string
}

func (e *rekError) Error() string { return e.typ + ": " + e.msg }

func badRequest(typ, format string, args ...any) *rekError {
	return &rekError{status: http.StatusBadRequest, typ: typ, msg: fmt.Sprintf(format, args...)}
}

func writeRekError(w http.ResponseWriter, status int, typ, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-ErrorType", typ)
	h.Set("X-Amzn-RequestId", "localaws")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "Message": msg})
}

func (s *Server) serveRekognition(w http.ResponseWriter, r *http.Request, op string) {
	if r.Method != http.MethodPost {
		writeRekError(w, http.StatusBadRequest, "UnknownOperationException", "AWS JSON 1.1 operations are POST /")
		return
	}
	switch op {
	case "DetectLabels":
	default:
		writeRekError(w, http.StatusBadRequest, "UnknownOperationException",
			fmt.Sprintf("localaws implements only RekognitionService.DetectLabels, not %q", op))
		return
	}
	out, err := s.detectLabels(r.Context(), http.MaxBytesReader(w, r.Body, maxJSONBytes), r.ContentLength)
	if err != nil {
		var re *rekError
		switch {
		case errors.As(err, &re):
		case r.Context().Err() != nil:
			// The caller went away (or its deadline passed): decoding was
			// stopped with it and nobody reads an answer.
			s.log.Info("detect labels: caller gone, stopped", "err", err)
			w.WriteHeader(statusClientClosed)
			return
		default:
			s.log.Error("detect labels", "err", err)
			re = &rekError{status: http.StatusInternalServerError, typ: "InternalServerError", msg: "internal error"}
		}
		writeRekError(w, re.status, re.typ, re.msg)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", "localaws")
	_ = json.NewEncoder(w).Encode(out)
}

// statusClientClosed is what the request log records when the caller left
// before the answer (nginx's 499); nothing reaches the caller.
const statusClientClosed = 499

// detectLabels answers one DetectLabels request read from body (whose
// Content-Length is length, -1 if unknown). Every byte it holds is admitted
// first: the request body and the S3 object against s.input before they are
// read, the decoded image against decodeSem before it is decoded.
func (s *Server) detectLabels(ctx context.Context, body io.Reader, length int64) (*detectLabelsOutput, error) {
	// encoding/json holds the whole body, and Image.Bytes decoded from its
	// base64 besides: twice the body at most.
	charge := 2 * int64(maxJSONBytes)
	if length >= 0 && length <= maxJSONBytes {
		charge = 2 * length
	}
	release, err := s.admit(ctx, charge)
	if err != nil {
		return nil, err
	}
	defer release()
	in, err := decodeDetectLabelsInput(body)
	if err != nil {
		return nil, err
	}
	minConf, maxLabels, general, err := checkDetectLabelsInput(in)
	if err != nil {
		return nil, err
	}
	data, releaseData, err := s.imageData(ctx, in)
	if err != nil {
		return nil, err
	}
	defer releaseData()

	img, releaseImg, err := decodeImage(ctx, data)
	if err != nil {
		return nil, err
	}
	defer releaseImg()
	out := &detectLabelsOutput{Labels: []labelJSON{}, LabelModelVersion: "3.0"}
	if !general {
		return out, nil
	}
	addGeneralLabels(out, in, img, minConf, maxLabels)
	return out, nil
}

// decodeDetectLabelsInput reads the request's JSON; a body over the limit is
// ImageTooLargeException, anything unreadable SerializationException.
func decodeDetectLabelsInput(body io.Reader) (*detectLabelsInput, error) {
	var in detectLabelsInput
	if err := json.NewDecoder(body).Decode(&in); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, badRequest("ImageTooLargeException", "request body exceeds %d bytes", maxJSONBytes)
		}
		return nil, badRequest("SerializationException", "malformed request body: %v", err)
	}
	return &in, nil
}

// checkDetectLabelsInput validates the request's parameters and returns them
// with Rekognition's defaults applied; general reports whether labels are
// wanted (GENERAL_LABELS, or no Features at all).
func checkDetectLabelsInput(in *detectLabelsInput) (minConf float64, maxLabels int64, general bool, err error) {
	minConf = float64(defaultMinConfidence)
	if in.MinConfidence != nil {
		minConf = *in.MinConfidence
		if math.IsNaN(minConf) || minConf < 0 || minConf > 100 {
			return 0, 0, false, badRequest("InvalidParameterException", "MinConfidence must be between 0 and 100, got %v", minConf)
		}
	}
	maxLabels = int64(-1)
	if in.MaxLabels != nil {
		maxLabels = *in.MaxLabels
		if maxLabels < 0 {
			return 0, 0, false, badRequest("InvalidParameterException", "MaxLabels must be >= 0, got %d", maxLabels)
		}
	}
	general = len(in.Features) == 0
	for _, f := range in.Features {
		switch f {
		case "GENERAL_LABELS":
			general = true
		case "IMAGE_PROPERTIES":
			// Accepted; localaws computes no ImageProperties.
		default:
			return 0, 0, false, badRequest("InvalidParameterException", "unknown feature %q", f)
		}
	}
	if in.Image == nil || (in.Image.S3Object == nil && len(in.Image.Bytes) == 0) {
		return 0, 0, false, badRequest("InvalidParameterException", "Image must set Bytes or S3Object")
	}
	if in.Image.S3Object != nil && len(in.Image.Bytes) > 0 {
		return 0, 0, false, badRequest("InvalidParameterException", "Image must set only one of Bytes and S3Object")
	}
	return minConf, maxLabels, general, nil
}

// imageData returns the image's encoded bytes, and the function that
// releases what reading them was charged: the S3 object's, admitted against
// s.input before it is read, or Image.Bytes (already charged with the
// request body) within Rekognition's limit for them.
func (s *Server) imageData(ctx context.Context, in *detectLabelsInput) ([]byte, func(), error) {
	if obj := in.Image.S3Object; obj != nil {
		return s.readS3Image(ctx, obj.Bucket, obj.Name)
	}
	data := in.Image.Bytes
	if len(data) > MaxBytesImageBytes {
		return nil, nil, badRequest("ImageTooLargeException", "Image.Bytes is %d bytes; the limit is %d", len(data), MaxBytesImageBytes)
	}
	return data, func() {}, nil
}

// addGeneralLabels appends to out the labels of img that pass MinConfidence
// and the request's label and category filters, up to MaxLabels, shaped for
// the wire.
func addGeneralLabels(out *detectLabelsOutput, in *detectLabelsInput, img image.Image, minConf float64, maxLabels int64) {
	var incl, excl, catIncl, catExcl []string
	if in.Settings != nil && in.Settings.GeneralLabels != nil {
		g := in.Settings.GeneralLabels
		incl, excl, catIncl, catExcl = g.LabelInclusionFilters, g.LabelExclusionFilters, g.LabelCategoryInclusionFilters, g.LabelCategoryExclusionFilters
	}
	for _, l := range computeLabels(img) {
		if maxLabels >= 0 && int64(len(out.Labels)) >= maxLabels {
			break
		}
		if l.Confidence < minConf ||
			(len(incl) > 0 && !containsFold(incl, l.Name)) || containsFold(excl, l.Name) ||
			(len(catIncl) > 0 && !containsFold(catIncl, l.Category)) || containsFold(catExcl, l.Category) {
			continue
		}
		lj := labelJSON{
			Name: l.Name, Confidence: l.Confidence,
			Instances: []struct{}{}, Parents: []nameJSON{}, Aliases: []nameJSON{},
			Categories: []nameJSON{{Name: l.Category}},
		}
		for _, p := range l.Parents {
			lj.Parents = append(lj.Parents, nameJSON{Name: p})
		}
		out.Labels = append(out.Labels, lj)
	}
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(strings.TrimSpace(v), s) {
			return true
		}
	}
	return false
}

// readS3Image reads an object from the same store S3 requests use, once
// its size is admitted against s.input; the returned function releases it.
// A missing bucket or key is InvalidS3ObjectException, as in Rekognition.
func (s *Server) readS3Image(ctx context.Context, bucket, key string) ([]byte, func(), error) {
	if bucket == "" || key == "" {
		return nil, nil, badRequest("InvalidParameterException", "S3Object needs Bucket and Name")
	}
	if gofakes3.ValidateBucketName(bucket) != nil || (s.dirMode && !fileSafeKey(key)) {
		return nil, nil, badRequest("InvalidS3ObjectException", "Unable to get object metadata from S3. Check object key, region and/or access permissions.")
	}
	obj, err := s.backend.GetObject(bucket, key, nil)
	if err != nil {
		if gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchKey) || gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchBucket) {
			return nil, nil, badRequest("InvalidS3ObjectException", "Unable to get object metadata from S3. Check object key, region and/or access permissions.")
		}
		return nil, nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	defer obj.Contents.Close()
	if obj.Size > MaxS3ImageBytes {
		return nil, nil, badRequest("ImageTooLargeException", "S3 object is %d bytes; the limit is %d", obj.Size, MaxS3ImageBytes)
	}
	release, err := s.admit(ctx, max(obj.Size, 0))
	if err != nil {
		return nil, nil, err
	}
	// The store's size is the charge: read exactly that (io.ReadAll would
	// grow its buffer past it).
	data := make([]byte, obj.Size)
	if _, err := io.ReadFull(obj.Contents, data); err != nil {
		release()
		return nil, nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	return data, release, nil
}

// decodeImage checks format and dimensions from the header before decoding
// anything, so a small file claiming a huge canvas allocates nothing, and
// the JPEG scan count, so a small file cannot ask for hours of work. The
// decoded image is charged against decodeSem until the returned function
// runs. Decoding reads through ctx, so it stops once ctx ends.
func decodeImage(ctx context.Context, data []byte) (image.Image, func(), error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "jpeg" && format != "png") {
		return nil, nil, badRequest("InvalidImageFormatException", "Request has invalid image format")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, nil, badRequest("InvalidImageFormatException", "Request has invalid image format")
	}
	if cfg.Width > MaxImageDimension || cfg.Height > MaxImageDimension {
		return nil, nil, badRequest("ImageTooLargeException", "image is %dx%d; the limit is %dx%d pixels",
			cfg.Width, cfg.Height, MaxImageDimension, MaxImageDimension)
	}
	if format == "jpeg" {
		if n := jpegScans(data); n > maxJPEGScans {
			return nil, nil, badRequest("ImageTooLargeException",
				"this JPEG has %d scans; localaws decodes at most %d (a local stand-in limit, see docs/localaws.md)", n, maxJPEGScans)
		}
	}
	cost := decodeCost(data, format, cfg.Width, cfg.Height)
	if cost > decodeBudget {
		return nil, nil, badRequest("ImageTooLargeException",
			"decoding this %dx%d %s would take %d MiB; localaws decodes at most %d MiB at once (a local stand-in limit, see docs/localaws.md)",
			cfg.Width, cfg.Height, strings.ToUpper(format), cost>>20, decodeBudget>>20)
	}
	if err := decodeSem.Acquire(ctx, cost); err != nil {
		return nil, nil, fmt.Errorf("wait to decode: %w", err)
	}
	release := func() { decodeSem.Release(cost) }
	decode := png.Decode
	if format == "jpeg" {
		decode = jpeg.Decode
	}
	img, err := decode(&ctxReader{ctx: ctx, r: bytes.NewReader(data)})
	if err != nil {
		release()
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("decode: %w", ctx.Err())
		}
		return nil, nil, badRequest("InvalidImageFormatException", "Request has invalid image format")
	}
	return img, release, nil
}

// ctxReader reads r in slices of at most ctxReadChunk bytes and fails once
// ctx has ended. image/jpeg and image/png read their input as they decode,
// so a cancelled request stops the decoder at its next read: for a JPEG,
// within a few scans' work.
type ctxReader struct {
	ctx context.Context
	r   *bytes.Reader
}

// ctxReadChunk is small enough that a few scans of ~20–46 bytes (see
// maxJPEGScans) are followed by a read; a 15 MB image takes ~250,000 reads,
// about a millisecond more.
const ctxReadChunk = 64

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) > ctxReadChunk {
		p = p[:ctxReadChunk]
	}
	return c.r.Read(p)
}
