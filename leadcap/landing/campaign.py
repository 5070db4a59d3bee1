"""The campaign file, read at run time: every field checked, a bad one named.

This is the authority on what a campaign may say (web/ui/scripts/campaign.mjs checks the same
rules for the build's demo pages and `npm run dev`). A bad file raises ConfigError on
LEADCAP_CAMPAIGN_FILE naming the field: `serve` exits 78 on it, `flush-cache` exits 1 and
publishes nothing. Images (logo, badges) are an https:// address or a file inside
LEADCAP_ASSETS_DIR, served under ASSETS_PATH; a path that leaves that folder is refused.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from leadcap import slugs
from leadcap.errors import ConfigError
from leadcap.settings import LOCALES

VARIABLE = "LEADCAP_CAMPAIGN_FILE"
ASSETS_VARIABLE = "LEADCAP_ASSETS_DIR"
ASSETS_PATH = "/campaign-assets/"  # where web processes serve LEADCAP_ASSETS_DIR
DEFAULT_FILE = Path(__file__).resolve().parents[2] / "web" / "campaign.default.json"
DAYS = ("sat", "sun", "mon", "tue", "wed", "thu", "fri")  # the Iranian week starts on Saturday
ICONS = ("clock", "shield", "sparkles", "phone", "star", "award", "headset", "badge-check")
LOCALE_TEXT = (
    "brand",
    "title",
    "description",
    "eyebrow",
    "headline",
    "supporting",
    "cta",
    "company",
    "address",
)
# Optional in every language or in none: the consent a visitor ticks (leadcap/landing/consent.py).
CONSENT = "consent"
TOP_KEYS = ("$comment", "phone", "privacy_url", "hours", "logo", "badges", "locales", "variants")
# A variant replaces only this copy, per language (the A/B test's headline, subheading and CTA).
VARIANT_TEXT = ("headline", "supporting", "cta")
MAX_VARIANTS = 4
MAX_WEIGHT = 1000
_VARIANT_NAME = slugs.VARIANT_NAME
IMAGE_TYPES = (".svg", ".png", ".webp", ".jpg", ".jpeg", ".gif")
MAX_TEXT = 2000
MAX_FILE = 256 * 1024  # a campaign is a few KB; a bigger file is a mistake, not copy
# Control characters: never in copy (the page would differ between the parser and React's
# hydration, and nothing a visitor reads needs them). Direction marks and ZWNJ are not controls.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class Image:
    src: str  # what the page loads: ASSETS_PATH + path, or the https:// address
    width: int
    height: int
    origin: str | None  # the https origin the CSP must allow; None for a local file


@dataclass(frozen=True, slots=True)
class Benefit:
    icon: str
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class Words:
    """The campaign's copy in one language (LOCALE_TEXT, then the benefits)."""

    brand: str
    title: str
    description: str
    eyebrow: str
    headline: str
    supporting: str
    cta: str
    company: str
    address: str
    benefits: tuple[Benefit, ...]
    consent: str | None = None  # the text beside the form's checkbox; None: no consent asked


@dataclass(frozen=True, slots=True)
class Badge:
    image: Image
    link: str
    alt: dict[str, str]


@dataclass(frozen=True, slots=True)
class Hours:
    days: tuple[int, ...]  # indexes into DAYS, in week order
    open: str  # "HH:MM"
    close: str


@dataclass(frozen=True, slots=True)
class Variant:
    """One version of the copy: its name (what a lead records), weight and texts per language."""

    name: str
    weight: int
    texts: dict[str, dict[str, str]]  # lang -> VARIANT_TEXT key -> text


@dataclass(frozen=True, slots=True)
class Campaign:
    phone_tel: str
    phone_display: str  # ASCII digits, as written in the file
    privacy_url: str
    hours: tuple[Hours, ...]
    logo: Image | None
    badges: tuple[Badge, ...]
    locales: dict[str, Words]
    document: bytes  # the file as read: what `flush-cache` hands every web process
    variants: tuple[Variant, ...] = ()  # empty: one copy, no split

    @property
    def image_origins(self) -> tuple[str, ...]:
        """Where its images come from, for the CSP's img-src (local files are 'self')."""
        images = [self.logo, *(b.image for b in self.badges)]
        return tuple(dict.fromkeys(i.origin for i in images if i is not None and i.origin))


