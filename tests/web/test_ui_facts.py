"""Facts the page (TypeScript) repeats from the server: each is declared once per language, and
this test holds the two declarations together, so a change to one fails until the other follows."""

from __future__ import annotations

import ast
import re

from leadcap.lead import UTM_KEYS
from tests.servers import ROOT
from web import campaign, messages


def test_the_page_sends_the_utm_keys_the_server_reads() -> None:
    source = (ROOT / "web" / "ui" / "src" / "api.ts").read_text(encoding="utf-8")
    declared = re.search(r"export const UTM_KEYS = (\[[^\]]*\]) as const;", source)
    assert declared, "web/ui/src/api.ts no longer declares UTM_KEYS"
    assert tuple(ast.literal_eval(declared.group(1))) == UTM_KEYS


def test_the_page_names_the_days_as_the_server_does() -> None:
    source = (ROOT / "web" / "ui" / "src" / "hours.ts").read_text(encoding="utf-8")
    declared = re.search(r"fa: (\[[^\]]*\]),", source)
    assert declared, "web/ui/src/hours.ts no longer declares the Persian day names"
    assert tuple(ast.literal_eval(declared.group(1))) == campaign.DAY_NAMES["fa"]


def test_the_page_shows_the_example_number_as_the_server_does() -> None:
    """The invalid_phone sentence, checked in the browser too (it keeps its number on one line)."""
    source = (ROOT / "web" / "ui" / "src" / "copy.ts").read_text(encoding="utf-8")
    for lang in ("fa", "en"):
        sentence = messages.CATALOGUE["invalid_phone"][lang]
        shown = sentence.replace(messages.LRI, "${LRI}").replace(messages.PDI, "${PDI}")
        shown = shown.replace(messages.NBSP, "${NBSP}").replace("does not", "doesn’t")
        assert shown in source, (lang, shown)
