"""Erasure and retention: the lead's owner stays in control of their number.

The invariant, before any code:

- An erase reaches every store that ever held the number: PostgreSQL (leads, submissions, dead
  letters, every webhook payload: stores/postgres/privacy.py's ERASED_ROWS), Redis (the dedupe
  key, verifications, the number's SMS budgets) and the request log (the entries that name its
  submissions). The audit trail stays, without the number, with a row saying who erased.
- Nothing accepted before the erase brings the number back: the erase first writes an erasure
  mark (a hash of the number and a cutoff time) that both writers respect, so a submission still
  in the stream when the erase runs is skipped when it lands.
- Retention (LEADCAP_LEAD_RETENTION_DAYS) runs the same erase, a bounded batch per transaction,
  once a day across all workers.

Modules: `erasure` (one number, or a batch: the order of the steps and the rules), `retention`
(the daily job).
"""
