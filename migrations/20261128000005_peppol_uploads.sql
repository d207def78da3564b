-- Whether the catalogue holds a product is the publisher's knowledge
-- (publications.sent_hash), not the draft's: the map job's PEPPOL
-- Add/Update/Delete decision reads publications now.
ALTER TABLE listings DROP COLUMN submitted_hash;

-- A catalogue upload is committed, with its exact bytes, before it is sent:
-- a send that failed or was cut off is sent again as the same document with
-- the same idempotency key, so the catalogue never takes it twice. Its
-- publications stay tied to it (and out of other uploads) until it is taken.
ALTER TABLE catalogue_uploads
    ADD COLUMN document        BYTEA,
    ADD COLUMN idempotency_key TEXT,
    ADD COLUMN lines           INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN attempts        INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at TIMESTAMPTZ,
    ADD COLUMN last_error      TEXT,
    ADD COLUMN claimed_by      TEXT,
    ADD COLUMN claimed_until   TIMESTAMPTZ,
    ADD CONSTRAINT catalogue_uploads_state_check CHECK (state IN ('sending', 'received', 'processed', 'refused'));
CREATE INDEX catalogue_uploads_open_idx ON catalogue_uploads (seller) WHERE state IN ('sending', 'received');
-- What each line carried, so what the catalogue holds is known exactly even if the draft moved on meanwhile.
ALTER TABLE catalogue_upload_lines ADD COLUMN content_hash TEXT;
CREATE INDEX catalogue_upload_lines_pub_idx ON catalogue_upload_lines (publication_id);
