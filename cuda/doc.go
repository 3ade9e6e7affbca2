// Package cuda is Myelin's GPU backend: it implements backend.Backend with
// the kernels of package kernels, launched in the order that kernels/launch
// gives, over the general driver layer of cuda/driver.
//
// The backend needs the build tag "cuda" (make cuda): the driver layer uses
// gorgonia.org/cu, whose package initialisation exits the process when there
// is no NVIDIA driver or GPU, so the default build must not import it.
// Without the tag this package is empty and cuda/driver only reports that
// the binary was built without CUDA.
package cuda
