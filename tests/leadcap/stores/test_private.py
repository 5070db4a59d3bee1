"""Each store keeps its driver object private: a slice is handed the pool (or client) by its store,
and nothing reaches into another object's `_pool` or `_client`."""

from __future__ import annotations

import re

from tests.servers import ROOT

# `<name>._pool` or `<name>._client` where <name> is not `self`: reaching into another object.
REACHING_IN = re.compile(r"\b(?!self\b)\w+\._(pool|client)\b")


def test_no_code_reaches_into_a_stores_pool_or_client() -> None:
    places = [
        f"{path.relative_to(ROOT)}:{number}"
        for root in ("leadcap", "web", "cli")
        for path in sorted((ROOT / root).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if REACHING_IN.search(line)
    ]
    assert places == []
