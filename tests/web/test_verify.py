"""Phone verification through the app `create_app()` builds, in process (LEADCAP_VERIFY=sms), and
a real worker, with the fake Kavenegar and SMS.ir servers: the whole flow, every error row, the
degraded answers, and no code in any log."""

from __future__ import annotations

import asyncio
import base64
import itertools
import re
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import orjson
import pytest
from pymongo import MongoClient

from leadcap import keys
from leadcap.stores.redis import Redis
from tests import factories, fakesms, inprocess, servers
from tests.fakesms import FakeSms
from tests.inprocess import App
from tests.servers import Process, Server, client
from tests.web.test_leads_api import assert_rate_headers

FORM = {"content-type": "application/x-www-form-urlencoded"}
VERIFY_KEY = "0123456789abcdef" * 4
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@pytest.fixture(autouse=True)
def fake_answers_ok(fake: FakeSms) -> None:
    fake.mode = "ok"


async def code_sent(http: httpx.AsyncClient, fake: FakeSms) -> tuple[str, str, str]:
    """POST a fresh number; (the lead's id, the token of its 202, the code the provider got)."""
    number = factories.mobile()
    lead = (await http.post("/api/leads/", json={"phone": number})).json()
    return lead["id"], lead["verification"]["token"], fake.last_code(local(number))


def verify_env(env: dict[str, str], fake: FakeSms, provider: str, **extra: str) -> dict[str, str]:
    return {
        **env,
        "LEADCAP_VERIFY": "sms",
        "LEADCAP_SMS_PROVIDER": provider,
        "LEADCAP_SMS_BASE_URL": fake.url,
        "LEADCAP_SMS_API_KEY": fakesms.API_KEY,
        "LEADCAP_SMS_TEMPLATE": "leadcap-otp" if provider == "kavenegar" else "100200",
        "LEADCAP_VERIFY_KEY": VERIFY_KEY,
        **extra,
    }


@pytest.fixture(scope="module")
async def kavenegar_server(env: dict[str, str], fake: FakeSms) -> AsyncIterator[App]:
    async with inprocess.running(verify_env(env, fake, "kavenegar")) as running:
        yield running


@pytest.fixture(scope="module")
async def smsir_server(env: dict[str, str], fake: FakeSms) -> AsyncIterator[App]:
    """SMS.ir, with a short code life, a short cooldown and a provider timeout of half a second."""
    extra = {"LEADCAP_SMS_TIMEOUT": "0.5", "LEADCAP_VERIFY_CODE_TTL": "2", "LEADCAP_VERIFY_RESEND_AFTER": "1"}
    async with inprocess.running(verify_env(env, fake, "smsir", **extra)) as running:
        yield running


def local(number: str) -> str:
    return number  # factories.mobile() is already the national 09… form the providers get


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 100000:05d}"


def assert_a_token(token: object) -> None:
    """At least 128 random bits, in URL-safe base64 (JSON, a form field and a cookie carry it as is)."""
    assert isinstance(token, str) and re.fullmatch(r"[A-Za-z0-9_-]{22,}", token), token
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) >= 16


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, object] = body["error"]
    expected = {"code", "message", "attempts_left"} if code == "invalid_code" else {"code", "message"}
    assert set(error) == expected and error["code"] == code and error["message"]
    assert_rate_headers(response)
    return error


async def wait_for_lead(pg: asyncpg.Pool, phone: str, status: str) -> asyncpg.Record:
    async def found() -> asyncpg.Record | None:
        row = await pg.fetchrow("SELECT * FROM leads WHERE phone = $1", phone)
        return row if row is not None and row["status"] == status and row["submissions"] == 1 else None

    row = await servers.wait_for(found, timeout=20)
    assert row is not None, f"{phone} never became {status} with its submission"
    return row  # type: ignore[return-value]


