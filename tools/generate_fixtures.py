#!/usr/bin/env python3
"""Generates fixtures/cooperatives.csv and fixtures/products/* (invented,
plausible data for the 18 KKMP of Kota Mojokerto). Deterministic: run it
again and the files come out the same. Needs openpyxl for the XLSX file."""
import csv, random, pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent / "fixtures"
rng = random.Random(20261127)

KECAMATAN = {
    "Magersari": ["Balongsari", "Gedongan", "Gununggedangan", "Kedundung", "Magersari", "Wates"],
    "Prajurit Kulon": ["Blooto", "Kauman", "Mentikan", "Prajurit Kulon", "Pulorejo", "Surodinawan"],
    "Kranggan": ["Jagalan", "Kranggan", "Meri", "Miji", "Purwotengah", "Sentanan"],
}
PKP = {"Magersari", "Prajurit Kulon", "Kranggan", "Gununggedangan", "Miji"}

def code(kel):
    return "MJK-" + kel.upper().replace(" ", "-")

def abbr(kel):
    return "".join(w[:3] for w in kel.upper().split())[:4]

def gln(location):
    """GS1 Indonesia (899) company prefix 8990000, a 5-digit location, and the mod-10 check digit."""
    body = f"8990000{location:05d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)

def digits(n):
    return "".join(str(rng.randint(0, 9)) for _ in range(n))

