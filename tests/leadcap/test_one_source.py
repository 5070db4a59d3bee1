"""Facts written once: where a copy must exist (packaging metadata, the published API description,
the contract's wording), it is checked against the one source."""

from __future__ import annotations

import importlib.metadata
import json

from leadcap import __version__, lead, settings
from leadcap.campaign import export
from leadcap.intake import submission
from leadcap.settings import DEFAULT_REGION
from tests.servers import ROOT


def test_the_version_is_the_packages_and_the_published_api_descriptions() -> None:
    assert importlib.metadata.version("leadcap") == __version__
    spec = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert spec["info"]["version"] == __version__


def test_the_default_region_is_the_default_and_the_only_allowed_region() -> None:
    defaults = settings.parse({})
    assert (defaults.default_region, defaults.allowed_regions) == (
        DEFAULT_REGION,
        frozenset({DEFAULT_REGION}),
    )
    assert settings.Settings().default_region == DEFAULT_REGION == "IR"  # the contract's default


def test_export_columns_carry_every_utm_key_as_free_text() -> None:
    utm_columns = [c for c in export.COLUMNS if c.startswith("utm_")]
    assert utm_columns == [f"utm_{key}" for key in lead.UTM_KEYS]
    assert set(utm_columns) < export.FREE_TEXT


def test_the_body_limit_message_follows_the_limit() -> None:
    assert submission.too_large().message == "The request body is too large (at most 4 KiB)."
    assert submission.MAX_BODY == 4096