async def test_the_whole_flow(
    kavenegar_server: App, worker: Process, pg: asyncpg.Pool, fake: FakeSms, ip: str, env: dict[str, str]
) -> None:
    number = factories.mobile()
    async with kavenegar_server.client(ip) as http:
        started = time.perf_counter()
        response = await http.post("/api/leads/", json={"phone": factories.persian(number), "source": "hero"})
        elapsed = time.perf_counter() - started
        assert response.status_code == 202, response.text
        body = response.json()
        token = body["verification"].get("token")
        assert body == {
            "id": body["id"],
            "status": "verification_sent",
            "phone": factories.e164(number),
            "duplicate": False,
            "verification": {"expires_in": 120, "resend_in": 60, "token": token},
        }
        assert_a_token(token)
        assert elapsed < 1.0
        sent = [r for r in fake.received if r.receptor == local(number)]
        assert len(sent) == 1 and sent[0].provider == "kavenegar"
        assert sent[0].form == {"receptor": number, "token": sent[0].code, "template": "leadcap-otp"}
        await wait_for_lead(pg, factories.e164(number), "unverified")

        verified = await http.post(
            f"/api/leads/{body['id']}/verify", json={"code": sent[0].code.translate(PERSIAN), "token": token}
        )
        assert verified.status_code == 200, verified.text
        assert verified.json() == {"id": body["id"], "status": "verified", "phone": factories.e164(number)}
        assert_rate_headers(verified)
    async with kavenegar_server.client("127.0.0.1") as http:
        scraped = (await http.get("/metrics")).text
    assert 'leadcap_sms_sends_total{outcome="sent",provider="kavenegar"}' in scraped
    assert 'leadcap_verifications_total{outcome="verified"}' in scraped
    assert re.search(r"^leadcap_sms_budget_left \d+$", scraped, re.M)
    row = await wait_for_lead(pg, factories.e164(number), "verified")
    assert row["verified_at"] is not None
    exported = servers.leadcap("export-leads", "--format", "jsonl", "--status", "verified", env=env)
    assert exported.returncode == 0, exported.stderr
    rows = [orjson.loads(line) for line in exported.stdout.splitlines()]
    mine = [r for r in rows if r["phone"] == factories.e164(number)]
    assert len(mine) == 1 and mine[0]["status"] == "verified" and mine[0]["verified_at"]


async def test_error_rows(kavenegar_server: App, fake: FakeSms, ip: str) -> None:
    async with kavenegar_server.client(ip, headers={"accept-language": "en"}) as http:
        lead_id, token, code = await code_sent(http, fake)
        path = f"/api/leads/{lead_id}"
        error = assert_error(
            await http.post(path + "/verify", json={"code": wrong(code), "token": token}), 422, "invalid_code"
        )
        assert error["attempts_left"] == 4 and "4" in str(error["message"])
        assert_error(
            await http.post(f"/api/leads/{uuid.uuid4()}/verify", json={"code": code, "token": token}),
            404,
            "not_found",
        )
        assert_error(
            await http.post(path + "/verify", json={"code": 12345, "token": token}), 400, "invalid_body"
        )
        assert_error(
            await http.post(path + "/verify", content=b"[]", headers={"content-type": "application/json"}),
            400,
            "invalid_body",
        )
        assert_error(
            await http.post(path + "/verify", content=b"x", headers={"content-type": "text/plain"}),
            415,
            "unsupported_media_type",
        )
        too_early = await http.post(path + "/resend", json={"token": token})
        assert_error(too_early, 429, "rate_limited")
        assert 55 <= int(too_early.headers["Retry-After"]) <= 60
        assert (await http.post("/api/leads/nope/verify", json={"code": code})).status_code == 404
        assert_error(
            await http.post(f"/api/leads/{uuid.uuid4()}/resend", json={"token": token}), 404, "not_found"
        )
        assert (await http.post(path + "/verify", json={"code": code, "token": token})).status_code == 200
        assert_error(
            await http.post(path + "/verify", json={"code": code, "token": token}), 410, "code_expired"
        )  # used
        assert_error(await http.post(path + "/resend", json={"token": token}), 404, "not_found")  # done


async def test_five_wrong_codes_in_persian(kavenegar_server: App, fake: FakeSms, ip: str) -> None:
    async with kavenegar_server.client(ip, headers={"accept-language": "fa"}) as http:
        lead_id, token, code = await code_sent(http, fake)
        path = f"/api/leads/{lead_id}/verify"
        for left in (4, 3, 2, 1):
            error = assert_error(
                await http.post(path, json={"code": wrong(code), "token": token}), 422, "invalid_code"
            )
            assert error["attempts_left"] == left
            assert str(left).translate(PERSIAN) in str(error["message"])
        error = assert_error(
            await http.post(path, json={"code": wrong(code), "token": token}), 429, "too_many_attempts"
        )
        assert re.search(r"[\u0600-\u06FF]", str(error["message"]))
        assert_error(await http.post(path, json={"code": code, "token": token}), 429, "too_many_attempts")


