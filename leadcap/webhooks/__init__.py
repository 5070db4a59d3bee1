"""Signed webhooks from a transactional outbox.

The invariant, before any code:

- The event is written in the same PostgreSQL statement (so the same transaction) that records
  the lead: `sql/record_submissions.sql` inserts one `lead.created` event per lead it creates and
  one pending delivery per subscribed endpoint. The worker acknowledges the queue message only
  after that commit (tasks.py), so a lead never exists without its event, an event never exists
  without its lead, and a redelivered message (its submission id already recorded) creates no
  second event.
- A delivery is done only after a 2xx was received and recorded. A claim leases a row by moving
  its `next_attempt_at` past the send timeout; a worker killed mid-send leaves the row to become
  due again when the lease ends, and it is sent again with the same `webhook-id` (at least once).

Modules: `signing` (Standard Webhooks signatures), `schedule` (retry rules), `breaker`
(per-endpoint isolation), `sender` (the signed POST, through leadcap.outbound's client and its
SSRF guard), `delivery` (the loop), `endpoints` (what the CLI calls). The SQL is
leadcap/stores/postgres/webhooks.py's.
"""

from __future__ import annotations

EVENT_TYPES = ("lead.created", "lead.verified", "lead.erased")  # lead.erased: leadcap/privacy/
