"""What `leadcap init` writes from an operator's answers: the campaign document and the `.env`.

Pure rules, no I/O. Each question has a reader that takes what was typed (Persian digits
included) and returns the value, or raises UsageError naming the question's option, so the
command can ask again. `campaign_document` fills the shipped campaign (the template: its copy,
benefits and badges) with the answers; `env_text` names the campaign file and the locale and
holds a fresh value for every secret in `settings.GENERATED`.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import phonenumbers

from leadcap.errors import UsageError
from leadcap.settings import DEFAULT_REGION, GENERATED, LOCALES, PREFIX

# The Iranian week, from Saturday: the campaign file's day names (web/campaign.py's too; a test
# holds them equal, as leadcap cannot import web).
DAYS = ("sat", "sun", "mon", "tue", "wed", "thu", "fri")
REGION = DEFAULT_REGION  # the business phone is an Iranian number
CAMPAIGN_FILE = "campaign.json"
ENV_FILE = ".env"
LOCAL_DOMAIN = "localhost"
MAX_TEXT = 300  # a brand or an address; the build refuses copy over 2000 characters
MAX_URL = 2000
# Persian and Arabic-Indic digits as ASCII; the Persian comma and semicolon as theirs.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩،؛", "01234567890123456789,;")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
_ROW = re.compile(r"(?P<days>[a-z,\s-]+?)\s+(?P<open>[0-9:]+)\s*-\s*(?P<close>[0-9:]+)")
HOURS_EXAMPLE = "sat-wed 09:00-17:00; thu 09:00-13:00"


@dataclass(frozen=True, slots=True)
class BusinessPhone:
    tel: str  # E.164, for the tel: link
    display: str  # as written in Iran, ASCII digits (the Persian page shows Persian ones)


@dataclass(frozen=True, slots=True)
class Opening:
    days: tuple[str, ...]  # among DAYS, in the week's order
    open: str  # HH:MM
    close: str


@dataclass(frozen=True, slots=True)
class Answers:
    locale: str
    brand: str
    phone: BusinessPhone
    address: str
    hours: tuple[Opening, ...]
    domain: str
    privacy_url: str


def _plain(text: str, option: str, what: str) -> str:
    value = " ".join(text.split())
    if not value:
        raise UsageError(option, f"needs {what}")
    if len(value) > MAX_TEXT:
        raise UsageError(option, f"is too long (at most {MAX_TEXT} characters)")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise UsageError(option, "holds a control character")
    return value


def read_locale(text: str) -> str:
    value = text.strip().lower()
    if value not in LOCALES:
        raise UsageError("--locale", f"must be one of {', '.join(LOCALES)}, got {text.strip()!r}")
    return value


def read_brand(text: str) -> str:
    return _plain(text, "--brand", "the brand's name")


def read_address(text: str) -> str:
    return _plain(text, "--address", "the business's address")


def read_phone(text: str) -> BusinessPhone:
    """An Iranian number, landline or mobile, written any usual way: `021 9100 1234`,
    `+98 21 9100 1234`, `۰۹۱۲ ۳۴۵ ۶۷۸۹`."""
    wanted = "must be an Iranian phone number like 021 9100 1234"
    raw = text.translate(_DIGITS).strip()
    if not raw or len(raw) > 32 or not re.fullmatch(r"\+?[0-9 ()\-.]+", raw):
        raise UsageError("--phone", f"{wanted}, got {text.strip()!r}")
    try:
        number = phonenumbers.parse(raw, REGION)
    except phonenumbers.NumberParseException:
        raise UsageError("--phone", f"{wanted}, got {text.strip()!r}") from None
    if not phonenumbers.is_valid_number(number) or phonenumbers.region_code_for_number(number) != REGION:
        raise UsageError("--phone", f"{wanted}, got {text.strip()!r}")
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return BusinessPhone(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), national)


def _days(text: str) -> tuple[str, ...]:
    """`sat-wed`, `thu` or `sat,mon` → the days, in the week's order; ValueError otherwise."""
    days: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        first, dash, last = (s.strip() for s in part.partition("-"))
        if first not in DAYS or (dash and last not in DAYS):
            raise ValueError(part)
        start, end = DAYS.index(first), DAYS.index(last if dash else first)
        if end < start:
            raise ValueError(part)  # a range runs forward through the week (sat … fri)
        days += DAYS[start : end + 1]
    if len(set(days)) != len(days):
        raise ValueError(text)
    return tuple(sorted(days, key=DAYS.index))


