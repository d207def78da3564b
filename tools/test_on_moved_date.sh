#!/usr/bin/env bash
# Runs the test suite (`cargo test --locked`, with any arguments given after
# the date) with the system date moved to DATE, at the real time of day, by
# Debian's faketime: the tests, the PostgreSQL they start and every program
# they run read the moved clock. No test may depend on the real date.
#   tools/test_on_moved_date.sh 2028-03-01 [cargo test arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
date_to="${1:?usage: tools/test_on_moved_date.sh YYYY-MM-DD [cargo test arguments...]}"
shift
lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 2>/dev/null | head -1 || true)
[ -n "$lib" ] || { echo "libfaketime is missing (apt-get install faketime)" >&2; exit 2; }
days=$(( ( $(date -u -d "$date_to" +%s) - $(date -u -d "$(date -u +%F)" +%s) ) / 86400 ))
offset=$(printf '%+dd' "$days")
echo "tests with the date moved to $date_to (faketime $offset)"
# Each test binary is started with libfaketime preloaded and a relative
# offset (cargo's runner); cargo and rustc keep the real clock. Not through
# the faketime command: it shares its start time with the children in a
# semaphore of its own user, which PostgreSQL, started as the postgres user,
# may not open (initdb then fails). The monotonic clock is left alone
# (timers, timeouts).
export FAKETIME_DONT_FAKE_MONOTONIC=1
# libfaketime keeps a semaphore and shared memory per process in /dev/shm,
# named after the process id, and a killed process leaves them behind: one
# left by another user under a reused id makes a process fail at start.
# None is in use before the run; they go before it and after it.
forget_faketime_files() {
    find /dev/shm -maxdepth 1 \( -name 'faketime_shm_*' -o -name 'sem.faketime_sem_*' \) -delete 2>/dev/null || true
}
forget_faketime_files
trap forget_faketime_files EXIT
# (The browser test starts Chromium on the real clock: it only shows what the
# server renders, and under faketime it takes minutes a page.)
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="env LD_PRELOAD=$lib FAKETIME=$offset"
cargo test --locked "$@"
