#!/usr/bin/env bash
# One daemon against two on one database: the time for the orders job to
# fetch and store the details of N orders (default 10,000, mean 10 lines)
# from the mock catalogue as its own process, each detail request delayed by
# LATENCY ms (default 20, a catalogue across the internet). The two daemons
# share the detail claims; the ratio says how far a second instance helps.
# Each mode starts on a fresh database, with the orders job scheduled every
# minute, and is timed from its first run's start to its last run's end
# (sync_runs). RUNS rounds (default 2), median and range.
# Usage: tools/measure_daemons.sh [N] [LATENCY_MS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"
latency="${2:-20}"
rounds="${3:-2}"
. tools/orders_mock.sh
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    kill "$mock" 2>/dev/null || true
    for d in "$work"/pg-*; do [ -d "$d" ] && "$bin" --config "$work/a.toml" --data-dir "$d" db status >/dev/null 2>&1 || true; done
    rm -rf "$work"
}
trap cleanup EXIT
curl -sf -X POST "127.0.0.1:$port/admin/faults" -H 'content-type: application/json' \
    -d "{\"route\": \"/api/v1/ekatalog/paket-e-purchasing/\", \"kind\": \"latency\", \"ms\": $latency}" >/dev/null
never='"0 3 1 1 *"'
for name in a b; do
    listen=$([ "$name" = a ] && echo 9300 || echo 9301)
    orders_config "$work/$name.toml" "[daemon]
listen = \"127.0.0.1:$listen\"
metrics_listen = \"127.0.0.1:$((listen + 100))\"
help_every_seconds = 1
[daemon.schedules]
publish = $never
status = $never
orders = \"* * * * *\"
"
done

# One mode: DAEMONS daemons on a fresh embedded cluster; prints the seconds.
measure() {
    local daemons="$1" round="$2"
    local pg="$work/pg-$daemons-$round"
    "$bin" --config "$work/a.toml" --data-dir "$pg" import cooperatives fixtures/cooperatives.csv >/dev/null 2>&1
    pids=()
    KATALOG_BRIDGE_INSTANCE=daemon-a "$bin" --config "$work/a.toml" --data-dir "$pg" daemon 2>"$work/a-$daemons-$round.log" &
    pids+=($!)
    sleep 1
    if [ "$daemons" = 2 ]; then
        KATALOG_BRIDGE_INSTANCE=daemon-b "$bin" --config "$work/b.toml" --data-dir "$pg" daemon 2>"$work/b-$daemons-$round.log" &
        pids+=($!)
    fi
    # Until the first tick's lead run has ended and nothing runs.
    for _ in $(seq 1200); do
        if "$bin" --config "$work/a.toml" --data-dir "$pg" runs --job orders --json 2>/dev/null | python3 -c '
import sys, json
runs = [json.loads(l) for l in sys.stdin if l.strip()]
sys.exit(0 if any(r["finished_at"] and r["stats"].get("pages", 0) > 0 for r in runs) and all(r["status"] != "running" for r in runs) else 1)'; then
            break
        fi
        sleep 0.5
    done
    "$bin" --config "$work/a.toml" --data-dir "$pg" runs --job orders --json 2>/dev/null > "$work/runs-$daemons-$round.json"
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
    python3 - "$work/runs-$daemons-$round.json" "$n" <<'PY'
import sys, json, datetime
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
first = min(t(r["started_at"]) for r in runs)
# The first tick's work: runs that started within its minute.
work = [r for r in runs if (t(r["started_at"]) - first).total_seconds() < 60 and r["finished_at"]]
last = max(t(r["finished_at"]) for r in work)
details = {}
for r in work:
    who = r["instance"].split(":")[0]
    details[who] = details.get(who, 0) + r["stats"].get("details", {}).get("orders", 0)
total = sum(details.values())
assert total == int(sys.argv[2]), f"details written {total} != {sys.argv[2]}: {details}"
print(f"{(last - first).total_seconds():.2f} {json.dumps(details)}")
PY
}

one=(); two=()
for round in $(seq "$rounds"); do
    r1=$(measure 1 "$round"); one+=("${r1%% *}")
    r2=$(measure 2 "$round"); two+=("${r2%% *}")
    echo "round $round: one daemon ${r1}; two daemons ${r2}"
done
python3 - "$n" "$latency" "${one[*]}" "${two[*]}" <<'PY'
import sys, statistics
n, latency = sys.argv[1], sys.argv[2]
one = [float(x) for x in sys.argv[3].split()]
two = [float(x) for x in sys.argv[4].split()]
ratios = [a / b for a, b in zip(one, two)]
print(f"{n} order details at {latency} ms each: one daemon median {statistics.median(one):.1f} s (range {min(one):.1f}-{max(one):.1f}), "
      f"two daemons median {statistics.median(two):.1f} s (range {min(two):.1f}-{max(two):.1f}); "
      f"speed-up median {statistics.median(ratios):.2f} (range {min(ratios):.2f}-{max(ratios):.2f})")
PY
