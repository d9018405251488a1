"""Draw `make bench`'s figures as PNG charts: requests/s and p99 per endpoint, one bar per catalogue
size. Run by bench/growth.sh after bench/report.py's tables; or by hand:

    .venv/bin/python bench/plot.py bench/results/<time>-growth/summary.txt --out bench/results/<time>-growth
    .venv/bin/python bench/plot.py bench/charts/figures.json --out bench/charts

Input: growth.sh's summary.txt (aggregated as bench/report.py does: the median requests/s and p50
over the rounds, the worst round's p99), or a figures file this script wrote before. Output, in
--out: `requests-per-second.png`, `p99.png` and `figures.json` (the figures drawn: sizes and, per
size and endpoint, req/s, p50 and p99 in ms), overwritten. matplotlib draws through its Agg canvas
(a Figure, never pyplot): no display is needed or touched.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from matplotlib.figure import Figure

from bench.report import ENDPOINTS, PHASES, http_figures, label, parse

CHARTS = {  # file name -> (figure key, axis label, title)
    "requests-per-second.png": ("rps", "requests/s (higher is better)", "Requests per second"),
    "p99.png": ("p99_ms", "p99 latency, ms (lower is better)", "p99 latency"),
}


def figures_load(path: Path) -> dict:
    """The figures of a run: ``{"title": str, "sizes": [int], "figures": [{"size", "endpoint", "rps",
    "p50_ms", "p99_ms"}]}``, from a figures JSON file or from growth.sh's summary.txt."""
    if path.suffix == ".json":
        return json.loads(path.read_text())
    http = http_figures(parse(path))
    return {
        "title": f"make bench, {path.parent.name}",
        "sizes": sorted({size for size, _ in http}),
        "figures": [
            {"size": size, "endpoint": name, "rps": rps, "p50_ms": p50, "p99_ms": p99}
            for (size, name), (rps, p50, p99) in sorted(http.items())
        ],
    }


def chart(figures: dict, *, key: str, axis: str, title: str) -> Figure:
    """Grouped horizontal bars: one group per endpoint (in bench/report.py's order), one bar per
    catalogue size, each bar labelled with its value."""
    values = {(row["size"], row["endpoint"]): row[key] for row in figures["figures"]}
    sizes = figures["sizes"]
    names = [name for name in ENDPOINTS + PHASES if any((size, name) in values for size in sizes)]
    height = 0.8 / len(sizes)
    figure = Figure(figsize=(8, 1.0 + 0.55 * len(names) * max(len(sizes), 2) / 2), layout="constrained")
    axes = figure.subplots()
    for index, size in enumerate(sizes):
        positions = [row + (index - (len(sizes) - 1) / 2) * height for row in range(len(names))]
        bars = axes.barh(
            positions, [values.get((size, name), 0) for name in names], height=height, label=f"{label(size)} products"
        )
        axes.bar_label(bars, fmt="{:,.0f}", padding=3, fontsize=8)
    axes.set_yticks(range(len(names)), names)
    axes.invert_yaxis()  # the first endpoint on top, as in the tables
    axes.set_xlabel(axis)
    axes.margins(x=0.12)
    axes.set_title(f"{title} — {figures['title']}", fontsize=10)
    axes.legend(loc="best", fontsize=8)
    return figure


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="growth.sh's summary.txt, or a figures.json")
    parser.add_argument("--out", type=Path, required=True, help="Folder for the PNGs and figures.json")
    args = parser.parse_args(argv)
    figures = figures_load(args.source)
    if not figures["figures"]:
        parser.error(f"{args.source}: no HTTP figures to draw")
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (key, axis, title) in CHARTS.items():
        chart(figures, key=key, axis=axis, title=title).savefig(args.out / name, dpi=110)
        written.append(args.out / name)
    target = args.out / "figures.json"
    if target.resolve() != args.source.resolve():
        target.write_text(json.dumps(figures, indent=2) + "\n")
    written.append(target)
    for path in written:
        print(f"wrote {path}")
    return written


if __name__ == "__main__":
    main()