def _time(text: str) -> str:
    found = _TIME.fullmatch(text)
    if not found:
        raise ValueError(text)
    return f"{int(found.group(1)):02d}:{found.group(2)}"


def read_hours(text: str) -> tuple[Opening, ...]:
    """Business hours as one line: rows `DAYS OPEN-CLOSE` separated by `;`, where DAYS is a day
    (`thu`), a range through the week (`sat-wed`) or a list (`sat,mon`)."""
    rows = []
    for part in (p.strip() for p in text.translate(_DIGITS).lower().split(";")):
        if not part:
            continue
        found = _ROW.fullmatch(part)
        try:
            if not found:
                raise ValueError(part)
            row = Opening(_days(found["days"]), _time(found["open"]), _time(found["close"]))
        except ValueError:
            raise UsageError(
                "--hours", f"must look like {HOURS_EXAMPLE!r} (days {' '.join(DAYS)}), got {part!r}"
            ) from None
        if row.close <= row.open:
            raise UsageError("--hours", f"closes before it opens in {part!r}")
        rows.append(row)
    if not rows:
        raise UsageError("--hours", f"needs the business hours, like {HOURS_EXAMPLE!r}")
    return tuple(rows)


def show_hours(hours: tuple[Opening, ...]) -> str:
    """The hours as `read_hours` reads them (ranges where the days run on)."""
    parts = []
    for row in hours:
        indexes = [DAYS.index(d) for d in row.days]
        run_on = len(indexes) > 2 and indexes == list(range(indexes[0], indexes[-1] + 1))
        days = f"{row.days[0]}-{row.days[-1]}" if run_on else ",".join(row.days)
        parts.append(f"{days} {row.open}-{row.close}")
    return "; ".join(parts)


def _hostname(text: str, option: str) -> str:
    """A DNS host name (an internationalised one as its xn-- form), lower case; ValueError-free:
    UsageError naming `option`."""
    value = text.strip().rstrip(".").lower()
    wanted = "must be a host name like example.ir"
    try:
        ascii_name = value.encode("idna").decode("ascii")
    except UnicodeError:
        raise UsageError(option, f"{wanted}, got {text.strip()!r}") from None
    labels = ascii_name.split(".")
    if (
        not ascii_name
        or len(ascii_name) > 253
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()  # 10.0.0.1 is an address, not a name
    ):
        raise UsageError(option, f"{wanted}, got {text.strip()!r}")
    return ascii_name


def read_domain(text: str) -> str:
    value = text.strip()
    if "://" in value or "/" in value:
        raise UsageError(
            "--domain", f"must be a host name like example.ir, without https:// or a path, got {value!r}"
        )
    return _hostname(value, "--domain")


def read_privacy_url(text: str) -> str:
    """An https:// address with a host name (the page links to it; a browser warns about http)."""
    value = text.strip()
    wanted = "must be an https:// address like https://example.ir/privacy"
    if len(value) > MAX_URL or any(ord(c) <= 32 or ord(c) == 127 or c == "\\" for c in value):
        raise UsageError("--privacy-url", f"{wanted}, got {value[:80]!r}")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise UsageError("--privacy-url", f"{wanted}, got {value[:80]!r}") from None
    if parts.scheme != "https" or not parts.hostname or "@" in parts.netloc or port == 0:
        raise UsageError("--privacy-url", f"{wanted}, got {value[:80]!r}")
    try:
        ipaddress.ip_address(parts.hostname.strip("[]"))
    except ValueError:
        _hostname(parts.hostname, "--privacy-url")
    else:
        raise UsageError("--privacy-url", f"{wanted} (a host name, not an address), got {value[:80]!r}")
    return value


@dataclass(frozen=True, slots=True)
class Question:
    key: str  # the Answers field, and the option without its dashes
    prompt: str
    read: Callable[[str], Any]

    @property
    def option(self) -> str:
        return "--" + self.key.replace("_", "-")


