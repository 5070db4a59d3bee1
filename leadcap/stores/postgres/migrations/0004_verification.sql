-- Phone verification (LEADCAP_VERIFY=sms): two more statuses and when the code came back.
ALTER TABLE leads DROP CONSTRAINT IF EXISTS leads_status_check;
ALTER TABLE leads ADD CONSTRAINT leads_status_check
    CHECK (status IN ('new', 'contacted', 'qualified', 'converted', 'rejected', 'unverified', 'verified'));
ALTER TABLE leads ADD COLUMN IF NOT EXISTS verified_at timestamptz;