class _Reader:
    """Field readers that raise ConfigError naming the field."""

    def __init__(self, assets: Path | None) -> None:
        self.assets = assets

    @staticmethod
    def fail(message: str) -> ConfigError:
        return ConfigError(VARIABLE, message)

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where} must be non-empty text")
        if len(value) > MAX_TEXT:
            raise self.fail(f"{where} is too long (at most {MAX_TEXT} characters)")
        if _CONTROL.search(value):
            raise self.fail(f"{where} holds a control character")
        return value.strip()

    def number(self, value: Any, where: str, top: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise self.fail(f"{where} must be a whole number from 1 to {top}")
        return value

    def link(self, value: Any, where: str) -> str:
        """A link the page may carry: https://, http:// or a path on this site (never javascript:)."""
        text = self.text(value, where)
        if not text.startswith(("https://", "http://", "/")) or text.startswith("//") or " " in text:
            raise self.fail(f"{where} must be an https:// address or a /path, got {text!r}")
        return text

    def image(self, value: Any, where: str) -> tuple[str, str | None]:
        """What the page loads an image from, and the https origin the CSP must allow (None: 'self')."""
        src = self.text(value, where)
        if _URL_LIKE.match(src):
            return src, _origin(src, where)
        return ASSETS_PATH + self.asset(src, where), None

    def asset(self, name: str, where: str) -> str:
        """The URL path of a file inside LEADCAP_ASSETS_DIR; refused outside it."""
        if self.assets is None:
            raise self.fail(
                f"{where} names a local file, but {ASSETS_VARIABLE} is not set (or use an https:// address)"
            )
        try:
            asset_file(self.assets, name)
        except ValueError as exc:
            raise self.fail(f"{where} {exc}, got {name!r}") from None
        return quote(name)


def asset_file(assets: Path, name: str) -> Path:
    """The image `name` names inside the folder `assets` (a relative path, no hidden or `..`
    parts, an image type, a file that exists and stays inside the folder once links are
    followed); ValueError saying why not. The campaign's check and the route that serves the
    folder both ask this, so nothing outside it is ever named or served."""
    relative = PurePosixPath(name)
    if (
        "\\" in name
        or _CONTROL.search(name)
        or relative.is_absolute()
        or any(part in ("..", "") or part.startswith(".") for part in name.split("/"))
        or relative.suffix.lower() not in IMAGE_TYPES
    ):
        raise ValueError(
            f"must be an https:// address or an image file (.svg .png .webp .jpg .gif) in {ASSETS_VARIABLE}"
        )
    root = assets.resolve()
    file = (root / relative).resolve()
    if not file.is_relative_to(root):  # a link inside the folder that points out of it
        raise ValueError(f"is outside {ASSETS_VARIABLE} ({root})")
    if not file.is_file():
        raise ValueError(f"names a file that does not exist in {ASSETS_VARIABLE}")
    return file


# What an image's origin may be in the CSP's img-src: https://host[:port] and nothing else, so a
# campaign file cannot widen the policy (`https://*`) or start another directive (`;`).
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HTTPS_ORIGIN = re.compile(
    rf"https://((?:{_LABEL}\.)*{_LABEL})(?::([0-9]{{1,5}}))?(?=[/?#]|$)", re.IGNORECASE
)
_URL_LIKE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)  # a scheme, or scheme-relative


def _origin(image: str, where: str) -> str:
    """The origin an image loads from; ConfigError for anything but https://host[:port]/…"""
    found = _HTTPS_ORIGIN.match(image)
    port = found.group(2) if found else None
    if (
        found is None
        or any(c.isspace() for c in image)
        or "\\" in image
        or (port is not None and not 0 < int(port) < 65536)
    ):
        raise ConfigError(
            VARIABLE,
            f"{where} must be an https://host[:port]/… address or a file in {ASSETS_VARIABLE}, got {image!r}",
        )
    return f"https://{found.group(1).lower()}" + (f":{int(port)}" if port else "")


