#!/usr/bin/env bash
# Installs liveai into a temporary prefix, then configures, builds and runs a
# consumer project that only knows find_package(liveai).
set -euo pipefail
build=$1
consumer=$2
cxx_flags=${3:-}
linker_flags=${4:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
cmake -S "$consumer" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS="$cxx_flags" -DCMAKE_EXE_LINKER_FLAGS="$linker_flags" \
      > "$work/configure.log"
cmake --build "$work/build" > "$work/build.log" || { cat "$work/build.log"; exit 1; }
out=$("$work/build/consumer")
echo "$out"
[ "$out" = "consumer: first words" ] || { echo "unexpected output"; exit 1; }
client=$("$work/build/client_only")
echo "$client"
[ "$client" = "client: retries_exhausted" ] || { echo "unexpected client output"; exit 1; }
