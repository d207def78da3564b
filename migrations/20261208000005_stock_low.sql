-- A product brought to its cooperative's stock threshold or below by an
-- order (issue 35): the move that did it is marked, and the cooperative is
-- told once, through the outbox, with that order.
ALTER TABLE stock_moves ADD COLUMN fell BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('arrived', 'deadline_near', 'deadline_last', 'overdue_shipped',
    'overdue_delivered', 'overdue_bast', 'overdue_faktur', 'overdue_invoice', 'overdue_paid', 'member_order', 'stock_low'));
