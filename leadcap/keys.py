"""Every Redis key, stream and group name leadcap uses, in one place."""

from __future__ import annotations

PREFIX = "leadcap:"

LEAD_STREAM = PREFIX + "leads"  # the Taskiq stream broker's queue
CONSUMER_GROUP = "leadcap-workers"
TASK_NAME = "leadcap.process_submission"

LANDING_VERSION = PREFIX + "landing:version"  # bumped by `flush-cache`
LANDING_CAMPAIGN = PREFIX + "landing:campaign"  # the campaign document `flush-cache` published
LANDING_CHANNEL = PREFIX + "landing:flushed"  # pub/sub (+ ":<db>"): new versions, to web processes
WORKERS = PREFIX + "workers"  # sorted set: consumer name -> time of its latest heartbeat
HEARTBEAT_TTL_S = 15  # a worker silent this long is no longer counted (and is pruned)
WORKERS_IDLE_TTL_S = 86_400  # the set itself goes after a day without any heartbeat
HEARTBEAT_EVERY_S = 5


def landing_ack(version: int) -> str:
    """The set of web processes that serve landing version `version`, for `flush-cache` to await."""
    return PREFIX + "landing:ack:" + str(version)


def rate_bucket(bucket: str) -> str:
    """The sorted set holding one client's recent POST times."""
    return PREFIX + "rl:" + bucket


def api_rate(key_id: int) -> str:
    """The sorted set holding one read API key's recent request times."""
    return PREFIX + "rl:api:" + str(key_id)


def dedupe(e164: str, campaign: str = "default") -> str:
    """Remembers the first submission id of a phone to one campaign during the dedupe window.
    The default campaign's key is the one used before campaigns existed, so an upgrade keeps
    the window of submissions already remembered."""
    return PREFIX + "dd:" + e164 if campaign == "default" else f"{PREFIX}dd:{campaign}:{e164}"


STATS_PROCESSED = PREFIX + "stats:processed"  # submissions committed by all workers
STATS_FAILED = PREFIX + "stats:failed"  # submissions PostgreSQL refused
STATS_DEAD_LETTERS = PREFIX + "stats:dead_letters"  # submissions moved to the dead_letters table
WEBHOOK_OUTCOMES = PREFIX + "stats:webhooks"  # hash: webhook attempts by outcome, all workers


def visits_day(day: str) -> str:
    """The HyperLogLog of a day's unique visitors (`2026-11-30`, in LEADCAP_TIMEZONE)."""
    return PREFIX + "visits:d:" + day


def visits_hour(hour: str) -> str:
    """The HyperLogLog of an hour's unique visitors (`2026-11-30T21`, in LEADCAP_TIMEZONE)."""
    return PREFIX + "visits:h:" + hour


def variant_visits_day(slug: str, variant: str, day: str) -> str:
    """The HyperLogLog of a day's unique visitors shown variant `variant` of campaign `slug`
    (`2026-11-30`, in LEADCAP_TIMEZONE; slug and name are [a-z0-9-], so `:` splits them)."""
    return f"{PREFIX}visits:v:{slug}:{variant}:{day}"


def variant_names(slug: str) -> str:
    """The set of the variant names of campaign `slug` whose views were counted: which
    HyperLogLogs a report reads, even for a variant that no lead has come from yet."""
    return PREFIX + "visits:variants:" + slug


ADMIN_SESSION = PREFIX + "admin:session:"  # + sha256 of the cookie's token; expires when idle
# Sign-in attempts, sorted sets of times: failures under "pair:<name>:<bucket>", "ip:<bucket>" and
# "user:<name>" (the name hashed), and attempts being checked under ADMIN_CHECKING the same way.
ADMIN_FAILURES = PREFIX + "admin:failures:"
ADMIN_CHECKING = PREFIX + "admin:checking:"


# Phone verification (leadcap/verification/verifier.py). A code lives only as an HMAC in its hash.
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


def sms_phone_budgets(e164: str) -> tuple[str, str]:
    """A number's own SMS budgets (its sends this hour, this day): shared by all its campaigns."""
    return sms_rate("ph", e164), sms_rate("pd", e164)


SMS_ALL = sms_rate("all", "")  # the global hourly budget (LEADCAP_SMS_BUDGET)
STATS_SMS_VERIFIED = PREFIX + "stats:verified"  # codes accepted, all processes
STATS_SMS_SENT = PREFIX + "stats:sms_sent"  # codes sent, all processes
