package upload

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"sync/atomic"

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

func handleUpload(cfg config, mem *budget, store objectStore, rk *rekogClient) http.Handler {
	var inFlight atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log := httpx.Logger(r.Context())
		// Each upload in flight costs some memory besides its chunks (its
		// goroutine, the server's and the multipart reader's buffers): a
		// few tens of KiB, bounded by capping their number.
		if inFlight.Add(1) > int64(cfg.maxInFlight) {
			inFlight.Add(-1)
			httpx.WriteError(w, r, busy(nil))
			return
		}
		defer inFlight.Add(-1)
		opts, boundary, err := checkUpload(r, cfg)
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		// A declared length that does not fit the free budget now is refused
		// at once: a check, not a charge, so a client that lies about its
		// length holds nothing it has not sent.
		if r.ContentLength > mem.available() {
			refuseBusy(w, r, cfg, busy(nil))
			return
		}
		img, err := receive(w, r, cfg, mem, boundary)
		if err != nil {
			refuseImage(w, r, cfg, err)
			return
		}
		defer img.buf.release() // also when a panic unwinds through here
		key := api.KeyPrefix + hex.EncodeToString(img.sum[:]) + "." + img.format.ext
		size := int64(img.buf.Len())
		log.Info("image accepted", "key", key, "size", size,
			"content_type", img.format.contentType, "width", img.width, "height", img.height)
		err = put(r.Context(), cfg, store, key, img)
		img.buf.release() // stored (or never will be): labeling needs only the key
		if err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		labels, err := rk.labels(r.Context(), key, opts)
		if err != nil && errors.Is(r.Context().Err(), context.Canceled) {
			// The client went away: the labeling was stopped with it (the
			// request's context is the call's), and nobody reads an answer.
			log.Info("client disconnected; labeling stopped, the image stays stored", "key", key)
			return
		}
		if err != nil {
			httpx.WriteError(w, r, storedButUnlabeled(key, err))
			return
		}
		httpx.WriteJSON(w, r, http.StatusOK, api.UploadResponse{
			Key: key, Size: size, ContentType: img.format.contentType, Labels: labels,
		})
	})
}

// checkUpload checks what can be judged before the body: the options, the
// media type (its boundary is returned) and a declared length over the
// limit (the real count in receive catches bodies that lie or are chunked).
func checkUpload(r *http.Request, cfg config) (api.Options, string, error) {
	opts, err := api.ParseRawQuery(r.URL.RawQuery, cfg.defaults)
	if err != nil {
		return opts, "", err
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return opts, "", &api.Error{Code: api.CodeNotMultipart,
			Message: `request must be multipart/form-data with the image in the field "file"`}
	}
	if r.ContentLength > cfg.maxUpload {
		return opts, "", tooLarge(cfg.maxUpload, nil)
	}
	return opts, params["boundary"], nil
}

// refuseImage answers receive's err: over the budget, 503 at once (see
// refuseBusy); too slow, with the connection closed, since otherwise
// net/http would read up to 256 KiB more of the body, from the client just
// cut for being slow, before answering.
func refuseImage(w http.ResponseWriter, r *http.Request, cfg config, err error) {
	switch {
	case errors.Is(err, errBudget):
		refuseBusy(w, r, cfg, err)
	case errors.Is(err, errBodyTimeout):
		w.Header().Set("Connection", "close")
		httpx.WriteError(w, r, err)
	default:
		httpx.WriteError(w, r, err)
	}
}

// receive reads and verifies the image of r's multipart body at cfg's pace,
// buffering it in chunks of mem, then reads the rest of the body (so that a
// client disconnect is noticed while the image is labeled). The caller
// releases the image's buffer. Errors are *api.Error.
func receive(w http.ResponseWriter, r *http.Request, cfg config, mem *budget, boundary string) (*imageFile, error) {
	paced := newPacedBody(w, r, cfg.pace)
	body := http.MaxBytesReader(w, paced, cfg.maxUpload)
	img, err := readImage(body, boundary, cfg.maxUpload, mem)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.Discard, body); err != nil {
		img.buf.release()
		return nil, bodyError(cfg.maxUpload, err)
	}
	return img, nil
}