def _object(value: Any, where: str, example: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(VARIABLE, f"{where} must be an object like {example}")
    return value


_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _hours(read: _Reader, rows: Any) -> tuple[Hours, ...]:
    if not isinstance(rows, list) or not rows:
        raise read.fail("hours must be a non-empty list")
    out = []
    for i, row in enumerate(rows):
        _object(row, f"hours.{i}", '{"days": ["sat"], "open": "09:00", "close": "17:00"}')
        days = row.get("days")
        if not isinstance(days, list) or not days or any(d not in DAYS for d in days):
            raise read.fail(f"hours.{i}.days must list days among {', '.join(DAYS)}")
        if len(set(days)) != len(days):
            raise read.fail(f"hours.{i}.days lists a day twice")
        times = []
        for key in ("open", "close"):
            value = row.get(key)
            if not isinstance(value, str) or not _TIME.match(value):
                raise read.fail(f"hours.{i}.{key} must be a time like 09:00")
            times.append(value)
        if times[1] <= times[0]:
            raise read.fail(f"hours.{i}.close must be later than hours.{i}.open")
        out.append(Hours(tuple(sorted(DAYS.index(d) for d in days)), times[0], times[1]))
    return tuple(out)


def _words(read: _Reader, locales: dict[str, Any], lang: str) -> Words:
    where = f"locales.{lang}"
    source = locales.get(lang)
    if not isinstance(source, dict):
        raise read.fail(f"{where} is missing")
    for key in source:
        if key not in LOCALE_TEXT and key not in ("benefits", CONSENT):
            raise read.fail(f"{where}.{key} is not a campaign field")
    texts = {key: read.text(source.get(key), f"{where}.{key}") for key in LOCALE_TEXT}
    rows = source.get("benefits")
    if not isinstance(rows, list) or not 1 <= len(rows) <= 4:
        raise read.fail(f"{where}.benefits must list 1 to 4 benefits")
    benefits = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise read.fail(f"{where}.benefits.{i} must be an object")
        if row.get("icon") not in ICONS:
            raise read.fail(f"{where}.benefits.{i}.icon must be one of {', '.join(ICONS)}")
        title = read.text(row.get("title"), f"{where}.benefits.{i}.title")
        benefits.append(Benefit(row["icon"], title, read.text(row.get("text"), f"{where}.benefits.{i}.text")))
    consent = source.get(CONSENT)
    if consent is not None:
        consent = read.text(consent, f"{where}.{CONSENT}")
    return Words(**texts, benefits=tuple(benefits), consent=consent)


def _variants(read: _Reader, rows: Any) -> tuple[Variant, ...]:
    if rows is None:
        return ()
    if not isinstance(rows, list) or not 2 <= len(rows) <= MAX_VARIANTS:
        raise read.fail(f"variants must list 2 to {MAX_VARIANTS} variants")
    out: list[Variant] = []
    for i, row in enumerate(rows):
        where = f"variants.{i}"
        _object(row, where, '{"name": "a", "weight": 1, "fa": {"headline": "…"}, "en": {…}}')
        for key in row:
            if key not in ("name", "weight", *LOCALES):
                raise read.fail(f"{where}.{key} is not a variant field")
        name = row.get("name", "abcd"[i])
        if not isinstance(name, str) or not _VARIANT_NAME.fullmatch(name):
            raise read.fail(f"{where}.name must be 1 to 20 of a-z, 0-9 and -")
        if any(v.name == name for v in out):
            raise read.fail(f"{where}.name {name!r} is used twice")
        weight = read.number(row.get("weight", 1), f"{where}.weight", MAX_WEIGHT)
        texts: dict[str, dict[str, str]] = {}
        for lang in LOCALES:
            source = _object(row.get(lang), f"{where}.{lang}", '{"headline": "…", "cta": "…"}')
            for key in source:
                if key not in VARIANT_TEXT:
                    raise read.fail(
                        f"{where}.{lang}.{key} is not a variant field ({', '.join(VARIANT_TEXT)})"
                    )
            if not source:
                raise read.fail(f"{where}.{lang} must change at least one of {', '.join(VARIANT_TEXT)}")
            texts[lang] = {key: read.text(value, f"{where}.{lang}.{key}") for key, value in source.items()}
        out.append(Variant(name, weight, texts))
    return tuple(out)


def parse(data: Any, assets: Path | None = None, document: bytes = b"") -> Campaign:
    """The campaign a document describes; ConfigError naming the first bad field."""
    read = _Reader(assets)
    if not isinstance(data, dict):
        raise read.fail("must hold a JSON object")
    for key in data:
        if key not in TOP_KEYS:
            raise read.fail(f"{key} is not a campaign field (known: {', '.join(TOP_KEYS)})")
    phone = _object(data.get("phone"), "phone", '{"tel": "+982191001234", "display": "021 9100 1234"}')
    tel = read.text(phone.get("tel"), "phone.tel")
    if not re.fullmatch(r"\+\d{6,15}", tel):
        raise read.fail("phone.tel must be an E.164 number like +982191001234")
    display = read.text(phone.get("display"), "phone.display")
    if not re.fullmatch(r"[0-9 ()+-]+", display):
        raise read.fail("phone.display must be written with ASCII digits, spaces, dashes and parentheses")
    privacy = read.link(data.get("privacy_url"), "privacy_url")
    hours = _hours(read, data.get("hours"))

    logo = None
    if data.get("logo") is not None:
        source = _object(data["logo"], "logo", '{"src": "logo.svg", "width": 32, "height": 32}')
        src, origin = read.image(source.get("src"), "logo.src")
        size = (
            read.number(source.get("width"), "logo.width", 400),
            read.number(source.get("height"), "logo.height", 200),
        )
        logo = Image(src, *size, origin)

    rows = data.get("badges", [])
    if not isinstance(rows, list):
        raise read.fail("badges must be a list")
    badges = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise read.fail(f"badges.{i} must be an object")
        src, origin = read.image(row.get("image"), f"badges.{i}.image")
        size = (
            read.number(row.get("width"), f"badges.{i}.width", 400),
            read.number(row.get("height"), f"badges.{i}.height", 400),
        )
        image = Image(src, *size, origin)
        link = read.link(row.get("link"), f"badges.{i}.link")
        alt = row.get("alt")
        if not isinstance(alt, dict):
            raise read.fail(
                f'badges.{i}.alt must hold the image\'s text per language, e.g. {{"fa": "…", "en": "…"}}'
            )
        badges.append(
            Badge(image, link, {lang: read.text(alt.get(lang), f"badges.{i}.alt.{lang}") for lang in LOCALES})
        )

    locales = data.get("locales")
    if not isinstance(locales, dict):
        raise read.fail("locales must be an object with fa and en")
    words = {lang: _words(read, locales, lang) for lang in LOCALES}
    asked = [lang for lang in LOCALES if words[lang].consent is not None]
    if asked and len(asked) != len(LOCALES):
        missing = next(lang for lang in LOCALES if lang not in asked)
        raise read.fail(
            f"locales.{missing}.{CONSENT} is missing: a consent text is shown in every language or in none"
        )
    for key in locales:
        if key not in LOCALES:
            raise read.fail(f"locales.{key} is not a supported language ({', '.join(LOCALES)})")
    variants = _variants(read, data.get("variants"))
    return Campaign(tel, display, privacy, hours, logo, tuple(badges), words, document, variants)


def loads(document: bytes, assets: Path | None = None) -> Campaign:
    """The campaign in a document (the file's bytes); ConfigError naming the bad field."""
    if len(document) > MAX_FILE:
        raise ConfigError(VARIABLE, f"is too big ({len(document)} bytes; at most {MAX_FILE})")
    try:
        data = json.loads(document.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(VARIABLE, f"is not valid JSON ({exc})") from None
    return parse(data, assets, document)


def load(path: Path | None, assets: Path | None = None) -> Campaign:
    """The campaign at `path` (LEADCAP_CAMPAIGN_FILE), or the shipped default."""
    source = path or DEFAULT_FILE
    try:
        document = source.read_bytes()
    except OSError as exc:
        raise ConfigError(VARIABLE, f"cannot be read ({exc.strerror or exc})") from None
    return loads(document, assets)
