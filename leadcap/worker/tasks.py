"""The worker's one task: record a submission in PostgreSQL, then acknowledge it.

The task is made for one writer and one dead-letter path (`lead_task`), which the worker passes
in when it registers it: nothing is looked up on the broker's state at run time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from taskiq import Context, TaskiqDepends

from leadcap.groupcommit import GroupCommit
from leadcap.intake.submission import Submission, Unreadable, read_message

Bury = Callable[[dict[str, Any], str], Awaitable[None]]  # (the message, why): into dead_letters
Task = Callable[..., Awaitable[None]]


def lead_task(writer: GroupCommit[Submission], bury: Bury) -> Task:
    """The lead task, writing through `writer` and burying what it cannot read with `bury`."""

    async def process_submission(submission: Any = None, context: Context = TaskiqDepends()) -> None:  # noqa: B008 - taskiq injects it
        """Write the submission (group-committed with its neighbours), then ack its message.

        The ack comes strictly after the commit: a worker killed in between leaves the message
        pending, another worker reclaims it, and the idempotent write counts it once. A message
        that is no submission at all goes straight to the dead letters (then is acked): it could
        never be written, and must not bounce between workers forever. (`submission` has a
        default so that a message without it reaches this point instead of failing in Taskiq,
        unacked.)
        """
        message = submission if isinstance(submission, dict) else {"message": submission}
        try:
            item = read_message(message)
        except Unreadable as exc:
            if message is not submission:  # keep Taskiq's id: the only handle left on it
                message["task_id"] = context.message.task_id
            await bury(message, str(exc))
            await context.ack()
            return
        await writer.submit(item)
        await context.ack()

    return process_submission
