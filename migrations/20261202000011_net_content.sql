-- What one unit of a product holds (`isi_bersih`), as its canonical text
-- (`25 kg`, `0,25 kg`, `1 liter`, `30 butir`): price ceilings (HET) are set
-- per kilogram or litre, and checked from it before anything is sent.
ALTER TABLE products ADD COLUMN net_content TEXT;
