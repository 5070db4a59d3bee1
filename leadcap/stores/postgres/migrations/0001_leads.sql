-- One lead per phone number (E.164), and every accepted submission that made it.
-- A lead's source/utm columns are first-touch attribution; each submission keeps its own.

CREATE TABLE leads (
    id                 uuid        PRIMARY KEY,  -- the id of the submission that created it
    phone              text        NOT NULL UNIQUE CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    region             text        NOT NULL,
    carrier            text,
    status             text        NOT NULL DEFAULT 'new'
                       CHECK (status IN ('new', 'contacted', 'qualified', 'converted', 'rejected')),
    submissions        integer     NOT NULL DEFAULT 0,
    first_submitted_at timestamptz NOT NULL,
    last_submitted_at  timestamptz NOT NULL,
    source             text,
    utm_source         text,
    utm_medium         text,
    utm_campaign       text,
    utm_term           text,
    utm_content        text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX leads_first_submitted_at_idx ON leads (first_submitted_at);
CREATE INDEX leads_status_idx ON leads (status);

CREATE TABLE submissions (
    id            uuid        PRIMARY KEY,  -- UUIDv7 made by the web tier; the idempotency key
    phone         text        NOT NULL REFERENCES leads (phone) DEFERRABLE INITIALLY DEFERRED,
    source        text,
    utm_source    text,
    utm_medium    text,
    utm_campaign  text,
    utm_term      text,
    utm_content   text,
    status        text        NOT NULL DEFAULT 'processed',
    submitted_at  timestamptz NOT NULL,  -- when the web tier answered 202
    processed_at  timestamptz NOT NULL DEFAULT now(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX submissions_phone_submitted_at_idx ON submissions (phone, submitted_at);
