"""Every Redis key, stream and group name leadcap uses, in one place."""

from __future__ import annotations

PREFIX = "leadcap:"

LEAD_STREAM = PREFIX + "leads"  # the Taskiq stream broker's queue
CONSUMER_GROUP = "leadcap-workers"
TASK_NAME = "leadcap.process_submission"

LANDING_VERSION = PREFIX + "landing:version"  # bumped by `flush-cache`
LANDING_HTML = PREFIX + "landing:html"  # the shared copy of the built page
LANDING_CHANNEL = PREFIX + "landing:flushed"  # pub/sub (+ ":<db>"): new versions, to web processes
WORKER_HEARTBEAT = PREFIX + "worker:"  # + consumer name, with expiry
HEARTBEAT_TTL_S = 15
HEARTBEAT_EVERY_S = 5


def landing_ack(version: int) -> str:
    """The set of web processes that serve landing version `version`, for `flush-cache` to await."""
    return PREFIX + "landing:ack:" + str(version)


def rate_bucket(bucket: str) -> str:
    """The sorted set holding one client's recent POST times."""
    return PREFIX + "rl:" + bucket


def dedupe(e164: str) -> str:
    """Remembers the first submission id of a phone during the dedupe window."""
    return PREFIX + "dd:" + e164


STATS_PROCESSED = PREFIX + "stats:processed"  # submissions committed by all workers
STATS_FAILED = PREFIX + "stats:failed"  # submissions PostgreSQL refused


# Phone verification (leadcap/verification.py). A code lives only as an HMAC in its hash.
VERIFY_HOLD_S = 3600  # a verification hash outlives its code so a visitor can still resend


def verification(submission_id: str) -> str:
    """The hash of one pending verification: phone, lead, HMAC of the live code, tries, times."""
    return PREFIX + "vf:" + submission_id


def verification_code(submission_id: str) -> str:
    """The hash of the live code: its HMAC (h), tries and, once killed, dead; expires with the code."""
    return verification(submission_id) + ":code"


def verification_wait(submission_id: str) -> str:
    """Present while a new code may not be asked for yet (the resend cooldown)."""
    return verification(submission_id) + ":wait"


def sms_rate(scope: str, name: str) -> str:
    """A sorted set of recent SMS sends in one budget: scope is phone-h, phone-d, ip or all."""
    return PREFIX + "sms:" + scope + ":" + name


SMS_ALL = sms_rate("all", "")  # the global hourly budget (LEADCAP_SMS_BUDGET)
STATS_SMS_VERIFIED = PREFIX + "stats:verified"  # codes accepted, all processes
STATS_SMS_SENT = PREFIX + "stats:sms_sent"  # codes sent, all processes
