"""The side-by-side comparison with the Django/Celery anchor: parsing its bench.sh and the ratios."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import versus

# The two summary lines bench.sh prints last (BENCH_SPLIT=1), as the anchor writes them.
OUTPUT = """\
== (a) GET /
WRK_RESULT label=get_landing rps=1390.20 p50_ms=40.1
SUMMARY anchor=django-celery cores=2 get_rps=1390.20 get_p50_ms=40.1 get_p99_ms=48.0 get_non2xx=0 \
post_rps=227.00 post_p50_ms=250 post_p99_ms=390.0 post_non2xx=0 persisted=2300 drain_s=3.1 \
persist_rate=154.0 drain_rate=210.5
SUMMARY_SPLIT anchor=django-celery post_noworker_rps=810.00 post_noworker_p50_ms=70 \
post_noworker_p99_ms=120 worker_only_persisted=8100 worker_only_drain_s=41.5 worker_only_rate=195.0
"""


def test_summary_lines_are_parsed_into_figures() -> None:
    figures = versus.parse_summary(OUTPUT)
    assert figures["get_rps"] == 1390.2
    assert figures["post_noworker_rps"] == 810.0
    assert figures["worker_only_rate"] == 195.0
    assert figures["persist_rate"] == 154.0
    assert "anchor" not in figures  # words that are not numbers are skipped
    assert "rps" not in figures  # WRK_RESULT lines are not summaries


def test_ratio_is_the_median_of_per_round_ratios() -> None:
    anchor = versus.parse_summary(OUTPUT)
    rounds = [
        ({"get_rps": 13_902.0, "mixed_post_p99_ms": 195.0}, anchor),  # 10.0x
        ({"get_rps": 11_121.6, "mixed_post_p99_ms": 130.0}, {**anchor, "get_rps": 1390.2 / 2}),  # 16.0x
        ({"get_rps": 6_951.0, "mixed_post_p99_ms": 390.0}, anchor),  # 5.0x
    ]
    rows = {r["figure"]: r for r in versus.compare(rounds)}
    get = rows["GET / req/s"]
    assert get["ratios"] == [10.0, 16.0, 5.0]
    assert get["ratio"] == 10.0  # the median ratio, not the ratio of the medians (8.0)
    assert get["met"] is True
    p99 = rows["POST p99 ms, workers running"]
    assert p99["ratios"] == [2.0, 3.0, 1.0]  # lower is better: anchor / leadcap
    assert p99["met"] is None  # no target
    # leadcap ran no mixed phase here: the figure is left out, not shown as zero
    assert "POST req/s, workers running" not in rows


def test_check_refuses_a_folder_without_the_anchor(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"no bench\.sh"):
        versus.check(tmp_path)
