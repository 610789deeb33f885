package upload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"imagelabel/app/internal/api"
	"imagelabel/app/internal/httpx"
)

// objectStore is the part of the S3 client upload uses: PutObject and
// nothing else, because upload's task role may only put objects under
// uploads/ of the bucket (s3:PutObject on arn:aws:s3:::BUCKET/uploads/*).
// Whether an object exists is rekog's to find out (Rekognition reads it with
// rekog's role), never upload's.
type objectStore interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// fileField is the multipart field holding the image (the reference client's name).
const fileField = "file"

func handleUpload(cfg config, store objectStore, rk *rekogClient) http.Handler {
	slots := make(chan struct{}, cfg.maxBuffering)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log := httpx.Logger(r.Context())
		opts, err := api.ParseQuery(r.URL.Query(), cfg.defaults)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
			httpx.WriteError(w, r, &api.Error{Code: api.CodeNotMultipart,
				Message: `request must be multipart/form-data with the image in the field "file"`})
			return
		}
		// A declared length over the limit is refused before reading; the
		// real count below catches bodies that lie or are chunked.
		if r.ContentLength > cfg.maxUpload {
			httpx.WriteError(w, r, tooLarge(cfg.maxUpload, nil))
			return
		}
		if err := acquire(r.Context(), slots, cfg.slotWait); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		held := true
		release := func() {
			if held {
				held = false
				<-slots
			}
		}
		defer release() // also when a panic unwinds through here
		body := multipart.NewReader(http.MaxBytesReader(w, r.Body, cfg.maxUpload), params["boundary"])
		img, err := readImage(body, cfg.maxUpload, r.ContentLength)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		sum := sha256.Sum256(img.data)
		key := api.KeyPrefix + hex.EncodeToString(sum[:]) + "." + img.format.ext
		log.Info("image accepted", "key", key, "size", len(img.data),
			"content_type", img.format.contentType, "width", img.width, "height", img.height)
		err = put(r.Context(), cfg, store, key, img, sum[:])
		release() // the bytes are in S3 now (or never will be); labeling needs only the key
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		labels, err := rk.labels(r.Context(), key, opts)
		if err != nil {
			httpx.WriteError(w, r, storedButUnlabeled(key, err))
			return
		}
		httpx.WriteJSON(w, r, http.StatusOK, api.UploadResponse{
			Key: key, Size: int64(len(img.data)), ContentType: img.format.contentType, Labels: labels,
		})
	})
}

// acquire takes a buffering slot, waiting at most wait.
func acquire(ctx context.Context, slots chan struct{}, wait time.Duration) error {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case slots <- struct{}{}:
		return nil
	case <-t.C:
		return &api.Error{Code: api.CodeUnavailable, Message: "too many uploads in progress, retry later"}
	case <-ctx.Done():
		return &api.Error{Code: api.CodeBadRequest, Message: "request cancelled", Err: ctx.Err()}
	}
}

func tooLarge(limit int64, err error) *api.Error {
	return &api.Error{Code: api.CodeTooLarge, Message: fmt.Sprintf("upload is larger than %d bytes", limit), Err: err}
}

// imageFile is a fully read, verified upload.
type imageFile struct {
	data          []byte
	format        *format
	width, height int
}

// readImage finds the field "file" in mr (other fields are skipped) and
// reads it: signature first (JPEG or PNG, else 415), then the header alone
// (dimensions refused before the rest is read), then the rest, whose
// structure is verified without decoding pixels. sizeHint (the request's
// Content-Length, -1 if unknown) presizes the buffer once the header passed.
// Errors are *api.Error.
func readImage(mr *multipart.Reader, limit, sizeHint int64) (*imageFile, error) {
	for {
		part, err := mr.NextPart()
		if err == io.EOF { //nolint:errorlint // a clean end of parts is io.EOF itself; a wrapped EOF means a malformed body
			return nil, &api.Error{Code: api.CodeMissingFile, Message: `no multipart field "file" in the request`}
		}
		if err != nil {
			return nil, bodyError(limit, err)
		}
		if part.FormName() != fileField {
			if _, err := io.Copy(io.Discard, part); err != nil {
				return nil, bodyError(limit, err)
			}
			continue
		}
		return readFile(part, limit, sizeHint)
	}
}

// bodyError classifies a failure to read the request body: too large (the
// MaxBytesReader tripped) or malformed multipart.
func bodyError(limit int64, err error) *api.Error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(limit, err)
	}
	return &api.Error{Code: api.CodeBadRequest, Message: "malformed multipart body", Err: err}
}

// errReader remembers the first error of the underlying body other than
// EOF, so decoder errors can be told apart from body errors.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil { //nolint:errorlint // io.EOF is returned unwrapped by contract
		e.err = err
	}
	return n, err
}

