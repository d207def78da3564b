#!/usr/bin/env bash
# `sync orders` from the mock's INAPROC data API as its own process, over N
# packages (default 95,000; a mean of 2 products each, fiscal year 2026,
# quota lifted): wall time and the command's peak memory, for a first run
# and for a rerun with nothing changed. Usage:
#   tools/measure_inaproc_sync.sh [N]            (release binaries)
#   KB_PROFILE=debug tools/measure_inaproc_sync.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-95000}"
profile="${KB_PROFILE:-release}"
if [ "$profile" = release ]; then cargo build --release --quiet --bins; else cargo build --quiet --bins; fi
bin="$PWD/target/$profile/katalog-bridge"
work="$(mktemp -d /tmp/kb-inaproc-XXXXXX)"
chmod 755 "$work"
port=$((20000 + RANDOM % 20000))
token="jwt-bench-$RANDOM"
sed -e 's/^rate_limit_per_minute = .*/rate_limit_per_minute = 1000000000/' -e "s/^orders_per_day = .*/orders_per_day = 0\ninitial_orders = $n\nlines_per_order_mean = 2\nfiscal_year = 2026/" \
    fixtures/scenarios/mojokerto.toml > "$work/scenario.toml"
printf '\n[inaproc]\ntoken = "%s"\nper_minute = 1000000000\nper_hour = 1000000000\n' "$token" >> "$work/scenario.toml"
"$PWD/target/$profile/mock-catalog" --listen "127.0.0.1:$port" --scenario "$work/scenario.toml" > "$work/mock.log" 2>&1 &
mock=$!
trap 'kill $mock 2>/dev/null; "$bin" --config "$work/kb.toml" --data-dir "$work/pg" db status >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
for _ in $(seq 600); do curl -sf "127.0.0.1:$port/admin/clock" >/dev/null && break; sleep 0.2; done
cat > "$work/kb.toml" <<TOML
[orders]
source = "inaproc"
klpd = ["D347"]
tahun = [2026]
page_size = 1000
detail_batch = 500
[inaproc]
base_url = "http://127.0.0.1:$port"
token = "$token"
per_minute = 1000000000
per_hour = 1000000000
TOML
kb() { "$bin" --config "$work/kb.toml" --data-dir "$work/pg" "$@"; }
kb import cooperatives fixtures/cooperatives.csv >/dev/null 2>&1
for run in first rerun; do
    /usr/bin/time -f "$run sync of $n packages ($profile): %e s, peak RSS %M KB" "$bin" --config "$work/kb.toml" --data-dir "$work/pg" sync orders 2>&1 \
        | grep -vE " INFO " | tail -4
done
RUST_LOG=warn kb runs --job orders 2>/dev/null | head -3 || true
