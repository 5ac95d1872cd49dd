#!/usr/bin/env python3
"""Turns benchmarks/run.sh's results.jsonl into RESULTS.md (stdout) and PNG plots.

usage: report.py RESULTS_JSONL BENCH_DIR"""
import csv
import datetime
import glob
import os
import platform
import re
import subprocess
import sys

import matplotlib

import report_common

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

results_path, bench_dir = sys.argv[1], sys.argv[2]
rows = report_common.load(results_path)
SERVERS = ["liveai", "fastapi", "node", "go", "raw", "raw-joined"]
LABEL = {"liveai": "liveai", "fastapi": "FastAPI+uvicorn", "node": "Node http", "go": "Go net/http",
         "raw": "raw C, 1 write/event", "raw-joined": "raw C, joined writes"}


def values(server, scenario, fn):
    return report_common.values(rows, server, scenario, fn)


med = report_common.med
fmt = report_common.fmt


def events_per_cpu(d):
    return d["events"] / d["server_cpu_s"] if d["server_cpu_s"] > 0 else None


present = [s for s in SERVERS if any(r["server"] == s for r in rows)]
runs = max((r["run"] for r in rows), default=0)
cpu = "unknown"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass

print("# liveai benchmark results\n")
print(f"Date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC. Machine: {os.cpu_count()} cores ({cpu}), "
      f"{platform.system()} {platform.release()}. Load generator and server share the two cores; the "
      f"server's CPU seconds and RSS are read from /proc/<pid>. Each cell: median of {runs} runs "
      f"(min–max). Made by `benchmarks/run.sh`.\n")

# The gateway scenarios (benchmarks/gateway.sh writes gateway.md next to
# results.jsonl), when they were run.
gateway = os.path.join(bench_dir, "gateway.md")
if os.path.exists(gateway):
    print(open(gateway).read().rstrip() + "\n")
    print(f"Command: `benchmarks/gateway.sh` ({datetime.datetime.utcfromtimestamp(os.path.getmtime(gateway)):%Y-%m-%d %H:%M} UTC).\n")

print("## S1 burst: `bench-burst`, 64 keep-alive connections\n")
print("| server | events/s | events per server CPU-second | streams failed |")
print("|---|---|---|---|")
for s in present:
    print(f"| {LABEL[s]} | {fmt(values(s, 'S1', lambda d: d['events_per_s']))} | "
          f"{fmt(values(s, 'S1', events_per_cpu))} | {sum(values(s, 'S1', lambda d: d['streams_failed']))} |")
for s in ["liveai"]:
    ws = values(s, "S1-ws", lambda d: d["events_per_s"])
    if ws:
        print(f"| liveai, WebSocket | {fmt(ws)} | {fmt(values(s, 'S1-ws', events_per_cpu))} | "
              f"{sum(values(s, 'S1-ws', lambda d: d['streams_failed']))} |")

print("\n## S2 paced: 1000 simultaneous `bench-paced` streams (64 chunks, 20 ms apart)\n")
print("| server | streams done | TTFC p50 / p99 ms | lateness p50 / p99 ms | peak RSS MiB | RSS per stream KiB |")
print("|---|---|---|---|---|---|")


def paced_row(label, server, scenario, streams):
    done = values(server, scenario, lambda d: d["streams_done"])
    if not done:
        return
    t50 = values(server, scenario, lambda d: d["ttfc_ms"][0])
    t99 = values(server, scenario, lambda d: d["ttfc_ms"][2])
    l50 = values(server, scenario, lambda d: d["gap_ms"][0] - 20)
    l99 = values(server, scenario, lambda d: d["gap_ms"][2] - 20)
    rss = values(server, scenario, lambda d: d["rss_peak_kib"] / 1024)
    per = values(server, scenario, lambda d: (d["rss_peak_kib"] - d["rss_before_kib"]) / streams)
    print(f"| {label} | {fmt(done)} / {streams} | {fmt(t50, '{:.2f}')} / {fmt(t99, '{:.2f}')} | "
          f"{fmt(l50, '{:.2f}')} / {fmt(l99, '{:.2f}')} | {fmt(rss, '{:.1f}')} | {fmt(per, '{:.1f}')} |")


