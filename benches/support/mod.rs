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

/// The 95th percentile of `v` (sorted in place).
#[allow(dead_code)] // used by the dashboard and purchase-plan benches
pub fn p95(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * 0.95).ceil() as usize).saturating_sub(1).min(v.len() - 1)]
}

/// A process's peak resident memory (VmHWM), in MB.
#[allow(dead_code)] // used by the dashboard and purchase-plan benches
pub fn peak_rss_of(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}

/// Logs `user` in to the dashboard at `base` from a loopback address of its
/// own (20 people, 20 addresses: the dashboard caps the connections of each address).
#[allow(dead_code)] // used by the dashboard and purchase-plan benches
pub async fn log_in(base: &str, user: &str, password: &str, address: std::net::IpAddr) -> reqwest::Client {
    let http = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).local_address(address).build().unwrap();
    let page = http.get(format!("{base}/masuk")).send().await.unwrap().text().await.unwrap();
    let marker = "name=\"token\" value=\"";
    let at = page.find(marker).unwrap() + marker.len();
    let token = page[at..].split('"').next().unwrap().to_owned();
    let r = http
        .post(format!("{base}/masuk"))
        .form(&[("token", token.as_str()), ("username", user), ("password", password), ("lanjut", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "{user} logged in");
    http
}

/// Every client asks for `path(its data, i)` `n` times, all clients at once; the latencies in ms.
#[allow(dead_code)] // used by the dashboard and purchase-plan benches
pub async fn load<C: Clone + Send + Sync + 'static>(clients: &[(reqwest::Client, C)], base: &str, n: usize, path: fn(&C, usize) -> String) -> Vec<f64> {
    let mut tasks = tokio::task::JoinSet::new();
    for (ci, (http, data)) in clients.iter().enumerate() {
        let (http, data, base) = (http.clone(), data.clone(), base.to_owned());
        tasks.spawn(async move {
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                let url = format!("{base}{}", path(&data, i * 31 + ci * 7));
                let started = std::time::Instant::now();
                let r = http.get(&url).send().await.unwrap();
                let status = r.status().as_u16();
                let _ = r.bytes().await.unwrap();
                out.push(started.elapsed().as_secs_f64() * 1000.0);
                assert_eq!(status, 200, "{url}");
            }
            out
        });
    }
    let mut all = Vec::new();
    while let Some(r) = tasks.join_next().await {
        all.extend(r.unwrap());
    }
    all
}

/// The daemon (release binary) on the bench's embedded cluster in `tmp`,
/// its schedules far away, with `extra` added to its configuration; its
/// dashboard's address, once it answers.
#[allow(dead_code)] // used by the dashboard and purchase-plan benches
pub async fn start_daemon(tmp: &std::path::Path, extra: &str) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let config = tmp.join("katalog-bridge-daemon.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\ndata_dir = \"{}\"\n[daemon]\nlisten = \"127.0.0.1:{port}\"\nmetrics_listen = \"127.0.0.1:0\"\n\
             [daemon.schedules]\npublish = \"0 3 1 1 *\"\nstatus = \"0 3 1 1 *\"\norders = \"0 3 1 1 *\"\nrup = \"0 3 1 1 *\"\n{extra}",
            tmp.join("pg").display()
        ),
    )
    .unwrap();
    let daemon = std::process::Command::new(env!("CARGO_BIN_EXE_katalog-bridge"))
        .env_remove("DATABASE_URL")
        .arg("--config")
        .arg(&config)
        .arg("daemon")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(tmp.join("daemon.log")).unwrap())
        .spawn()
        .unwrap();
    for _ in 0..300 {
        if reqwest::get(format!("{base}/masuk")).await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    (daemon, base)
}
