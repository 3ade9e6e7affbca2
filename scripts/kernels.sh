#!/usr/bin/env bash
# kernels.sh build|check — compile kernels/*.cu to PTX.
#
#   build  writes kernels/ptx/<name>.ptx for every kernels/<name>.cu (a file is
#          rewritten only when its content changes) and removes PTX whose
#          source is gone.
#   check  compiles into a temporary directory and fails, naming the file, if
#          any committed kernels/ptx/<name>.ptx is missing, differs from what
#          its source gives, or has no source.
#
# Environment: NVCC (path to nvcc), NVCCFLAGS (the PTX flags; see mk/cuda.mk).
#
# The output is byte-reproducible: nvcc embeds no time, user or path, except
# that symbols with internal linkage (anonymous namespaces, static functions
# that are not inlined) get a hash of the source's absolute path in their
# mangled names. We pin that path to the repository-relative
# "kernels/<name>.cu" with cicc's --orig_src_path_name, so the PTX does not
# depend on where the checkout lives.
set -euo pipefail

mode="${1:-}"
[[ $mode == build || $mode == check ]] || { echo "usage: $0 build|check" >&2; exit 2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/kernels"
NVCC="${NVCC:?NVCC is not set}"
read -r -a flags <<<"${NVCCFLAGS:?NVCCFLAGS is not set}"

if ! command -v "$NVCC" >/dev/null 2>&1; then
	echo "kernels: nvcc not found at $NVCC: run 'make cuda-toolchain' (or set NVCC)" >&2
	exit 1
fi

shopt -s nullglob
srcs=(*.cu)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Compile all sources in parallel into $tmp.
pids=()
for src in "${srcs[@]}"; do
	name="${src%.cu}"
	"$NVCC" "${flags[@]}" -Xcicc --orig_src_path_name -Xcicc "kernels/$src" \
		-o "$tmp/$name.ptx" "$src" 2>"$tmp/$name.log" &
	pids+=("$!")
done
fail=0
for i in "${!srcs[@]}"; do
	name="${srcs[$i]%.cu}"
	if ! wait "${pids[$i]}"; then
		echo "kernels: nvcc failed on kernels/${srcs[$i]}:" >&2
		sed 's/^/    /' "$tmp/$name.log" >&2
		fail=1
	elif [[ -s "$tmp/$name.log" ]]; then
		sed "s|^|kernels/${srcs[$i]}: |" "$tmp/$name.log" >&2 # warnings
	fi
done
((fail == 0)) || exit 1

mkdir -p ptx
for src in "${srcs[@]}"; do
	name="${src%.cu}"
	out="ptx/$name.ptx"
	if [[ ! -f $out ]]; then
		if [[ $mode == build ]]; then
			cp "$tmp/$name.ptx" "$out"
			echo "kernels: wrote kernels/$out"
		else
			echo "kernels-check: kernels/$out is missing: run 'make kernels' and commit it" >&2
			fail=1
		fi
	elif ! cmp -s "$tmp/$name.ptx" "$out"; then
		if [[ $mode == build ]]; then
			cp "$tmp/$name.ptx" "$out"
			echo "kernels: wrote kernels/$out"
		else
			echo "kernels-check: kernels/$out differs from what kernels/$src gives: run 'make kernels' and commit it" >&2
			diff -u --label "kernels/$out (committed)" --label "kernels/$out (from kernels/$src)" \
				"$out" "$tmp/$name.ptx" | head -n 40 | sed 's/^/    /' >&2 || true
			fail=1
		fi
	fi
done
for out in ptx/*.ptx; do
	name="$(basename "$out" .ptx)"
	[[ -f $name.cu ]] && continue
	if [[ $mode == build ]]; then
		rm -f "$out"
		echo "kernels: removed kernels/$out (no kernels/$name.cu)"
	else
		echo "kernels-check: kernels/$out has no source kernels/$name.cu: remove it or restore the source" >&2
		fail=1
	fi
done
if ((fail == 0)) && [[ $mode == check ]]; then
	echo "kernels-check: ${#srcs[@]} PTX file(s) match their sources"
fi
exit "$fail"
