-- A staged product row's raw copy is kept as the text it came as (json, not
-- jsonb): it is written once and read back once, and jsonb would parse,
-- sort and print it again each way.
ALTER TABLE inaproc_line_stage ALTER COLUMN raw DROP DEFAULT;
ALTER TABLE inaproc_line_stage ALTER COLUMN raw TYPE json USING raw::json;
ALTER TABLE inaproc_line_stage ALTER COLUMN raw SET DEFAULT '{}';