async def test_a_duplicate_sends_nothing_new(kavenegar_server: App, fake: FakeSms, ip: str) -> None:
    number = factories.mobile()
    async with kavenegar_server.client(ip) as http:
        first = (await http.post("/api/leads/", json={"phone": number})).json()
        again = (await http.post("/api/leads/", json={"phone": factories.arabic_indic(number)})).json()
    assert again["id"] == first["id"] and again["duplicate"] is True
    assert again["status"] == "verification_sent" and 0 < again["verification"]["expires_in"] <= 120
    assert "token" not in again["verification"]  # the id is no key to the owner's code step
    assert len(fake.codes_for(local(number))) == 1


async def test_a_bot_is_told_a_code_went_out_and_none_does(
    kavenegar_server: App, fake: FakeSms, ip: str
) -> None:
    number = factories.mobile()
    async with kavenegar_server.client(ip) as http:
        response = await http.post("/api/leads/", json={"phone": number, "website": "http://spam.example"})
        preflight = await http.options(f"/api/leads/{uuid.uuid4()}/verify")
    assert response.status_code == 202
    verification = response.json()["verification"]
    token = verification.pop("token")
    assert verification == {"expires_in": 120, "resend_in": 60}  # as a person's
    assert_a_token(token)
    assert fake.codes_for(local(number)) == []
    assert preflight.status_code == 204


async def test_provider_down_still_captures(
    kavenegar_server: App, worker: Process, pg: asyncpg.Pool, fake: FakeSms, ip: str
) -> None:
    fake.mode = "5xx"
    number = factories.mobile()
    async with kavenegar_server.client(ip) as http:
        response = await http.post("/api/leads/", json={"phone": number})
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    verification = response.json()["verification"]
    token = verification.pop("token")
    assert verification == {"available": False}
    assert_a_token(token)  # so that a resend stays possible
    await wait_for_lead(pg, factories.e164(number), "unverified")


async def test_a_slow_provider_does_not_hold_the_202(smsir_server: App, fake: FakeSms, ip: str) -> None:
    fake.mode, fake.slow_s = "slow", 3.0
    async with smsir_server.client(ip) as http:
        started = time.perf_counter()
        response = await http.post("/api/leads/", json={"phone": factories.mobile()})
        elapsed = time.perf_counter() - started
    assert response.status_code == 202 and response.json()["verification"]["available"] is False
    assert elapsed < 1.5, elapsed


async def test_smsir_expiry_and_resend(smsir_server: App, fake: FakeSms, ip: str, redis: Redis) -> None:
    number = factories.mobile()
    async with smsir_server.client(ip) as http:
        lead = (await http.post("/api/leads/", json={"phone": number})).json()
        token = lead["verification"].pop("token")
        assert lead["verification"] == {"expires_in": 2, "resend_in": 1}
        got = fake.received[-1]
        assert got.provider == "smsir" and got.headers["x-api-key"] == fakesms.API_KEY
        assert got.json == {
            "mobile": number,
            "templateId": 100200,
            "parameters": [{"name": "CODE", "value": got.code}],
        }
        await servers.until_gone(redis, keys.verification_code(lead["id"]))  # the code expired
        path = f"/api/leads/{lead['id']}"
        assert_error(
            await http.post(path + "/verify", json={"code": got.code, "token": token}), 410, "code_expired"
        )
        resent = await http.post(path + "/resend", json={"token": token})
        assert resent.status_code == 202, resent.text
        assert resent.json() == {  # the same token still holds: none is given again
            "id": lead["id"],
            "status": "verification_sent",
            "verification": {"expires_in": 2, "resend_in": 1},
        }
        assert_rate_headers(resent)
        ok = await http.post(path + "/verify", json={"code": fake.last_code(number), "token": token})
        assert ok.status_code == 200, ok.text


