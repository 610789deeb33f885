package localaws

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	if err := os.MkdirAll(meta, 0o700); err != nil {
		return nil, fmt.Errorf("localaws dir %q: %w", dir, err)
	}
	osfs := afero.NewOsFs()
	fs := &layoutFs{
		data: afero.NewBasePathFs(osfs, abs),
		meta: afero.NewBasePathFs(osfs, meta),
	}
	b, err := s3afero.MultiBucket(fs)
	if err != nil {
		return nil, fmt.Errorf("localaws dir %q: %w", dir, err)
	}
	return b, nil
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
