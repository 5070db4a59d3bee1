"""A campaign's page as HTML (web/landing.py, with_slug) and where its code step lands
(web/routes/verify.py, form_home): pure functions, no server."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadcap import settings, slugs
from web import campaign, page
from web.app import create_app
from web.landing import with_slug
from web.routes.verify import form_home

ID = "0193a5a0-0000-7000-8000-000000000000"


def test_every_form_to_the_intake_posts_the_slug() -> None:
    copy = campaign.load(None).copy("fa")
    for body in (page.render(copy), page.render(copy, verify_id=ID), page.render(copy, error="x")):
        html = with_slug(body.encode(), "spring").decode()
        forms = html.count('action="/api/leads/')
        assert forms >= 1 and html.count('<input type="hidden" name="campaign" value="spring">') == forms
        assert html.count('data-campaign="spring"') == 1
    assert 'name="campaign"' not in page.render(copy)  # the default page names none


@pytest.mark.parametrize(
    ("fields", "home"),
    [
        ({"campaign": "spring"}, "/spring/"),
        ({"campaign": "default"}, "/"),
        ({}, "/"),
        ({"campaign": "//evil.example"}, "/"),
        ({"campaign": "../admin"}, "/"),
        ({"campaign": ["spring"]}, "/"),
        ({"campaign": "a" * 41}, "/"),
    ],
)
def test_code_step_lands_on_its_campaign_only(fields: dict[str, object], home: str) -> None:
    assert form_home(fields) == home


def test_no_campaign_can_shadow_a_route(tmp_path: Path) -> None:
    """Every first path segment the app routes (with every optional route on) is a reserved slug,
    or no slug at all; nginx's own locations are listed in leadcap/slugs.py's docstring."""
    env = {"LEADCAP_ENV": "development", "LEADCAP_ASSETS_DIR": str(tmp_path), "LEADCAP_VERIFY": "sms"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        app = create_app(settings.load())
    firsts = {route.path.strip("/").split("/")[0].split(".")[0] for route in app.router.routes}
    routed = {first for first in firsts if first and slugs.well_formed(first)}
    assert routed and routed <= slugs.RESERVED, routed - slugs.RESERVED
    for edge in ("assets", "well-known", "edge-health", "acme-challenge", "metrics"):
        assert edge in slugs.RESERVED
