-- Photos sent from the dashboard (issue 35): kept here, one store to back
-- up, each named by the SHA-256 of its JPEG, so a photo sent twice is kept
-- once. The JPEG is already compressed: stored out of line, uncompressed.
CREATE TABLE photos (
    digest      TEXT PRIMARY KEY CHECK (digest ~ '^[0-9a-f]{64}$'),
    jpeg        BYTEA NOT NULL,
    width       INT NOT NULL CHECK (width > 0),
    height      INT NOT NULL CHECK (height > 0),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
ALTER TABLE photos ALTER COLUMN jpeg SET STORAGE EXTERNAL;

-- A product's photos, in order: the lowest position is the main photo.
CREATE TABLE product_photos (
    product_id  BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    digest      TEXT NOT NULL REFERENCES photos(digest),
    position    INT NOT NULL,
    added_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, digest)
);
CREATE INDEX product_photos_digest ON product_photos (digest);
