# Sourced by tools/measure_order_sync.sh and tools/measure_daemons.sh (with
# $n set): builds the release binaries, makes a work folder, and starts the
# mock catalogue as its own process with $n packages (a mean of 10 lines,
# fiscal year 2026, rate limit lifted), waiting until it answers. Sets bin,
# work, port and mock, and a trap that stops the mock and removes the folder.
# `orders_config FILE [TOML]` writes a configuration for it: [orders] for
# D347 and 2026, then TOML, then the catalogue with every seller's account.
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
for _ in $(seq 100); do curl -sf "127.0.0.1:$port/admin/clock" >/dev/null && break; sleep 0.2; done

orders_config() {
    python3 - "$1" "$port" "${2:-}" <<'PY'
import sys, tomllib
config, port, extra = sys.argv[1], sys.argv[2], sys.argv[3]
scenario = tomllib.load(open("fixtures/scenarios/mojokerto.toml", "rb"))
with open(config, "w") as f:
    f.write('[orders]\nklpd = ["D347"]\ntahun = [2026]\n')
    f.write(extra)
    f.write(f'[catalogue]\nbase_url = "http://127.0.0.1:{port}"\n')
    for c in scenario["clients"]:
        f.write(f'[[catalogue.sellers]]\nkode_penyedia = "{c["kode_penyedia"]}"\nclient_id = "{c["client_id"]}"\nclient_secret = "{c["client_secret"]}"\n')
PY
}
