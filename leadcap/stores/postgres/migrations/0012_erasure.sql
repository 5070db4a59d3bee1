-- Erasure and retention (leadcap/privacy/): a lead's number can be removed from every store.
--
-- 1. The admin audit trail outlives the lead. lead_status_changes held a foreign key that
--    cascaded on the lead's deletion, which would erase who changed what and when. The rows hold
--    no number (lead id, statuses, who, when), so they stay, pointing at an id that is gone; an
--    erase adds its own row (new_status 'erased', changed_by who erased).
ALTER TABLE lead_status_changes DROP CONSTRAINT IF EXISTS lead_status_changes_lead_id_fkey;

-- 2. Erasure marks: a submission of an erased number that was accepted before the erase but is
--    still in flight (in the Redis stream, or retried from a worker's hands) must not bring the
--    lead back when it lands. The writers (record_submissions.sql, mark_verified.sql) skip a
--    submission for which lead_erased() is true. A mark keeps the number's SHA-256, never the
--    number, and only for as long as such a submission can still land: the daily job deletes the
--    marks older than the oldest entry still in the lead stream (leadcap/privacy/retention.py).
CREATE TABLE lead_erasures (
    phone_hash    bytea       PRIMARY KEY,           -- sha256 of the E.164 number
    erased_before timestamptz NOT NULL,              -- submissions accepted up to here are erased
    erased_at     timestamptz NOT NULL DEFAULT now()
);

-- The one rule, for both writers: a submission accepted (by the web tier) at or before its
-- number's erasure mark is not written. An empty table costs an index probe per submission.
CREATE FUNCTION lead_erased(phone text, submitted_at timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM lead_erasures e
        WHERE e.phone_hash = sha256(convert_to(phone, 'UTF8')) AND submitted_at <= e.erased_before
    )
$$;

-- 3. Retention's daily run, claimed by one worker per day (leadcap/privacy/retention.py): the row
--    is the lock, so any number of workers run the job once. `summary` is what the last run did.
CREATE TABLE maintenance_runs (
    job         text        PRIMARY KEY,
    started_at  timestamptz,
    finished_at timestamptz,
    summary     jsonb       NOT NULL DEFAULT '{}'
);

-- Retention reads leads by their last submission, oldest first, a batch at a time.
CREATE INDEX leads_last_submitted_at_idx ON leads (last_submitted_at, phone);
