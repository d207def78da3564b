-- Stock follows the orders (issue 35). An order accepted by the seller takes
-- its lines' quantities off the products' stock, once: each move is a row
-- keyed by order, product and kind, and the order's stock_state says how far
-- it went (open, taken, returned; closed when cancelled before it was
-- accepted). Orders stored before this version are 'before': their stock was
-- kept by hand, and they are never counted.
ALTER TABLE purchase_orders ADD COLUMN stock_state TEXT NOT NULL DEFAULT 'before'
    CHECK (stock_state IN ('before', 'open', 'taken', 'returned', 'closed'));
UPDATE purchase_orders SET stock_state = 'open'
 WHERE status IN ('ON_NEGOTIATION', 'WAITING_PPK_REVIEW', 'WAITING_SELLER_CONFIRMATION', 'ESIGN_IN_PROGRESS');
ALTER TABLE purchase_orders ALTER COLUMN stock_state SET DEFAULT 'open';
CREATE INDEX purchase_orders_stock_due ON purchase_orders (id) WHERE stock_state IN ('open', 'taken');

CREATE TABLE stock_moves (
    order_id    BIGINT NOT NULL REFERENCES purchase_orders(id) ON DELETE CASCADE,
    product_id  BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('taken', 'returned')),
    quantity    NUMERIC(18,4) NOT NULL CHECK (quantity > 0),
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, product_id, kind)
);
CREATE INDEX stock_moves_product ON stock_moves (product_id);

-- At or below this stock a cooperative is told, once, that a product runs out.
ALTER TABLE cooperatives ADD COLUMN stock_threshold NUMERIC(18,4) NOT NULL DEFAULT 0 CHECK (stock_threshold >= 0);
