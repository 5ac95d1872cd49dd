#!/usr/bin/env bash
# Runs the walk-through of README.md: replay upstream, liveai-server pointed at
# it, curl -N through the server. Ports are picked free ones.
set -euo pipefail
replay=$1
server=$2
dir=$3
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
upstream_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$replay" "$dir/recorded_stream.http" "$upstream_port" 5 > "$work/replay.log" &
sed "s|http://127.0.0.1:8000/v1|http://127.0.0.1:$upstream_port/v1|" "$dir/liveai.toml" > "$work/liveai.toml"
"$server" --config "$work/liveai.toml" --port 0 > "$work/server.out" 2> "$work/server.log" &
for _ in $(seq 100); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$work/server.out")
out=$(curl -sN --max-time 10 "http://127.0.0.1:$port/api/stream/ai-block/local?prompt=hello")
echo "$out"
grep -q '"text":"Local"' <<<"$out"
grep -q '"text":" says hi"' <<<"$out"
grep -q 'event: complete' <<<"$out"
grep -q 'POST /v1/chat/completions' "$work/replay.log"
echo "openai_compatible: 1 passed, 0 failed"
