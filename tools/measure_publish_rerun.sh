#!/usr/bin/env bash
# The whole `sync publish` command, rerun with nothing changed, over N products
# (default 100,000): starts the mock catalogue as its own process with its rate
# limit lifted, imports N products over four cooperatives into a private
# cluster, publishes them once, then times the rerun (embedded database start
# and stop, map, plan and claims included) and its peak memory.
# Usage: tools/measure_publish_rerun.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
cargo build --release --quiet --bins
bin="$PWD/target/release/katalog-bridge"
work="$(mktemp -d /tmp/kb-rerun-XXXXXX)"
chmod 755 "$work"
port=$((20000 + RANDOM % 20000))
sed 's/^rate_limit_per_minute = .*/rate_limit_per_minute = 100000000/' fixtures/scenarios/mojokerto.toml > "$work/scenario.toml"
"$PWD/target/release/mock-catalog" --listen "127.0.0.1:$port" --scenario "$work/scenario.toml" > "$work/mock.log" 2>&1 &
mock=$!
trap 'kill $mock 2>/dev/null; rm -rf "$work"' EXIT
python3 - "$n" "$work/products.csv" "$work/katalog-bridge.toml" "$port" <<'PY'
import sys, tomllib
n, path, config, port = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
coops = ["MJK-WATES", "MJK-MERI", "MJK-KAUMAN", "MJK-MIJI"]
with open(path, "w") as f:
    f.write("kode_koperasi;kode_anggota;nama_anggota;sku;nama_produk;kategori;satuan;harga;berat_kg;foto\n")
    for i in range(n):
        f.write(f"{coops[i % 4]};M-{i % 7};Anggota {i % 7};SKU-{i:07};Minyak Goreng Kemasan Nomor {i};Minyak Goreng;botol;{15000 + i % 100};1;https://f.id/{i}.jpg\n")
scenario = tomllib.load(open("fixtures/scenarios/mojokerto.toml", "rb"))
with open(config, "w") as f:
    f.write(f'[catalogue]\nbase_url = "http://127.0.0.1:{port}"\n')
    for c in scenario["clients"]:
        f.write(f'[[catalogue.sellers]]\nkode_penyedia = "{c["kode_penyedia"]}"\nclient_id = "{c["client_id"]}"\nclient_secret = "{c["client_secret"]}"\n')
PY
kb() { "$bin" --config "$work/katalog-bridge.toml" --data-dir "$work/pg" "$@"; }
kb import cooperatives fixtures/cooperatives.csv >/dev/null 2>&1
kb import products "$work/products.csv" >/dev/null 2>&1
kb sync publish 2>/dev/null | tail -1
for i in 1 2 3; do
    /usr/bin/time -f "rerun $i: %e s, peak RSS %M KB" "$bin" --config "$work/katalog-bridge.toml" --data-dir "$work/pg" sync publish 2>&1 >/dev/null | tail -1
done
kb sync publish | tail -1
