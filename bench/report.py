"""Turn bench/growth.sh's summary into the Markdown tables of bench/README.md: each endpoint at
every size, and its growth from the smallest size to the largest.

    .venv/bin/python bench/report.py bench/results/<time>-growth/summary.txt

Growth is the larger catalogue's cost over the smaller one's: requests/s of the small over
requests/s of the large (the server's cost per request), the same for p50, and for the
in-process time of bench/queries.py. The first page, the category filter and the search should
stay within 2x (issue 7).
"""

from __future__ import annotations

import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path

FIELD = re.compile(r"([\w+-]+)=(\S+)")
ENDPOINTS = ("list", "category", "search", "page500", "detail")
PHASES = ("add-to-cart", "checkout+pay")
WITHIN_2X = {"list", "category", "search"}


def milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse(path: Path) -> dict[str, list[dict[str, str]]]:
    records: dict[str, list[dict[str, str]]] = defaultdict(list)
    for line in path.read_text().splitlines():
        kind, _, rest = line.partition(" ")
        records[kind].append(dict(FIELD.findall(rest)))
    return records


def label(size: int) -> str:
    return f"{size // 1_000_000}M" if size % 1_000_000 == 0 else f"{size // 1000}k" if size % 1000 == 0 else str(size)


def ratio(small: float, large: float) -> str:
    return f"{large / small:.2f}x" if small else "-"


def http_figures(records: dict[str, list[dict[str, str]]]) -> dict[tuple[int, str], tuple[float, float, float]]:
    """(size, endpoint or checkout phase) -> (requests/s, p50 ms, p99 ms) served over HTTP: the
    median over the rounds of requests/s and p50, the worst round's p99 (also bench/plot.py's)."""
    sizes = sorted({int(record["size"]) for record in records["wrk"]})
    http: dict[tuple[int, str], tuple[float, float, float]] = {}
    for size in sizes:
        for name in ENDPOINTS + PHASES:
            if name in PHASES:
                runs = [r for r in records["checkout"] if r.get("size") == str(size) and r.get("phase") == name]
            else:
                runs = [r for r in records["wrk"] if r["size"] == str(size) and r["endpoint"] == name]
            if runs:
                http[size, name] = (
                    statistics.median(float(r["rps"]) for r in runs),
                    statistics.median(milliseconds(r["p50"]) for r in runs),
                    max(milliseconds(r["p99"]) for r in runs),
                )
    return http


def main(path: str) -> None:
    records = parse(Path(path))
    sizes = sorted({int(record["size"]) for record in records["wrk"]})
    small, large = sizes[0], sizes[-1]
    http = http_figures(records)
    errors = [r for r in records["wrk"] if r["non2xx"] != "0"]
    queries = {(int(r["size"]), r["endpoint"]): r for r in records["queries"]}
    data = {(int(r["size"]), r["endpoint"]): r for r in records["data"]}

    head = " | ".join(f"{label(size)} req/s | p50 ms | p99 ms" for size in sizes)
    print(f"| endpoint | {head} | cost growth (req/s) | p50 growth |")
    print("|---|" + "---:|" * (3 * len(sizes) + 2))
    for name in ENDPOINTS + PHASES:
        if (small, name) not in http or (large, name) not in http:
            continue
        cells = " | ".join("{:,.0f} | {:.0f} | {:.0f}".format(*http[size, name]) for size in sizes)
        cost = ratio(http[large, name][0], http[small, name][0])
        latency = ratio(http[small, name][1], http[large, name][1])
        mark = " (≤ 2x)" if name in WITHIN_2X else ""
        print(f"| {name}{mark} | {cells} | {cost} | {latency} |")
    print()
    head = " | ".join(f"{label(size)} SQL | ms | db ms" for size in sizes)
    print(f"| endpoint, one request at a time | {head} | time growth |")
    print("|---|" + "---:|" * (3 * len(sizes) + 1))
    for name in ENDPOINTS + PHASES:
        if (small, name) not in queries or (large, name) not in queries:
            continue
        cells = " | ".join(
            "{statements} | {ms} | {db_ms}".format(**queries[size, name]) for size in sizes if (size, name) in queries
        )
        growth = ratio(float(queries[small, name]["ms"]), float(queries[large, name]["ms"]))
        print(f"| {name} | {cells} | {growth} |")
    print()
    for size in sizes:
        facts = [
            f"{name} `{data[size, name]['path']}` count={data[size, name]['count']}"
            for name in ENDPOINTS
            if (size, name) in data
        ]
        for record in records["matches"]:
            if record["size"] == str(size):
                facts.append(f"the search matches {int(record['count']):,} products ({record['share']})")
        print(f"- {label(size)}: " + "; ".join(facts))
    for record in records["checkout"]:
        if "oversold" in record:
            print(
                f"- {label(int(record['size']))} scarce product: stock {record['scarce_stock']} -> {record['left']}, "
                f"sold {record['sold']}, oversold: {record['oversold']}"
            )
    if errors:
        print(
            f"- non-2xx answers in {len(errors)} wrk runs: "
            + ", ".join(f"{r['size']} {r['endpoint']} {r['non2xx']}" for r in errors)
        )


if __name__ == "__main__":
    main(sys.argv[1])