func readFile(part io.Reader, limit, sizeHint int64) (*imageFile, error) {
	body := &errReader{r: part}
	var buf bytes.Buffer
	tee := io.TeeReader(body, &buf)

	var head [8]byte
	n, err := io.ReadFull(tee, head[:])
	if body.err != nil {
		return nil, bodyError(limit, body.err)
	}
	if n == 0 {
		return nil, &api.Error{Code: api.CodeEmptyFile, Message: `the field "file" is empty`}
	}
	f := sniff(head[:n])
	if f == nil && n < len(head) && (bytes.HasPrefix(pngSignature, head[:n]) || bytes.HasPrefix(jpegPrefix, head[:n])) {
		return nil, &api.Error{Code: api.CodeMalformedImage, Message: "the image is truncated", Err: err}
	}
	if f == nil {
		return nil, &api.Error{Code: api.CodeUnsupportedImage, Message: "only JPEG and PNG images are accepted (judged by content)"}
	}
	if err != nil { // fewer than 8 bytes but a matching prefix
		return nil, &api.Error{Code: api.CodeMalformedImage, Message: "the image is truncated", Err: err}
	}

	// Decode the header only: DecodeConfig stops after IHDR (PNG) or the
	// SOF segment (JPEG) and allocates nothing for pixels.
	cfg, err := f.decodeConfig(io.MultiReader(bytes.NewReader(head[:]), tee))
	if body.err != nil {
		return nil, bodyError(limit, body.err)
	}
	if err != nil {
		return nil, &api.Error{Code: api.CodeMalformedImage, Message: "the image header is malformed or truncated", Err: err}
	}
	if err := checkDimensions(cfg); err != nil {
		if errors.Is(err, errTooManyPixels) {
			return nil, &api.Error{Code: api.CodeDimensionsTooBig, Err: err, Message: fmt.Sprintf(
				"image is %dx%d; at most %d pixels a side and %d pixels in all are accepted", cfg.Width, cfg.Height, maxSide, maxPixels)}
		}
		return nil, &api.Error{Code: api.CodeMalformedImage, Message: "the image has no pixels", Err: err}
	}

	// One allocation of about the body's size instead of doubling growth
	// (which peaks near twice the file size): memory per upload stays
	// close to MAX_UPLOAD_BYTES.
	if sizeHint > int64(buf.Len()) && sizeHint <= limit {
		buf.Grow(int(sizeHint) - buf.Len() + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(body); err != nil {
		return nil, bodyError(limit, err)
	}
	data := buf.Bytes()
	if err := f.verify(data); err != nil {
		return nil, &api.Error{Code: api.CodeMalformedImage, Message: "the image is truncated or corrupt", Err: err}
	}
	return &imageFile{data: data, format: f, width: cfg.Width, height: cfg.Height}, nil
}

// put stores img under key. The SHA-256 we computed anyway goes along as the
// object's checksum, so S3 rejects a body damaged in transit.
func put(ctx context.Context, cfg config, store objectStore, key string, img *imageFile, sum []byte) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.storeTimeout)
	defer cancel()
	_, err := store.PutObject(ctx, &s3.PutObjectInput{
		Bucket:         aws.String(cfg.bucket),
		Key:            aws.String(key),
		Body:           bytes.NewReader(img.data),
		ContentLength:  aws.Int64(int64(len(img.data))),
		ContentType:    aws.String(img.format.contentType),
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum)),
	})
	if err != nil {
		// No key in the answer: nothing is known to be stored.
		return &api.Error{Code: api.CodeStoreFailed, Message: "storing the image failed, nothing was stored; retry the upload",
			Err: fmt.Errorf("put %s: %w", key, err)}
	}
	return nil
}

// storedButUnlabeled is POST /upload's answer when labeling failed after the
// image was stored: the labeling error with the key (so the client can retry
// with GET /labels/{key}) and a message saying the image is stored. rekog's
// 404 becomes 502 upstream_error: the object was just written, so rekog not
// finding it is our fault (rekog reading another bucket, or its role lacking
// s3:GetObject), not the caller's, and retrying would not help.
func storedButUnlabeled(key string, err error) error {
	if errors.Is(err, errNoImage) {
		return &api.Error{Code: api.CodeUpstream, Key: key,
			Message: "the image is stored but the labeler cannot read it", Err: err}
	}
	e := api.AsError(err)
	return &api.Error{Code: e.Code, Key: key, Message: "the image is stored but " + e.Message, Err: err}
}

func handleLabels(cfg config, rk *rekogClient) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("key")
		if err := api.ValidateKey(key); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		opts, err := api.ParseQuery(r.URL.Query(), cfg.defaults)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		// No S3 lookup first: upload's role may not read the bucket. rekog
		// answers 404 when Rekognition cannot read the object.
		labels, err := rk.labels(r.Context(), key, opts)
		if err != nil {
			httpx.WriteError(w, r, unlabeled(key, err))
			return
		}
		httpx.WriteJSON(w, r, http.StatusOK, api.KeyLabelsResponse{Key: key, Labels: labels})
	})
}

// unlabeled is GET /labels/{key}'s answer when labeling failed. Nothing here
// says the object is stored, so no error carries the key: rekog's 404 (the
// object is missing, or rekog may not read it: Rekognition does not tell them
// apart) is 404 not_found; other failures keep the client's classification.
func unlabeled(key string, err error) error {
	if errors.Is(err, errNoImage) {
		return &api.Error{Code: api.CodeNotFound, Message: "no image with key " + key, Err: err}
	}
	return err
}
