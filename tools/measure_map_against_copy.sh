#!/usr/bin/env bash
# The `map` command over one cooperative's N products (default 100,000)
# against the store's own bulk I/O, as the publishing issue bounds it: the
# whole command must take at most twice `psql \copy` of the same products out
# plus the same drafts into a bare table.
# Times, three runs each: \copy out; \copy in; a first map with the cluster
# running (drafts deleted before each); the same with the embedded database's
# start and stop included (as a user runs it); a rerun with nothing changed.
# Usage: tools/measure_map_against_copy.sh [N] [FORMAT]   (default katalog-v6)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
format="${2:-katalog-v6}"
cargo build --release --quiet --bins
bin="$PWD/target/release/katalog-bridge"
work="$(mktemp -d /tmp/kb-copy-XXXXXX)"
chmod 755 "$work"
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
cleanup() { as_pg "pg_ctl -D '$work/pg' -m fast -w stop" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
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
"$bin" --data-dir "$work/pg" import cooperatives fixtures/cooperatives.csv >/dev/null 2>&1
"$bin" --data-dir "$work/pg" import products "$work/products.csv" >/dev/null 2>&1
start() { as_pg "pg_ctl -D '$work/pg' -l '$work/pg/server.log' -w start" >/dev/null; }
stop() { as_pg "pg_ctl -D '$work/pg' -m fast -w stop" >/dev/null; }
sock="$(sed -n "s/^unix_socket_directories = '\(.*\)'/\1/p" "$work/pg/katalog-bridge.conf")"
export DATABASE_URL="postgres://postgres@localhost/katalog_bridge?host=$sock"
q() { psql -X -q -h "$sock" -U postgres -d katalog_bridge "$@"; }
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
start
"$bin" map --format "$format" --cooperative MJK-WATES --out "$work/out" >/dev/null
q -c "\\copy (SELECT product_id, payload, content_hash, issues, state, draft_hash FROM listings WHERE format = '$format') TO '$work/drafts.tsv'"
q -c "CREATE TABLE bare_drafts (product_id bigint, payload jsonb, content_hash text, issues jsonb, state text, draft_hash text)"
products_sql="SELECT p.*, m.code, m.name, c.code, c.name, c.city, c.kelurahan, c.npwp, c.nib, c.gln, c.pkp FROM products p JOIN members m ON m.id = p.member_id JOIN cooperatives c ON c.id = p.cooperative_id ORDER BY c.code, m.code, p.sku"
results="$work/results"
record() { echo "$1 $2" >> "$results"; echo "$1: $2 s"; }
for i in 1 2 3; do
    record copy_out "$(secs q -c "\\copy ($products_sql) TO '/dev/null'")"
    q -c "TRUNCATE bare_drafts"
    record copy_in "$(secs q -c "\\copy bare_drafts FROM '$work/drafts.tsv'")"
done
for i in 1 2 3; do
    q -c "TRUNCATE listings CASCADE"
    record first_map_running "$(secs "$bin" map --format "$format" --cooperative MJK-WATES --out "$work/out")"
done
for i in 1 2 3; do
    q -c "TRUNCATE listings CASCADE"
    stop
    record first_map_embedded "$(secs env -u DATABASE_URL "$bin" --data-dir "$work/pg" map --format "$format" --cooperative MJK-WATES --out "$work/out")"
    start
done
for i in 1 2 3; do
    stop
    record rerun_embedded "$(secs env -u DATABASE_URL "$bin" --data-dir "$work/pg" map --format "$format" --cooperative MJK-WATES --out "$work/out")"
    start
done
python3 - "$results" <<'PY'
import sys, statistics
runs = {}
for line in open(sys.argv[1]):
    k, v = line.split()
    runs.setdefault(k, []).append(float(v))
med = {k: statistics.median(v) for k, v in runs.items()}
bound = 2 * (med["copy_out"] + med["copy_in"])
print(f"bound: twice the medians of copy out and copy in = {bound:.2f} s")
for k in ("first_map_running", "first_map_embedded", "rerun_embedded"):
    v = runs[k]
    print(f"{k}: median {med[k]:.2f} s, range {min(v):.2f}-{max(v):.2f} s, ratio to the bound {med[k] / bound:.2f}")
PY
