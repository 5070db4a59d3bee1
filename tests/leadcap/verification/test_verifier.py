"""The Verifier in process, against the real Redis and PostgreSQL and the fake providers:
codes, tries, expiry, every budget, every provider failure and the provider request shapes."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from leadcap import keys, settings
from leadcap.errors import CodeExpired, ConfigError, InvalidCode, StoreError, TooManyAttempts
from leadcap.ids import uuid7
from leadcap.intake.submission import Submission
from leadcap.settings import RateLimit
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis
from leadcap.verification import codes
from leadcap.verification import verifier as verifier_module
from leadcap.verification.verifier import PROVIDER_DOWN_TRIP, Verifier, load_key
from tests import factories, fakesms, servers
from tests.fakesms import FakeSms
from tests.servers import Stores

KEY = b"k" * 32


@pytest.fixture
async def store(stores: Stores) -> AsyncIterator[Redis]:
    async with servers.private_redis(stores.redis, 1) as redis:  # its own database: no other module flushes 1
        yield redis


@pytest.fixture(autouse=True)
def fake_answers_ok(fake: FakeSms) -> None:
    fake.mode = "ok"


def verifier(redis: Redis, postgres: Postgres, fake: FakeSms, **raw: str) -> Verifier:
    values = {
        "VERIFY": "sms",
        "SMS_PROVIDER": "kavenegar",
        "SMS_BASE_URL": fake.url,
        "SMS_API_KEY": fakesms.API_KEY,
        "SMS_TEMPLATE": "leadcap-otp",
        **raw,
    }
    return Verifier(settings.parse(values), redis=redis, postgres=postgres, key=KEY)


def ip(v: Verifier, bucket: str) -> list[tuple[str, str, RateLimit]]:
    """The budgets of a client known by its address alone (no visitor cookie)."""
    return [("ip", bucket, v.settings.sms_per_ip)]


async def code_sent(
    store: Redis, postgres: Postgres, fake: FakeSms
) -> tuple[Verifier, Submission, tuple[str, str]]:
    """A verifier (resends at once), a lead it sent a code to, and (that code, the lead's token)."""
    v = verifier(store, postgres, fake, VERIFY_RESEND_AFTER="0")
    sub = lead()
    token = (await v.start(sub, ip(v, "b1"))).token
    assert token is not None
    return v, sub, (fake.last_code(local(sub)), token)


async def assert_nothing_spent(
    store: Redis, fake: FakeSms, v: Verifier, sub: Submission, sent: tuple[str, str]
) -> None:
    """No try and no SMS spent on `sub`: its code (with its token, `sent`) still verifies."""
    code, token = sent
    assert await store.client_for_tests().hget(keys.verification_code(str(sub.id)), "tries") == b"0"
    assert len(fake.codes_for(local(sub))) == 1
    assert (await v.verify(str(sub.id), code, token)).phone == sub.phone


def lead(*, region: str = "IR") -> Submission:
    return Submission(id=uuid7(), phone=factories.e164(factories.mobile()), region=region, verify=True)


def local(sub: Submission) -> str:
    return "0" + sub.phone[3:]


def test_codes_are_five_digits_read_in_any_script() -> None:
    made = {codes.new_code() for _ in range(200)}
    assert all(len(c) == 5 and c.isdigit() for c in made) and len(made) > 150
    assert codes.read("12345") == codes.read("۱۲۳۴۵") == codes.read("١٢٣٤٥") == "12345"
    assert codes.read(" 12 345 ") == "12345"
    for bad in ("1234", "123456", "abcde", "１２３４５", 12345, None, "1" * 40):
        assert codes.read(bad) is None
    assert codes.digest(KEY, "a", "12345") != codes.digest(KEY, "b", "12345")


async def test_a_code_lives_only_as_its_hmac(store: Redis, postgres: Postgres, fake: FakeSms) -> None:
    v = verifier(store, postgres, fake)
    sub = lead()
    sent = await v.start(sub, ip(v, "b1"))
    assert sent.token is not None
    assert sent.body() == {
        "status": "verification_sent",
        "verification": {"expires_in": 120, "resend_in": 60, "token": sent.token},
    }
    code = fake.last_code(local(sub))
    kept = await store.client_for_tests().hgetall(keys.verification_code(str(sub.id)))
    assert set(kept) == {b"h", b"tries"}
    assert kept[b"h"].decode() == codes.digest(KEY, str(sub.id), code)
    for key in await store.client_for_tests().keys("*"):
        if await store.client_for_tests().type(key) == b"hash":
            values = (await store.client_for_tests().hgetall(key)).values()
            assert code.encode() not in values
            assert not any(sent.token.encode() in value for value in values)  # only its hash


async def test_kavenegar_request_shape(store: Redis, postgres: Postgres, fake: FakeSms) -> None:
    sub = lead()
    v = verifier(store, postgres, fake)
    await v.start(sub, ip(v, "b1"))
    got = fake.received[-1]
    assert got.provider == "kavenegar" and got.path == f"/v1/{fakesms.API_KEY}/verify/lookup.json"
    assert got.headers["content-type"] == "application/x-www-form-urlencoded"
    assert got.form == {"receptor": local(sub), "token": got.code, "template": "leadcap-otp"}


async def test_smsir_request_shape(store: Redis, postgres: Postgres, fake: FakeSms) -> None:
    sub = lead()
    v = verifier(store, postgres, fake, SMS_PROVIDER="smsir", SMS_TEMPLATE="123456:Code")
    assert (await v.start(sub, ip(v, "b1"))).available
    got = fake.received[-1]
    assert got.provider == "smsir" and got.path == "/v1/send/verify"
    assert got.headers["x-api-key"] == fakesms.API_KEY and got.headers["accept"] == "application/json"
    assert got.json == {
        "mobile": local(sub),
        "templateId": 123456,
        "parameters": [{"name": "Code", "value": got.code}],
    }


async def test_the_right_code_verifies_once(store: Redis, postgres: Postgres, fake: FakeSms) -> None:
    v = verifier(store, postgres, fake)
    sub = lead()
    token = (await v.start(sub, ip(v, "b1"))).token
    code = fake.last_code(local(sub))
    assert (
        await v.verify(str(sub.id), code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")), token)
    ).phone == sub.phone
    with pytest.raises(CodeExpired):
        await v.verify(str(sub.id), code, token)


async def test_five_wrong_codes_kill_it(store: Redis, postgres: Postgres, fake: FakeSms) -> None:
    v = verifier(store, postgres, fake)
    sub = lead()
    token = (await v.start(sub, ip(v, "b1"))).token
    code = fake.last_code(local(sub))
    wrong = f"{(int(code) + 1) % 100000:05d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(InvalidCode) as caught:
            await v.verify(str(sub.id), wrong, token)
        assert caught.value.attempts_left == left
    with pytest.raises(TooManyAttempts):
        await v.verify(str(sub.id), wrong, token)
    with pytest.raises(TooManyAttempts):  # dead: even the right code is refused
        await v.verify(str(sub.id), code, token)
    assert b"h" not in await store.client_for_tests().hgetall(keys.verification_code(str(sub.id)))


async def test_a_code_expires(store: Redis, postgres: Postgres, fake: FakeSms) -> None:
    v = verifier(store, postgres, fake, VERIFY_CODE_TTL="1")
    sub = lead()
    token = (await v.start(sub, ip(v, "b1"))).token
    await servers.until_gone(store, keys.verification_code(str(sub.id)))
    with pytest.raises(CodeExpired):
        await v.verify(str(sub.id), fake.last_code(local(sub)), token)


async def test_resend_waits_then_replaces_the_code(store: Redis, postgres: Postgres, fake: FakeSms) -> None:
    from leadcap.errors import RateLimited

    v = verifier(store, postgres, fake, VERIFY_RESEND_AFTER="1")
    sub = lead()
    token = (await v.start(sub, ip(v, "b1"))).token
    first = fake.last_code(local(sub))
    with pytest.raises(RateLimited) as caught:
        await v.resend(str(sub.id), token, ip(v, "b1"))
    assert caught.value.retry_after == 1
    await servers.until_gone(store, keys.verification_wait(str(sub.id)))
    again = await v.resend(str(sub.id), token, ip(v, "b1"))
    assert again.available and again.token is None  # the first token still holds; none is given again
    second = fake.last_code(local(sub))
    if second != first:  # one chance in 100,000 that the new code is the old one
        with pytest.raises(InvalidCode):
            await v.verify(str(sub.id), first, token)
    await v.verify(str(sub.id), second, token)


async def test_per_phone_budget_three_an_hour(store: Redis, postgres: Postgres, fake: FakeSms) -> None:
    v = verifier(store, postgres, fake, VERIFY_RESEND_AFTER="0")
    outcomes: list[str] = []
    v.on_send = lambda provider, outcome: outcomes.append(outcome)
    sub = lead()
    first = await v.start(sub, ip(v, "b1"))
    assert first.available
    assert (await v.resend(str(sub.id), first.token, ip(v, "b2"))).available
    assert (await v.resend(str(sub.id), first.token, ip(v, "b3"))).available
    assert (await v.resend(str(sub.id), first.token, ip(v, "b4"))).body() == {
        "status": "queued",
        "verification": {"available": False},
    }
    assert len(fake.codes_for(local(sub))) == 3
    assert outcomes == ["sent", "sent", "sent", "budget_phone_hour"]


async def test_per_phone_budget_ten_a_day(store: Redis, postgres: Postgres, fake: FakeSms) -> None:
    v = verifier(store, postgres, fake)
    sub = lead()
    two_hours_ago = (time.time() - 7200) * 1000
    old = {f"old{i}": two_hours_ago for i in range(10)}
    await store.client_for_tests().zadd(keys.sms_rate("pd", sub.phone), old)
    assert not (await v.start(sub, ip(v, "b1"))).available
    assert fake.codes_for(local(sub)) == []


async def test_per_ip_budget(store: Redis, postgres: Postgres, fake: FakeSms) -> None:
    v = verifier(store, postgres, fake, SMS_PER_IP="2/hour")
    assert (await v.start(lead(), ip(v, "same"))).available
    assert (await v.start(lead(), ip(v, "same"))).available
    assert not (await v.start(lead(), ip(v, "same"))).available
    assert (await v.start(lead(), ip(v, "other"))).available


async def test_global_budget(store: Redis, postgres: Postgres, fake: FakeSms) -> None:
    v = verifier(store, postgres, fake, SMS_BUDGET="2/hour")
    assert (await v.start(lead(), ip(v, "a"))).available
    assert (await v.start(lead(), ip(v, "b"))).available
    assert not (await v.start(lead(), ip(v, "c"))).available


async def test_only_allowed_regions_get_a_code(store: Redis, postgres: Postgres, fake: FakeSms) -> None:
    v = verifier(store, postgres, fake)
    before = len(fake.received)
    assert not (await v.start(lead(region="DE"), ip(v, "b1"))).available
    assert len(fake.received) == before


@pytest.mark.parametrize(
    ("provider", "mode", "kind"),
    [
        ("kavenegar", "5xx", "provider_down"),
        ("kavenegar", "no_credit", "no_credit"),
        ("kavenegar", "invalid_number", "invalid_number"),
        ("smsir", "5xx", "provider_down"),
        ("smsir", "no_credit", "no_credit"),
        ("smsir", "invalid_number", "invalid_number"),
    ],
)
async def test_failures_are_classified_and_cost_no_budget(
    store: Redis, postgres: Postgres, fake: FakeSms, provider: str, mode: str, kind: str
) -> None:
    v = verifier(store, postgres, fake, SMS_PROVIDER=provider, SMS_TEMPLATE="100")
    outcomes: list[str] = []
    v.on_send = lambda name, outcome: outcomes.append(f"{name}:{outcome}")
    fake.mode = mode
    sub = lead()
    assert not (await v.start(sub, ip(v, "b1"))).available
    assert outcomes == [f"{provider}:{kind}"]
    assert await store.client_for_tests().zcard(keys.SMS_ALL) == 0
    assert not await store.client_for_tests().exists(keys.verification_code(str(sub.id)))


async def test_a_wrong_key_is_rejected(store: Redis, postgres: Postgres, fake: FakeSms) -> None:
    v = verifier(store, postgres, fake, SMS_API_KEY="not-the-key")
    outcomes: list[str] = []
    v.on_send = lambda name, outcome: outcomes.append(outcome)
    assert not (await v.start(lead(), ip(v, "b1"))).available
    assert outcomes == ["rejected"]


async def test_a_refused_connection_is_provider_down(store: Redis, postgres: Postgres, fake: FakeSms) -> None:
    from leadcap.ops import embedded

    v = verifier(store, postgres, fake, SMS_BASE_URL=f"http://127.0.0.1:{embedded.free_port()}")
    outcomes: list[str] = []
    v.on_send = lambda name, outcome: outcomes.append(outcome)
    assert not (await v.start(lead(), ip(v, "b1"))).available
    assert outcomes == ["provider_down"]


async def test_no_proxy_from_the_environment_and_no_redirect_followed(
    store: Redis, postgres: Postgres, fake: FakeSms, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy variable in the server's environment must not reroute codes (nor Kavenegar's key in
    the URL), and a provider's 3xx is an answer, never followed."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from leadcap.ops import embedded

    dead = f"http://127.0.0.1:{embedded.free_port()}"
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, dead)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    sub = lead()
    v = verifier(store, postgres, fake)
    assert (await v.start(sub, ip(v, "b1"))).available
    assert fake.received[-1].receptor == local(sub)

    class Redirect(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(307)
            self.send_header("location", fake.url + self.path)
            self.send_header("content-length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        before = len(fake.received)
        v = verifier(store, postgres, fake, SMS_BASE_URL=f"http://127.0.0.1:{server.server_port}")
        outcomes: list[str] = []
        v.on_send = lambda name, outcome: outcomes.append(outcome)
        assert not (await v.start(lead(), ip(v, "b1"))).available
        assert outcomes == ["provider_down"] and len(fake.received) == before
        await v.close()
    finally:
        server.shutdown()
        server.server_close()


async def test_a_slow_provider_is_cut_off(store: Redis, postgres: Postgres, fake: FakeSms) -> None:
    v = verifier(store, postgres, fake, SMS_TIMEOUT="0.3")
    fake.mode, fake.slow_s = "slow", 2.0
    started = time.monotonic()
    assert not (await v.start(lead(), ip(v, "b1"))).available
    assert time.monotonic() - started < 0.8


async def test_verified_before_the_worker_wrote_it(store: Redis, postgres: Postgres, fake: FakeSms) -> None:
    v = verifier(store, postgres, fake)
    sub = lead()
    token = (await v.start(sub, ip(v, "b1"))).token
    await v.verify(str(sub.id), fake.last_code(local(sub)), token)
    await postgres.leads.record([sub])  # the worker catches up: the lead gains its submission, stays verified
    row = await postgres.pool_for_tests().fetchrow("SELECT * FROM leads WHERE phone = $1", sub.phone)
    assert (row["id"], row["status"], row["submissions"]) == (sub.id, "verified", 1)
    assert row["verified_at"] is not None


async def test_a_lead_verified_before_the_worker_wrote_it_keeps_its_variant(
    store: Redis, postgres: Postgres, fake: FakeSms
) -> None:
    """The lead the verification creates records the variant its visitor was shown, as the
    worker's would; it counts once as a new lead and once as verified, in that variant's rollups
    and its campaign's."""
    v = verifier(store, postgres, fake)
    slug = f"ab-{uuid7().hex[-8:]}"
    sub = dataclasses.replace(lead(), campaign=slug, variant="bold")
    token = (await v.start(sub, ip(v, "b1"))).token
    await v.verify(str(sub.id), fake.last_code(local(sub)), token)
    pg = postgres.pool_for_tests()
    query = "SELECT variant, status FROM leads WHERE phone = $1 AND campaign = $2"
    assert tuple(await pg.fetchrow(query, sub.phone, slug)) == ("bold", "verified")
    await postgres.leads.record([sub])  # the worker catches up
    assert tuple(await pg.fetchrow(query, sub.phone, slug)) == ("bold", "verified")
    counted = await pg.fetch(
        "SELECT dim, sum(submissions), sum(new_leads), sum(verified) FROM campaign_rollups"
        " WHERE (dim, key) IN (('variant', $1), ('slug', $2)) GROUP BY dim ORDER BY dim",
        f"{slug}/bold",
        slug,
    )
    # verified once, though the lead was created `verified` (no status change for a trigger to see)
    assert [tuple(r) for r in counted] == [("slug", 1, 1, 1), ("variant", 1, 1, 1)]


async def test_unverified_until_the_code_comes_back(store: Redis, postgres: Postgres, fake: FakeSms) -> None:
    v = verifier(store, postgres, fake)
    sub = lead()
    await postgres.leads.record([sub])
    await postgres.leads.record([sub])  # a redelivery changes nothing
    pg = postgres.pool_for_tests()
    assert await pg.fetchval("SELECT status FROM leads WHERE phone = $1", sub.phone) == "unverified"
    token = (await v.start(sub, ip(v, "b1"))).token
    await v.verify(str(sub.id), fake.last_code(local(sub)), token)
    await postgres.leads.record([sub])  # nor does one after the verification
    row = await postgres.pool_for_tests().fetchrow("SELECT * FROM leads WHERE phone = $1", sub.phone)
    assert (row["status"], row["submissions"]) == ("verified", 1) and row["verified_at"] is not None
    plain = Submission(id=uuid7(), phone=factories.e164(factories.mobile()), region="IR")
    await postgres.leads.record([plain])
    query = "SELECT status FROM leads WHERE phone = $1"
    status = await postgres.pool_for_tests().fetchval(query, plain.phone)
    assert status == "new"


def test_settings_of_verification() -> None:
    on = {"VERIFY": "sms", "SMS_PROVIDER": "kavenegar", "SMS_API_KEY": "secret-key", "SMS_TEMPLATE": "otp"}
    parsed = settings.parse({**on, "VERIFY_KEY": "v" * 40, "SMS_PER_IP": "5", "SMS_BUDGET": "50/day"})
    assert (parsed.sms_per_ip.limit, parsed.sms_per_ip.window_s) == (5, 3600)
    assert (parsed.sms_budget.limit, parsed.sms_budget.window_s) == (50, 86400)
    shown = parsed.masked()
    assert shown["LEADCAP_SMS_API_KEY"] == shown["LEADCAP_VERIFY_KEY"] == "***"
    assert "secret-key" not in str(shown) and "v" * 40 not in str(shown)
    assert settings.parse({}).verify == "off"
    refused = [
        ({"VERIFY": "sms", "SMS_PROVIDER": "kavenegar"}, "LEADCAP_SMS_API_KEY"),
        ({**on, "SMS_PER_IP": "lots"}, "LEADCAP_SMS_PER_IP"),
        ({**on, "SMS_TIMEOUT": "60"}, "LEADCAP_SMS_TIMEOUT"),
        ({**on, "VERIFY_KEY": "short"}, "LEADCAP_VERIFY_KEY"),
        (
            {
                "VERIFY": "sms",
                "ENV": "production",
                "DATABASE_URL": "postgresql://h/d",
                "REDIS_URL": "redis://h",
                "MONGO_URL": "mongodb://h",
            },
            "LEADCAP_SMS_PROVIDER",
        ),
        (
            {
                **on,
                "ENV": "production",
                "DATABASE_URL": "postgresql://h/d",
                "REDIS_URL": "redis://h",
                "MONGO_URL": "mongodb://h",
            },
            "LEADCAP_VERIFY_KEY",
        ),
        ({"VERIFY": "maybe"}, "LEADCAP_VERIFY"),
    ]
    for raw, variable in refused:
        with pytest.raises(ConfigError) as caught:
            settings.parse(raw)
        assert caught.value.variable == variable


def test_the_generated_key_is_private_and_shared(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    one = load_key(settings.parse({"DATA_DIR": str(folder), "VERIFY": "sms"}))
    two = load_key(settings.parse({"DATA_DIR": str(folder), "VERIFY": "sms"}))
    assert one == two and len(one) == 64
    assert (folder / "verify.key").stat().st_mode & 0o777 == 0o600


async def test_a_failed_write_keeps_the_code(
    store: Redis, postgres: Postgres, fake: FakeSms, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadcap.ops import embedded

    down = await Postgres.open(f"postgresql://postgres@127.0.0.1:{embedded.free_port()}/x", timeout=1)
    # the group commit retries a refused connection; the request gives up sooner than by default
    monkeypatch.setattr(verifier_module, "WRITE_TIMEOUT_S", 1.0)
    try:
        sub = lead()
        v = verifier(store, down, fake)
        token = (await v.start(sub, ip(v, "b1"))).token
        code = fake.last_code(local(sub))
        with pytest.raises(StoreError):
            await verifier(store, down, fake).verify(str(sub.id), code, token)
    finally:
        await down.close()
    assert (await verifier(store, postgres, fake).verify(str(sub.id), code, token)).phone == sub.phone


async def test_a_provider_failing_again_and_again_is_paused(
    store: Redis, postgres: Postgres, fake: FakeSms, monkeypatch: pytest.MonkeyPatch
) -> None:
    v = verifier(store, postgres, fake)
    outcomes: list[str] = []
    v.on_send = lambda name, outcome: outcomes.append(outcome)
    fake.mode = "5xx"
    for _ in range(PROVIDER_DOWN_TRIP):
        assert not (await v.start(lead(), ip(v, "b1"))).available
    asked = len(fake.received)
    fake.mode = "ok"
    assert not (await v.start(lead(), ip(v, "b1"))).available  # paused: the provider is not even asked
    assert len(fake.received) == asked and outcomes[-1] == "provider_paused"
    monkeypatch.setattr(v, "_paused_until", 0.0)  # the pause is over
    assert (await v.start(lead(), ip(v, "b1"))).available


# -- the token: only the browser that was sent the code can spend its tries and resends --------


def forged(token: str | None) -> str:
    assert token is not None
    return token[:-2] + ("BB" if token.endswith("AA") else "AA")


async def test_each_first_answer_has_its_own_token_kept_only_as_a_hash(
    store: Redis, postgres: Postgres, fake: FakeSms
) -> None:
    v = verifier(store, postgres, fake)
    subs = [lead() for _ in range(20)]
    tokens = [(await v.start(sub, ip(v, "b1"))).token for sub in subs]
    assert all(t is not None and len(base64url(t)) >= 16 for t in tokens)  # at least 128 bits
    assert len(set(tokens)) == len(tokens)
    raw = store.client_for_tests()
    for sub, token in zip(subs, tokens, strict=True):
        held = await raw.hgetall(keys.verification(str(sub.id)))
        assert held[b"t"].decode() == codes.token_digest(str(token))
        assert str(token).encode() not in b"".join([*held.values(), *held.keys()])
    assert (await v.state(str(subs[0].id))).token is None  # a duplicate's answer carries none


def base64url(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.mark.parametrize("token", [None, "", "x", "A" * 43, "A" * 5000, "\x00" * 43, "٠" * 43])
async def test_without_the_token_nothing_is_spent(
    store: Redis, postgres: Postgres, fake: FakeSms, token: str | None
) -> None:
    from leadcap.errors import NotFound

    v, sub, (code, right) = await code_sent(store, postgres, fake)
    for typed in (code, "00000"):
        with pytest.raises(NotFound):
            await v.verify(str(sub.id), typed, token)
    with pytest.raises(NotFound):
        await v.resend(str(sub.id), token, ip(v, "b1"))
    await assert_nothing_spent(store, fake, v, sub, (code, right))


async def test_a_hundred_wrong_tokens_at_once_spend_nothing(
    store: Redis, postgres: Postgres, fake: FakeSms
) -> None:
    import asyncio

    from leadcap.errors import NotFound

    v, sub, (code, right) = await code_sent(store, postgres, fake)
    calls = [v.verify(str(sub.id), (code, "00000")[i % 2], forged(right)) for i in range(100)]
    calls += [v.resend(str(sub.id), forged(right), f"b{i}") for i in range(30)]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(o, NotFound) for o in outcomes), [
        o for o in outcomes if not isinstance(o, NotFound)
    ]
    await assert_nothing_spent(store, fake, v, sub, (code, right))


async def test_a_code_not_sent_still_gives_a_token_to_resend_with(
    store: Redis, postgres: Postgres, fake: FakeSms
) -> None:
    v = verifier(store, postgres, fake, VERIFY_RESEND_AFTER="0")
    fake.mode = "5xx"
    sub = lead()
    first = await v.start(sub, ip(v, "b1"))
    assert first.body() == {"status": "queued", "verification": {"available": False, "token": first.token}}
    fake.mode = "ok"
    assert (await v.resend(str(sub.id), first.token, ip(v, "b1"))).available
    assert (await v.verify(str(sub.id), fake.last_code(local(sub)), first.token)).phone == sub.phone
