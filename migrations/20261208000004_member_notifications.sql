-- The member hears of their order (issue 35): a notification may be for a
-- member of the cooperative; each member is told of an order once, by one
-- channel. Cooperatives' notifications stay once per order, kind and channel.
ALTER TABLE notifications ADD COLUMN member_id BIGINT REFERENCES members(id) ON DELETE CASCADE;
ALTER TABLE notifications DROP CONSTRAINT notifications_order_id_kind_channel_key;
CREATE UNIQUE INDEX notifications_once ON notifications (order_id, kind, channel) WHERE member_id IS NULL;
CREATE UNIQUE INDEX notifications_once_per_member ON notifications (order_id, kind, member_id) WHERE member_id IS NOT NULL;
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('arrived', 'deadline_near', 'deadline_last', 'overdue_shipped',
    'overdue_delivered', 'overdue_bast', 'overdue_faktur', 'overdue_invoice', 'overdue_paid', 'member_order'));
-- The orders that took stock lately: the members to tell are looked for among them.
CREATE INDEX stock_moves_taken_at ON stock_moves (at) WHERE kind = 'taken';
