#!/usr/bin/env bash
# The whole `sync orders` command against the mock catalogue as its own
# process (rate limit lifted), over N packages (default 100,000) with a mean of
# 10 lines: wall time, orders and lines per second, and the command's peak
# memory (the mock's memory is its own). Usage: tools/measure_order_sync.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
cargo build --release --quiet --bins
bin="$PWD/target/release/katalog-bridge"
work="$(mktemp -d /tmp/kb-orders-XXXXXX)"
chmod 755 "$work"
port=$((20000 + RANDOM % 20000))
sed -e 's/^rate_limit_per_minute = .*/rate_limit_per_minute = 1000000000/' -e "s/^orders_per_day = .*/orders_per_day = 0\ninitial_orders = $n\nlines_per_order_mean = 10\nfiscal_year = 2026/" \
    fixtures/scenarios/mojokerto.toml > "$work/scenario.toml"
"$PWD/target/release/mock-catalog" --listen "127.0.0.1:$port" --scenario "$work/scenario.toml" > "$work/mock.log" 2>&1 &
mock=$!
trap 'kill $mock 2>/dev/null; rm -rf "$work"' EXIT
python3 - "$work/katalog-bridge.toml" "$port" <<'PY'
import sys, tomllib
config, port = sys.argv[1], sys.argv[2]
scenario = tomllib.load(open("fixtures/scenarios/mojokerto.toml", "rb"))
with open(config, "w") as f:
    f.write(f'[orders]\nklpd = ["D347"]\ntahun = [2026]\n[catalogue]\nbase_url = "http://127.0.0.1:{port}"\n')
    for c in scenario["clients"]:
        f.write(f'[[catalogue.sellers]]\nkode_penyedia = "{c["kode_penyedia"]}"\nclient_id = "{c["client_id"]}"\nclient_secret = "{c["client_secret"]}"\n')
PY
for _ in $(seq 100); do curl -sf "127.0.0.1:$port/admin/clock" >/dev/null && break; sleep 0.2; done
kb() { "$bin" --config "$work/katalog-bridge.toml" --data-dir "$work/pg" "$@"; }
kb import cooperatives fixtures/cooperatives.csv >/dev/null 2>&1
/usr/bin/time -f "sync orders over $n packages: %e s, peak RSS %M KB" "$bin" --config "$work/katalog-bridge.toml" --data-dir "$work/pg" sync orders 2>&1 | grep -v INFO | tail -2
