-- Reading a province's plan costs less (issue 36): a package's row as
-- INAPROC sent it is kept as text, exactly as it came (the reader has
-- parsed it already; nothing queries inside it, and JSONB rebuilt it for
-- every package read: `raw::jsonb` reads it when needed), and the
-- columns no query filters on are left out of the planner's statistics, so
-- the ANALYZE after a reading samples only what the pages' plans use.
ALTER TABLE rup_packages ALTER COLUMN raw TYPE text USING raw::text;
ALTER TABLE rup_packages ALTER COLUMN raw SET STATISTICS 0;
ALTER TABLE rup_packages ALTER COLUMN uraian SET STATISTICS 0;
ALTER TABLE rup_packages ALTER COLUMN nama_paket SET STATISTICS 0;
ALTER TABLE rup_packages ALTER COLUMN nama_ppk SET STATISTICS 0;
ALTER TABLE rup_packages ALTER COLUMN digest SET STATISTICS 0;
ALTER TABLE rup_packages ALTER COLUMN sumber_dana SET STATISTICS 0;