for s in present:
    paced_row(LABEL[s], s, "S2", 1000)
paced_row("liveai, WebSocket", "liveai", "S2-ws", 1000)

print("\n## S3 scale: 10 000 simultaneous `bench-paced` streams (30 s limit)\n")
print("| server | streams done | wall s | TTFC p99 ms | gap p99 ms | peak RSS MiB | RSS per stream KiB |")
print("|---|---|---|---|---|---|---|")
for s in present:
    done = values(s, "S3", lambda d: d["streams_done"])
    if not done:
        continue
    print(f"| {LABEL[s]} | {fmt(done)} / 10000 | {fmt(values(s, 'S3', lambda d: d['elapsed']), '{:.1f}')} | "
          f"{fmt(values(s, 'S3', lambda d: d['ttfc_ms'][2]), '{:.0f}')} | {fmt(values(s, 'S3', lambda d: d['gap_ms'][2]), '{:.0f}')} | "
          f"{fmt(values(s, 'S3', lambda d: d['rss_peak_kib'] / 1024), '{:.1f}')} | "
          f"{fmt(values(s, 'S3', lambda d: (d['rss_peak_kib'] - d['rss_before_kib']) / 10000), '{:.1f}')} |")

print("\n## S4 cancellation (liveai): client closes, time until the provider is cancelled\n")
print("Measured by the load generator: close the socket, then poll `/metrics` on a second connection "
      "until `liveai_provider_cancellations_total` moves (so it includes one metrics round trip); "
      "200 closes per run: before the first chunk of `bench-slow` (2 s away), and after the first "
      "chunk of `bench-paced` (while the provider waits 20 ms for the next).\n")
print("| closes | p50 ms | p90 ms | p99 ms | max ms |")
print("|---|---|---|---|---|")
for k, what in [("0", "before the first chunk"), ("1", "after 1 chunk")]:
    c = values("liveai", f"S4-k{k}", lambda d: d["cancel_ms"])
    if c:
        print(f"| {what} | " + " | ".join(fmt([x[i] for x in c], "{:.3f}") for i in range(4)) + " |")

print("\n## S5 collect: `POST /api/ai-block/bench-burst`, 64 keep-alive connections\n")
print("| server | requests/s | server CPU µs per request | latency p50 / p99 ms |")
print("|---|---|---|---|")
for s in present:
    rps = values(s, "S5", lambda d: d["events_per_s"])
    if not rps:
        continue
    print(f"| {LABEL[s]} | {fmt(rps)} | {fmt(values(s, 'S5', lambda d: d['server_cpu_s'] / d['events'] * 1e6), '{:.1f}')} | "
          f"{fmt(values(s, 'S5', lambda d: d['ttfc_ms'][0]), '{:.2f}')} / {fmt(values(s, 'S5', lambda d: d['ttfc_ms'][2]), '{:.2f}')} |")

print("\n## Ratios (medians)\n")
print("| liveai ÷ | S1 events/s | S1 events per CPU-s | S2 lateness p99 | S5 requests/s |")
print("|---|---|---|---|---|")


def ratio(a, b, inverse=False):
    if a is None or b is None or a == 0 or b == 0:
        return "n/a"
    return f"{(b / a if inverse else a / b):.2f}×"


l_s1 = med(values("liveai", "S1", lambda d: d["events_per_s"]))
l_cpu = med(values("liveai", "S1", events_per_cpu))
l_lat = med(values("liveai", "S2", lambda d: max(d["gap_ms"][2] - 20, 0.001)))
l_s5 = med(values("liveai", "S5", lambda d: d["events_per_s"]))
for s in present:
    if s == "liveai":
        continue
    print(f"| {LABEL[s]} | {ratio(l_s1, med(values(s, 'S1', lambda d: d['events_per_s'])))} | "
          f"{ratio(l_cpu, med(values(s, 'S1', events_per_cpu)))} | "
          f"{ratio(l_lat, med(values(s, 'S2', lambda d: max(d['gap_ms'][2] - 20, 0.001))), inverse=True)} (lower is better, shown as peer÷liveai) | "
          f"{ratio(l_s5, med(values(s, 'S5', lambda d: d['events_per_s'])))} |")

# Goals of issue 6.
print("\n## Goals\n")