# (sku, name, category, unit, price, weight_kg, brand, desc, net content)
SEMBAKO = [
    ("BRS-PRM-5", "Beras Premium Mojokerto 5 kg", "Beras", "Karung", 74500, "5", "", "Beras premium pulen dari petani Mojokerto, kemasan karung 5 kg.", "5 kg"),
    ("BRS-MED-5", "Beras Medium 5 kg", "  beras ", "karung", 64000, "5", "", "Beras medium SPHP, kemasan 5 kg.", "5 kg"),
    ("BRS-PRM-25", "Beras Premium 25 kg", "Beras", "sak", 362000, "25", "", "Beras premium kemasan sak 25 kg untuk dapur umum dan katering.", "25 kg"),
    ("GLA-1", "Gula Pasir Kristal Putih 1 kg", "Gula Pasir", "Bungkus", 17500, "1", "Manis Jaya", "Gula kristal putih konsumsi, kemasan 1 kg.", "1 kg"),
    ("MYK-1L", "Minyak Goreng Sawit 1 Liter", "Minyak Goreng", "Botol", 18000, "0,95", "Sawit Nusa", "Minyak goreng sawit kemasan botol 1 liter.", "1 liter"),
    ("MYK-2L", "Minyak Goreng Sawit Pouch 2 Liter", "MINYAK GORENG", "bungkus", 35500, "1,9", "Sawit Nusa", "Minyak goreng sawit kemasan pouch 2 liter.", "2 liter"),
    ("TLR-KG", "Telur Ayam Ras Segar per kg", "Telur", "KG", 29000, "1", "", "Telur ayam ras segar dari peternak Jawa Timur.", "1 kg"),
    ("TLR-TRAY", "Telur Ayam Ras 1 Tray isi 30", "Telur", "tray", 56000, "1,9", "", "Telur ayam ras segar satu rak isi 30 butir.", "isi 30 butir"),
    ("TPG-1", "Tepung Terigu Protein Sedang 1 kg", "Tepung Terigu", "Bungkus", 12500, "1", "Segitiga Emas", "Tepung terigu serbaguna untuk kue dan gorengan.", "1 kg"),
    ("GRM-250", "Garam Beryodium 250 gram", "Garam", "bungkus", 3000, "0,25", "Laut Biru", "Garam konsumsi beryodium kemasan 250 gram.", "250 gram"),
    ("KDL-1", "Kedelai Kuning Lokal 1 kg", "Kedelai", "kg", 13000, "1", "", "Kedelai kuning lokal untuk tahu dan tempe.", "1 kg"),
    ("KCP-600", "Kecap Manis 600 ml", "Kecap", "Botol", 24000, "0,7", "Jago Manis", "Kecap manis kedelai hitam, botol 600 ml.", "600 ml"),
    ("MIE-DUS", "Mie Instan Goreng 1 Dus isi 40", "Mie Instan", "Dus", 115000, "3,4", "Mie Sedap Rasa", "Mie instan goreng, satu dus isi 40 bungkus.", ""),
    ("TEH-25", "Teh Celup Melati isi 25", "Teh", "Dus", 7500, "0,05", "Teh Wangi", "Teh celup melati, isi 25 kantong.", ""),
]
UMKM = [
    ("BATIK", "Sentra Batik Maja {kel}", [
        ("BTK-TLS-01", "Batik Tulis Maja Motif Surya Majapahit", "Batik Tulis", "lembar", 475000, "0,3", "Batik Maja", "Kain batik tulis motif Surya Majapahit, 2 x 1,15 m, pewarna alam.", True, ""),
        ("BTK-CAP-01", "Batik Cap Motif Mrico Bolong", "Batik Cap", "Lembar", 185000, "0,3", "Batik Maja", "Kain batik cap motif Mrico Bolong khas Mojokerto, 2 x 1,15 m.", False, ""),
        ("BTK-KMJ-L", "Kemeja Batik Pria Lengan Panjang L", "Pakaian Batik", "pcs", 265000, "0,35", "Batik Maja", "Kemeja batik cap katun primisima, ukuran L.", False, ""),
        ("BTK-SRG-01", "Seragam Batik ASN Motif Mojopahit", "Pakaian Batik", "pcs", 210000, "0,35", "Batik Maja", "Kain seragam batik untuk ASN Pemkot Mojokerto.", True, ""),
    ]),
    ("SEPATU", "Pengrajin Sepatu {kel}", [
        ("SPT-PTF-42", "Sepatu Pantofel Kulit Sapi Pria", "Sepatu Kulit", "Pasang", 285000, "1,2", "Mojo Leather", "Sepatu pantofel kulit sapi asli, sol karet, ukuran 38-44.", True, ""),
        ("SPT-PDL-01", "Sepatu PDL Kulit Dinas Lapangan", "Sepatu Kulit", "pasang", 395000, "1,6", "Mojo Leather", "Sepatu PDL kulit untuk Satpol PP dan dinas lapangan.", True, ""),
        ("SDL-KLT-01", "Sandal Kulit Pria Casual", "Sandal", "psg", 95000, "0,6", "Mojo Leather", "Sandal kulit sapi jahit tangan.", False, ""),
    ]),
    ("ONDE", "Onde-Onde {kel}", [
        ("OND-KH-10", "Onde-Onde Isi Kacang Hijau Khas Mojokerto isi 10", "Kue Tradisional", "Dus", 25000, "0,5", "", "Onde-onde wijen isi kacang hijau, tahan 2 hari.", False, ""),
        ("OND-KH-50", "Onde-Onde Kacang Hijau Paket Rapat isi 50", "Kue Tradisional", "dus", 115000, "2,4", "", "Paket onde-onde untuk rapat dan acara dinas.", False, ""),
        ("KRP-RMB-250", "Kerupuk Rambak Kulit Sapi 250 gram", "Makanan Ringan", "Bungkus", 27500, "0,25", "", "Kerupuk rambak kulit sapi, siap goreng.", False, "250 gram"),
    ]),
    ("KERIPIK", "Keripik & Camilan {kel}", [
        ("KRP-TMP-200", "Keripik Tempe Renyah 200 gram", "Makanan Ringan", "bungkus", 12000, "0,2", "", "Keripik tempe tipis bumbu bawang.", False, "200 gram"),
        ("KRP-SKG-250", "Keripik Singkong Balado 250 gram", "Makanan Ringan", "bks", 11000, "0,25", "", "Keripik singkong pedas manis.", False, "250 gram"),
        ("MDU-HTN-500", "Madu Hutan Murni 500 ml", "Madu", "Botol", 85000, "0,7", "", "Madu hutan murni, botol kaca 500 ml.", False, "500 ml"),
    ]),
    ("KUNINGAN", "Kerajinan Kuningan {kel}", [
        ("KNG-PTG-30", "Patung Kuningan Gajah Mada 30 cm", "Kerajinan Kuningan", "pcs", 650000, "2,5", "", "Patung kuningan cor tradisional, tinggi 30 cm.", True, ""),
        ("KNG-PLK-01", "Plakat Kuningan Cendera Mata Pemkot", "Kerajinan Kuningan", "buah", 225000, "0,8", "", "Plakat kuningan ukir untuk cendera mata tamu dinas.", False, ""),
    ]),
]
UMKM_OWNERS = ["Pak Slamet", "Bu Endang", "Pak Hariyanto", "Bu Siti Aminah", "Pak Joko", "Bu Lilik", "Pak Bambang", "Bu Wahyuni", "Pak Agus", "Bu Rini"]

def price_for(base):
    # +/- 6 %, rounded to Rp 500
    return int(round(base * rng.uniform(0.94, 1.06) / 500.0) * 500)

