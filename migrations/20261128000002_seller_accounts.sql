-- Each cooperative is its own seller (penyedia) on the catalogue, with its own
-- account; its seller id is unique (checked at commit, so one import may move
-- an id from one cooperative to another). The credentials live in the
-- configuration, never here.
ALTER TABLE cooperatives ADD COLUMN kode_penyedia TEXT;
ALTER TABLE cooperatives ADD CONSTRAINT cooperatives_kode_penyedia_key UNIQUE (kode_penyedia) DEFERRABLE INITIALLY DEFERRED;
