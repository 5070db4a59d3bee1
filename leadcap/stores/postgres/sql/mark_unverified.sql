-- Leads just created by submissions sent with LEADCAP_VERIFY=sms wait for their code.
-- A lead's id is the id of the submission that created it; only a lead still `new` (never
-- verified, never worked on) changes, so a redelivery cannot undo a verification.
UPDATE leads SET status = 'unverified'
WHERE id = ANY($1::uuid[]) AND status = 'new' AND verified_at IS NULL
