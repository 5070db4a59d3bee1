-- Messages PostgreSQL refused for good (see leadcap/ops/deadletters.py): kept with their error so
-- that they block nothing, hide nothing, and can be looked at and retried by an operator.
-- The message is kept as the raw JSON bytes: text and jsonb both refuse what made it poison
-- (a NUL), bytea keeps anything.

CREATE TABLE dead_letters (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    submission_id   uuid        UNIQUE,           -- null when the message had no readable id
    message         bytea       NOT NULL,         -- the submission as queued (JSON)
    error           text        NOT NULL,         -- why PostgreSQL (or the reader) refused it
    failures        integer     NOT NULL DEFAULT 1,
    first_failed_at timestamptz NOT NULL DEFAULT now(),
    last_failed_at  timestamptz NOT NULL DEFAULT now()
);