def main():
    coops, rows_by_kec = [], {k: [] for k in KECAMATAN}
    kelurahan_all = [(kec, kel) for kec, kels in KECAMATAN.items() for kel in kels]
    for i, (kec, kel) in enumerate(kelurahan_all):
        coops.append({
            "kode": code(kel), "nama": f"Koperasi Kelurahan Merah Putih {kel}", "kelurahan": kel,
            "kecamatan": kec, "kota": "Kota Mojokerto", "nib": digits(13), "npwp": digits(16),
            "pkp": "ya" if kel in PKP else "tidak", "gln": gln(100 + i),
            "kode_penyedia": f"P3576-{i + 1:04d}", "email": f"kkmp-{kel.lower().replace(' ', '-')}@koperasi.example",
        })
        a = abbr(kel)
        shop = (f"{a}-01", f"Unit Sembako KKMP {kel}")
        # the sembako shop: 11-14 staples
        for sku, name, cat, unit, base, weight, brand, desc, isi in rng.sample(SEMBAKO, rng.randint(11, 14)):
            photo = f"https://foto.kkmp-mojokerto.id/{a.lower()}/{sku.lower()}.jpg" if rng.random() > 0.1 else ""
            weight = weight if rng.random() > 0.05 else ""
            rows_by_kec[kec].append(dict(kode_koperasi=code(kel), kode_anggota=shop[0], nama_anggota=shop[1], sku=sku,
                nama_produk=name, deskripsi=desc, kategori=cat, satuan=unit, isi_bersih=isi, harga=price_for(base),
                stok=rng.choice([0, 25, 40, 60, 120, 200, 350]), min_pembelian=rng.choice([1, 1, 1, 5, 10]),
                berat_kg=weight, asal="Lokal", lokasi_produksi="Kota Mojokerto", tkdn_persen="", no_sertifikat_tkdn="",
                no_sni="" if cat not in ("Tepung Terigu", "Garam", "Minyak Goreng") else f"SNI {rng.choice(['3751:2009', '3556:2016', '7709:2019'])}",
                merek=brand, foto=photo))
        # two small producers
        for n, (kind, owner_fmt, items) in enumerate(rng.sample(UMKM, 2), start=2):
            member = (f"{a}-{n:02d}", owner_fmt.format(kel=kel) + f" ({rng.choice(UMKM_OWNERS)})")
            for sku, name, cat, unit, base, weight, brand, desc, tkdn, isi in items:
                has_cert = tkdn and rng.random() > 0.25
                photos = " | ".join(f"https://foto.kkmp-mojokerto.id/{a.lower()}/{sku.lower()}-{k}.jpg" for k in range(1, rng.randint(1, 4)))
                rows_by_kec[kec].append(dict(kode_koperasi=code(kel), kode_anggota=member[0], nama_anggota=member[1], sku=sku,
                    nama_produk=name, deskripsi=desc, kategori=cat, satuan=unit, isi_bersih=isi, harga=price_for(base),
                    stok=rng.choice([5, 10, 15, 24, 30, 50]), min_pembelian=1, berat_kg=weight, asal="Lokal",
                    lokasi_produksi="Kota Mojokerto", tkdn_persen=str(rng.choice([35, 42, 48, 55])) if tkdn else "",
                    no_sertifikat_tkdn=f"{rng.randint(1000, 9999)}/SJ-IPD.2/TKDN/2025" if has_cert else "",
                    no_sni="", merek=brand, foto=photos))
    with open(ROOT / "cooperatives.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(coops[0]), lineterminator="\n")
        w.writeheader(); w.writerows(coops)
    cols = list(rows_by_kec["Magersari"][0])

    def rupiah(v):
        return "Rp " + f"{v:,}".replace(",", ".")
    # Magersari: what an Indonesian Excel exports: ';', BOM, "Rp 74.500", "0,25", headers in words
    words = {c: c.replace("_", " ").title() for c in cols}
    words.update(harga="Harga (Rp)", berat_kg="Berat (kg)", tkdn_persen="TKDN (%)", no_sni="No. SNI")
    with open(ROOT / "products" / "magersari.csv", "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow([words[c] for c in cols])
        for r in rows_by_kec["Magersari"]:
            w.writerow([rupiah(r[c]) if c == "harga" else r[c] for c in cols])
    # Prajurit Kulon: plain ',' CSV, dots as decimal marks
    with open(ROOT / "products" / "prajurit-kulon.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for r in rows_by_kec["Prajurit Kulon"]:
            w.writerow({**r, "berat_kg": r["berat_kg"].replace(",", ".")})
    # Kranggan: an Excel workbook with number cells and a second sheet of notes
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active; ws.title = "Produk"
    # The stock source: MJK-MERI's Beras Medium 5 kg is SPHP rice (retail stock, never sent to a catalogue).
    ws.append(cols + ["sumber_stok"])
    for r in rows_by_kec["Kranggan"]:
        def cell(c):
            v = r[c]
            if c in ("harga", "stok", "min_pembelian"):
                return int(v)
            if c in ("berat_kg", "tkdn_persen") and v != "":
                return float(str(v).replace(",", "."))
            return v if v != "" else None
        sphp = "sphp" if (r["kode_koperasi"], r["sku"]) == ("MJK-MERI", "BRS-MED-5") else None
        ws.append([cell(c) for c in cols] + [sphp])
    notes = wb.create_sheet("Catatan")
    notes.append(["Data produk anggota KKMP Kecamatan Kranggan, diperbarui November 2026"])
    wb.save(ROOT / "products" / "kranggan.xlsx")
    total = sum(len(v) for v in rows_by_kec.values())
    print(f"{len(coops)} cooperatives, {total} products")

main()
