#!/usr/bin/env bash
# liveai-server --check-config: accepts the shipped configs, rejects a bad one
# with file:line:column and key, and exits non-zero.
set -u
server=$1
src=$2
fail() { echo "FAIL: $*"; exit 1; }

"$server" --check-config "$src/config/liveai.toml" || fail "config/liveai.toml was rejected"
"$server" --check-config "$src/config/bench.toml" || fail "config/bench.toml was rejected"

bad=$(mktemp --suffix=.toml)
trap 'rm -f "$bad"' EXIT
printf '[server]\nport = "eighty"\n[blocks.a]\nprovider = "mock"\nstreeming = true\n' > "$bad"
if out=$("$server" --check-config "$bad" 2>&1); then fail "a bad config was accepted"; fi
echo "$out"
grep -qF "$bad:2:8: server.port: expected an integer, got a string" <<<"$out" || fail "no port problem"
grep -qF "$bad:5:1: blocks.a.streeming: unknown key" <<<"$out" || fail "no unknown-key problem"

if "$server" --check-config /nonexistent.toml 2>/dev/null; then fail "a missing file was accepted"; fi
if "$server" --no-such-flag 2>/dev/null; then fail "an unknown flag was accepted"; fi
"$server" --help | grep -q -- "--check-config" || fail "--help does not list --check-config"
"$server" --version | grep -q "liveai-server" || fail "--version prints nothing useful"
echo "check_config: 1 passed, 0 failed"
