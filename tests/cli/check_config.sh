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

# An api_key_env naming a variable that is not set: refused, naming it, by
# --check-config and by the server at startup; api_key_env = "" needs no key.
unset LIVEAI_CHECK_NO_SUCH_KEY
printf '[blocks.gpt]\nprovider = "openai"\nmodel = "m"\n[blocks.gpt.openai]\nbase_url = "http://127.0.0.1:9/v1"\napi_key_env = "LIVEAI_CHECK_NO_SUCH_KEY"\n' > "$bad"
if out=$("$server" --check-config "$bad" 2>&1); then fail "a missing API key variable was accepted"; fi
echo "$out"
grep -qF "blocks.gpt: the environment variable LIVEAI_CHECK_NO_SUCH_KEY (its api_key_env) is not set" <<<"$out" || fail "no missing-key problem"
if out=$(timeout 10 "$server" --config "$bad" --port 0 2>&1); then fail "the server started without its API key"; fi
grep -qF "LIVEAI_CHECK_NO_SUCH_KEY" <<<"$out" || fail "the server did not name the missing variable"
LIVEAI_CHECK_NO_SUCH_KEY=sk-x "$server" --check-config "$bad" >/dev/null || fail "a set API key variable was refused"
printf '[blocks.local]\nprovider = "openai"\nmodel = "m"\n[blocks.local.openai]\nbase_url = "http://127.0.0.1:9/v1"\napi_key_env = ""\n' > "$bad"
"$server" --check-config "$bad" >/dev/null || fail "api_key_env = \"\" (a keyless server) was refused"

# Timeouts that make retries impossible: accepted, with a warning saying why.
printf '[blocks.slow]\nprovider = "openai"\nmodel = "m"\nfirst_token_timeout_ms = 30000\n[blocks.slow.openai]\napi_key_env = ""\nfirst_byte_timeout_ms = 60000\n' > "$bad"
out=$("$server" --check-config "$bad" 2>&1) || fail "a config with useless retries was refused"
echo "$out"
grep -qF "warning: blocks.slow: max_retries = 2 can never apply to a slow upstream" <<<"$out" || fail "no warning for impossible retries"
printf '[blocks.g]\nprovider = "openai"\nmodel = "m"\n[blocks.g.openai]\napi_key_env = ""\nmax_tokens_field = "n_predict"\n' > "$bad"
if out=$("$server" --check-config "$bad" 2>&1); then fail "a bad max_tokens_field was accepted"; fi
grep -qF "blocks.g.openai.max_tokens_field" <<<"$out" || fail "no max_tokens_field problem"

# API keys: --new-key prints the key once (stderr) and an [[auth.keys]] entry
# (stdout) whose digest is the key's; --hash-key reads a key on stdin; a
# config with that entry passes; a server on another address without [auth]
# warns (192.0.2.1, TEST-NET-1, is no address of this machine: the warning
# comes, then the bind fails, and nothing listens beyond 127.0.0.1).
entry=$("$server" --new-key web 2> "$bad.key") || fail "--new-key failed"
key=$(sed 's/.*: //' "$bad.key")
rm -f "$bad.key"
[[ "$key" =~ ^lk-[A-Za-z0-9_-]{43}$ ]] || fail "--new-key printed no key: $key"
digest=$(printf '%s\n' "$key" | "$server" --hash-key) || fail "--hash-key failed"
[ "$digest" = "$(printf %s "$key" | sha256sum | cut -d' ' -f1)" ] || fail "--hash-key is not the SHA-256 of the key"
grep -qF "sha256 = \"$digest\"" <<<"$entry" || fail "the --new-key entry does not hold the key's digest"
grep -qF "$key" <<<"$entry" && fail "the --new-key entry holds the key itself"
printf '[auth]\n%s\n[blocks.chat]\nprovider = "mock"\n' "$entry" > "$bad"
"$server" --check-config "$bad" > /dev/null || fail "a config with a --new-key entry was refused"
if printf 'two words\n' | "$server" --hash-key 2>/dev/null; then fail "--hash-key took a key with a space"; fi
printf '[blocks.chat]\nprovider = "mock"\n' > "$bad"
out=$(timeout 5 "$server" --config "$bad" --host 192.0.2.1 --port 0 2>&1)
grep -qF "without [auth]" <<<"$out" || fail "no warning for 0.0.0.0 without [auth]"

if "$server" --check-config /nonexistent.toml 2>/dev/null; then fail "a missing file was accepted"; fi
if "$server" --no-such-flag 2>/dev/null; then fail "an unknown flag was accepted"; fi
"$server" --help | grep -q -- "--check-config" || fail "--help does not list --check-config"
# One source for the version: what the binary says is project(... VERSION) in CMakeLists.txt.
project_version=$(sed -n 's/^project(liveai VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[ -n "$project_version" ] || fail "no project version in CMakeLists.txt"
[ "$("$server" --version)" = "liveai-server $project_version" ] || fail "--version does not say $project_version"
echo "check_config: 1 passed, 0 failed"
