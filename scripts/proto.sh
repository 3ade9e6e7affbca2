#!/usr/bin/env bash
# proto.sh build|check — generate the Go and Python code of proto/*.proto.
#
#   build  writes proto/<name>.pb.go and python/<name>_pb2.py for every
#          proto/<name>.proto (commit the result)
#   check  generates into a temporary directory and fails, naming the file,
#          if a committed generated file is missing or differs from what its
#          .proto gives
#
# Needs protoc (Debian's protobuf-compiler) and protoc-gen-go on PATH or in
# $(go env GOPATH)/bin: `make proto-tools` installs both.
set -euo pipefail

mode="${1:-}"
[[ $mode == build || $mode == check ]] || { echo "usage: $0 build|check" >&2; exit 2; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
PATH="$PATH:$(go env GOPATH)/bin"
for tool in protoc protoc-gen-go; do
	command -v "$tool" >/dev/null || { echo "proto: $tool not found: run 'make proto-tools'" >&2; exit 1; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/go" "$tmp/python"
protos=(proto/*.proto)
# Go code is generated from the repository root (its descriptors are
# registered as proto/<name>.proto), Python code from proto/ (as <name>.proto),
# as they always have been.
protoc -I. --go_out="$tmp/go" --go_opt=module=github.com/myelin-sim/myelin "${protos[@]}"
protoc -Iproto --python_out="$tmp/python" "${protos[@]}"

fail=0
for p in "${protos[@]}"; do
	name="$(basename "$p" .proto)"
	for pair in "proto/$name.pb.go:$tmp/go/proto/$name.pb.go" "python/${name}_pb2.py:$tmp/python/${name}_pb2.py"; do
		committed="${pair%%:*}" fresh="${pair#*:}"
		if [[ $mode == build ]]; then
			cmp -s "$fresh" "$committed" 2>/dev/null || { cp "$fresh" "$committed"; echo "proto: wrote $committed"; }
		elif ! cmp -s "$fresh" "$committed"; then
			echo "proto: $committed is missing or stale: run 'make proto' and commit it" >&2
			fail=1
		fi
	done
done
exit "$fail"