# In the order asked: the locale first (the brand and address defaults are in its language), the
# domain before the privacy URL (whose default is on it).
QUESTIONS = (
    Question("locale", "Page language (fa: Persian, en: English)", read_locale),
    Question("brand", "Brand", read_brand),
    Question("phone", "Business phone (Iranian)", read_phone),
    Question("address", "Address", read_address),
    Question("hours", f"Business hours (days {' '.join(DAYS)}; e.g. {HOURS_EXAMPLE})", read_hours),
    Question("domain", "Domain", read_domain),
    Question("privacy_url", "Privacy-policy URL (https://)", read_privacy_url),
)


def default(key: str, template: Mapping[str, Any], given: Mapping[str, Any]) -> str:
    """The answer `--yes` takes (and an empty answer means) for `key`: the template's, in the
    locale already chosen; the privacy policy under the domain when one is given."""
    locale = given.get("locale", LOCALES[0])
    if key == "locale":
        return LOCALES[0]
    if key in ("brand", "address"):
        return str(template["locales"][locale][key])
    if key == "phone":
        return str(template["phone"]["display"])
    if key == "hours":
        return show_hours(tuple(Opening(tuple(r["days"]), r["open"], r["close"]) for r in template["hours"]))
    if key == "domain":
        return LOCAL_DOMAIN
    domain = given.get("domain", LOCAL_DOMAIN)
    return str(template["privacy_url"]) if domain == LOCAL_DOMAIN else f"https://{domain}/privacy"


def campaign_document(answers: Answers, template: Mapping[str, Any]) -> dict[str, Any]:
    """The template with the answers in it: phone, hours and privacy policy, and in every language
    the brand (also as the company's name) and the address. The rest of the copy stays the
    template's until edited."""
    document = copy.deepcopy(dict(template))
    document["$comment"] = (
        "Your campaign, written by `leadcap init`. The copy it did not ask for (title, headline,"
        " benefits …) is the demo's: edit it here. Every field: web/ui/README.md (Campaign file)."
    )
    document["phone"] = {"tel": answers.phone.tel, "display": answers.phone.display}
    document["privacy_url"] = answers.privacy_url
    document["hours"] = [{"days": list(r.days), "open": r.open, "close": r.close} for r in answers.hours]
    for lang in LOCALES:
        copy_ = document["locales"][lang]
        copy_["brand"] = copy_["company"] = answers.brand
        copy_["address"] = answers.address
    return document


def new_secrets(token: Callable[[int], str] = secrets.token_hex) -> dict[str, str]:
    """A fresh value for every generated secret: 32 random bytes as hex (URL-safe, as the
    compose URLs need, and long enough for every key)."""
    return {name: token(32) for name in GENERATED}


def env_text(answers: Answers, generated: Mapping[str, str], *, campaign_file: str = CAMPAIGN_FILE) -> str:
    """The `.env`: leadcap's settings for this folder, then the compose stores' passwords."""
    leadcap = [name for name in generated if name.startswith(PREFIX)]
    stores = [name for name in generated if not name.startswith(PREFIX)]
    lines = [
        "# leadcap's settings for this folder, written by `leadcap init`. It holds secrets: mode 0600,",
        "# never commit it. Environment variables win over it; .env.example documents every setting.",
        f"# The site: https://{answers.domain}/ (its certificate: docs/operations.md, HTTPS).",
        f"{PREFIX}CAMPAIGN_FILE={campaign_file}",
        f"{PREFIX}LOCALE={answers.locale}",
        "",
        "# Keys generated for this folder (the settings leadcap/settings.py declares `generated`).",
        *(f"{name}={generated[name]}" for name in leadcap),
    ]
    if stores:
        lines += [
            "",
            "# The Docker Compose stores' passwords, generated too (leadcap does not read them here): for",
            "# a compose deployment put each into .env.docker.stores.local, and the app's and owner's into",
            "# the URLs of .env.docker.local and .env.docker.migrate.local (docs/operations.md, Deploy).",
            *(f"{name}={generated[name]}" for name in stores),
        ]
    return "\n".join(lines) + "\n"
