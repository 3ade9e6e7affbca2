#!/usr/bin/env bash
# fma-check.sh — the CPU and GPU backends compute the same bits only if
# neither fuses a*b + c into one rounding: the kernels are built with
# -fmad=false and the AVX2 code uses no FMA, but Go may fuse on some
# architectures (arm64, ppc64le, s390x), which the float64()/float32()
# conversions around products forbid. This builds the packages whose
# arithmetic the kernels twin for arm64 and fails when a fused
# instruction appears in a function that is not on the list of host-only
# computations below (tables and estimates that both backends share).
set -euo pipefail
cd "$(dirname "$0")/.."
go="${GO:-go}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Functions whose results both backends take from the host (or that only
# estimate work): a fused instruction there changes no comparison.
allowed='network\.poissonTable|network\.normalMass|network\.newStepTable|network\.RingTable|network\.\(\*builder\)\.quantizeInputs|cpu\.\(\*Backend\)\.stepWork'

fail=0
for pkg in neuron synapse xmath rng network cpu; do
	GOARCH=arm64 "$go" build -o "$tmp/$pkg.a" "./engine/$pkg"
	"$go" tool objdump "$tmp/$pkg.a" | awk -v pkg="$pkg" -v allowed="$allowed" '
		/^TEXT / { fn = $2; next }
		/FMADD|FMSUB|FNMADD|FNMSUB/ {
			if (fn !~ "^github.com/myelin-sim/myelin/engine/(" allowed ")") {
				printf "fma-check: %s: fused multiply-add in %s at %s\n", pkg, fn, $1 > "/dev/stderr"
				bad = 1
			}
		}
		END { exit bad }' || fail=1
done
if ((fail)); then
	echo "fma-check: round the product first, e.g. a + float64(b*c), as the kernels do (-fmad=false)" >&2
	exit 1
fi
echo "fma-check: no fused multiply-add in the twinned arithmetic (arm64 build)"
