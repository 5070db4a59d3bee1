"""`leadcap init` in a clean folder, as an operator runs it: with options and --yes, and answering
its questions on stdin; the files, their modes, no overwrite; and `serve` refusing the demo
campaign in production."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from leadcap import settings
from leadcap.settings import GENERATED, read_env_file
from tests import servers
from web import campaign

CLEAN = {k: "" for k in os.environ if k.startswith("LEADCAP_") and not k.startswith("LEADCAP_TEST_")}
OPTIONS = (
    "--brand", "آکمه",
    "--phone", "۰۲۱ ۸۸۷۷ ۶۶۵۵",
    "--address", "تهران، خیابان آزادی، پلاک ۷",
    "--hours", "sat-wed 08:30-16:00; thu 09:00-12:00",
    "--domain", "Acme.IR",
    "--locale", "en",
)  # fmt: skip


def init(folder: Path, *args: str, stdin: str | None = None) -> servers.subprocess.CompletedProcess[str]:
    return servers.leadcap("init", *args, env=CLEAN, cwd=folder, stdin=stdin, timeout=60)


def written(folder: Path) -> tuple[dict[str, object], dict[str, str]]:
    document = json.loads((folder / "campaign.json").read_text(encoding="utf-8"))
    return document, read_env_file(folder / ".env")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def accepted(folder: Path) -> settings.Settings:
    """The .env as `leadcap serve` would load it in that folder, and the campaign it names as
    serve checks it."""
    cwd = Path.cwd()
    os.chdir(folder)  # LEADCAP_CAMPAIGN_FILE is relative to the folder, as `serve` runs in it
    try:
        loaded = settings.load(environ={}, env_file=folder / ".env")
        assert loaded.campaign_file is not None
        campaign.load(loaded.campaign_file)
        return loaded
    finally:
        os.chdir(cwd)


def test_init_with_options_and_yes_writes_a_campaign_serve_accepts(tmp_path: Path) -> None:
    result = init(tmp_path, "--yes", *OPTIONS)
    assert result.returncode == 0, result.stderr
    document, env = written(tmp_path)
    assert mode(tmp_path / ".env") == 0o600 and mode(tmp_path / "campaign.json") == 0o644
    assert document["phone"] == {"tel": "+982188776655", "display": "021 8877 6655"}
    assert document["hours"] == [
        {"days": ["sat", "sun", "mon", "tue", "wed"], "open": "08:30", "close": "16:00"},
        {"days": ["thu"], "open": "09:00", "close": "12:00"},
    ]
    assert document["privacy_url"] == "https://acme.ir/privacy"  # the default, under the domain
    for lang in ("fa", "en"):
        assert document["locales"][lang]["brand"] == "آکمه"  # type: ignore[index]
        assert document["locales"][lang]["company"] == "آکمه"  # type: ignore[index]
    assert "رایان" not in json.dumps(document, ensure_ascii=False)  # nothing of the demo's name

    loaded = accepted(tmp_path)
    assert loaded.locale == "en" and loaded.verify_key is not None
    assert set(GENERATED) <= set(env) and "LEADCAP_VERIFY_KEY" in GENERATED
    values = [env[name] for name in GENERATED]
    assert len(set(values)) == len(values) and all(len(v) == 64 for v in values)
    secrets_shown = [v for v in values if v in result.stdout + result.stderr]
    assert secrets_shown == []
    lines = result.stdout.strip().splitlines()
    assert [line.split()[:2] for line in lines[-2:]] == [["leadcap", "serve"], ["curl", "-s"]]


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LEADCAP_LOCALE=fa\n")
    refused = init(tmp_path, "--yes")
    assert refused.returncode == 2 and ".env" in refused.stderr and "--force" in refused.stderr
    assert (tmp_path / ".env").read_text() == "LEADCAP_LOCALE=fa\n"
    assert not (tmp_path / "campaign.json").exists()  # neither file is written

    first = init(tmp_path, "--yes", "--force", "--brand", "First")
    assert first.returncode == 0, first.stderr
    before = written(tmp_path)
    refused = init(tmp_path, "--yes", "--brand", "Second")
    assert refused.returncode == 2 and "campaign.json and .env" in refused.stderr
    assert written(tmp_path) == before
    (tmp_path / ".env").chmod(0o644)
    forced = init(tmp_path, "--yes", "--force", "--brand", "Second")
    assert forced.returncode == 0, forced.stderr
    document, env = written(tmp_path)
    assert document["locales"]["fa"]["brand"] == "Second"  # type: ignore[index]
    assert env["LEADCAP_VERIFY_KEY"] != before[1]["LEADCAP_VERIFY_KEY"]
    assert mode(tmp_path / ".env") == 0o600  # replaced, not rewritten in place with the old mode
    assert accepted(tmp_path).locale == "fa"


def test_init_interactive_asks_again_after_a_bad_answer(tmp_path: Path) -> None:
    answers = [
        "fa",  # locale
        "نان سحر",  # brand
        "12345",  # phone: not an Iranian number, asked again
        "0912 345 6789",  # phone
        "",  # address: the default
        "sat-wed 9:00-17:00",  # hours
        "https://nan.example/",  # domain: a URL, asked again
        "nan.example",  # domain
        "",  # privacy URL: the default, under the domain
    ]
    result = init(tmp_path, stdin="\n".join(answers) + "\n")
    assert result.returncode == 0, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and "--phone" in errors[0] and "--domain" in errors[1]
    document, _ = written(tmp_path)
    assert document["phone"] == {"tel": "+989123456789", "display": "0912 345 6789"}
    assert document["locales"]["fa"]["brand"] == "نان سحر"  # type: ignore[index]
    assert document["privacy_url"] == "https://nan.example/privacy"
    template = json.loads(campaign.DEFAULT_FILE.read_text(encoding="utf-8"))
    assert document["locales"]["fa"]["address"] == template["locales"]["fa"]["address"]  # type: ignore[index]
    assert document["hours"] == [
        {"days": ["sat", "sun", "mon", "tue", "wed"], "open": "09:00", "close": "17:00"}
    ]
    assert accepted(tmp_path).locale == "fa"


def test_init_when_input_ends_early_writes_nothing(tmp_path: Path) -> None:
    result = init(tmp_path, stdin="en\nAcme\n")
    assert result.returncode == 2 and "--phone" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--phone", "+1 212 555 0100"),  # valid, but not Iranian
        ("--privacy-url", "http://acme.ir/privacy"),  # not https
        ("--privacy-url", "javascript:alert(1)"),
        ("--domain", "acme..ir"),
        ("--hours", "sat-wed 17:00-09:00"),
        ("--locale", "de"),
        ("--brand", "   "),
    ],
)
def test_a_bad_option_is_a_usage_error_naming_it(tmp_path: Path, option: str, value: str) -> None:
    result = init(tmp_path, "--yes", option, value)
    assert result.returncode == 2 and option in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_init_runs_beside_a_broken_env(tmp_path: Path) -> None:
    """init is how a folder gets its configuration: a bad ./.env does not stop it (exit 78
    would), it only refuses to replace it without --force."""
    (tmp_path / ".env").write_text("LEADCAP_RATE_LIMIT=ten/minute\n")
    result = init(tmp_path, "--yes", "--force")
    assert result.returncode == 0, result.stderr
    assert accepted(tmp_path).rate_limit == settings.RateLimit(10, 60)


def production(folder: Path, **extra: str) -> dict[str, str]:
    """A production configuration that passes the settings (the stores are never reached)."""
    return {
        **CLEAN,
        "LEADCAP_ENV": "production",
        "LEADCAP_DATABASE_URL": "postgresql://app:secret@127.0.0.1:1/leadcap",
        "LEADCAP_REDIS_URL": "redis://:secret@127.0.0.1:1/0",
        "LEADCAP_MONGO_URL": "mongodb://app:secret@127.0.0.1:1/leadcap",
        "LEADCAP_DATA_DIR": str(folder / "data"),
        **extra,
    }


def test_serve_in_production_refuses_the_demo_campaign(tmp_path: Path) -> None:
    result = servers.leadcap("serve", env=production(tmp_path), cwd=tmp_path, timeout=60)
    assert result.returncode == 78, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "LEADCAP_CAMPAIGN_FILE" in lines[0] and "leadcap init" in lines[0]
    assert result.stdout == ""


def test_serve_says_in_one_line_that_the_page_is_the_demo(
    tmp_path: Path, server: servers.Server, env: dict[str, str]
) -> None:
    """Outside production the demo runs (the suite's own `serve` has no campaign file), with one
    line saying so; a serve with a campaign file has no such line."""
    notes = [line for line in server.process.output().splitlines() if "demo campaign" in line]
    assert len(notes) == 1 and "leadcap init" in notes[0], server.process.output()
    assert init(tmp_path, "--yes").returncode == 0
    mine = {**env, "LEADCAP_CAMPAIGN_FILE": str(tmp_path / "campaign.json")}
    with servers.serving(mine, tmp_path / "serve.log") as running:
        output = running.process.output()
    assert "demo" not in output and "leadcap listening" in output
