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

-- A draft is the map job's alone since publications hold what the catalogue
-- has: the columns and the event table a listing had for that are gone, and
-- so is the index they needed (each draft written paid for it).
DROP TABLE listing_events;
DROP INDEX listings_state_idx;
DROP INDEX listings_remote_idx;
ALTER TABLE listings
    DROP COLUMN remote_id,
    DROP COLUMN state_reason,
    DROP COLUMN attempts,
    DROP COLUMN next_attempt_at,
    DROP COLUMN last_error,
    DROP COLUMN locked_by,
    DROP COLUMN locked_at,
    DROP COLUMN remote_updated_at;
UPDATE listings SET state = 'draft' WHERE state NOT IN ('draft', 'blocked');
ALTER TABLE listings DROP CONSTRAINT listings_state_check;
ALTER TABLE listings ADD CONSTRAINT listings_state_check CHECK (state IN ('draft', 'blocked'));

-- Drafts are derived data that the map job recomputes from the products at
-- any time, and every read of them joins the products. They are keyed by
-- (product, format), with no surrogate id and no foreign key: the key check
-- locked each product row (FOR KEY SHARE) and was 40 % of the database's
-- work in a first map of 100,000 products. The map job deletes the drafts of
-- products that no longer exist. Order lines will name the publication they
-- are for, not a draft.
ALTER TABLE order_lines DROP COLUMN listing_id;
ALTER TABLE listings DROP CONSTRAINT listings_product_id_fkey;
ALTER TABLE listings DROP CONSTRAINT listings_pkey;
ALTER TABLE listings DROP COLUMN id;
ALTER TABLE listings DROP CONSTRAINT listings_product_id_format_key;
ALTER TABLE listings ADD PRIMARY KEY (product_id, format);