async def test_the_page_without_javascript(kavenegar_server: App, fake: FakeSms, ip: str) -> None:
    number = factories.mobile()
    async with kavenegar_server.client(ip) as http:
        posted = await http.post("/api/leads/", content=f"phone={number}".encode(), headers=FORM)
        assert posted.status_code == 303
        step = posted.headers["location"]
        assert step.startswith("/?verify=")
        lead_id = step.removeprefix("/?verify=")
        token = token_cookie(posted, lead_id)
        assert token not in step  # never in a URL
        page = await http.get(step)
        assert page.status_code == 200 and token not in page.text
        assert 'inputmode="numeric"' in page.text and 'autocomplete="one-time-code"' in page.text
        assert f'action="/api/leads/{lead_id}/verify"' in page.text and "/resend" in page.text
        code = fake.last_code(local(number))
        async with kavenegar_server.client("127.0.0.250", headers=elsewhere()) as stranger:
            # another browser on the same step (the id is in its URL) has no cookie: it gets nowhere
            refused = await stranger.post(
                f"/api/leads/{lead_id}/verify", content=f"code={code}".encode(), headers=FORM
            )
            assert refused.status_code == 404 and "text/html" in refused.headers["content-type"]
            assert 'role="alert"' in refused.text
            forged = await stranger.post(
                f"/api/leads/{lead_id}/resend", content=b"token=%00", headers={**FORM, **elsewhere()}
            )
            assert forged.status_code == 404
        bad = await http.post(
            f"/api/leads/{lead_id}/verify", content=f"code={wrong(code)}".encode(), headers=FORM
        )
        assert bad.status_code == 422 and "text/html" in bad.headers["content-type"]
        assert 'autocomplete="one-time-code"' in bad.text and 'role="alert"' in bad.text
        assert "4" in bad.text.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))  # one try spent, not more
        good = await http.post(
            f"/api/leads/{lead_id}/verify", content=f"code={code.translate(PERSIAN)}".encode(), headers=FORM
        )
        assert good.status_code == 303 and good.headers["location"] == "/?verified=1"
        cleared = [c for c in good.headers.get_list("set-cookie") if c.startswith("leadcap_vt=")]
        assert len(cleared) == 1 and re.search(r"(?i)max-age=0\b", cleared[0]), cleared
        thanks = await http.get("/?verified=1")
        assert 'role="status"' in thanks.text


async def test_the_page_without_javascript_resends_with_its_cookie(
    smsir_server: App, fake: FakeSms, ip: str, redis: Redis
) -> None:
    number = factories.mobile()
    async with smsir_server.client(ip) as http:
        posted = await http.post("/api/leads/", content=f"phone={number}".encode(), headers=FORM)
        lead_id = posted.headers["location"].removeprefix("/?verify=")
        token_cookie(posted, lead_id)
        await cooled_down(redis, lead_id)
        resent = await http.post(f"/api/leads/{lead_id}/resend", headers=FORM)
        assert resent.status_code == 303 and resent.headers["location"] == f"/?verify={lead_id}"
        assert len(fake.codes_for(number)) == 2
        good = await http.post(
            f"/api/leads/{lead_id}/verify", content=f"code={fake.last_code(number)}".encode(), headers=FORM
        )
        assert good.status_code == 303 and good.headers["location"] == "/?verified=1"


async def test_the_token_cookie_is_secure_when_the_page_is(kavenegar_server: App, ip: str) -> None:
    """Behind the trusted proxy that says the browser came over HTTPS, the cookie is Secure; a
    client that only claims it (not a trusted proxy) does not make it so, nor does plain HTTP."""
    https = {**FORM, "x-forwarded-proto": "https"}
    async with kavenegar_server.client("127.0.0.250") as proxy:
        posted = await proxy.post(
            "/api/leads/", content=f"phone={factories.mobile()}".encode(), headers={**https, **elsewhere()}
        )
    assert posted.status_code == 303
    assert re.search(r"(?i);\s*secure\b", posted.headers["set-cookie"]), posted.headers["set-cookie"]
    async with kavenegar_server.client(ip) as direct:
        for headers in (https, FORM):
            posted = await direct.post(
                "/api/leads/", content=f"phone={factories.mobile()}".encode(), headers=headers
            )
            assert posted.status_code == 303
            assert not re.search(r"(?i);\s*secure\b", posted.headers["set-cookie"]), posted.headers[
                "set-cookie"
            ]


def token_cookie(response: httpx.Response, lead_id: str) -> str:
    """The code step's token cookie of a 303: HttpOnly, SameSite, only for this lead's two
    endpoints, short-lived. Returns the token."""
    from http.cookies import SimpleCookie

    headers = [c for c in response.headers.get_list("set-cookie") if c.startswith("leadcap_vt=")]
    assert len(headers) == 1, response.headers.get_list("set-cookie")
    jar: SimpleCookie = SimpleCookie()
    jar.load(headers[0])
    morsel = jar["leadcap_vt"]
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() in ("lax", "strict")
    assert morsel["path"] == f"/api/leads/{lead_id}/"
    assert 0 < int(morsel["max-age"]) <= 3600
    assert_a_token(morsel.value)
    return morsel.value