def goal(text, ok):
    print(f"- {'met' if ok else 'NOT met'}: {text}")


f_cpu = med(values("fastapi", "S1", events_per_cpu))
g_cpu = med(values("go", "S1", events_per_cpu))
raw_s1 = med(values("raw", "S1", lambda d: d["events_per_s"]))
if l_cpu and f_cpu:
    goal(f"S1 ≥ 10× FastAPI per server CPU-second: {l_cpu / f_cpu:.1f}×", l_cpu >= 10 * f_cpu)
if l_cpu and g_cpu:
    goal(f"S1 ≥ 1.5× Go per server CPU-second: {l_cpu / g_cpu:.1f}×", l_cpu >= 1.5 * g_cpu)
if l_s1 and raw_s1:
    goal(f"S1 ≥ 60 % of the raw-socket limit (one write per event): {100 * l_s1 / raw_s1:.0f} %", l_s1 >= 0.6 * raw_s1)
lat99 = med(values("liveai", "S2", lambda d: d["gap_ms"][2] - 20))
ttfc99 = med(values("liveai", "S2", lambda d: d["ttfc_ms"][2]))
if lat99 is not None:
    goal(f"S2 lateness p99 < 1 ms: {lat99:.2f} ms", lat99 < 1)
if ttfc99 is not None:
    goal(f"S2 time to first chunk p99 < 2 ms: {ttfc99:.2f} ms", ttfc99 < 2)
s3 = values("liveai", "S3", lambda d: d["streams_done"])
s3rss = med(values("liveai", "S3", lambda d: (d["rss_peak_kib"] - d["rss_before_kib"]) / 10000))
if s3:
    goal(f"S3 every stream completes: {min(s3)} / 10000 in the worst run", min(s3) == 10000)
if s3rss is not None:
    goal(f"S3 under 12 KiB RSS per stream: {s3rss:.1f} KiB", s3rss < 12)
c1 = values("liveai", "S4-k1", lambda d: d["cancel_ms"][2])
if c1:
    goal(f"S4 p99 < 5 ms: {med(c1):.2f} ms", med(c1) < 5)

# Goals of the architecture-and-speed issue: each figure beside its peer's
# from the same runs, and the ratio.
print("\n## Goals of the architecture and speed issue (medians of these runs; peer in the same runs)\n")


def rss_per_stream(streams):
    return lambda d: (d["rss_peak_kib"] - d["rss_before_kib"]) / streams


raw_lat = med(values("raw", "S2", lambda d: d["gap_ms"][2] - 20))
raw_ttfc = med(values("raw", "S2", lambda d: d["ttfc_ms"][2]))
if lat99 is not None:
    goal(f"S2 lateness p99 ≤ 5 ms: liveai {lat99:.2f} ms (raw C {raw_lat:.2f} ms)", lat99 <= 5)
if ttfc99 is not None:
    goal(f"S2 time to first chunk p99 ≤ 30 ms: liveai {ttfc99:.2f} ms (raw C {raw_ttfc:.2f} ms)", ttfc99 <= 30)
raw_rss = med(values("raw", "S3", rss_per_stream(10000)))
if s3rss is not None:
    goal(f"RSS per stream ≤ 8 KiB at 10 000 streams: liveai {s3rss:.1f} KiB (raw C {raw_rss:.1f} KiB), "
         f"ratio {s3rss / 8:.2f} of the goal", s3rss <= 8)
s3gap = med(values("liveai", "S3", lambda d: d["gap_ms"][2]))
raw_gap = med(values("raw", "S3", lambda d: d["gap_ms"][2]))
if s3gap is not None:
    goal(f"S3 gap p99 ≤ 100 ms: liveai {s3gap:.0f} ms (raw C {raw_gap:.0f} ms)", s3gap <= 100)
l_s5cpu = med(values("liveai", "S5", events_per_cpu))
g_s5cpu = med(values("go", "S5", events_per_cpu))
if l_s5cpu and g_s5cpu:
    goal(f"S5 collect requests per server CPU-second ≥ Go's: liveai {l_s5cpu:,.0f}, Go {g_s5cpu:,.0f}, "
         f"ratio {l_s5cpu / g_s5cpu:.2f}", l_s5cpu >= g_s5cpu)
