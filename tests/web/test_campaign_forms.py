"""A campaign's page as HTML (web/landing.py, with_slug) and where its code step lands
(web/routes/verify.py, form_home): pure functions, no server."""

from __future__ import annotations

import pytest

from web import campaign, page
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
