#!/usr/bin/env bash
# cuda-toolchain.sh PREFIX — install a minimal CUDA 11.8 toolchain (nvcc, PTX
# back end, driver API headers and the libcuda link stub) from Debian's
# nvidia-cuda-toolkit and nvidia-cuda-dev packages into PREFIX, without a GPU
# and without installing the packages system-wide.
#
# Idempotent: exits 0 at once when PREFIX already holds a working nvcc.
# Needs root (or sudo) only to enable Debian's non-free component and run
# apt-get update; apt-get download and the unpacking run unprivileged.
# Only these members are unpacked (about 108 MB): nvcc, cicc, ptxas, the
# headers and the libcuda link stub are all the PTX build and the cgo build need.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix="${1:-$here/../.cuda}"
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"

tk="usr/lib/nvidia-cuda-toolkit"
nvcc="$prefix/$tk/bin/nvcc"
stamp="$prefix/.installed"

log() { printf 'cuda-toolchain: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ -f "$stamp" && -x "$nvcc" ]] && "$nvcc" --version >/dev/null 2>&1; then
	log "already installed in $prefix ($("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'))"
	exit 0
fi

# as_root runs a command as root (directly, or through sudo).
as_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		die "need root for: $*"
	fi
}

# 1. Debian's CUDA toolkit lives in non-free.
src=/etc/apt/sources.list.d/debian.sources
# apt-cache show exits 0 even for a name it merely knows of; ask for a candidate.
have_candidate() { apt-cache policy nvidia-cuda-toolkit nvidia-cuda-dev 2>/dev/null | grep -c 'Candidate: [0-9]' | grep -qx 2; }
need_update=0
if ! have_candidate; then
	[[ -f $src ]] || die "$src not found; enable Debian non-free by hand"
	if ! grep -Eq '^Components:.*[[:space:]]non-free([[:space:]]|$)' "$src"; then
		log "enabling contrib non-free non-free-firmware in $src"
		as_root sed -i -E '/^Components:/{ / contrib/! s/$/ contrib/; / non-free( |$)/! s/$/ non-free/; / non-free-firmware/! s/$/ non-free-firmware/ }' "$src"
	fi
	need_update=1
fi
if [[ $need_update -eq 1 ]]; then
	log "apt-get update"
	as_root apt-get update -qq
fi
have_candidate || die "nvidia-cuda-toolkit / nvidia-cuda-dev not available from apt (non-free enabled in $src?)"

# 2. Download (not install) the two packages.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
chmod 777 "$tmp" # apt's _apt sandbox user writes here
log "downloading nvidia-cuda-toolkit nvidia-cuda-dev (about 860 MB)"
(cd "$tmp" && apt-get download -q nvidia-cuda-toolkit nvidia-cuda-dev) >/dev/null
deb_tk=$(ls "$tmp"/nvidia-cuda-toolkit_*.deb)
deb_dev=$(ls "$tmp"/nvidia-cuda-dev_*.deb)

# 3. Unpack only what nvcc -ptx and the cgo build need (about 108 MB).
log "unpacking into $prefix"
dpkg-deb --fsys-tarfile "$deb_tk" | tar -x -C "$prefix" --wildcards \
	"./$tk/bin/nvcc" "./$tk/bin/cicc" "./$tk/bin/crt" "./$tk/libdevice" \
	./usr/bin/ptxas ./usr/bin/fatbinary ./usr/bin/cudafe++ ./usr/bin/nvlink ./usr/bin/bin2c
dpkg-deb --fsys-tarfile "$deb_dev" | tar -x -C "$prefix" --wildcards \
	'./usr/include/*' ./usr/lib/x86_64-linux-gnu/stubs/libcuda.so

# 4. nvcc finds cicc, ptxas and friends through its profile; our prefix is
#    not /usr, so point it at the unpacked tree. _HERE_ is the profile's own
#    directory, so the prefix can be moved or copied to another machine.
cat >"$prefix/$tk/bin/nvcc.profile" <<PROFILE
TOP              = \$(_HERE_)/../../../..
NVVMIR_LIBRARY_DIR = \$(TOP)/$tk/libdevice
PATH            += \$(TOP)/$tk/bin:\$(TOP)/usr/bin:
INCLUDES        +=  "-I\$(TOP)/usr/include" \$(_SPACE_)
LIBRARIES        =+ \$(_SPACE_) "-L\$(TOP)/usr/lib/x86_64-linux-gnu/stubs"
CUDAFE_FLAGS    +=
PTXAS_FLAGS     +=
PROFILE

# 5. Verify: version and a real PTX compile.
"$nvcc" --version >&2 || die "nvcc --version failed"
printf 'extern "C" __global__ void k(int *p) { p[threadIdx.x] = 1; }\n' >"$tmp/k.cu"
"$nvcc" -ptx -arch=compute_70 -ccbin g++ -allow-unsupported-compiler -o "$tmp/k.ptx" "$tmp/k.cu" ||
	die "nvcc could not compile a test kernel"
grep -q '\.entry k' "$tmp/k.ptx" || die "test PTX lacks its entry"
touch "$stamp"
log "ok: $nvcc ($(du -sh "$prefix" | cut -f1))"