ws_cpu = med(values("liveai", "S1-ws", events_per_cpu))
ws_s = med(values("liveai", "S1-ws", lambda d: d["events_per_s"]))
if ws_cpu and l_cpu:
    goal(f"WebSocket S1 ≥ 50 % of SSE S1 (events per server CPU-second): WebSocket {ws_cpu:,.0f}, SSE {l_cpu:,.0f}, "
         f"ratio {ws_cpu / l_cpu:.2f} (events/s: {ws_s / l_s1:.2f}, the load generator's WebSocket client is the limit)",
         ws_cpu >= 0.5 * l_cpu)

# The per-chunk JSON readers (benchmarks/chunk_json_throughput.cpp).
chunk_json = os.path.join(bench_dir, "chunk_json.txt")
if os.path.exists(chunk_json):
    print("\n## Reading an OpenAI chunk: Boost.JSON or simdjson\n")
    print("`build/release/benchmarks/chunk_json_throughput 3`, one thread, the same chunks read 3 million "
          "times each way; `openai_chunk_reader` is what the provider runs.\n")
    print("```")
    print(open(chunk_json).read().rstrip())
    print("```")

# Cross-check with wrk.
wrk = os.path.join(bench_dir, "wrk.log")
if os.path.exists(wrk):
    m = re.search(r"Requests/sec:\s*([0-9.]+)", open(wrk).read())
    if m and l_s1:
        wrk_events = float(m.group(1)) * 257
        print(f"\n## Cross-check\n\n`wrk -t1 -c64` on the same S1 URL: {float(m.group(1)):,.0f} whole streams/s = "
              f"{wrk_events:,.0f} events/s (257 events per stream), against the load generator's median "
              f"{l_s1:,.0f} events/s ({100 * l_s1 / wrk_events:.0f} %). wrk reads without parsing SSE, so it "
              f"costs the shared cores less.")

# Plots.
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
names = [s for s in present if values(s, "S1", lambda d: d["events_per_s"])]
for ax, (title, fn) in zip(axes, [("S1 events/s", lambda d: d["events_per_s"]),
                                  ("S1 events per server CPU-second", events_per_cpu)]):
    meds = [med(values(s, "S1", fn)) or 0 for s in names]
    ax.bar([LABEL[s] for s in names], meds, color=["#d62728" if s == "liveai" else "#7f7f7f" for s in names])
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=30)
    ax.ticklabel_format(axis="y", style="plain")
fig.tight_layout()
fig.savefig("benchmarks/plots/s1_throughput.png", dpi=110)

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for s in present:
    files = sorted(glob.glob(os.path.join(bench_dir, f"cdf-S2-{s}-*.csv")))
    if not files:
        continue
    with open(files[0]) as f:
        data = list(csv.DictReader(f))
    p = [float(r["percentile"]) for r in data]
    axes[0].plot([max(float(r["ttfc_ms"]), 0.001) for r in data], p, label=LABEL[s])
    axes[1].plot([max(float(r["gap_ms"]) - 20, 0.001) for r in data], p, label=LABEL[s])
for ax, title in zip(axes, ["S2 time to first chunk (ms)", "S2 lateness: gap − 20 ms (ms)"]):
    ax.set_xscale("log")
    ax.set_ylabel("percentile")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
axes[1].legend(fontsize=8)
fig.tight_layout()
fig.savefig("benchmarks/plots/s2_latency.png", dpi=110)

print("\n![S1 throughput](plots/s1_throughput.png)\n\n![S2 latency](plots/s2_latency.png)\n")
print("## Commands\n\n```sh\nRUNS=5 benchmarks/gateway.sh   # G1-G3 into build/bench/gateway.md\nbenchmarks/run.sh              # S1-S5, then this file (gateway.md included)\n# each run, e.g.:\nbuild/release/benchmarks/loadgen --port P --pid PID "
      "--block bench-burst --connections 64 --duration 10\nbuild/release/benchmarks/loadgen --port P --pid PID "
      "--block bench-paced --connections 1000 --streams 1000 --paced-ms 20\nbuild/release/benchmarks/loadgen --port P "
      "--mode cancel --block bench-slow --close-after 1 --iterations 200\n```")
