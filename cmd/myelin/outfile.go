package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// partialSuffix ends the name of the temporary file a command writes before
// it is renamed to --out FILE: FILE.<random>.partial, in FILE's folder.
const partialSuffix = ".partial"

// partialPattern describes the temporary file's name in help texts.
const partialPattern = "FILE.*" + partialSuffix

// outFile is the --out FILE of run and export. A new FILE, or an existing
// regular one, is written through a temporary file of this command's own
// in the same folder (FILE.<random>.partial), which replaces FILE only when
// the command keeps its output (close(true)); a command refused or failed
// before that leaves FILE as it was. Two commands writing the same FILE at
// once never share a temporary file: each renames a complete file of its
// own, and the last rename wins. An existing FILE that is not a regular
// file (a character device such as /dev/null, a FIFO, a socket) is opened
// and written directly, with no temporary file and no rename.
type outFile struct {
	path    string
	partial string // the temporary file; "" when FILE is written directly
	f       *os.File
}

// checkOut refuses an --out that can never be written (a folder), before
// anything is built.
func checkOut(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("--out %s is a folder; give a file name", path)
	}
	return nil
}

// createOut opens --out path for writing: a new temporary file beside it,
// or path itself when it exists and is not a regular file.
func createOut(path string) (*outFile, error) {
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return nil, fmt.Errorf("--out %s is a folder; give a file name", path)
	case err == nil && !st.Mode().IsRegular():
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("--out %s (%s): %w", path, fileKind(st.Mode()), err)
		}
		return &outFile{path: path, f: f}, nil
	}
	f, err := createPartial(path)
	if err != nil {
		return nil, fmt.Errorf("--out %s: %w", path, err)
	}
	return &outFile{path: path, partial: f.Name(), f: f}, nil
}

// createPartial creates a new file named after path, path.<random>.partial,
// in path's folder; it never opens an existing file. Unlike os.CreateTemp
// it creates the file with mode 0666 less the umask, as os.Create would
// make path itself, since the file becomes path.
func createPartial(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	var err error
	for range 100 {
		name := filepath.Join(dir, fmt.Sprintf("%s.%08x%s", base, rand.Uint32(), partialSuffix))
		var f *os.File
		f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no free temporary file name: %w", err)
}

// fileKind names the type of a file that is not a regular one.
func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a folder"
	}
	return "not a regular file"
}

// direct reports whether FILE is written directly (not a regular file).
func (o *outFile) direct() bool { return o.partial == "" }

// discard closes the output and removes the temporary file: nothing worth
// keeping was written. FILE is as it was (a file written directly has
// received what was written).
func (o *outFile) discard() {
	if o == nil || o.f == nil {
		return
	}
	o.f.Close()
	if !o.direct() {
		os.Remove(o.partial)
	}
	o.f = nil
}

// close closes the output. If keep, the temporary file is synced to disk
// and renamed over FILE; otherwise it stays beside FILE (what was written
// so far, for the caller to name) and FILE is untouched. On an error the
// temporary file is kept and named in the error.
func (o *outFile) close(keep bool) error {
	if o == nil || o.f == nil {
		return nil
	}
	f := o.f
	o.f = nil
	if o.direct() {
		if err := f.Close(); err != nil {
			return fmt.Errorf("--out %s: %w", o.path, err)
		}
		return nil
	}
	var err error
	if keep {
		// Without the sync, a crash soon after the rename could leave FILE
		// empty on some file systems: neither the old nor the new content.
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && keep {
		err = os.Rename(o.partial, o.path)
	}
	if err != nil {
		return fmt.Errorf("--out %s: %w", o.path, errors.Join(err, fmt.Errorf("%s is as it was; the output is in %s", o.path, o.partial)))
	}
	return nil
}
