#!/usr/bin/env bash
# Hedging: time to first chunk of a block whose primary answers its first
# token after 2 s in 10 % of requests (config/bench-hedge.toml), alone
# (block `primary`) and hedged by a backup after 300 ms (block `hedged`).
# STREAMS streams (default 2000) on CONNECTIONS connections (default 100).
#   benchmarks/hedge.sh [build dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
streams=${STREAMS:-2000}
connections=${CONNECTIONS:-100}
port=${PORT:-18310}
server=$build/app/liveai-server
loadgen=$build/benchmarks/loadgen
[ -x "$server" ] && [ -x "$loadgen" ] || { echo "build $build first (cmake --build --preset release)"; exit 1; }

"$server" --config "$root/config/bench-hedge.toml" --port "$port" >/tmp/liveai-hedge.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done

for block in primary hedged; do
  echo "== $block: $streams streams on $connections connections"
  "$loadgen" --port "$port" --block "$block" --connections "$connections" --streams "$streams" --pid "$pid" |
    grep -E "streams|time to first chunk|errors" || true
done
echo "== attempts of the hedged block"
curl -s "http://127.0.0.1:$port/metrics" | grep '^liveai_attempts_total' || true
