package localaws

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/spf13/afero"
)

// metaDirName holds s3afero's metadata inside Dir. It starts with '.', which
// no S3 bucket name can, so it is never listed or addressed as a bucket.
const metaDirName = ".localaws"

// newBackend returns gofakes3's memory backend for dir == "", otherwise
// s3afero's multi-bucket backend laid out so that objects are plain files
// Dir/<bucket>/<key> (s3afero itself would put them under Dir/buckets/) and
// its JSON metadata (Content-Type, user metadata, checksums, MD5) lives under
// Dir/.localaws/metadata/.
func newBackend(dir string) (gofakes3.Backend, error) {
	if dir == "" {
		return s3mem.New(), nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("localaws dir %q: %w", dir, err)
	}
	meta := filepath.Join(abs, metaDirName)
	// Creates meta too, with the same mode.
	tmp := filepath.Join(meta, tmpDirName)
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("localaws dir %q: %w", dir, err)
	}
	removeStaleTemps(tmp, time.Now().Add(-staleTempAge))
	osfs := afero.NewOsFs()
	lfs := &layoutFs{
		data: &atomicFs{BasePathFs: afero.NewBasePathFs(osfs, abs).(*afero.BasePathFs), tmpDir: tmp},
		meta: &atomicFs{BasePathFs: afero.NewBasePathFs(osfs, meta).(*afero.BasePathFs), tmpDir: tmp},
	}
	b, err := s3afero.MultiBucket(lfs)
	if err != nil {
		return nil, fmt.Errorf("localaws dir %q: %w", dir, err)
	}
	return &dirBackend{MultiBucketBackend: b, data: abs, meta: filepath.Join(meta, "metadata")}, nil
}

// dirBackend fixes one s3afero v1.2.0 bug: when an object's metadata is
// missing or stale (a file copied or edited by hand), s3afero recomputes the
// MD5 from the metadata path instead of the object's, so GET, HEAD and
// listings fail with 500 (or report the MD5 of the JSON). Before those calls
// dirBackend rewrites such metadata itself from the file, in s3afero's
// format. mu orders that with writes; bodies are already in memory when they
// reach the backend, so holding it is brief.
type dirBackend struct {
	*s3afero.MultiBucketBackend
	data, meta string
	mu         sync.Mutex
}

// Every key reaches the files through dirBackend, whether gofakes3 took it
// from the URL, a DeleteObjects XML body or an x-amz-copy-source header, so
// dirBackend is where keys are checked: a key that is not a plain path under
// its bucket (fileSafeKey) is refused before s3afero joins it to a path,
// where "../" would leave the bucket (another bucket's files, or the
// metadata under .localaws). serveS3 checks URL keys too, only to answer
// early with a clearer message.

// errUnsafeKey is S3's InvalidArgument for a key that cannot be a file.
func errUnsafeKey(key string) error {
	return gofakes3.ErrorMessagef(gofakes3.ErrInvalidArgument,
		"key %q cannot be stored as a file (empty, '.' or '..' path segment); use the in-memory store", key)
}

// HeadObject repairs the object's metadata, then delegates.
func (d *dirBackend) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	if !fileSafeKey(key) {
		return nil, errUnsafeKey(key)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.repair(bucket, key)
	return d.MultiBucketBackend.HeadObject(bucket, key)
}

// GetObject repairs the object's metadata, then delegates.
func (d *dirBackend) GetObject(bucket, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	if !fileSafeKey(key) {
		return nil, errUnsafeKey(key)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.repair(bucket, key)
	return d.MultiBucketBackend.GetObject(bucket, key, rng)
}

// ListBucket repairs the metadata of every file in the bucket, then delegates.
// A prefix's directory part (up to its last '/') is joined to the bucket's
// path by s3afero, so it is checked as a key.
func (d *dirBackend) ListBucket(bucket string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	if prefix != nil {
		if dir, _, ok := prefix.FilePrefix(); ok && dir != "" && !fileSafeKey(dir) {
			return nil, errUnsafeKey(prefix.Prefix)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if gofakes3.ValidateBucketName(bucket) == nil {
		root := filepath.Join(d.data, bucket)
		_ = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.Type().IsRegular() {
				if rel, rerr := filepath.Rel(root, p); rerr == nil {
					d.repair(bucket, filepath.ToSlash(rel))
				}
			}
			return nil
		})
	}
	return d.MultiBucketBackend.ListBucket(bucket, prefix, page)
}

// PutObject delegates under mu so a repair never interleaves with a write.
func (d *dirBackend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, cond *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	if !fileSafeKey(key) {
		return gofakes3.PutObjectResult{}, errUnsafeKey(key)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.MultiBucketBackend.PutObject(bucket, key, meta, input, size, cond)
}

// DeleteObject refuses unsafe keys, then delegates.
func (d *dirBackend) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	if !fileSafeKey(key) {
		return gofakes3.ObjectDeleteResult{}, errUnsafeKey(key)
	}
	return d.MultiBucketBackend.DeleteObject(bucket, key)
}

// DeleteMulti deletes the safe keys and reports each unsafe one as an
// InvalidArgument error of its own, as S3 reports per-key failures.
func (d *dirBackend) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	var safe []string
	var refused []gofakes3.ErrorResult
	for _, k := range keys {
		if fileSafeKey(k) {
			safe = append(safe, k)
			continue
		}
		refused = append(refused, gofakes3.ErrorResult{Key: k, Code: gofakes3.ErrInvalidArgument, Message: errUnsafeKey(k).Error()})
	}
	res, err := d.MultiBucketBackend.DeleteMulti(bucket, safe...)
	res.Error = append(res.Error, refused...)
	return res, err
}

