#!/usr/bin/env bash
# The gateway benchmarks: streams that come from an OpenAI-compatible
# upstream (the fake one, benchmarks/peers/raw_server.c --openai, on port
# 18299), through liveai (openai blocks, config/bench-gateway.toml), through
# Go's httputil.ReverseProxy passing the bytes on unparsed
# (benchmarks/peers/go_proxy.go), and straight from the upstream. Each
# scenario runs RUNS times on fresh processes; the medians go to
# build/bench/gateway.md (and benchmarks/RESULTS.md by report.py).
#
#   G1 burst: 256 deltas as fast as possible, 64 keep-alive connections
#   G2 paced: 100 streams opening at once, 64 deltas 20 ms apart
#   G3 paced: 1000 streams opening at once
#
#   benchmarks/gateway.sh                 RUNS=3, G1 for 10 s
#   RUNS=1 G1_SECONDS=3 benchmarks/gateway.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
G1_SECONDS=${G1_SECONDS:-10}
SERVERS=${SERVERS:-"direct liveai go-proxy"}
out=build/bench
mkdir -p "$out"
upstream_port=18299

scripts/setup > /dev/null
benchmarks/setup
cmake --preset release > /dev/null
cmake --build --preset release --target liveai-server loadgen > /dev/null
export GOCACHE="$PWD/$out/gocache" GOPATH="$PWD/$out/gopath" GO111MODULE=off
go build -o "$out/go_proxy" benchmarks/peers/go_proxy.go
gcc -O2 -o "$out/raw_server" benchmarks/peers/raw_server.c
loadgen=build/release/benchmarks/loadgen
results="$out/gateway.jsonl"
: > "$results"
ulimit -n "$(ulimit -Hn)"

wait_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on $1" >&2
  return 1
}

port=18400
run() {
  local server=$1 scenario=$2 n=$3
  shift 3
  "$out/raw_server" "$upstream_port" --openai > /dev/null 2>&1 &
  local upstream=$!
  wait_port "$upstream_port"
  port=$((port + 1))
  local pid target format=()
  case $server in
    direct) pid=$upstream target=$upstream_port format=(--format openai) ;;
    liveai)
      build/release/app/liveai-server --config config/bench-gateway.toml --port "$port" > /dev/null 2> "$out/gw-liveai.log" &
      pid=$! target=$port ;;
    go-proxy)
      "$out/go_proxy" "$port" "$upstream_port" > /dev/null 2>&1 &
      pid=$! target=$port format=(--format openai) ;;
  esac
  wait_port "$target"
  local log="$out/gw-$scenario-$server-$n.log"
  "$loadgen" --port "$target" --pid "$pid" "${format[@]}" "$@" > "$log" 2>&1 || true
  [ "$pid" = "$upstream" ] || { kill "$pid" 2> /dev/null || true; wait "$pid" 2> /dev/null || true; }
  kill "$upstream" 2> /dev/null || true
  wait "$upstream" 2> /dev/null || true
  local line
  line=$(grep '^RESULT ' "$log" | sed 's/^RESULT //' || true)
  [ -n "$line" ] || line='{"streams_done":0,"streams_failed":1}'
  echo "{\"server\":\"$server\",\"scenario\":\"$scenario\",\"run\":$n,\"data\":$line}" >> "$results"
  printf '%-9s %-3s run %d: %s\n' "$server" "$scenario" "$n" "$(grep -E '^(streams|server):|first chunk' "$log" | tr '\n' ' ' | cut -c1-200)"
}

for n in $(seq "$RUNS"); do
  for server in $SERVERS; do
    run "$server" G1 "$n" --block gw-burst --connections 64 --duration "$G1_SECONDS"
    run "$server" G2 "$n" --block gw-paced --connections 100 --streams 100 --paced-ms 20 --timeout 60
    run "$server" G3 "$n" --block gw-paced --connections 1000 --streams 1000 --paced-ms 20 --timeout 60
  done
done
/usr/bin/python3 benchmarks/gateway_report.py "$results" > "$out/gateway.md"
cat "$out/gateway.md"
