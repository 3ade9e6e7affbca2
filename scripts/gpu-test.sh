#!/usr/bin/env bash
# gpu-test.sh — the GPU parity suite, run on a machine with an NVIDIA GPU
# and driver from binaries built elsewhere (the GPU machine needs no Go, no
# nvcc and no network). Build them first on a machine with the toolchain:
#
#   make cuda cuda-test-bin build     # bin/myelin-cuda, bin/cuda.test, bin/myelin
#
# then copy the checkout (or bin/ and scripts/) over and run
#
#   scripts/gpu-test.sh               # or: make gpu-test
#
# Steps (each one's log goes to the output folder; the script goes on after
# a failure and exits non-zero at the end if any step failed):
#   1. nvidia-smi                     the device and driver
#   2. cuda.test                      driver-layer tests, then the parity
#                                     suite (every model, CPU against GPU,
#                                     byte-identical streams) at test size,
#                                     with a second launch geometry, and at
#                                     the published sizes for 1 s
#   3. compute-sanitizer memcheck     out-of-bounds and misaligned accesses,
#      compute-sanitizer racecheck    shared-memory races,
#      compute-sanitizer initcheck    reads of uninitialised device memory,
#                                     each on the small parity suite
#   4. the command line               myelin-cuda run brunel against the CPU
#                                     binary, compared with myelin compare
#
# Output: $OUT if set (a folder that is collected after the run), else
# bench/gpu-test-<date>/. At most 8 files go there: summary.txt and one log
# per step. Environment: BIN (default bin), SANITIZER (compute-sanitizer,
# found on PATH or under /usr/local/cuda*/bin), SKIP_SANITIZER=1,
# SKIP_LARGE=1 (only the small parity suite).
#
# This is the long suite (15-25 minutes). For a visit of 15 minutes in all,
# run scripts/gpu-oneshot.sh instead: the same checks cut to fit 540 s.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 2
bin="${BIN:-bin}"
out="${OUT:-bench/gpu-test-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
summary="$out/summary.txt"
: >"$summary"
failed=0

note() { printf '%s\n' "$*" | tee -a "$summary"; }

# step NAME LOG CMD...: runs CMD with its output in LOG and notes the result.
step() {
	local name="$1" log="$2"
	shift 2
	local t0=$SECONDS
	printf '$ %s\n' "$*" >"$log"
	"$@" >>"$log" 2>&1
	local rc=$?
	if ((rc == 0)); then
		note "PASS  $name ($((SECONDS - t0)) s)"
	else
		note "FAIL  $name (exit $rc, $((SECONDS - t0)) s): see $log"
		tail -n 30 "$log" | sed 's/^/      /' | tee -a "$summary"
		failed=1
	fi
	return $rc
}

for f in cuda.test myelin-cuda myelin; do
	if [[ ! -x "$bin/$f" ]]; then
		echo "gpu-test: $bin/$f is missing: build it with 'make cuda cuda-test-bin build' on a machine with the CUDA toolchain" >&2
		exit 2
	fi
done

note "gpu-test $(date -u +%FT%TZ) on $(hostname)"
if nvidia-smi >"$out/nvidia-smi.txt" 2>&1; then
	note "$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -n 4)"
else
	note "WARN  nvidia-smi failed (see $out/nvidia-smi.txt); going on"
fi

large=()
[[ ${SKIP_LARGE:-0} == 1 ]] && large=(-test.short)
step "cuda.test (driver layer, parity suite, parity at published sizes)" "$out/cuda-test.log" \
	"$bin/cuda.test" -test.v -test.count=1 -test.timeout=45m "${large[@]}"

if [[ ${SKIP_SANITIZER:-0} != 1 ]]; then
	san="${SANITIZER:-$(command -v compute-sanitizer)}"
	if [[ -z $san ]]; then
		for s in /usr/local/cuda*/bin/compute-sanitizer; do
			[[ -x $s ]] && san="$s"
		done
	fi
	if [[ -z $san || ! -x $san ]]; then
		note "SKIP  compute-sanitizer: not found (set SANITIZER)"
	else
		# The small suite only: the sanitizer slows kernels down a hundredfold.
		for tool in memcheck racecheck initcheck; do
			extra=()
			[[ $tool == memcheck ]] && extra=(--leak-check full)
			step "compute-sanitizer $tool" "$out/sanitizer-$tool.log" \
				"$san" --tool "$tool" "${extra[@]}" --error-exitcode 1 \
				"$bin/cuda.test" -test.v -test.short -test.count=1 -test.timeout=60m \
				-test.run '^(TestBackendParity|TestBackendAdvanceSizes|TestBackendClose)$'
		done
	fi
fi

# cli_runs DIR: CPU and GPU runs of the command line into DIR, compared.
cli_runs() {
	local tmp="$1"
	"$bin/myelin-cuda" run brunel --backend cuda --duration 1000 --sample E@0:10/10 --out "$tmp/gpu.myelin" &&
		"$bin/myelin" run brunel --backend cpu --duration 1000 --sample E@0:10/10 --out "$tmp/cpu.myelin" &&
		"$bin/myelin" compare "$tmp/cpu.myelin" "$tmp/gpu.myelin" &&
		"$bin/myelin-cuda" run ring_rate --backend cuda --duration 500 --out "$tmp/ring-gpu.myelin" &&
		"$bin/myelin" run ring_rate --backend cpu --duration 500 --out "$tmp/ring-cpu.myelin" &&
		"$bin/myelin" compare "$tmp/ring-cpu.myelin" "$tmp/ring-gpu.myelin" &&
		"$bin/myelin-cuda" version
}

cli() {
	local tmp rc
	tmp="$(mktemp -d)"
	cli_runs "$tmp"
	rc=$?
	rm -rf "$tmp"
	return "$rc"
}
step "command line: myelin-cuda run against myelin run, myelin compare" "$out/cli.log" cli

if ((failed)); then
	note "gpu-test: FAILED (logs in $out)"
	exit 1
fi
note "gpu-test: all steps passed (logs in $out)"
