package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/myelin-sim/myelin/internal/fifo"
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
// own, and the last rename wins. A FILE that is a symbolic link has its
// target replaced (the link stays), with the target's permissions. An
// existing FILE that is not a regular file (a character device such as
// /dev/null, a FIFO, a socket), and any FILE under /dev or /proc (such as
// /dev/stdout redirected to a file), is opened and written directly, with
// no temporary file and no rename.
type outFile struct {
	path    string // FILE as given
	dest    string // what the temporary file replaces: FILE, or its link's target
	partial string // the temporary file; "" when FILE is written directly
	f       *os.File
}

// checkOut refuses an --out that can never be written (a folder, or a
// file in a folder that does not exist), before anything is built.
func checkOut(path string) error {
	st, err := os.Stat(path)
	if err == nil && st.IsDir() {
		return fmt.Errorf("--out %s is a folder; give a file name", path)
	}
	if err == nil {
		return nil
	}
	dir := filepath.Dir(path)
	switch dst, err := os.Stat(dir); {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("--out %s: folder %s does not exist; create it first (mkdir -p %s)", path, dir, dir)
	case err == nil && !dst.IsDir():
		return fmt.Errorf("--out %s: %s is not a folder", path, dir)
	case errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("--out %s: %s is not a folder (a part of it is a file)", path, dir)
	}
	return nil
}

// sameFile reports whether --out out names the existing regular file in
// that the command reads, under any names (links, hard links, /dev/stdout
// redirected to it): a file that writing out would replace, or overwrite
// while it is read. A FIFO or a device, which is written directly and
// holds nothing to lose, is never the same file.
func sameFile(out, in string) bool {
	so, err := os.Stat(out)
	if err != nil || !so.Mode().IsRegular() {
		return false
	}
	si, err := os.Stat(in)
	return err == nil && os.SameFile(so, si)
}

// createOut opens --out path for writing: a new temporary file beside it
// (beside its link's target), or path itself when it exists and is not a
// regular file or lies under /dev or /proc. Opening a FIFO waits for its
// reader until ctx is done.
func createOut(ctx context.Context, path string) (*outFile, error) {
	dest := path
	if t, err := filepath.EvalSymlinks(path); err == nil {
		dest = t
	}
	st, err := os.Stat(dest)
	switch {
	case err == nil && st.IsDir():
		return nil, fmt.Errorf("--out %s is a folder; give a file name", path)
	case err == nil && (!st.Mode().IsRegular() || systemPath(path) || systemPath(dest)):
		var f *os.File
		if st.Mode()&os.ModeNamedPipe != 0 {
			f, err = fifo.Open(ctx, path, os.O_WRONLY)
		} else {
			f, err = os.OpenFile(path, os.O_WRONLY, 0)
		}
		if err != nil {
			return nil, fmt.Errorf("--out %s (%s): %w", path, fileKind(st.Mode()), err)
		}
		return &outFile{path: path, dest: path, f: f}, nil
	}
	f, err := createPartial(dest)
	if err != nil {
		return nil, fmt.Errorf("--out %s: %w", path, err)
	}
	if st != nil {
		// The replacement keeps the old file's permissions.
		if err := f.Chmod(st.Mode().Perm()); err != nil {
			f.Close()
			os.Remove(f.Name())
			return nil, fmt.Errorf("--out %s: %w", path, err)
		}
	}
	return &outFile{path: path, dest: dest, partial: f.Name(), f: f}, nil
}

// systemPath reports whether path lies under /dev or /proc, whose files are
// never replaced, only written.
func systemPath(path string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	return strings.HasPrefix(abs, "/dev/") || strings.HasPrefix(abs, "/proc/")
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
			// Held while f is open, so that a later command can tell
			// this file from one a killed command left (stalePartials).
			// A file system without locks only loses that note.
			_ = lockPartial(f)
			return f, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no free temporary file name: %w", err)
}

// maxStaleNamed is the most stale temporary files a note names.
const maxStaleNamed = 5

// stalePartials lists the temporary files of dest (dest.<8 hex
// digits>.partial, beside it) that no live command holds: left by a
// command that was killed (SIGKILL, a crash, the machine going down)
// before it could rename or name them. own, this command's, is left out.
func stalePartials(dest, own string) []string {
	dir, base := filepath.Split(dest)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var stale []string
	for _, ent := range ents {
		name := ent.Name()
		mid, ok := strings.CutPrefix(name, base+".")
		if !ok || !ent.Type().IsRegular() {
			continue
		}
		if mid, ok = strings.CutSuffix(mid, partialSuffix); !ok || !isHex8(mid) {
			continue
		}
		full := filepath.Join(dir, name)
		if full == filepath.Clean(own) || partialHeld(full) {
			continue
		}
		stale = append(stale, full)
	}
	return stale
}

// isHex8 reports whether s is 8 lower-case hex digits, as createPartial
// writes them.
func isHex8(s string) bool {
	if len(s) != 8 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// noteStale writes a note to w naming the temporary files of --out that
// killed commands left beside it (stalePartials), if there are any. They
// are not removed: each holds a stream readable up to where its command
// stopped.
func (o *outFile) noteStale(w io.Writer) {
	if o == nil || o.direct() {
		return
	}
	stale := stalePartials(o.dest, o.partial)
	if len(stale) == 0 {
		return
	}
	named := stale[:min(len(stale), maxStaleNamed)]
	more := ""
	if n := len(stale) - len(named); n > 0 {
		more = fmt.Sprintf(" and %d more", n)
	}
	fmt.Fprintf(w, "note: %s%s: left by an earlier command on %s that did not finish (it was killed, or it failed and said so); each holds the stream up to where it stopped (myelin analyze reads it); remove them when done\n",
		strings.Join(named, ", "), more, o.path)
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
		err = os.Rename(o.partial, o.dest)
	}
	if err != nil {
		return fmt.Errorf("--out %s: %w", o.path, errors.Join(err, fmt.Errorf("%s is as it was; the output is in %s", o.path, o.partial)))
	}
	return nil
}