_addresses = itertools.count(1)


def elsewhere() -> dict[str, str]:
    """Another client each call: an address of its own behind the suite's trusted proxy
    (127.0.0.250), so a stranger's many tries are judged on the token, not on a rate limit."""
    n = next(_addresses) + 250 * (uuid.uuid4().int % 200)
    return {"x-forwarded-for": f"198.18.{n // 250 % 250}.{n % 250 + 1}"}


async def cooled_down(redis: Redis, lead_id: str) -> None:
    """Wait until this lead may be sent a new code (its resend cooldown is over)."""
    await servers.until_gone(redis, keys.verification_wait(lead_id))


async def test_a_stranger_with_the_id_spends_no_try(kavenegar_server: App, fake: FakeSms, ip: str) -> None:
    """Issue 21: a duplicate submission answers the lead's id to anyone; with it, a stranger used
    up the owner's tries. Without the token of the first 202, nothing is spent, whatever is sent."""
    number = factories.mobile()
    async with kavenegar_server.client(ip) as owner:
        lead = (await owner.post("/api/leads/", json={"phone": number})).json()
    token = lead["verification"]["token"]
    code = fake.last_code(local(number))
    path = f"/api/leads/{lead['id']}"
    forged = [
        {},
        {"token": None},
        {"token": ""},
        {"token": token[:-1]},
        {"token": token + "A"},
        {"token": token.swapcase()},
        {"token": "A" * 3000},  # oversize (the body stays under 4 KiB)
        {"token": token[:10] + "\x00" + token[11:]},
        {"token": "\x1f\x7f\n" + token},
        {"token": "\u202e" + token},
    ]
    not_strings: list[object] = [1, 1.5, True, [token], {"token": token}]
    async with kavenegar_server.client("127.0.0.250") as stranger:
        again = (await stranger.post("/api/leads/", json={"phone": number}, headers=elsewhere())).json()
        assert again["id"] == lead["id"] and "token" not in again["verification"]
        for body in forged:
            for typed in (code, wrong(code)):  # even the right code does nothing without the token
                answer = await stranger.post(
                    path + "/verify", json={"code": typed, **body}, headers=elsewhere()
                )
                assert_error(answer, 404, "not_found")
            assert_error(
                await stranger.post(path + "/resend", json=body, headers=elsewhere()), 404, "not_found"
            )
        for value in not_strings:
            answer = await stranger.post(
                path + "/verify", json={"code": code, "token": value}, headers=elsewhere()
            )
            assert_error(answer, 400, "invalid_body")
            answer = await stranger.post(path + "/resend", json={"token": value}, headers=elsewhere())
            assert_error(answer, 400, "invalid_body")
        for content, kind, status in (
            (b"[]", "application/json", 400),
            (b"{", "application/json", 400),
            (b"\xff\xfe", "application/json", 400),
            (b"token=%ff", FORM["content-type"], 400),
            (token.encode(), "text/plain", 415),
        ):
            answer = await stranger.post(
                path + "/resend", content=content, headers={"content-type": kind, **elsewhere()}
            )
            assert answer.status_code == status, (content, answer.text)
        form = await stranger.post(
            path + "/verify",
            content=f"code={code}&token=%00{token[1:]}".encode(),
            headers={**FORM, **elsewhere()},
        )
        assert form.status_code == 404
    async with kavenegar_server.client(ip) as owner:
        error = assert_error(
            await owner.post(path + "/verify", json={"code": wrong(code), "token": token}),
            422,
            "invalid_code",
        )
        assert error["attempts_left"] == 4  # the owner's first try: the stranger spent none
        ok = await owner.post(path + "/verify", json={"code": code, "token": token})
        assert ok.status_code == 200, ok.text
    assert len(fake.codes_for(local(number))) == 1  # and no resend went out


def forge(token: str) -> str:
    """A token of the right shape that is not this one."""
    return token[:-2] + ("BB" if token.endswith("AA") else "AA")


