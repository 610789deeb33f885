package rekog

import (
	"context"
	"errors"
	"math"
	"net/http"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rekognition"
	"github.com/aws/aws-sdk-go-v2/service/rekognition/types"
	"github.com/aws/smithy-go"

	"imagelabel/app/internal/api"
	"imagelabel/app/internal/httpx"
)

// detector is the part of the Rekognition client rekog uses.
type detector interface {
	DetectLabels(ctx context.Context, in *rekognition.DetectLabelsInput, optFns ...func(*rekognition.Options)) (*rekognition.DetectLabelsOutput, error)
}

func handleLabels(cfg config, det detector) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req api.LabelsRequest
		if err := httpx.DecodeJSON(w, r, maxBody, &req); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		if err := api.ValidateKey(req.Key); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		opts, err := req.Options(cfg.defaults)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), cfg.detectTimeout)
		defer cancel()
		out, err := det.DetectLabels(ctx, detectInput(cfg.bucket, req.Key, opts))
		if err != nil && r.Context().Err() != nil {
			// The caller went away (upload's client disconnected, or upload
			// gave up): the call was stopped with it. Not an upstream
			// failure, and nobody reads an answer; the access log records
			// it as 499, nginx's "client closed request".
			httpx.Logger(r.Context()).Info("client closed the request; labeling stopped",
				"code", codeClientClosed, "key", req.Key)
			w.WriteHeader(statusClientClosed)
			return
		}
		if err != nil {
			httpx.WriteError(w, r, detectError(ctx, req.Key, err))
			return
		}
		labels := convertLabels(out.Labels)
		httpx.Logger(r.Context()).Info("labeled", "key", req.Key, "labels", len(labels))
		httpx.WriteJSON(w, r, http.StatusOK, api.LabelsResponse{Labels: labels})
	})
}

// A request whose caller went away is logged with this code and status; no
// answer is sent (there is no one to read it).
const (
	codeClientClosed   = "client_closed"
	statusClientClosed = 499
)

// detectInput names the object in rekog's own bucket (callers never choose a
// bucket) and asks for general labels only, with the caller's filters.
func detectInput(bucket, key string, o api.Options) *rekognition.DetectLabelsInput {
	in := &rekognition.DetectLabelsInput{
		Image:         &types.Image{S3Object: &types.S3Object{Bucket: aws.String(bucket), Name: aws.String(key)}},
		MaxLabels:     aws.Int32(int32(o.MaxLabels)),
		MinConfidence: aws.Float32(float32(o.MinConfidence)),
		Features:      []types.DetectLabelsFeatureName{types.DetectLabelsFeatureNameGeneralLabels},
	}
	if len(o.IncludeCategories) > 0 || len(o.ExcludeLabels) > 0 {
		in.Settings = &types.DetectLabelsSettings{GeneralLabels: &types.GeneralLabelsSettings{
			LabelCategoryInclusionFilters: o.IncludeCategories,
			LabelExclusionFilters:         o.ExcludeLabels,
		}}
	}
	return in
}

func convertLabels(in []types.Label) []api.Label {
	out := make([]api.Label, 0, len(in))
	for _, l := range in {
		lb := api.Label{
			Name:       aws.ToString(l.Name),
			Confidence: math.Round(float64(aws.ToFloat32(l.Confidence))*1000) / 1000,
			Parents:    make([]string, 0, len(l.Parents)),
			Categories: make([]string, 0, len(l.Categories)),
		}
		for _, p := range l.Parents {
			lb.Parents = append(lb.Parents, aws.ToString(p.Name))
		}
		for _, c := range l.Categories {
			lb.Categories = append(lb.Categories, aws.ToString(c.Name))
		}
		out = append(out, lb)
	}
	return out
}

// Rekognition error codes grouped by meaning, for errors that reach us as
// plain smithy.APIError (a compatible endpoint may not match the typed ones).
// https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectLabels.html#API_DetectLabels_Errors
var (
	codesNotFound = map[string]bool{"InvalidS3ObjectException": true, "NoSuchKey": true}
	codesBadImage = map[string]bool{"InvalidImageFormatException": true, "ImageTooLargeException": true}
	codesThrottle = map[string]bool{
		"ThrottlingException": true, "ProvisionedThroughputExceededException": true,
		"LimitExceededException": true, "ServiceUnavailableException": true,
		"TooManyRequestsException": true, "RequestLimitExceeded": true, "SlowDown": true,
	}
)

// detectError maps a DetectLabels failure (after the SDK's own retries) to
// the caller's error: missing object 404, unreadable image 422, throttling or
// unreachable 503, deadline 504, anything else 502. The SDK's message goes to
// the log only.
//
// 404 is the only existence check in the system (upload may not read the
// bucket). Rekognition answers InvalidS3ObjectException ("Amazon Rekognition
// is unable to access the S3 object specified in the request") both when the
// object is missing and when rekog's role may not read it; with s3:GetObject
// but no s3:ListBucket, S3 itself answers 403 for a missing key, and
// Rekognition still reports InvalidS3ObjectException. So 404 means "no image
// rekog can read": exactly what GET /labels needs, as long as rekog's role
// has s3:GetObject on uploads/* (a missing grant would show as 404s; upload
// turns rekog's 404 right after a PutObject into 502).
// https://docs.aws.amazon.com/rekognition/latest/APIReference/API_DetectLabels.html
func detectError(ctx context.Context, key string, err error) *api.Error {
	var (
		invalidObj *types.InvalidS3ObjectException
		badFormat  *types.InvalidImageFormatException
		tooLarge   *types.ImageTooLargeException
		throttled  *types.ThrottlingException
		provision  *types.ProvisionedThroughputExceededException
		limit      *types.LimitExceededException
		apiErr     smithy.APIError
	)
	switch {
	case errors.As(err, &invalidObj):
		return &api.Error{Code: api.CodeNotFound, Message: "no image with key " + key, Err: err}
	case errors.As(err, &badFormat), errors.As(err, &tooLarge):
		return &api.Error{Code: api.CodeUnprocessable, Message: "the image cannot be analyzed (format or size unsupported by the labeler)", Err: err}
	case errors.As(err, &throttled), errors.As(err, &provision), errors.As(err, &limit):
		return &api.Error{Code: api.CodeUnavailable, Message: "the labeler is throttled, retry later", Err: err}
	case errors.As(err, &apiErr):
		code := apiErr.ErrorCode()
		switch {
		case codesNotFound[code]:
			return &api.Error{Code: api.CodeNotFound, Message: "no image with key " + key, Err: err}
		case codesBadImage[code]:
			return &api.Error{Code: api.CodeUnprocessable, Message: "the image cannot be analyzed (format or size unsupported by the labeler)", Err: err}
		case codesThrottle[code]:
			return &api.Error{Code: api.CodeUnavailable, Message: "the labeler is throttled, retry later", Err: err}
		}
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &api.Error{Code: api.CodeTimeout, Message: "the labeler did not answer in time", Err: err}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &api.Error{Code: api.CodeUnavailable, Message: "the labeler is unreachable, retry later", Err: err}
	}
	return &api.Error{Code: api.CodeUpstream, Message: "the labeler failed", Err: err}
}
