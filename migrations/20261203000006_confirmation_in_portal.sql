-- Confirmation as the real catalogue has it (issue 18): the buyer's PPK has
-- its own deadline at WAITING_PPK_REVIEW; when the seller's confirmation
-- (signed in the portal) was first seen; a last reminder a few working hours
-- before the deadline.
ALTER TABLE purchase_orders ADD COLUMN ppk_deadline TIMESTAMPTZ, ADD COLUMN confirmed_seen_at TIMESTAMPTZ;
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('arrived', 'deadline_near', 'deadline_last', 'overdue_shipped',
    'overdue_delivered', 'overdue_bast', 'overdue_faktur', 'overdue_invoice', 'overdue_paid'));