async def test_many_strangers_at_once_spend_no_try(
    kavenegar_server: App, fake: FakeSms, ip: str, redis: Redis
) -> None:
    """Parallel /verify calls with a wrong token race the try counter: none may move it."""
    number = factories.mobile()
    async with kavenegar_server.client(ip) as owner:
        lead = (await owner.post("/api/leads/", json={"phone": number})).json()
    token, path = lead["verification"]["token"], f"/api/leads/{lead['id']}/verify"
    code = fake.last_code(local(number))
    async with kavenegar_server.client("127.0.0.250") as stranger:
        answers = await asyncio.gather(
            *(
                stranger.post(
                    path,
                    json={"code": (code, wrong(code))[i % 2], "token": forge(token)},
                    headers=elsewhere(),
                )
                for i in range(60)
            )
        )
    assert {a.status_code for a in answers} == {404}, [a.text for a in answers if a.status_code != 404]
    assert await redis.client_for_tests().hget(keys.verification_code(lead["id"]), "tries") == b"0"
    async with kavenegar_server.client(ip) as owner:
        error = assert_error(
            await owner.post(path, json={"code": wrong(code), "token": token}), 422, "invalid_code"
        )
        assert error["attempts_left"] == 4
        ok = await owner.post(path, json={"code": code, "token": token})
        assert ok.status_code == 200, ok.text


async def test_many_strangers_at_once_spend_no_resend(
    smsir_server: App, fake: FakeSms, ip: str, redis: Redis
) -> None:
    """Parallel /resend calls with a wrong token race the cooldown and the SMS budgets: none may
    start the cooldown or send a code, and the owner's resend still goes out."""
    number = factories.mobile()
    async with smsir_server.client(ip) as owner:
        lead = (await owner.post("/api/leads/", json={"phone": number})).json()
    token, path = lead["verification"]["token"], f"/api/leads/{lead['id']}/resend"
    await cooled_down(redis, lead["id"])
    async with smsir_server.client("127.0.0.250") as stranger:
        answers = await asyncio.gather(
            *(stranger.post(path, json={"token": forge(token)}, headers=elsewhere()) for _ in range(30)),
            *(stranger.post(path, headers=elsewhere()) for _ in range(10)),
        )
    assert {a.status_code for a in answers} == {404}, [a.text for a in answers if a.status_code != 404]
    assert not await redis.client_for_tests().exists(keys.verification_wait(lead["id"]))
    assert len(fake.codes_for(number)) == 1
    async with smsir_server.client(ip) as owner:
        resent = await owner.post(path, json={"token": token})
        assert resent.status_code == 202 and resent.json()["status"] == "verification_sent", resent.text
    assert len(fake.codes_for(number)) == 2


async def test_no_code_in_any_log(
    kavenegar_server: App, smsir_server: App, fake: FakeSms, mongo_url: str, ip: str
) -> None:
    """Every code the fakes received (this test's own, and any sent before it) is absent from both
    servers' logs and from the request logs in MongoDB."""
    logged: list[str] = []  # the request ids of this test's last requests, once in MongoDB
    for running in (kavenegar_server, smsir_server):
        async with running.client(ip) as http:
            lead_id, token, code = await code_sent(http, fake)
            path = f"/api/leads/{lead_id}/verify"
            await http.post(path, json={"code": wrong(code), "token": token})
            verified = await http.post(path, json={"code": code, "token": token})
            assert verified.status_code == 200, verified.text
            logged.append(verified.headers["x-request-id"])
    codes = {r.code for r in fake.received}
    with MongoClient(mongo_url) as mongo:
        request_logs = mongo.get_default_database()["request_logs"]

        async def flushed() -> bool:  # the request log flushes every half second
            return all(
                request_logs.find_one({"entries": {"$elemMatch": {"request_id": rid}}}) for rid in logged
            )

        assert await servers.wait_for(flushed, timeout=10), "the request log never reached MongoDB"
        documents = [orjson.dumps(d, default=str).decode() for d in request_logs.find({})]
    texts = [kavenegar_server.output(), smsir_server.output(), *documents]
    for code in codes:
        # a code on its own, not five digits inside a hex id (01a24930-…) that happen to match it
        pattern = re.compile(rf"(?<![0-9A-Za-z]){code}(?![0-9A-Za-z])")
        for text in texts:
            assert not pattern.search(text), f"a code is in a log: {pattern.search(text)}"


async def test_verification_off_is_unchanged(server: Server, ip: str) -> None:
    async with client(server.url, ip) as http:
        response = await http.post("/api/leads/", json={"phone": factories.mobile()})
        assert set(response.json()) == {"id", "status", "phone", "duplicate"}  # and no token
        assert (
            await http.post(f"/api/leads/{response.json()['id']}/verify", json={"code": "12345"})
        ).status_code == 404
