"""Turn bench/run.sh's summary into ratios to the ceiling: each endpoint's throughput over the
mean of the ceiling runs around it (before and after), so drift on a shared machine cancels."""

from __future__ import annotations

import re
import statistics
import sys
from pathlib import Path

TARGETS = {"list": 0.20, "page50": 0.15, "detail": 0.25, "search": 0.15, "category": 0.15}
LINE = re.compile(r"^(\w+) round=(\d+) rps=([\d.]+) p50=(\S+) p99=(\S+)")


def milliseconds(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main(path: str) -> None:
    runs = []
    for line in Path(path).read_text().splitlines():
        match = LINE.match(line)
        if match:
            name, _, rps, p50, p99 = match.groups()
            runs.append((name, float(rps), milliseconds(p50), milliseconds(p99)))
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    for index, (name, rps, p50, p99) in enumerate(runs):
        if name == "ceiling":
            continue
        neighbours = [runs[i][1] for i in (index - 1, index + 1) if 0 <= i < len(runs) and runs[i][0] == "ceiling"]
        ceiling = statistics.mean(neighbours)
        rows.setdefault(name, []).append((rps, ceiling, p50, p99))
    ceilings = [rps for name, rps, _, _ in runs if name == "ceiling"]
    print(f"ceiling: median {statistics.median(ceilings):.0f} req/s over {len(ceilings)} runs")
    print(f"{'endpoint':10} {'req/s':>8} {'ceiling':>8} {'ratio':>6} {'target':>6} {'p50 ms':>7} {'p99 ms':>7}")
    for name in TARGETS:
        if name not in rows:
            continue
        rps = statistics.median(row[0] for row in rows[name])
        ceiling = statistics.median(row[1] for row in rows[name])
        ratio = statistics.median(row[0] / row[1] for row in rows[name])
        p50 = statistics.median(row[2] for row in rows[name])
        p99 = max(row[3] for row in rows[name])
        print(f"{name:10} {rps:8.0f} {ceiling:8.0f} {ratio:6.2f} {TARGETS[name]:6.2f} {p50:7.1f} {p99:7.1f}")


if __name__ == "__main__":
    main(sys.argv[1])
