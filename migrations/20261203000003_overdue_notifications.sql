-- Steps after the order past their due date are notified too, once per order, step and channel.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('arrived', 'deadline_near', 'overdue_shipped', 'overdue_delivered',
    'overdue_bast', 'overdue_faktur', 'overdue_invoice', 'overdue_paid'));
