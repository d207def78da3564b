//! Shared by the benches.

/// The middle of the figures measured (the upper one of an even count).
#[allow(dead_code)] // used by the orders, dashboard and INAPROC benches
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

/// `min-max` of the figures measured, with `decimals` places.
#[allow(dead_code)] // used by the orders, dashboard and INAPROC benches
pub fn range(decimals: usize, v: &[f64]) -> String {
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(0.0, f64::max);
    format!("{min:.decimals$}-{max:.decimals$}")
}

/// Peak resident memory of this process (VmHWM), in MB.
#[allow(dead_code)] // the dashboard bench reads its daemon's instead
pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}

/// CPU time this process has used so far (user + system), in seconds, from
/// `/proc/self/stat` (clock ticks of 1/100 s). Wall time on a shared VM
/// varies from run to run; CPU time shows the work itself.
#[allow(dead_code)] // used by the mapping bench only
pub fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // the fields after the command name, which is in parentheses and may hold spaces
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name
    (ticks(11), ticks(12))
}

/// A fresh embedded PostgreSQL in a new temporary folder (reachable by the
/// `postgres` user when run as root), migrated and holding the 18 fixture
/// cooperatives. The folder goes when the returned guard is dropped.
#[allow(dead_code)] // used by the orders and dashboard benches
pub async fn store_with_cooperatives() -> (tempfile::TempDir, katalog_bridge::store::Store) {
    let tmp = tempfile::Builder::new().prefix("kb-bench-").tempdir_in(std::env::temp_dir()).unwrap();
    std::fs::set_permissions(tmp.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let db = katalog_bridge::config::DatabaseSettings { data_dir: tmp.path().join("pg"), ..Default::default() };
    let store = katalog_bridge::store::Store::open_migrated(&db).await.unwrap();
    katalog_bridge::intake::cooperatives::import_cooperatives(
        &store,
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cooperatives.csv"),
        &Default::default(),
        &Default::default(),
    )
    .await
    .unwrap();
    (tmp, store)
}
