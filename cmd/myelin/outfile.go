package main

import (
	"errors"
	"fmt"
	"os"
)

// partialSuffix names the file a run writes before it is renamed to --out.
const partialSuffix = ".partial"

// outFile is run's --out FILE: the stream goes to FILE.partial in the same
// folder, which replaces FILE only once the run has simulated (completed or
// interrupted). A run refused or failed before that leaves FILE as it was.
type outFile struct {
	path, partial string
	f             *os.File
}

// checkOut refuses an --out that can never be written (a folder), before
// anything is built.
func checkOut(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("--out %s is a folder; give a file name", path)
	}
	return nil
}

// createOut creates FILE.partial (truncating one left by a killed run).
func createOut(path string) (*outFile, error) {
	if err := checkOut(path); err != nil {
		return nil, err
	}
	o := &outFile{path: path, partial: path + partialSuffix}
	f, err := os.Create(o.partial)
	if err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	o.f = f
	return o, nil
}

// discard closes and removes FILE.partial: nothing was simulated.
func (o *outFile) discard() {
	if o == nil || o.f == nil {
		return
	}
	o.f.Close()
	os.Remove(o.partial)
	o.f = nil
}

// close closes FILE.partial and, if keep, renames it to FILE; otherwise
// it stays beside FILE (a failed run's stream, with its trailer marked
// failed) and FILE is untouched.
func (o *outFile) close(keep bool) error {
	if o == nil || o.f == nil {
		return nil
	}
	err := o.f.Close()
	o.f = nil
	if err != nil {
		return fmt.Errorf("--out %s: %w", o.partial, err)
	}
	if !keep {
		return nil
	}
	if err := os.Rename(o.partial, o.path); err != nil {
		return fmt.Errorf("--out: %w", errors.Join(err, fmt.Errorf("the stream is in %s", o.partial)))
	}
	return nil
}
