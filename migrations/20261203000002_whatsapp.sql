-- WhatsApp: each cooperative's number (E.164, `+62...`), and a third channel
-- for notifications.
ALTER TABLE cooperatives ADD COLUMN whatsapp TEXT CHECK (whatsapp ~ '^\+[1-9][0-9]{7,14}$');
ALTER TABLE notifications DROP CONSTRAINT notifications_channel_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_channel_check CHECK (channel IN ('email', 'webhook', 'whatsapp'));
