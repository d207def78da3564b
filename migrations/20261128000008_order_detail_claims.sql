-- Claims on order details move out of purchase_orders into a narrow table of
-- their own: claiming a batch wrote a new version of every wide order row it
-- took, with an entry in each of its indexes. A claim is now a small row,
-- inserted when taken (the key decides between two claimers) and deleted
-- when the detail is stored. No foreign key: its check would lock each wide
-- order row again; a claim of an order gone is never read.
CREATE TABLE order_detail_claims (
    order_id       BIGINT PRIMARY KEY,
    claimed_by     TEXT,
    claimed_until  TIMESTAMPTZ
);
INSERT INTO order_detail_claims (order_id, claimed_by, claimed_until)
    SELECT id, claimed_by, claimed_until FROM purchase_orders WHERE claimed_until > now();
ALTER TABLE purchase_orders DROP COLUMN claimed_by, DROP COLUMN claimed_until;
-- Due details are read in id order per source, a batch at a time: an index
-- in that order lets each batch stop after its rows instead of visiting
-- every order still due.
DROP INDEX purchase_orders_detail_idx;
CREATE INDEX purchase_orders_detail_idx ON purchase_orders (source, id) WHERE needs_detail;
