"""bench/capacity.py, the capacity model's check, in its --quick form: it must keep producing its
figures (a cost per process, a prediction, a measured rate) and keep checking that every accepted
POST reached PostgreSQL across two shards and three web processes. Not the 20 %: that needs an
idle machine and full-length windows (docs/capacity.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_quick_check_produces_the_figures_and_loses_no_post(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "capacity.py"), "--quick", "--out", str(tmp_path)],
        env={**os.environ, "TMPDIR": str(tmp_path)},  # its work folder (logs, the tree's copy) too
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [result] = [json.loads(p.read_text()) for p in tmp_path.glob("capacity-*.json")]
    [one] = result["rounds"]
    for window in ("cal_1_shard", "cal_shards", "check"):
        w = one[window]
        assert w["accepted"] > 0 and w["wrk"]["non_2xx"] == 0
        assert w["written"] >= w["accepted"]  # every 202 has its row in PostgreSQL
        assert all(w["by_role"][role] > 0 for role in ("web", "redis", "worker", "postgres", "mongo", "wrk"))
    check = one["check"]
    assert sorted(k for k in check["cost_us"] if k.startswith("web-")) == ["web-0", "web-1", "web-2"]
    assert check["every_web_carried_part"]  # wrk's threads reached every web process
    assert len(check["queued_per_shard"]) == 2 and all(check["queued_per_shard"])  # both shards carried part
    assert one["predicted"]["post_per_s"] > 0 and one["ratio"] > 0
    verdict = result["verdict"]
    assert verdict["every_accepted_written"] and verdict["every_shard_carried_part"]