// CopyObject refuses an unsafe source or destination key, then delegates.
// (s3afero's CopyObject calls its own GetObject and PutObject, not these.)
func (d *dirBackend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	for _, k := range []string{srcKey, dstKey} {
		if !fileSafeKey(k) {
			return gofakes3.CopyObjectResult{}, errUnsafeKey(k)
		}
	}
	if err := gofakes3.ValidateBucketName(srcBucket); err != nil {
		return gofakes3.CopyObjectResult{}, gofakes3.BucketNotFound(srcBucket)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.repair(srcBucket, srcKey)
	return d.MultiBucketBackend.CopyObject(srcBucket, srcKey, dstBucket, dstKey, meta)
}

// metaFile is where s3afero keeps an object's metadata: the key with
// slashes flattened plus its FNV-128a hash (s3afero's metaStore.metaPath).
func (d *dirBackend) metaFile(bucket, key string) string {
	h := fnv.New128a()
	h.Write([]byte(key))
	flat := strings.NewReplacer("/", "_", "\\", "_").Replace(key)
	return filepath.Join(d.meta, bucket, flat+"-"+hex.EncodeToString(h.Sum(nil)))
}

// repair rewrites the metadata of bucket/key when it is missing or does not
// describe the file (size or modification time differ). Failures are left
// for s3afero to report.
func (d *dirBackend) repair(bucket, key string) {
	if gofakes3.ValidateBucketName(bucket) != nil || !fileSafeKey(key) {
		return
	}
	dataPath := filepath.Join(d.data, bucket, filepath.FromSlash(key))
	st, err := os.Stat(dataPath)
	if err != nil || !st.Mode().IsRegular() {
		return
	}
	mpath := d.metaFile(bucket, key)
	var m s3afero.Metadata
	if b, err := os.ReadFile(mpath); err == nil && json.Unmarshal(b, &m) == nil &&
		len(m.Hash) > 0 && m.Size == st.Size() && m.ModTime.Equal(st.ModTime()) {
		return
	}
	f, err := os.Open(dataPath)
	if err != nil {
		return
	}
	h := md5.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return
	}
	if m.Meta == nil {
		m.Meta = map[string]string{}
		if ct := mime.TypeByExtension(path.Ext(key)); ct != "" {
			m.Meta["Content-Type"] = ct
		}
	}
	m.Meta["Last-Modified"] = st.ModTime().UTC().Format(http.TimeFormat)
	m.File, m.Hash, m.Size, m.ModTime = path.Join(bucket, key), h.Sum(nil), st.Size(), st.ModTime()
	b, err := json.Marshal(&m)
	if err != nil {
		return
	}
	// Written to a temporary file and renamed, so a concurrent reader never
	// sees half a JSON document.
	if err := os.MkdirAll(filepath.Dir(mpath), 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(mpath), ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), mpath) != nil {
		_ = os.Remove(tmp.Name())
	}
}

// layoutFs routes s3afero's "buckets/..." tree to the data directory and
// everything else (its "metadata/..." tree and a modtime probe file) to the
// hidden metadata directory. Paths that would escape either root are refused
// by afero.BasePathFs.
type layoutFs struct {
	data afero.Fs
	meta afero.Fs
}

const bucketsPrefix = "buckets"

func (l *layoutFs) route(name string) (afero.Fs, string) {
	clean := filepath.ToSlash(filepath.Clean(name))
	clean = strings.TrimPrefix(clean, "/")
	if clean == bucketsPrefix {
		return l.data, "/"
	}
	if rest, ok := strings.CutPrefix(clean, bucketsPrefix+"/"); ok {
		return l.data, "/" + rest
	}
	return l.meta, "/" + clean
}

func (l *layoutFs) Create(name string) (afero.File, error) {
	fs, p := l.route(name)
	return fs.Create(p)
}

func (l *layoutFs) Mkdir(name string, perm os.FileMode) error {
	fs, p := l.route(name)
	return fs.Mkdir(p, perm)
}

func (l *layoutFs) MkdirAll(path string, perm os.FileMode) error {
	fs, p := l.route(path)
	return fs.MkdirAll(p, perm)
}

func (l *layoutFs) Open(name string) (afero.File, error) {
	fs, p := l.route(name)
	return fs.Open(p)
}

func (l *layoutFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	fs, p := l.route(name)
	return fs.OpenFile(p, flag, perm)
}

func (l *layoutFs) Remove(name string) error {
	fs, p := l.route(name)
	return fs.Remove(p)
}

func (l *layoutFs) RemoveAll(path string) error {
	fs, p := l.route(path)
	if fs == l.data && p == "/" {
		return fmt.Errorf("remove all %q: refusing to remove the data directory", path)
	}
	return fs.RemoveAll(p)
}

func (l *layoutFs) Rename(oldname, newname string) error {
	ofs, op := l.route(oldname)
	nfs, np := l.route(newname)
	if ofs != nfs {
		return fmt.Errorf("rename %q to %q: across store roots", oldname, newname)
	}
	return ofs.Rename(op, np)
}

func (l *layoutFs) Stat(name string) (os.FileInfo, error) {
	fs, p := l.route(name)
	return fs.Stat(p)
}

func (l *layoutFs) Name() string { return "localaws" }

func (l *layoutFs) Chmod(name string, mode os.FileMode) error {
	fs, p := l.route(name)
	return fs.Chmod(p, mode)
}

func (l *layoutFs) Chown(name string, uid, gid int) error {
	fs, p := l.route(name)
	return fs.Chown(p, uid, gid)
}

func (l *layoutFs) Chtimes(name string, atime, mtime time.Time) error {
	fs, p := l.route(name)
	return fs.Chtimes(p, atime, mtime)
}
