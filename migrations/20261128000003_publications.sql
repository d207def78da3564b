-- What mapping produced (the draft: `listings`, one per product and format)
-- and what the catalogue holds (the publication: one per product, seller and
-- channel) are two things. The map job owns drafts; the publisher owns
-- publications.
CREATE TABLE publications (
    id               BIGSERIAL PRIMARY KEY,
    product_id       BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    seller           TEXT NOT NULL,                -- the cooperative's kode_penyedia
    channel          TEXT NOT NULL CHECK (channel IN ('api', 'peppol', 'xlsx')),
    remote_id        TEXT,                         -- the catalogue's listing id
    state            TEXT NOT NULL CHECK (state IN ('pending', 'submitted', 'under_curation', 'live', 'rejected',
                         'revision_requested', 'taken_down', 'withdraw_pending', 'withdrawn', 'failed')),
    state_since      TIMESTAMPTZ NOT NULL DEFAULT now(),
    reasons          JSONB NOT NULL DEFAULT '[]',  -- rejection / revision reasons, refusal field errors
    want_hash        TEXT,                         -- the draft's content hash it should carry
    sent_hash        TEXT,                         -- the content hash last accepted by the catalogue
    sent_payload     JSONB,                        -- the payload last accepted
    idempotency_key  TEXT,                         -- of the write in flight or last sent
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ,
    last_error       TEXT,
    claimed_by       TEXT,                         -- claim, commit, then call the network
    claimed_until    TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (product_id, seller, channel)
);
CREATE UNIQUE INDEX publications_remote_idx ON publications (channel, seller, remote_id) WHERE remote_id IS NOT NULL;
CREATE INDEX publications_work_idx ON publications (id) WHERE state IN ('pending', 'withdraw_pending');

-- Every state change and every exchange with the catalogue. A change read
-- from the catalogue's feed carries its remote change id, so a replayed page
-- records nothing twice.
CREATE TABLE publication_events (
    id              BIGSERIAL PRIMARY KEY,
    publication_id  BIGINT NOT NULL REFERENCES publications(id) ON DELETE CASCADE,
    at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    kind            TEXT NOT NULL,                 -- sent, accepted, refused, failed, remote, not_allowed
    from_state      TEXT,
    to_state        TEXT,
    remote_change   TEXT,
    detail          JSONB NOT NULL DEFAULT '{}',
    UNIQUE (publication_id, remote_change)
);
CREATE INDEX publication_events_pub_idx ON publication_events (publication_id, at);

-- A PEPPOL catalogue document sent for one seller, and each line's result.
CREATE TABLE catalogue_uploads (
    id            BIGSERIAL PRIMARY KEY,
    seller        TEXT NOT NULL,
    document_id   TEXT NOT NULL,
    remote_id     TEXT,
    state         TEXT NOT NULL DEFAULT 'sending',
    sent_at       TIMESTAMPTZ,
    answered_at   TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (seller, document_id)
);
CREATE TABLE catalogue_upload_lines (
    upload_id       BIGINT NOT NULL REFERENCES catalogue_uploads(id) ON DELETE CASCADE,
    line_id         TEXT NOT NULL,
    publication_id  BIGINT REFERENCES publications(id) ON DELETE SET NULL,
    action          TEXT NOT NULL,
    accepted        BOOLEAN,
    reason          TEXT,
    PRIMARY KEY (upload_id, line_id)
);
