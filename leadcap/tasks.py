"""The worker's one task: record a submission in PostgreSQL, then acknowledge it."""

from __future__ import annotations

from typing import Any

from taskiq import Context, TaskiqDepends

from leadcap.submission import Submission


async def process_submission(submission: dict[str, Any], context: Context = TaskiqDepends()) -> None:  # noqa: B008 - taskiq injects it
    """Write the submission (group-committed with its neighbours), then ack its message.

    The ack comes strictly after the commit: a worker killed in between leaves the message
    pending, another worker reclaims it, and the idempotent write counts it once.
    """
    writer = context.state.lead_writer
    await writer.submit(Submission.from_message(submission))
    await context.ack()