// refuseBusy answers 503 (with Retry-After) at once, then reads and drops
// the rest of the body (at most MAX_UPLOAD_BYTES, within the server's
// ReadTimeout), holding no memory: a client still sending then reads the
// answer instead of a reset connection.
// A client waiting for "100 Continue" has sent no body yet: reading would ask
// it for the body, so it gets the answer alone.
func refuseBusy(w http.ResponseWriter, r *http.Request, cfg config, err error) {
	httpx.WriteError(w, r, err)
	if strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		return
	}
	_ = http.NewResponseController(w).Flush()
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, cfg.maxUpload))
}

func tooLarge(limit int64, err error) *api.Error {
	return &api.Error{Code: api.CodeTooLarge, Message: "upload is larger than " + api.FormatBytes(limit), Err: err}
}

// busy is the answer when the image does not fit the buffer budget now.
func busy(err error) *api.Error {
	return &api.Error{Code: api.CodeUnavailable, Message: "too many uploads in progress, retry later", Err: err}
}

// imageFile is a fully read, verified upload.
type imageFile struct {
	buf           *chunkBuf
	sum           [32]byte
	format        *format
	width, height int
}

// maxHeadBytes bounds what upload reads of a body before the image's first
// byte: the preamble, other fields and every part's headers. mime/multipart
// keeps a part's header block on the heap, up to its own fixed limit of
// 10 MiB (not adjustable: GODEBUG multipartmaxheaders only counts headers),
// outside the byte budget; 8 KiB per upload in progress is within the
// overhead allowance. The multipart reader reads ahead up to 4 KiB, so at
// least 4 KiB of fields and headers are always accepted; the reference
// client and the page send one part with a few hundred bytes of headers.
const maxHeadBytes = 8 << 10

// errHeadTooLong is in the chain of a read past maxHeadBytes before the
// image: 400 bad_request.
var errHeadTooLong = errors.New("multipart headers and fields before the file are too long")

// headLimit passes at most left bytes of r until lift is called (when the
// image's part begins); beyond, reads fail with errHeadTooLong.
type headLimit struct {
	r      io.Reader
	left   int64
	lifted bool
}

func (h *headLimit) Read(p []byte) (int, error) {
	if h.lifted {
		return h.r.Read(p)
	}
	if h.left <= 0 {
		return 0, errHeadTooLong
	}
	if int64(len(p)) > h.left {
		p = p[:h.left]
	}
	n, err := h.r.Read(p)
	h.left -= int64(n)
	return n, err
}

func (h *headLimit) lift() { h.lifted = true }

// readImage finds the field "file" in the multipart body (other fields are
// skipped, all that comes before the file's data within maxHeadBytes) and
// reads it into chunks of mem: signature first (JPEG or PNG, else 415), then
// the header alone (dimensions refused before the rest is read), then the
// rest, whose structure is verified without decoding pixels. What follows
// the file is left unread. Errors are *api.Error.
func readImage(body io.Reader, boundary string, limit int64, mem *budget) (*imageFile, error) {
	head := &headLimit{r: body, left: maxHeadBytes}
	mr := multipart.NewReader(head, boundary)
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
		head.lift()
		buf := newChunkBuf(mem)
		img, err := readFile(part, limit, buf)
		if err != nil {
			buf.release()
			return nil, err
		}
		return img, nil
	}
}

// bodyError classifies a failure to read the request body: too large (the
// MaxBytesReader tripped), too slow (408), over the buffer budget (503) or
// malformed multipart.
func bodyError(limit int64, err error) *api.Error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return tooLarge(limit, err)
	case errors.Is(err, errBodyTimeout):
		return &api.Error{Code: api.CodeRequestTimeout, Err: err,
			Message: "the request body arrived too slowly or stalled; send it again"}
	case errors.Is(err, errBudget):
		return busy(err)
	case errors.Is(err, errHeadTooLong):
		return &api.Error{Code: api.CodeBadRequest, Err: err, Message: "the multipart headers and fields before the file are larger than " +
			api.FormatBytes(maxHeadBytes) + "; send the file with short part headers"}
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

