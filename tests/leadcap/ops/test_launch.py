"""What `leadcap init` writes, as rules: each answer read or refused, the campaign filled in,
the .env holding every generated secret the declarations name."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from leadcap import settings
from leadcap.errors import UsageError
from leadcap.ops import launch
from leadcap.ops.launch import BusinessPhone, Opening
from leadcap.settings import read_env_file
from tests.servers import ROOT
from web import campaign

TEMPLATE = json.loads(campaign.DEFAULT_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("text", "tel", "display"),
    [
        ("021 9100 1234", "+982191001234", "021 9100 1234"),
        ("۰۲۱-۹۱۰۰-۱۲۳۴", "+982191001234", "021 9100 1234"),  # Persian digits, dashes
        ("+98 912 345 6789", "+989123456789", "0912 345 6789"),  # a mobile is a business phone too
        ("(031) 3222 1234", "+983132221234", "031 3222 1234"),
    ],
)
def test_phone_reads_an_iranian_number(text: str, tel: str, display: str) -> None:
    assert launch.read_phone(text) == BusinessPhone(tel, display)


def test_hours_read_days_ranges_lists_and_persian_digits() -> None:
    assert launch.DAYS == campaign.DAYS  # the names the campaign file and serve use
    read = launch.read_hours("sat-wed 9:00-17:00؛ thu,fri ۰۹:۳۰ - ۱۳:۰۰")
    assert read == (
        Opening(("sat", "sun", "mon", "tue", "wed"), "09:00", "17:00"),
        Opening(("thu", "fri"), "09:30", "13:00"),
    )
    assert launch.show_hours(read) == "sat-wed 09:00-17:00; thu,fri 09:30-13:00"
    assert launch.read_hours(launch.show_hours(read)) == read


@pytest.mark.parametrize(
    ("text", "host"),
    [("Acme.IR", "acme.ir"), ("shop.acme.ir.", "shop.acme.ir"), ("ایران.ir", "xn--mgba3a4f16a.ir")],
)
def test_domain_is_a_host_name(text: str, host: str) -> None:
    assert launch.read_domain(text) == host


def test_privacy_url_keeps_its_query() -> None:
    assert launch.read_privacy_url(" https://acme.ir/privacy?lang=fa ") == "https://acme.ir/privacy?lang=fa"


# Each reader with answers it refuses: a phone that is not Iranian, hours the page could not say,
# a domain that is not a host name, a privacy page not on https at a host name.
REFUSED: list[tuple[Callable[[str], object], str, list[str]]] = [
    (
        launch.read_phone,
        "--phone",
        ["", "12345", "+1 212 555 0100", "021 9100 1234 ext 5", "tel:+982191001234", "۰" * 40],
    ),
    (
        launch.read_hours,
        "--hours",
        [
            "",
            "weekdays 09:00-17:00",
            "wed-sat 09:00-17:00",  # a range runs forward through the week
            "sat,sat 09:00-17:00",
            "sat 17:00-09:00",
            "sat 09:00-09:00",
            "sat 24:00-25:00",
            "sat 09:00",
        ],
    ),
    (
        launch.read_domain,
        "--domain",
        [
            "",
            "https://acme.ir",
            "acme.ir/page",
            "acme..ir",
            "-acme.ir",
            "10.0.0.1",
            "a" * 64 + ".ir",
            "ac me.ir",
        ],
    ),
    (
        launch.read_privacy_url,
        "--privacy-url",
        [
            "http://acme.ir/privacy",
            "javascript:alert(1)",
            "/privacy",
            "https://",
            "https://user@acme.ir/privacy",
            "https://10.0.0.1/privacy",
            "https://acme.ir/pri vacy",
            "https://acme.ir:99999/",
        ],
    ),
]


@pytest.mark.parametrize(
    ("read", "option", "text"), [(read, option, text) for read, option, texts in REFUSED for text in texts]
)
def test_an_answer_that_is_not_one_is_refused_naming_its_option(
    read: Callable[[str], object], option: str, text: str
) -> None:
    with pytest.raises(UsageError) as refused:
        read(text)
    assert refused.value.option == option


@pytest.mark.parametrize(
    ("read", "option"), [(launch.read_brand, "--brand"), (launch.read_address, "--address")]
)
def test_text_answers_are_one_clean_line(read: object, option: str) -> None:
    assert read("  آکمه \n  پارس ") == "آکمه پارس"  # type: ignore[operator]
    for bad in ("", "   ", "a\x00b", "x" * (launch.MAX_TEXT + 1)):
        with pytest.raises(UsageError) as refused:
            read(bad)  # type: ignore[operator]
        assert refused.value.option == option


def answers(**changes: object) -> launch.Answers:
    base = launch.Answers(
        locale="fa",
        brand="آکمه",
        phone=BusinessPhone("+982188776655", "021 8877 6655"),
        address="تهران، پلاک ۷",
        hours=(Opening(("sat", "sun"), "08:00", "16:00"),),
        domain="acme.ir",
        privacy_url="https://acme.ir/privacy",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_the_campaign_is_the_template_with_the_answers_and_serve_accepts_it() -> None:
    document = launch.campaign_document(answers(), TEMPLATE)
    parsed = campaign.parse(document)
    for lang in ("fa", "en"):
        copy = parsed.copy(lang)
        assert (copy.brand, copy.company, copy.address) == ("آکمه", "آکمه", "تهران، پلاک ۷")
        assert copy.phone_tel == "+982188776655" and copy.privacy_url == "https://acme.ir/privacy"
    assert document["locales"]["en"]["headline"] == TEMPLATE["locales"]["en"]["headline"]
    assert document["hours"] == [{"days": ["sat", "sun"], "open": "08:00", "close": "16:00"}]
    assert TEMPLATE["locales"]["fa"]["brand"] == "رایان مشاور"  # the template is left as it was


def test_defaults_follow_the_locale_and_the_domain() -> None:
    assert launch.default("locale", TEMPLATE, {}) == "fa"
    assert launch.default("brand", TEMPLATE, {"locale": "en"}) == TEMPLATE["locales"]["en"]["brand"]
    assert launch.default("privacy_url", TEMPLATE, {"domain": "acme.ir"}) == "https://acme.ir/privacy"
    assert launch.default("privacy_url", TEMPLATE, {"domain": "localhost"}) == TEMPLATE["privacy_url"]
    for question in launch.QUESTIONS:  # every default reads as an answer
        question.read(launch.default(question.key, TEMPLATE, {}))


def test_generated_secrets_are_the_flagged_settings_and_the_compose_passwords() -> None:
    flagged = [settings.PREFIX + d.env for d in settings.declarations().values() if d.generated]
    assert "LEADCAP_VERIFY_KEY" in flagged
    assert list(settings.GENERATED) == [*flagged, *settings.COMPOSE_SECRETS]
    stores = read_env_file(ROOT / ".env.docker.stores")  # every password a compose store is given
    assert sorted(settings.COMPOSE_SECRETS) == sorted(name for name in stores if "PASSWORD" in name)


def test_only_a_secret_can_be_generated() -> None:
    with pytest.raises(TypeError):
        settings.setting(
            None, "VISIBLE", lambda r, n, d: d, "shown in clear", group=settings.WEB, generated=True
        )


def test_the_env_holds_every_generated_secret_and_the_settings_accept_it(tmp_path: Path) -> None:
    generated = launch.new_secrets()
    assert set(generated) == set(settings.GENERATED) and len(set(generated.values())) == len(generated)
    text = launch.env_text(answers(locale="en"), generated, campaign_file=str(campaign.DEFAULT_FILE))
    env = tmp_path / ".env"
    env.write_text(text)
    assert read_env_file(env) == {
        "LEADCAP_CAMPAIGN_FILE": str(campaign.DEFAULT_FILE),
        "LEADCAP_LOCALE": "en",
        **generated,
    }
    loaded = settings.load(environ={}, env_file=env)
    assert loaded.verify_key == generated["LEADCAP_VERIFY_KEY"] and loaded.locale == "en"
