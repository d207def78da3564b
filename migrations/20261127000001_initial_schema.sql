-- katalog-bridge initial schema: the whole product, so later work only adds.
-- Money is NUMERIC (never float); every timestamp is timestamptz (stored UTC).

CREATE TABLE cooperatives (
    id          BIGSERIAL PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kelurahan   TEXT NOT NULL,
    kecamatan   TEXT NOT NULL,
    city        TEXT NOT NULL,
    nib         TEXT,                       -- Nomor Induk Berusaha (business id)
    npwp        TEXT,                       -- tax id
    pkp         BOOLEAN NOT NULL DEFAULT FALSE, -- VAT-registered (Pengusaha Kena Pajak)
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The small producers (UMKM) who sell through a cooperative.
CREATE TABLE members (
    id              BIGSERIAL PRIMARY KEY,
    cooperative_id  BIGINT NOT NULL REFERENCES cooperatives(id) ON DELETE CASCADE,
    code            TEXT NOT NULL,
    name            TEXT NOT NULL,
    nib             TEXT,
    phone           TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (cooperative_id, code),
    UNIQUE (cooperative_id, id)                 -- target of products' composite key
);

CREATE TABLE products (
    id                   BIGSERIAL PRIMARY KEY,
    cooperative_id       BIGINT NOT NULL,
    member_id            BIGINT NOT NULL,
    sku                  TEXT NOT NULL,
    name                 TEXT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    category             TEXT NOT NULL,          -- local category, normalised (see mappings/)
    unit                 TEXT NOT NULL,          -- local unit code from mappings/tables/units.csv
    price                NUMERIC(18,2) NOT NULL CHECK (price >= 0),
    stock                NUMERIC(18,4) NOT NULL DEFAULT 0 CHECK (stock >= 0),
    min_purchase         NUMERIC(18,4) NOT NULL DEFAULT 1 CHECK (min_purchase > 0),
    weight_kg            NUMERIC(12,3) CHECK (weight_kg > 0),
    origin               TEXT NOT NULL DEFAULT 'lokal' CHECK (origin IN ('lokal', 'impor')),
    production_location  TEXT,
    tkdn_percent         NUMERIC(5,2) CHECK (tkdn_percent BETWEEN 0 AND 100),
    tkdn_certificate     TEXT,
    sni_certificate      TEXT,
    brand                TEXT,
    photo_urls           TEXT[] NOT NULL DEFAULT '{}',
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (cooperative_id, member_id, sku),
    -- One key, checked once per row: the member exists and belongs to this cooperative.
    FOREIGN KEY (cooperative_id, member_id) REFERENCES members (cooperative_id, id) ON DELETE CASCADE
);

-- One listing per product and catalogue format.
CREATE TABLE listings (
    id               BIGSERIAL PRIMARY KEY,
    product_id       BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    format           TEXT NOT NULL,              -- katalog-v6, katalog-v6-xlsx, peppol-catalogue
    payload          JSONB,                      -- the mapped listing as sent
    content_hash     TEXT,                       -- hash of payload: unchanged content is not resent
    issues           JSONB NOT NULL DEFAULT '[]',-- validation issues from mapping
    remote_id        TEXT,
    state            TEXT NOT NULL DEFAULT 'draft' CHECK (state IN (
                         'draft', 'blocked', 'submitted', 'under_curation', 'live',
                         'rejected', 'revision_requested', 'taken_down', 'withdrawn')),
    state_reason     TEXT,
    submitted_hash   TEXT,                       -- content_hash last accepted by the catalogue
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ,
    last_error       TEXT,
    locked_by        TEXT,                       -- claim, commit, then call the network
    locked_at        TIMESTAMPTZ,
    remote_updated_at TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (product_id, format)
);
CREATE UNIQUE INDEX listings_remote_idx ON listings (format, remote_id) WHERE remote_id IS NOT NULL;
CREATE INDEX listings_state_idx ON listings (state, next_attempt_at);

CREATE TABLE listing_events (
    id          BIGSERIAL PRIMARY KEY,
    listing_id  BIGINT NOT NULL REFERENCES listings(id) ON DELETE CASCADE,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    kind        TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT,
    detail      JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX listing_events_listing_idx ON listing_events (listing_id, at);

CREATE TABLE purchase_orders (
    id                 BIGSERIAL PRIMARY KEY,
    source             TEXT NOT NULL,            -- which catalogue API the order came from
    remote_order_id    TEXT NOT NULL,
    cooperative_id     BIGINT REFERENCES cooperatives(id),
    kode_klpd          TEXT NOT NULL,            -- buying government
    fiscal_year        INTEGER NOT NULL,
    rup_code           TEXT,
    rup_name           TEXT,
    funding_source     TEXT,
    kode_satker        TEXT,
    nama_satker        TEXT,
    kode_penyedia      TEXT,                     -- the seller on the catalogue
    status             TEXT NOT NULL,
    shipment_status    TEXT,
    order_date         TIMESTAMPTZ,
    confirm_by         TIMESTAMPTZ,              -- 3 working days after the order letter
    shipping_fee       NUMERIC(18,2) NOT NULL DEFAULT 0,
    total              NUMERIC(18,2) NOT NULL DEFAULT 0,
    remote_updated_at  TIMESTAMPTZ,
    raw                JSONB NOT NULL DEFAULT '{}', -- everything the API sent, mapped or not
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (source, remote_order_id)
);
CREATE INDEX purchase_orders_status_idx ON purchase_orders (status, confirm_by);

CREATE TABLE order_lines (
    id                 BIGSERIAL PRIMARY KEY,
    order_id           BIGINT NOT NULL REFERENCES purchase_orders(id) ON DELETE CASCADE,
    remote_line_id     TEXT NOT NULL,
    remote_product_id  TEXT,
    listing_id         BIGINT REFERENCES listings(id),
    description        TEXT NOT NULL DEFAULT '',
    quantity           NUMERIC(18,4) NOT NULL,   -- quantities can be fractional
    unit               TEXT,
    unit_price         NUMERIC(18,2) NOT NULL,
    line_total         NUMERIC(18,2) NOT NULL,
    raw                JSONB NOT NULL DEFAULT '{}',
    UNIQUE (order_id, remote_line_id)
);

CREATE TABLE order_events (
    id           BIGSERIAL PRIMARY KEY,
    order_id     BIGINT NOT NULL REFERENCES purchase_orders(id) ON DELETE CASCADE,
    at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    kind         TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT,
    detail       JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX order_events_order_idx ON order_events (order_id, at);

-- Every unit of unattended or long work (import, publish, order sync) is a run.
CREATE TABLE sync_runs (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL,
    instance     TEXT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at  TIMESTAMPTZ,
    status       TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
    stats        JSONB NOT NULL DEFAULT '{}',
    error        TEXT
);
CREATE INDEX sync_runs_kind_idx ON sync_runs (kind, started_at DESC);

-- Where each incremental sync stopped; moves in the same transaction as the rows it covers.
CREATE TABLE sync_cursors (
    name        TEXT PRIMARY KEY,
    cursor      TEXT,
    position    TIMESTAMPTZ,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
