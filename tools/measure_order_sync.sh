#!/usr/bin/env bash
# The whole `sync orders` command against the mock catalogue as its own
# process (rate limit lifted), over N packages (default 100,000) with a mean of
# 10 lines: wall time, orders and lines per second, and the command's peak
# memory (the mock's memory is its own). Usage: tools/measure_order_sync.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
. tools/orders_mock.sh
orders_config "$work/katalog-bridge.toml"
kb() { "$bin" --config "$work/katalog-bridge.toml" --data-dir "$work/pg" "$@"; }
kb import cooperatives fixtures/cooperatives.csv >/dev/null 2>&1
/usr/bin/time -f "sync orders over $n packages: %e s, peak RSS %M KB" "$bin" --config "$work/katalog-bridge.toml" --data-dir "$work/pg" sync orders 2>&1 | grep -v INFO | tail -2
