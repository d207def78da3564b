-- Getting paid (issue 37): each order's payment route and its papers. The
-- staff record the order letter, the shipping's invoice and the PPK's ticket
-- besides the BAST, faktur and payment invoice; the treasurer's route is now
-- told apart as petty cash by card (up_kkp) or by transfer to the order's
-- virtual account (up_va, which the old `treasurer` meant).
ALTER TABLE order_fulfilment DROP CONSTRAINT order_fulfilment_kind_check;
ALTER TABLE order_fulfilment ADD CONSTRAINT order_fulfilment_kind_check CHECK (kind IN ('order_letter', 'shipped', 'delivered', 'bast', 'faktur',
    'invoice', 'logistics_invoice', 'ticket', 'paid', 'payment_way'));
UPDATE order_fulfilment SET detail = 'up_va' WHERE kind = 'payment_way' AND detail = 'treasurer';

ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('arrived', 'deadline_near', 'deadline_last', 'overdue_shipped',
    'overdue_delivered', 'overdue_bast', 'overdue_faktur', 'overdue_invoice', 'overdue_order_letter', 'overdue_logistics_invoice', 'overdue_ticket',
    'overdue_paid', 'member_order', 'stock_low', 'rup_opportunity', 'rup_correction'));
