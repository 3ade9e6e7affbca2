#!/usr/bin/env bash
# gpu-bench.sh — the benchmark suite on a machine with an NVIDIA GPU, from
# binaries built elsewhere. Build them first on a machine with the toolchain:
#
#   make cuda cuda-test-bin build && go test -c -o bin/bench.test ./bench/
#
# then run here
#
#   scripts/gpu-bench.sh              # or: make gpu-bench
#
# It runs, on the same machine:
#   - the GPU benchmarks of the cuda package (bin/cuda.test -test.bench:
#     Brunel at 12,500, 100,000 and 1,000,000 neurons, CUBA, COBA, the rate
#     ring), each reporting load time, simulation time, real-time factor
#     and spike rate;
#   - the CPU benchmarks of bench/ (bin/bench.test), for the comparison;
#   - the command line end to end: myelin-cuda run and myelin run of Brunel,
#     timed, streaming to a file.
# Results: $OUT if set, else bench/gpu-<date>/ (summary.md and one log per
# part). Environment: BIN (default bin), BENCHTIME (default 3x), SKIP_CPU=1.
#
# This is the long suite (15-25 minutes). For a visit of 15 minutes in all,
# run scripts/gpu-oneshot.sh instead: the same checks cut to fit 540 s.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root" || exit 2
bin="${BIN:-bin}"
benchtime="${BENCHTIME:-3x}"
out="${OUT:-bench/gpu-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
summary="$out/summary.md"
failed=0

for f in cuda.test myelin-cuda myelin; do
	if [[ ! -x "$bin/$f" ]]; then
		echo "gpu-bench: $bin/$f is missing: build it with 'make cuda cuda-test-bin build' on a machine with the CUDA toolchain" >&2
		exit 2
	fi
done

{
	echo "# Myelin GPU benchmarks, $(date -u +%FT%TZ)"
	echo
	echo '```'
	nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
	echo "CPU: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
	echo '```'
} >"$summary"

# bench NAME LOG CMD...: runs a benchmark binary; its result lines go into
# the summary.
bench() {
	local name="$1" log="$2"
	shift 2
	printf '$ %s\n' "$*" >"$log"
	if ! "$@" >>"$log" 2>&1; then
		echo "gpu-bench: $name failed, see $log" >&2
		failed=1
	fi
	{
		echo
		echo "## $name"
		echo
		echo '```'
		grep -E '^(Benchmark|FAIL|---)' "$log"
		echo '```'
	} >>"$summary"
}

bench "GPU (cuda backend)" "$out/gpu-bench.log" \
	"$bin/cuda.test" -test.run '^$' -test.bench . -test.benchtime "$benchtime" -test.timeout 60m
if [[ ${SKIP_CPU:-0} != 1 ]]; then
	if [[ -x $bin/bench.test ]]; then
		bench "CPU (cpu backend, same machine)" "$out/cpu-bench.log" \
			"$bin/bench.test" -test.run '^$' -test.bench . -test.benchtime 1x -test.timeout 60m
	else
		echo "gpu-bench: no $bin/bench.test (go test -c -o bin/bench.test ./bench/): CPU comparison skipped" >&2
	fi
fi

# cli_runs DIR: timed GPU and CPU runs of the command line, streams into DIR.
cli_runs() {
	local tmp="$1"
	for args in "brunel" "brunel --set n=100000,indegree=1000" "cuba" "coba"; do
		# shellcheck disable=SC2086
		for run in "$bin/myelin-cuda run $args --backend cuda" "$bin/myelin run $args --backend cpu"; do
			local t0=$EPOCHREALTIME
			# shellcheck disable=SC2086
			$run --out "$tmp/s.myelin" -q >&2 || return 1
			awk -v r="$run" -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%-70s %8.2f s wall\n", r, b - a }'
		done
	done
}

cli() {
	local tmp rc
	tmp="$(mktemp -d)"
	cli_runs "$tmp"
	rc=$?
	rm -rf "$tmp"
	return "$rc"
}
{
	echo
	echo "## Command line, wall time including build and stream writing"
	echo
	echo '```'
} >>"$summary"
if ! cli 2>"$out/cli.log" | tee -a "$summary"; then
	echo "gpu-bench: command-line runs failed, see $out/cli.log" >&2
	failed=1
fi
echo '```' >>"$summary"

echo "gpu-bench: results in $summary"
exit "$failed"
