#!/usr/bin/env python3
"""Turns benchmarks/gateway.sh's gateway.jsonl into a markdown section: every
figure is the median of the runs (min-max), each goal a ratio of two figures
from the same runs.

usage: gateway_report.py GATEWAY_JSONL"""
import sys

import report_common

rows = report_common.load(sys.argv[1])
LABEL = {"direct": "straight from the upstream", "liveai": "liveai (openai block)",
         "go-proxy": "Go httputil.ReverseProxy, FlushInterval -1"}
SERVERS = [s for s in ["direct", "liveai", "go-proxy"] if any(r["server"] == s for r in rows)]


def values(server, scenario, fn):
    return report_common.values(rows, server, scenario, fn)


med = report_common.med


def fmt(vs, f="{:,.2f}"):
    return report_common.fmt(vs, f)


def cpu_per_chunk(d):
    return d["server_cpu_s"] * 1e6 / d["chunks"] if d["chunks"] else None


def lateness_p99(d):
    return d["gap_ms"][2] - 20.0


runs = max((r["run"] for r in rows), default=0)
print(f"## Gateway: streams from a fake OpenAI upstream ({runs} runs each, median (min–max))\n")
print("The upstream (`raw_server --openai`) sends OpenAI's chat-completions chunks, one write each; "
      "`direct` reads it without a proxy (its CPU is the upstream's own). CPU is the proxy's process only.\n")
print("### G1 burst: 256 deltas of 4–8 bytes as fast as possible, 64 connections\n")
print("| path | chunks/s | CPU µs per chunk | streams failed |")
print("|---|---|---|---|")
for s in SERVERS:
    print(f"| {LABEL[s]} | {fmt(values(s, 'G1', lambda d: d['chunks'] / d['elapsed']), '{:,.0f}')} | "
          f"{fmt(values(s, 'G1', cpu_per_chunk))} | {fmt(values(s, 'G1', lambda d: d['streams_failed']), '{:,.0f}')} |")
for scenario, n in [("G2", 100), ("G3", 1000)]:
    print(f"\n### {scenario} paced: {n} streams opening at once, 64 deltas 20 ms apart\n")
    print("| path | streams done | TTFC p50 / p99 ms | added TTFC p50 / p99 ms (vs direct) | lateness p99 ms | CPU µs per chunk |")
    print("|---|---|---|---|---|---|")
    base50 = med(values("direct", scenario, lambda d: d["ttfc_ms"][0]))
    base99 = med(values("direct", scenario, lambda d: d["ttfc_ms"][2]))
    for s in SERVERS:
        t50 = values(s, scenario, lambda d: d["ttfc_ms"][0])
        t99 = values(s, scenario, lambda d: d["ttfc_ms"][2])
        added = "—" if s == "direct" or base50 is None else f"{med(t50) - base50:+.2f} / {med(t99) - base99:+.2f}"
        print(f"| {LABEL[s]} | {fmt(values(s, scenario, lambda d: d['streams_done']), '{:,.0f}')} | "
              f"{fmt(t50)} / {fmt(t99)} | {added} | {fmt(values(s, scenario, lateness_p99))} | "
              f"{fmt(values(s, scenario, cpu_per_chunk))} |")

print("\n### Goals (ratios of medians from these runs)\n")


def goal(ok, text):
    print(f"- {'met' if ok else 'NOT met'}: {text}")


lv = med(values("liveai", "G1", cpu_per_chunk))
go = med(values("go-proxy", "G1", cpu_per_chunk))
if lv and go:
    goal(lv <= go, f"G1 CPU per chunk at most the Go proxy's: liveai {lv:.2f} µs, Go {go:.2f} µs, ratio {lv / go:.2f}")
for scenario in ["G2", "G3"]:
    d50 = med(values("direct", scenario, lambda d: d["ttfc_ms"][0]))
    l50 = med(values("liveai", scenario, lambda d: d["ttfc_ms"][0]))
    g50 = med(values("go-proxy", scenario, lambda d: d["ttfc_ms"][0]))
    if None not in (d50, l50, g50):
        goal(l50 - d50 < g50 - d50, f"{scenario} added TTFC (p50) below the Go proxy's: liveai {l50 - d50:+.2f} ms, Go {g50 - d50:+.2f} ms")
    dl = med(values("direct", scenario, lateness_p99))
    ll = med(values("liveai", scenario, lateness_p99))
    if None not in (dl, ll):
        goal(ll - dl <= 2.0, f"{scenario} lateness p99 within 2 ms of direct: liveai {ll:.2f} ms, direct {dl:.2f} ms ({ll - dl:+.2f})")
