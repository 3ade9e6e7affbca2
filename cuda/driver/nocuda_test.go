//go:build !cuda

package driver

import (
	"errors"
	"strings"
	"testing"
)

func TestWithoutCUDA(t *testing.T) {
	if Available() {
		t.Error("Available() = true in a build without the cuda tag")
	}
	d, err := Open(0)
	if d != nil || !errors.Is(err, ErrNoCUDA) {
		t.Fatalf("Open(0) = %v, %v; want nil, ErrNoCUDA", d, err)
	}
	if !strings.Contains(err.Error(), "make cuda") {
		t.Errorf("error %q does not say how to build the cuda binary", err)
	}
	if _, err := DriverVersion(); !errors.Is(err, ErrNoCUDA) {
		t.Errorf("DriverVersion: %v, want ErrNoCUDA", err)
	}
}
