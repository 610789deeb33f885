package localaws

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/afero"
)

// tmpDirName holds objects being written, under Dir/.localaws/. It is on the
// same file system as the objects (rename is atomic only within one), and
// outside every bucket, so a write in progress or one a kill interrupted is
// never listed or read as an object.
const tmpDirName = "tmp"

// staleTempAge is how old a temporary file must be before New removes it as
// the leftover of a killed process. Younger ones may belong to another
// process sharing the directory (two local runs on one -data), still
// writing.
const staleTempAge = time.Hour

// atomicFs makes every write that replaces a file atomic: Create and
// truncating opens return a temporary file under tmpDir, and its Close
// flushes it to disk and renames it over the final name. Readers open the
// final name, so they see the old object or the new one, never a part of
// it; a process killed mid-write leaves the old object (and a temporary file
// that a later New removes). gofakes3's s3afero backend writes objects and
// their metadata only through Create and afero.WriteFile, which both come
// here. Reads and everything else go to the embedded BasePathFs, which keeps
// paths inside its root.
type atomicFs struct {
	*afero.BasePathFs
	tmpDir string
}

// Create replaces name atomically when the returned file is closed.
func (a *atomicFs) Create(name string) (afero.File, error) {
	return a.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// OpenFile writes through a temporary file when flag replaces the file's
// content (O_TRUNC with write access); other opens go to the base.
func (a *atomicFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	writes := flag&(os.O_WRONLY|os.O_RDWR) != 0
	if !writes || flag&os.O_TRUNC == 0 || flag&os.O_APPEND != 0 {
		return a.BasePathFs.OpenFile(name, flag, perm)
	}
	final, err := a.RealPath(name)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	if flag&os.O_EXCL != 0 {
		if _, err := os.Lstat(final); err == nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrExist}
		}
	}
	tmp, err := os.CreateTemp(a.tmpDir, "put-*")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, err)
	}
	return &atomicFile{File: tmp, name: name, final: final}, nil
}

// atomicFile is a temporary file that becomes final on Close.
type atomicFile struct {
	*os.File
	name, final string
	closed      bool
	err         error
}

// Name is the name the file was opened with, as afero callers expect.
func (f *atomicFile) Name() string { return f.name }

// Close syncs the data, closes the file and renames it over the final name,
// then syncs the directory so the rename itself survives a crash. On any
// failure the temporary file is removed and the final name is untouched.
func (f *atomicFile) Close() error {
	if f.closed {
		return f.err
	}
	f.closed = true
	tmp := f.File.Name()
	err := f.Sync()
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, f.final)
	}
	if err != nil {
		_ = os.Remove(tmp)
		f.err = fmt.Errorf("write %s: %w", f.name, err)
		return f.err
	}
	syncDir(filepath.Dir(f.final))
	return nil
}

// syncDir flushes a directory's entries; best effort (not every platform
// can open a directory for syncing).
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// removeStaleTemps deletes temporary files last modified before cutoff: the
// leftovers of processes killed mid-write.
func removeStaleTemps(dir string, cutoff time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.ModTime().Before(cutoff) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
