#!/usr/bin/env bash
# Runs every benchmark scenario against liveai and its peers (FastAPI, Node,
# Go, the raw-socket limit), three times each, then writes benchmarks/RESULTS.md
# and the plots in benchmarks/plots/. About 15 minutes on 2 cores.
#
#   benchmarks/run.sh                 everything
#   RUNS=1 S1_SECONDS=3 benchmarks/run.sh   a quick pass
#   SERVERS="liveai go" benchmarks/run.sh   a subset
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
S1_SECONDS=${S1_SECONDS:-10}
S5_SECONDS=${S5_SECONDS:-5}
SERVERS=${SERVERS:-"liveai fastapi node go raw raw-joined"}
out=build/bench
# Debian's interpreter: FastAPI, uvicorn and matplotlib come from Debian packages.
py=/usr/bin/python3
mkdir -p "$out" benchmarks/plots

scripts/setup
benchmarks/setup
cmake --preset release > /dev/null
cmake --build --preset release --target liveai-server loadgen chunk_json_throughput
export GOCACHE="$PWD/$out/gocache" GOPATH="$PWD/$out/gopath" GO111MODULE=off
go build -o "$out/go_server" benchmarks/peers/go_server.go
gcc -O2 -o "$out/raw_server" benchmarks/peers/raw_server.c
loadgen=build/release/benchmarks/loadgen
results="$out/results.jsonl"
: > "$results"
ulimit -n "$(ulimit -Hn)"

port=18300
pid=""
start_server() {
  local name=$1
  port=$((port + 1))
  case $name in
    liveai) build/release/app/liveai-server --config config/bench.toml --port "$port" > /dev/null 2> "$out/liveai.log" & ;;
    fastapi) "$py" benchmarks/peers/fastapi_server.py "$port" > /dev/null 2>&1 & ;;
    node) node benchmarks/peers/node_server.js "$port" > /dev/null 2>&1 & ;;
    go) "$out/go_server" "$port" > /dev/null 2>&1 & ;;
    raw) "$out/raw_server" "$port" > /dev/null 2>&1 & ;;
    raw-joined) "$out/raw_server" "$port" --join > /dev/null 2>&1 & ;;
  esac
  pid=$!
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2> /dev/null && return 0
    sleep 0.05
  done
  echo "$name did not start" >&2
  return 1
}
stop_server() {
  kill "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
}

# run SERVER SCENARIO RUN LOADGEN-ARGS...: one loadgen run on a fresh server.
run() {
  local server=$1 scenario=$2 n=$3
  shift 3
  start_server "$server"
  local log="$out/$scenario-$server-$n.log"
  "$loadgen" --port "$port" --pid "$pid" "$@" > "$log" 2>&1 || true
  stop_server
  local line
  line=$(grep '^RESULT ' "$log" | sed 's/^RESULT //' || true)
  [ -n "$line" ] || line='{"streams_done":0,"streams_failed":1}'
  echo "{\"server\":\"$server\",\"scenario\":\"$scenario\",\"run\":$n,\"data\":$line}" >> "$results"
  printf '%-10s %-6s run %d: %s\n' "$server" "$scenario" "$n" "$(grep -E '^(events|streams|server):' "$log" | tr '\n' ' ' | cut -c1-160)"
}

for n in $(seq "$RUNS"); do
  for server in $SERVERS; do
    run "$server" S1 "$n" --block bench-burst --connections 64 --duration "$S1_SECONDS"
    run "$server" S2 "$n" --block bench-paced --connections 1000 --streams 1000 --paced-ms 20 --timeout 60 \
        --cdf "$out/cdf-S2-$server-$n.csv"
    run "$server" S3 "$n" --block bench-paced --connections 10000 --streams 10000 --paced-ms 20 --timeout 30
    case $server in raw|raw-joined) ;; *)
      run "$server" S5 "$n" --mode collect --block bench-burst --connections 64 --duration "$S5_SECONDS" ;;
    esac
  done
  # WebSocket variants and cancellation: liveai only (the peers have no WebSocket
  # endpoint and no cancellation metric).
  run liveai S1-ws "$n" --ws --block bench-burst --connections 64 --duration "$S1_SECONDS"
  run liveai S2-ws "$n" --ws --block bench-paced --connections 1000 --streams 1000 --paced-ms 20 --timeout 60
  # k=0: close before the first chunk of bench-slow (2 s away); k=1: close after
  # the first chunk of bench-paced, while the provider waits for the second.
  for k in 0 1; do
    block=bench-slow
    [ "$k" = 1 ] && block=bench-paced
    start_server liveai
    "$loadgen" --port "$port" --mode cancel --block "$block" --close-after "$k" --iterations 200 > "$out/S4-k$k-$n.log" 2>&1 || true
    stop_server
    p=$(sed -n 's/.*p50 \([0-9.]*\) p90 \([0-9.]*\) p99 \([0-9.]*\) max \([0-9.]*\).*/[\1,\2,\3,\4]/p' "$out/S4-k$k-$n.log")
    echo "{\"server\":\"liveai\",\"scenario\":\"S4-k$k\",\"run\":$n,\"data\":{\"cancel_ms\":${p:-null}}}" >> "$results"
    echo "liveai     S4-k$k run $n: $(tail -1 "$out/S4-k$k-$n.log")"
  done
done

# The per-chunk JSON readers side by side (why openai_chunk_reader uses simdjson).
build/release/benchmarks/chunk_json_throughput 3 > "$out/chunk_json.txt"

# Cross-check the load generator once against wrk (whole streams per second).
start_server liveai
wrk -t1 -c64 -d"${S1_SECONDS}s" "http://127.0.0.1:$port/api/stream/ai-block/bench-burst?prompt=hi" > "$out/wrk.log" 2>&1 || true
stop_server

"$py" benchmarks/report.py "$results" "$out" > benchmarks/RESULTS.md
echo "wrote benchmarks/RESULTS.md and benchmarks/plots/"
