"""Which Bot API answers disable a channel, as a plain function."""

from __future__ import annotations

from leadcap.notify.bots import refusal


def test_blocked_kicked_missing_chat_or_bad_token_disable() -> None:
    assert refusal(403, "Forbidden: bot was blocked by the user")
    assert refusal(403, "Forbidden: bot was kicked from the group chat")
    assert refusal(400, "Bad Request: chat not found")
    assert refusal(401, "Unauthorized")


def test_rate_limits_and_passing_failures_do_not() -> None:
    assert not refusal(403, "HIT_LIMIT")  # Bale's older rate-limit answer is a 403
    assert not refusal(429, "Too Many Requests: retry after 5")
    assert not refusal(400, "Bad Request: message is too long")
    assert not refusal(502, "Bad Gateway")
