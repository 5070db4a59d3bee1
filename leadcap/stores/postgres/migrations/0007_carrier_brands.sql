-- Carriers by their brands (leadcap/intake/phone.py, CARRIER_BRANDS): leads written before this
-- release carry libphonenumber's company codes for two of Iran's operators. One statement in
-- the migration's transaction; it rewrites only those rows: 26 s for 500,000 of 1,000,000 leads
-- on the shared 2-core machine. Meanwhile a new submission of one of those phones waits for it
-- (a new phone does not): run `leadcap migrate` before the workers, as the compose file does.
UPDATE leads
SET carrier = CASE carrier WHEN 'IR-MCI' THEN 'Hamrah-e Aval' WHEN 'MTCE' THEN 'Espadan' END
WHERE carrier IN ('IR-MCI', 'MTCE');
