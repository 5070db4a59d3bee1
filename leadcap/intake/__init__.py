"""The intake: what a visitor posts becomes a queued submission, or a precise refusal.

`submission` reads and validates a body (with `phone`'s rules) into a `Submission` and writes the
queue message; `accept` (`Intake`) rate-limits, dedupes and enqueues it in one Redis round trip,
or writes it straight to PostgreSQL while Redis is away; `ratelimit` does the window arithmetic,
`clientip` finds the client behind trusted proxies, `origins` refuses other sites' pages.

Other features reach the intake only through `submission` (the `Submission` and its queue message).
"""
