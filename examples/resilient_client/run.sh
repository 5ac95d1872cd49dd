#!/usr/bin/env bash
# The resilient client against a server that is stopped twice mid-stream:
# once gracefully (SIGTERM: a retryable server_shutdown event) and once hard
# (SIGKILL: a dropped connection, refused reconnects, then unknown_stream).
# Usage: run.sh CLIENT SERVER CONFIG [--ws]
set -euo pipefail
client=$1 server=$2 config=$3 mode=${4:-}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(( 21000 + RANDOM % 20000 ))

start_server() {
  "$server" --config "$config" --port "$port" > "$work/server.out" 2>> "$work/server.err" &
  server_pid=$!
  for _ in $(seq 100); do grep -q listening "$work/server.out" 2>/dev/null && return; sleep 0.05; done
  echo "server did not start"; cat "$work/server.err"; exit 1
}

start_server
"$client" 127.0.0.1 "$port" story "survive restarts" $mode > "$work/client.out" 2> "$work/client.err" &
client_pid=$!
sleep 0.8
kill -TERM "$server_pid"; wait "$server_pid" || true
sleep 0.3
start_server
sleep 0.8
kill -KILL "$server_pid"; wait "$server_pid" 2>/dev/null || true
sleep 0.5
start_server
rc=0; wait "$client_pid" || rc=$?
echo "--- client stdout"; cat "$work/client.out"
echo "--- client stderr"; cat "$work/client.err"
echo "--- server stderr"; cat "$work/server.err"
[ "$rc" -eq 0 ] || { echo "the client exited with $rc"; exit 1; }
grep -q "server_shutdown" "$work/client.err"
grep -q "no longer knows the stream" "$work/client.err"
grep -q "\[finish: stop, 120 chunks" "$work/client.out"
echo "survived a graceful and a hard restart"
