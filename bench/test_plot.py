import json

import pytest

from bench import plot

PNG = b"\x89PNG\r\n\x1a\n"

# growth.sh's summary.txt, cut down: two sizes, two endpoints, two rounds, and a checkout phase.
SUMMARY = """\
data size=10000 endpoint=list path=/api/v1/products/ count=9505 bytes=7502
wrk size=10000 endpoint=list round=1 rps=300.50 p50=40.00ms p99=80.00ms non2xx=0
wrk size=1000000 endpoint=list round=1 rps=500.00 p50=30.00ms p99=50.00ms non2xx=0
wrk size=10000 endpoint=search round=1 rps=280.00 p50=56.00ms p99=93.00ms non2xx=0
wrk size=1000000 endpoint=search round=1 rps=170.00 p50=90.00ms p99=1.20s non2xx=0
wrk size=10000 endpoint=list round=2 rps=400.50 p50=46.00ms p99=90.00ms non2xx=0
wrk size=1000000 endpoint=list round=2 rps=510.00 p50=32.00ms p99=55.00ms non2xx=0
wrk size=10000 endpoint=search round=2 rps=290.00 p50=54.00ms p99=95.00ms non2xx=0
wrk size=1000000 endpoint=search round=2 rps=176.00 p50=94.00ms p99=150.00ms non2xx=0
checkout size=10000 phase=checkout+pay rps=28.0 p50=518.0ms p99=684.0ms ok=280 refused=3 statuses=409:3
checkout size=10000 scarce_stock=40 left=0 sold=40 oversold=False
load average: 1.00 1.10 1.20
"""


@pytest.fixture
def summary(tmp_path):
    path = tmp_path / "20261130T181205Z-growth" / "summary.txt"
    path.parent.mkdir()
    path.write_text(SUMMARY)
    return path


def test_plot_draws_non_empty_pngs_and_the_figures_from_a_growth_summary(summary, tmp_path):
    out = tmp_path / "charts"

    written = plot.main([str(summary), "--out", str(out)])

    assert sorted(path.name for path in written) == ["figures.json", "p99.png", "requests-per-second.png"]
    for name in ("requests-per-second.png", "p99.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG)
        assert len(data) > 10_000  # axes, bars and labels drawn, not an empty canvas
    figures = json.loads((out / "figures.json").read_text())
    assert figures["sizes"] == [10000, 1000000]
    assert figures["title"] == "make bench, 20261130T181205Z-growth"
    rows = {(row["size"], row["endpoint"]): row for row in figures["figures"]}
    # As bench/report.py aggregates: the median req/s and p50 over the rounds, the worst p99.
    assert rows[10000, "list"] == {"size": 10000, "endpoint": "list", "rps": 350.5, "p50_ms": 43.0, "p99_ms": 90.0}
    assert rows[1000000, "search"]["p99_ms"] == 1200.0
    assert rows[10000, "checkout+pay"]["rps"] == 28.0
    assert (1000000, "checkout+pay") not in rows  # not measured on that size: no bar, no invented figure
    assert len(rows) == 5


def test_plot_redraws_from_its_own_figures_file_without_rewriting_it(summary, tmp_path):
    out = tmp_path / "charts"
    plot.main([str(summary), "--out", str(out)])
    figures = out / "figures.json"
    before = figures.read_text()
    (out / "p99.png").unlink()

    plot.main([str(figures), "--out", str(out)])

    assert (out / "p99.png").read_bytes().startswith(PNG)
    assert figures.read_text() == before


def test_plot_refuses_a_summary_without_http_figures(tmp_path, capsys):
    empty = tmp_path / "summary.txt"
    empty.write_text("load average: 1.00 1.10 1.20\n")

    with pytest.raises(SystemExit) as exited:
        plot.main([str(empty), "--out", str(tmp_path / "charts")])

    assert exited.value.code == 2
    assert "no HTTP figures to draw" in capsys.readouterr().err
    assert not (tmp_path / "charts").exists()
