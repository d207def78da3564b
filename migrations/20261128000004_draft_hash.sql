-- A fingerprint of the whole draft (payload, issues, readiness): the map job
-- compares it with what it just mapped and rewrites only the drafts that changed.
ALTER TABLE listings ADD COLUMN draft_hash TEXT;
