-- Webhooks: endpoints, the outbox of lead events, and one delivery row per (event, endpoint).
--
-- The worker's group commit writes a lead's event, and a pending delivery for every endpoint
-- subscribed at that moment, in the same statement that records the lead (record_submissions.sql):
-- no lead without its event, no event without its lead. Delivery rows are the work queue; the
-- delivery loop claims due ones with FOR UPDATE SKIP LOCKED and leases them by moving
-- next_attempt_at forward, so a worker killed mid-send leaves rows that become due again.

CREATE TABLE webhook_endpoints (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url             text        NOT NULL CHECK (url ~ '^https?://'),
    secret          text        NOT NULL CHECK (secret LIKE 'whsec\_%'),
    events          text[]      NOT NULL CHECK (cardinality(events) > 0),
    enabled         boolean     NOT NULL DEFAULT true,
    disabled_reason text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_events (
    id          uuid        PRIMARY KEY,          -- sent as webhook-id, the same on every retry
    type        text        NOT NULL,             -- lead.created, lead.verified
    lead_id     uuid        NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    data        jsonb       NOT NULL              -- the lead's export columns when it happened
);

CREATE INDEX webhook_events_lead_id_idx ON webhook_events (lead_id);
-- One lead.created per lead, whatever happens: a second one is refused by the database.
CREATE UNIQUE INDEX webhook_events_one_created_idx ON webhook_events (lead_id) WHERE type = 'lead.created';

CREATE TABLE webhook_deliveries (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id         uuid        NOT NULL REFERENCES webhook_events (id) DEFERRABLE INITIALLY DEFERRED,
    endpoint_id      bigint      NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    state            text        NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),  -- due time, or the end of a claim's lease
    retry_started_at timestamptz NOT NULL DEFAULT now(),  -- retries stop this long after (reset by replay)
    last_status      integer,                             -- HTTP status of the latest attempt
    last_error       text,                                -- why the latest attempt failed, if it did
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, endpoint_id)
);

-- The claim query reads only due pending rows, per endpoint.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (endpoint_id, next_attempt_at)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_failed_idx ON webhook_deliveries (updated_at) WHERE state = 'failed';
