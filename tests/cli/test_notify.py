"""`leadcap notify …` as an operator runs it: tokens and passwords never printed, bad options
refused with exit 2, `--campaign` an added campaign or `default`, and `notify test` reaching a fake Bot
API."""

from __future__ import annotations

import json

import pytest

from tests import servers
from tests.bot_api import bot_api_in_thread, refused
from tests.cli.test_webhooks import Ran
from tests.cli.test_webhooks import cli as webhooks_cli
from tests.servers import Stores

TOKEN = "123456789:AAHfakeTokenForTestsOnly_abcdefghij"


@pytest.fixture(scope="module")
async def own_env(env: dict[str, str], stores: Stores) -> dict[str, str]:
    return {**env, "LEADCAP_DATABASE_URL": await servers.migrated_database(stores.database)}


def cli(*args: str, env: dict[str, str]) -> Ran:
    return webhooks_cli(*args, env=env, group="notify")


def test_add_list_remove_never_print_a_token_or_password(own_env: dict[str, str]) -> None:
    bot = cli(
        "add", "bale", "--token", TOKEN, "--chat", "-100200300", "--event", "lead.verified", env=own_env
    )
    assert bot.returncode == 0, bot.stderr
    mail = cli(
        "add",
        "email",
        "--smtp",
        "smtp://relay:s3cr%2Fet@mail.internal:2525",
        "--to",
        "ops@example.com",
        env=own_env,
    )
    assert mail.returncode == 0, mail.stderr
    listed = cli("list", "--json", env=own_env)
    table = cli("list", env=own_env)
    for shown in (bot, mail, listed, table):
        assert TOKEN.split(":")[1] not in shown.stdout + shown.stderr
        assert "s3cr" not in shown.stdout + shown.stderr
    rows = {r["kind"]: r for r in json.loads(listed.stdout)}
    assert rows["bale"]["to"] == "-100200300" and rows["bale"]["events"] == ["lead.verified"]
    assert rows["email"]["smtp"] == "smtp://relay@mail.internal:2525"
    assert rows["bale"]["state"] == "enabled"
    assert cli("remove", str(rows["bale"]["id"]), env=own_env).returncode == 0
    assert cli("remove", str(rows["bale"]["id"]), env=own_env).returncode == 1  # gone already
    assert "bale" not in {r["kind"] for r in json.loads(cli("list", "--json", env=own_env).stdout)}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("telegram", "--token", "nope", "--chat", "1"), "--token"),
        (("telegram", "--token", TOKEN, "--chat", "not a chat"), "--chat"),
        (("telegram", "--token", TOKEN, "--chat", "1", "--event", "lead.sold"), "--event"),
        (("telegram", "--token", TOKEN, "--chat", "1", "--event", "lead.erased"), "--event"),  # not for chats
        (("telegram", "--token", TOKEN, "--chat", "1", "--campaign", "yalda"), "names no campaign"),
        (("email", "--smtp", "http://mail.example.com", "--to", "a@example.com"), "--smtp"),
        (("email", "--smtp", "smtp://mail.example.com", "--to", "a@b\r\nBcc: x@y.com"), "--to"),
        (("sms", "--to", "a@example.com"), "KIND"),
    ],
)
def test_bad_options_are_refused_with_exit_2(
    own_env: dict[str, str], args: tuple[str, ...], says: str
) -> None:
    ran = cli("add", *args, env=own_env)
    assert ran.returncode == 2
    assert says in ran.stderr
    assert TOKEN.split(":")[1] not in ran.stderr


def test_default_campaign_is_accepted(own_env: dict[str, str]) -> None:
    ran = cli(
        "add", "telegram", "--token", TOKEN, "--chat", "@sales_leads", "--campaign", "default", env=own_env
    )
    assert ran.returncode == 0, ran.stderr


def test_notify_test_reaches_the_chat_or_says_why_not(own_env: dict[str, str]) -> None:
    with bot_api_in_thread() as api:
        env = {**own_env, "LEADCAP_TELEGRAM_BASE_URL": api.base_url}
        added = cli("add", "telegram", "--token", TOKEN, "--chat", "42", env=env)
        channel = added.stdout.split(" channel ")[1].split()[0]
        ran = cli("test", channel, env=env)
        assert ran.returncode == 0, ran.stderr
        assert [(m.token, m.chat_id) for m in api.messages] == [(TOKEN, "42")]
        assert "leadcap" in api.messages[0].text and "آزمایشی" in api.messages[0].text  # LEADCAP_LOCALE=fa
    with bot_api_in_thread(refused) as api:
        ran = cli("test", channel, env={**own_env, "LEADCAP_TELEGRAM_BASE_URL": api.base_url})
        assert ran.returncode == 1
        assert "bot was blocked" in ran.stderr
