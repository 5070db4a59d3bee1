"""Facts the page (TypeScript) repeats from the server: each is declared once per language, and
this test holds the two declarations together, so a change to one fails until the other follows."""

from __future__ import annotations

import ast
import re

from leadcap.submission import UTM_KEYS
from tests.servers import ROOT


def test_the_page_sends_the_utm_keys_the_server_reads() -> None:
    source = (ROOT / "web" / "ui" / "src" / "api.ts").read_text(encoding="utf-8")
    declared = re.search(r"export const UTM_KEYS = (\[[^\]]*\]) as const;", source)
    assert declared, "web/ui/src/api.ts no longer declares UTM_KEYS"
    assert tuple(ast.literal_eval(declared.group(1))) == UTM_KEYS
