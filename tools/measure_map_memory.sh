#!/usr/bin/env bash
# Peak memory of the `map` command over one cooperative's N products, per
# format: generates N products for MJK-WATES, imports them into a private
# cluster under a temp folder, then runs `map` for each format under
# /usr/bin/time. Usage: tools/measure_map_memory.sh [N]   (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
cargo build --release --quiet
bin="$PWD/target/release/katalog-bridge"
work="$(mktemp -d /tmp/kb-mem-XXXXXX)"
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
python3 - "$n" "$work/products.csv" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
cats = [("Beras", "karung"), ("Gula Pasir", "kg"), ("Minyak Goreng", "botol"), ("Telur", "kg"), ("Batik Tulis", "lembar"), ("Makanan Ringan", "bungkus")]
with open(path, "w") as f:
    f.write("kode_koperasi;kode_anggota;nama_anggota;sku;nama_produk;deskripsi;kategori;satuan;harga;stok;berat_kg;asal;foto\n")
    for i in range(n):
        c, u = cats[i % 6]
        f.write(f"MJK-WATES;M-{i%97:03};Anggota {i%97};SKU-{i:07};Produk Koperasi Wates Nomor {i};Deskripsi produk {i} dari anggota koperasi;{c};{u};Rp {5+i%700}.{(i*7)%1000:03},00;{i%500};{1+i%25},{i%10};Lokal;https://foto.kkmp-mojokerto.id/p/{i}.jpg\n")
PY
kb() { "$bin" --data-dir "$work/pg" "$@"; }
kb import cooperatives fixtures/cooperatives.csv >/dev/null 2>&1
kb import products "$work/products.csv" >/dev/null 2>&1
for format in katalog-v6 katalog-v6-xlsx peppol-catalogue; do
    /usr/bin/time -f "$format: $n products in %e s, peak RSS %M KB" "$bin" --data-dir "$work/pg" \
        map --format "$format" --cooperative MJK-WATES --out "$work/out-$format" 2>&1 >/dev/null | tail -1
done
