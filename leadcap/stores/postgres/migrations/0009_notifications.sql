-- Notifications ride the webhook outbox: a Telegram or Bale chat, or an email address, is one
-- more kind of endpoint. record_submissions.sql and webhook_lead_event.sql already write a
-- pending delivery for every enabled endpoint subscribed to the event, in the lead's own
-- transaction, so a channel gets its rows exactly as a webhook does (and erasure of the outbox
-- reaches both). The delivery loop (leadcap/webhooks/delivery.py) sends each kind its own way.
--
-- Per kind:  webhook   url = the endpoint, secret = its whsec_ signing secret
--            telegram  url NULL (the base address is LEADCAP_TELEGRAM_BASE_URL), secret = the
--            bale      bot token, chat = the chat id (a number, or @channelname)
--            email     url = smtp[s]://[user@]host[:port][?from=…] without a password,
--                      secret = the SMTP password ('' without one), chat = the To address
-- Tokens and passwords are stored as webhook secrets are, and never printed after `notify add`.
ALTER TABLE webhook_endpoints
    ADD COLUMN kind       text    NOT NULL DEFAULT 'webhook',
    ADD COLUMN chat       text,
    ADD COLUMN full_phone boolean NOT NULL DEFAULT false,  -- the phone unmasked (operator's choice)
    ADD COLUMN campaign   text,                            -- only this campaign's leads; NULL: all
    -- A channel's pace, shared by every worker: no message to it starts before this. A worker
    -- takes the turn (webhook_pace.sql) before it claims, and sets the next one after its send,
    -- so a chat's rate limit holds however many workers deliver. NULL: never paced (webhooks).
    ADD COLUMN paced_until timestamptz,
    ALTER COLUMN url DROP NOT NULL,
    DROP CONSTRAINT webhook_endpoints_url_check,
    DROP CONSTRAINT webhook_endpoints_secret_check;

ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_kind_check CHECK (
    CASE kind
        WHEN 'webhook' THEN url ~ '^https?://' AND secret LIKE 'whsec\_%' AND chat IS NULL
        WHEN 'telegram' THEN url IS NULL AND secret <> '' AND chat <> ''
        WHEN 'bale' THEN url IS NULL AND secret <> '' AND chat <> ''
        WHEN 'email' THEN url ~ '^smtps?://' AND chat LIKE '%_@_%'
        ELSE false
    END
);
