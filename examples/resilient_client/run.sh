#!/usr/bin/env bash
# The resilient client against a server that is stopped twice mid-stream:
# once gracefully (SIGTERM: a retryable server_shutdown event) and once hard
# (SIGKILL: a dropped connection, refused reconnects, then unknown_stream).
# Usage: run.sh CLIENT SERVER CONFIG [--ws]
set -euo pipefail
client=$1 server=$2 config=$3 mode=${4:-}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
# The restarted server must bind the same port again, so it is picked below
# the kernel's ephemeral range (no outgoing connection of another test can
# take it meanwhile), from a range of its own for each mode (the two may run
# at once), and the first start tries another one if it is taken.
ephemeral_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
span=$(( (ephemeral_low - 12000) / 2 ))
if [ "$mode" = "--ws" ]; then range_base=$(( 12000 + span )); else range_base=12000; fi
pick_port() { port=$(( range_base + RANDOM % span )); }

start_server() {
  : > "$work/server.out"
  "$server" --config "$config" --port "$port" > "$work/server.out" 2>> "$work/server.err" &
  server_pid=$!
  for _ in $(seq 100); do
    grep -q listening "$work/server.out" 2>/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
start_server_or_fail() {
  start_server || { echo "server did not start on port $port"; cat "$work/server.err"; exit 1; }
}

for attempt in 1 2 3 4 5; do
  pick_port
  start_server && break
  wait "$server_pid" 2>/dev/null || true
  [ "$attempt" -lt 5 ] || { echo "no free port found"; cat "$work/server.err"; exit 1; }
done
"$client" 127.0.0.1 "$port" story "survive restarts" $mode > "$work/client.out" 2> "$work/client.err" &
client_pid=$!
sleep 0.8
kill -TERM "$server_pid"; wait "$server_pid" || true
sleep 0.3
start_server_or_fail
# Kill the second server only once the client streams from it: its reconnect
# backoff may outlast a fixed delay (sanitizer builds, a loaded machine), and
# the hard restart must cut a stream that this server holds.
for _ in $(seq 200); do
  after=$(sed -n '/--- restart 1 ---/,$p' "$work/client.out" 2>/dev/null | tail -n +2 | wc -c)
  [ "$after" -ge 40 ] && break
  sleep 0.05
done
[ "$after" -ge 40 ] || { echo "the client did not stream from the restarted server"; cat "$work/client.err"; exit 1; }
sleep 0.2
kill -KILL "$server_pid"; wait "$server_pid" 2>/dev/null || true
sleep 0.5
start_server_or_fail
rc=0; wait "$client_pid" || rc=$?
echo "--- client stdout"; cat "$work/client.out"
echo "--- client stderr"; cat "$work/client.err"
echo "--- server stderr"; cat "$work/server.err"
[ "$rc" -eq 0 ] || { echo "the client exited with $rc"; exit 1; }
grep -q "server_shutdown" "$work/client.err"
grep -q "no longer knows the stream" "$work/client.err"
grep -q "\[finish: stop, 120 chunks" "$work/client.out"
echo "survived a graceful and a hard restart"
