"""What benchmarks/report.py and gateway_report.py share: reading a results
file of JSON lines ({"server", "scenario", "run", "data"}) and the median
(min–max) formatting of its figures."""
import json
import statistics


def load(path):
    return [json.loads(line) for line in open(path) if line.strip()]


def values(rows, server, scenario, fn):
    """fn(data) of every run of server in scenario; runs it cannot read are left out."""
    out = []
    for r in rows:
        if r["server"] == server and r["scenario"] == scenario:
            try:
                v = fn(r["data"])
            except (KeyError, TypeError, ZeroDivisionError, IndexError):
                continue
            if v is not None:
                out.append(v)
    return out


def med(vs):
    return statistics.median(vs) if vs else None


def fmt(vs, f="{:,.0f}", scale=1.0):
    """The median, and the range when there is more than one run."""
    if not vs:
        return "n/a"
    m = med(vs) * scale
    if len(vs) == 1:
        return f.format(m)
    return f"{f.format(m)} ({f.format(min(vs) * scale)}–{f.format(max(vs) * scale)})"
