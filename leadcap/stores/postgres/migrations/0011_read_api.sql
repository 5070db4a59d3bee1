-- The read API (GET /api/v1/leads): keys that may read, and the order in which leads committed.
--
-- commit_xid: the id of the transaction that created the lead (pg_current_xact_id(), a 64-bit
-- xid8 that never wraps). A reader pages in (commit_xid, id) order and only below
-- pg_snapshot_xmin(pg_current_snapshot()): every transaction under that horizon has finished, and
-- every one still running or yet to start has an id at or above it. So a lead can never commit
-- behind a cursor already handed out, however workers interleave their commits (docs/read-api.md).
-- The DEFAULT fills it on every path that inserts a lead (the worker's batch, the web tier's
-- direct path, verification), at the cost of reading a value the transaction already holds.
-- Leads recorded before this migration read 0: all committed, they come first, in id order.
ALTER TABLE leads ADD COLUMN commit_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE leads ALTER COLUMN commit_xid SET DEFAULT pg_current_xact_id();
CREATE INDEX leads_commit_order_idx ON leads (commit_xid, id);

-- Keys of the read API. Only a keyed hash of each key is kept (HMAC-SHA256; the key itself is
-- shown once by `api-keys add`); `hint` is the first characters of the key, to tell keys apart
-- in `api-keys list`. A revoked key stays listed; its name may then be given to a new key.
CREATE TABLE api_keys (
    id           bigserial   PRIMARY KEY,
    name         text        NOT NULL CHECK (name ~ '^[A-Za-z0-9._-]{1,64}$'),
    digest       bytea       NOT NULL UNIQUE,
    hint         text        NOT NULL,
    scopes       text[]      NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    uses         bigint      NOT NULL DEFAULT 0,  -- added by each web process about once a second
    last_used_at timestamptz
);

CREATE UNIQUE INDEX api_keys_live_name_idx ON api_keys (name) WHERE revoked_at IS NULL;
