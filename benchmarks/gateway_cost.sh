#!/usr/bin/env bash
# The gateway surface's cost on the hot path: S1 (bench-burst, 64
# connections, 256 chunks a stream) four ways on a fresh server each run:
#   liveai stream, [auth] off | on   (GET /api/stream/ai-block/bench-burst)
#   /v1 stream,    [auth] off | on   (POST /v1/chat/completions, model = bench-burst)
# and prints the server's events per CPU-second and CPU per chunk.
#
#   benchmarks/gateway_cost.sh                 3 runs of 10 s each
#   RUNS=1 S1_SECONDS=5 benchmarks/gateway_cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
S1_SECONDS=${S1_SECONDS:-10}
out=build/bench/gateway-cost
mkdir -p "$out"
cmake --preset release > /dev/null
cmake --build --preset release --target liveai-server loadgen > /dev/null
server=build/release/app/liveai-server
loadgen=build/release/benchmarks/loadgen
# A benchmark-only key; the config keeps only its digest.
key="lk-bench-only-$(date +%s%N)"
{
  cat config/bench.toml
  printf '\n[auth]\n[[auth.keys]]\nname = "bench"\nsha256 = "%s"\nblocks = ["*"]\nmax_streams = 100000\nrequests_per_minute = 0\n' \
    "$(printf %s "$key" | "$server" --hash-key)"
} > "$out/bench-auth.toml"
ulimit -n "$(ulimit -Hn)"
port=18500

for n in $(seq "$RUNS"); do
  for variant in liveai-off liveai-auth v1-off v1-auth; do
    port=$((port + 1))
    config=config/bench.toml
    args=(--block bench-burst --connections 64 --duration "$S1_SECONDS")
    case $variant in *-auth) config="$out/bench-auth.toml"; args+=(--api-key "$key") ;; esac
    case $variant in v1-*) args+=(--v1) ;; esac
    "$server" --config "$config" --port "$port" > /dev/null 2> "$out/server.log" &
    pid=$!
    for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2> /dev/null && break; sleep 0.05; done
    "$loadgen" --port "$port" --pid "$pid" "${args[@]}" > "$out/$variant-$n.log" 2>&1 || true
    kill "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
    printf '%-12s run %d: %s | %s | %s\n' "$variant" "$n" \
      "$(grep -oE '[0-9]+ done, [0-9]+ failed' "$out/$variant-$n.log")" \
      "$(grep -oE '[0-9]+ events per CPU-second' "$out/$variant-$n.log")" \
      "$(grep -oE '[0-9.]+ us CPU per chunk' "$out/$variant-$n.log")"
  done
done