// readFile reads one image into buf. The signature and header go through a
// tee into buf; the rest is read straight into buf's chunks.
func readFile(part io.Reader, limit int64, buf *chunkBuf) (*imageFile, error) {
	body := &errReader{r: part}
	tee := io.TeeReader(body, buf)
	// bodyErr is the first failure of the body or of the budget.
	bodyErr := func() error {
		if body.err != nil {
			return bodyError(limit, body.err)
		}
		if buf.err != nil {
			return bodyError(limit, buf.err)
		}
		return nil
	}

	var head [8]byte
	n, err := io.ReadFull(tee, head[:])
	if e := bodyErr(); e != nil {
		return nil, e
	}
	f, err := sniffHead(head[:n], err)
	if err != nil {
		return nil, err
	}
	// Decode the header only: DecodeConfig stops after IHDR (PNG) or the
	// SOF segment (JPEG) and allocates nothing for pixels.
	cfg, err := f.decodeConfig(io.MultiReader(bytes.NewReader(head[:]), tee))
	if e := bodyErr(); e != nil {
		return nil, e
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
	if _, err := buf.ReadFrom(body); err != nil {
		return nil, bodyError(limit, err)
	}
	if err := f.verify(buf); err != nil {
		return nil, &api.Error{Code: api.CodeMalformedImage, Message: "the image is truncated or corrupt", Err: err}
	}
	return &imageFile{buf: buf, sum: buf.sha256(), format: f, width: cfg.Width, height: cfg.Height}, nil
}

// sniffHead judges the first (up to 8) bytes of the file, readErr being the
// error of reading them: an empty field, a truncated signature, or neither
// JPEG nor PNG.
func sniffHead(head []byte, readErr error) (*format, error) {
	if len(head) == 0 {
		return nil, &api.Error{Code: api.CodeEmptyFile, Message: `the field "file" is empty`}
	}
	f := sniff(head)
	if f == nil && len(head) < 8 && (bytes.HasPrefix(pngSignature, head) || bytes.HasPrefix(jpegPrefix, head)) {
		return nil, &api.Error{Code: api.CodeMalformedImage, Message: "the image is truncated", Err: readErr}
	}
	if f == nil {
		return nil, &api.Error{Code: api.CodeUnsupportedImage, Message: "only JPEG and PNG images are accepted (judged by content)"}
	}
	if readErr != nil { // fewer than 8 bytes but a matching prefix
		return nil, &api.Error{Code: api.CodeMalformedImage, Message: "the image is truncated", Err: readErr}
	}
	return f, nil
}

// put stores img under key. The SHA-256 we computed anyway goes along as the
// object's checksum, so S3 rejects a body damaged in transit.
func put(ctx context.Context, cfg config, store objectStore, key string, img *imageFile) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.storeTimeout)
	defer cancel()
	_, err := store.PutObject(ctx, &s3.PutObjectInput{
		Bucket:         aws.String(cfg.bucket),
		Key:            aws.String(key),
		Body:           img.buf.reader(),
		ContentLength:  aws.Int64(int64(img.buf.Len())),
		ContentType:    aws.String(img.format.contentType),
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(img.sum[:])),
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
	var inFlight atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A label read waiting for rekog (up to 20 s) costs a few tens of
		// KiB (its goroutine, its connection and the one to rekog): their
		// number is capped like uploads', 503 beyond.
		if inFlight.Add(1) > int64(cfg.maxLabelReads) {
			inFlight.Add(-1)
			httpx.WriteError(w, r, &api.Error{Code: api.CodeUnavailable, Message: "too many label requests in progress, retry later"})
			return
		}
		defer inFlight.Add(-1)
		key := r.PathValue("key")
		if err := api.ValidateKey(key); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		opts, err := api.ParseRawQuery(r.URL.RawQuery, cfg.defaults)
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
