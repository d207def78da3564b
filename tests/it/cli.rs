//! The binary as users meet it: help text, configuration, secrets, logs, the
//! demo and the templates.

use crate::common;

use std::process::Command;

const CLIENT_SECRET: &str = "catalog-Client-Secret-7431";

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// A configuration file with a seller account whose secret must never show.
fn secrets_config() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("kb-cli-secrets-{}.toml", std::process::id()));
    let text = format!(
        "[catalogue]\nbase_url = \"http://127.0.0.1:9\"\n[[catalogue.sellers]]\nkode_penyedia = \"P-WATES\"\nclient_id = \"kkmp-wates\"\nclient_secret = \"{CLIENT_SECRET}\"\n\
         [notify]\nwebhook_url = \"https://hook.example/in?token={HOOK_TOKEN}\"\nwebhook_secret = \"{HOOK_SECRET}\"\n\
         smtp_url = \"smtps://kkmp:{SMTP_PASSWORD}@mail.example:465\"\nsmtp_password = \"{SMTP_PASSWORD}\"\nfrom = \"kb <noreply@mail.example>\"\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn with_secrets(url: &str) -> Command {
    let mut cmd = common::binary();
    cmd.env("DATABASE_URL", url).arg("--config").arg(secrets_config());
    cmd
}

const HOOK_TOKEN: &str = "hooktoken8812";
const HOOK_SECRET: &str = "hooksecret5521";
const SMTP_PASSWORD: &str = "smtppass9034";

fn assert_no_secret(text: &str) {
    assert!(!text.contains(CLIENT_SECRET), "client secret leaked:\n{text}");
    for s in [HOOK_TOKEN, HOOK_SECRET, SMTP_PASSWORD] {
        assert!(!text.contains(s), "notify secret {s} leaked:\n{text}");
    }
    assert!(!text.contains(common::SECRET_PASSWORD), "database password leaked:\n{text}");
}

#[tokio::test]
async fn secrets_never_appear_in_help_config_or_logs() {
    let (_store, url) = common::fresh_db().await;
    let mut seen = String::new();
    for args in [&["--help"][..], &["import", "--help"], &["import", "products", "--help"], &["db", "status", "--help"], &["demo", "--help"]] {
        let (code, out, err) = run(with_secrets(&url).args(args));
        assert_eq!(code, 0, "{args:?}: {err}");
        seen.push_str(&out);
        seen.push_str(&err);
    }
    let (code, out, err) = run(with_secrets(&url).env("RUST_LOG", "trace").arg("config"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("kode_penyedia = P-WATES, client_id = kkmp-wates, client_secret = [REDACTED]"), "{out}");
    assert!(out.contains("postgres://postgres:REDACTED@localhost/"), "{out}");
    assert!(out.contains("notify.webhook_secret = [REDACTED]") && out.contains("token=REDACTED") && out.contains("kkmp:REDACTED@mail.example"), "{out}");
    assert!(err.contains("configuration loaded"), "debug logs show the settings: {err}");
    seen.push_str(&out);
    seen.push_str(&err);
    // a command that really connects, with every log level on
    let (code, out, err) = run(with_secrets(&url).env("RUST_LOG", "trace").args(["db", "status"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("REDACTED"), "{out}");
    seen.push_str(&out);
    seen.push_str(&err);
    assert_no_secret(&seen);
}

#[tokio::test]
async fn logs_can_be_json() {
    let (_store, url) = common::fresh_db().await;
    let (code, _, err) = run(common::binary().env("DATABASE_URL", &url).env("RUST_LOG", "debug").args(["--log-format", "json", "db", "migrate"]));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(!lines.is_empty());
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v.get("level").is_some() && v.get("timestamp").is_some(), "{line}");
    }
}

#[test]
fn a_broken_config_file_is_one_clear_error() {
    let tmp = common::temp_dir();
    let file = tmp.path().join("kb.toml");
    std::fs::write(&file, "[import]\nbatch_size = \"banyak\"\n").unwrap();
    let (code, _, err) = run(common::binary().arg("--config").arg(&file).arg("config"));
    assert_eq!(code, 2);
    assert!(err.starts_with("error: invalid configuration") && err.contains("batch_size"), "{err}");
    let (code, _, err) = run(common::binary().arg("--config").arg(tmp.path().join("nope.toml")).arg("config"));
    assert_eq!(code, 2);
    assert!(err.contains("nope.toml does not exist"), "{err}");
}

#[tokio::test]
async fn demo_imports_the_fixtures_and_summarises_each_cooperative() {
    let (store, url) = common::fresh_db().await;
    let fixtures = common::repo().join("fixtures");
    // work on a copy so no rejects file could land in the repository
    let tmp = common::temp_dir();
    let copy = tmp.path().join("fixtures");
    std::fs::create_dir_all(copy.join("products")).unwrap();
    std::fs::copy(fixtures.join("cooperatives.csv"), copy.join("cooperatives.csv")).unwrap();
    for f in std::fs::read_dir(fixtures.join("products")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, copy.join("products").join(f.file_name().unwrap())).unwrap();
    }
    std::fs::create_dir_all(copy.join("scenarios")).unwrap();
    std::fs::copy(fixtures.join("scenarios/mojokerto.toml"), copy.join("scenarios/mojokerto.toml")).unwrap();
    // A database with real data, named by DATABASE_URL: the demo must leave it alone.
    common::load_cooperatives(&store).await;
    sqlx::query("UPDATE cooperatives SET email = 'asli@koperasi.example' WHERE code = 'MJK-WATES'").execute(store.pool()).await.unwrap();
    let real = |store: &katalog_bridge::store::Store| {
        let pool = store.pool().clone();
        async move {
            sqlx::query_as::<_, (i64, i64, i64, i64, i64)>(
                "SELECT (SELECT count(*) FROM cooperatives), (SELECT count(*) FROM products), (SELECT count(*) FROM publications),
                        (SELECT count(*) FROM purchase_orders), (SELECT count(*) FROM cooperatives WHERE email = 'asli@koperasi.example')",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let before = real(&store).await;
    assert_eq!(before, (18, 0, 0, 0, 1));
    let docs = tmp.path().join("out");
    let (code, out, err) = run(common::binary().env("DATABASE_URL", &url).args(["demo", "--fixtures"]).arg(&copy).arg("--out").arg(&docs));
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(real(&store).await, before, "the configured database is untouched");
    let first = out.lines().next().unwrap_or_default();
    assert!(first.contains("on a PostgreSQL of its own") && first.contains("katalog-bridge-demo-") && first.contains("is not used"), "says so first: {first}");
    for format in ["katalog-v6", "katalog-v6-xlsx", "peppol-catalogue"] {
        assert!(out.contains(&format!("{format}: 332 products")), "{out}");
    }
    assert!(docs.join("katalog-v6/MJK-WATES.jsonl").is_file() && docs.join("peppol-catalogue/MJK-WATES.xml").is_file());
    assert!(docs.join("katalog-v6-xlsx/MJK-WATES").is_dir(), "one folder of workbooks per seller");
    assert!(out.contains("WIB"), "times are shown in Jakarta time: {out}");
    // Published to the mock catalogue, reviewed, and reported per cooperative with the reasons.
    assert!(out.contains("On the mock catalogue at http://127.0.0.1:"), "{out}");
    // The table per cooperative: live, rejected, revision, curation, submitted, blocked, failed.
    let table: Vec<Vec<i64>> = out
        .lines()
        .skip_while(|l| !l.starts_with("cooperative              live"))
        .skip(1)
        .take_while(|l| l.starts_with("MJK-"))
        .map(|l| l.split_whitespace().skip(1).map(|n| n.parse().unwrap()).collect())
        .collect();
    assert_eq!(table.len(), 18, "{out}");
    let column = |i: usize| table.iter().map(|r| r[i]).sum::<i64>();
    assert!(column(0) > 0 && column(3) + column(4) == 0, "review ended: {} live, {} still in review\n{out}", column(0), column(3) + column(4));
    // What the checks held back is shown with its reasons: over-priced rice per kg among them; the
    // catalogue rejected nothing for its price, since the same ceilings were checked before sending.
    assert!(out.contains("Held back before sending, by reason"), "{out}");
    assert!(out.contains("above_price_ceiling: ") && out.contains("/kg di atas HET Rp14.900/kg"), "reasons shown: {out}");
    let curators: Vec<&str> = out.lines().skip_while(|l| !l.starts_with("Rejected or sent back")).take_while(|l| !l.is_empty()).collect();
    assert!(curators.iter().all(|l| !l.contains("HET")), "rejected for price by the catalogue: {curators:?}");
    for kelurahan in ["Balongsari", "Gununggedangan", "Prajurit Kulon", "Surodinawan", "Purwotengah", "Sentanan"] {
        assert!(out.contains(kelurahan), "{kelurahan} missing:\n{out}");
    }
    assert!(out.contains("18 cooperatives") && out.contains(" 332 "), "{out}");
    assert!(!out.contains("rejected rows written"), "{out}");
    // The city's purchase plan, read from the mock's INAPROC and matched to the cooperatives.
    let plan = out.lines().find(|l| l.starts_with("sync rup: plan packages: ")).unwrap_or_else(|| panic!("{out}"));
    assert!(!plan.starts_with("sync rup: plan packages: 0 new") && !plan.contains(" 0 matched"), "{plan}");
    assert!(out.contains("Peluang terbuka") && out.contains("koperasi cocok"), "{out}");
    // Each run starts afresh in a sandbox of its own, and tells the same story (the mock's seed).
    let (code, again, _) = run(common::binary().env("DATABASE_URL", &url).args(["demo", "--fixtures"]).arg(&copy).arg("--out").arg(&docs));
    assert_eq!(code, 0);
    let publish_line = |text: &str| text.lines().find(|l| l.starts_with("publish: ")).map(str::to_owned);
    assert!(publish_line(&out).is_some() && publish_line(&out) == publish_line(&again), "{out}\n{again}");
    // The same orders, deadlines and amounts, though the sellers publish concurrently (dates aside: the
    // story starts near today, and a run may cross the Monday it starts on).
    let orders = |text: &str| -> Vec<String> {
        let dated = |w: &str| {
            let w = w.trim_matches(|c: char| !c.is_ascii_alphanumeric());
            chrono::NaiveDate::parse_from_str(&format!("{w}-01"), "%Y-%m-%d").is_ok()
                || chrono::NaiveDate::parse_from_str(w, "%Y-%m-%d").is_ok()
                || w.starts_with("EP-20")
        };
        let words = |l: &str| l.split(' ').map(|w| if dated(w) { "#" } else { w }).collect::<Vec<_>>().join(" ");
        text.lines().skip_while(|l| !l.starts_with("Government orders")).map(words).collect()
    };
    assert!(orders(&out).len() > 20 && orders(&out) == orders(&again), "the same story twice:\n{out}\n{again}");
    assert!(again.contains("18 new, 0 updated"), "a fresh database each run: {again}");
    assert_eq!(real(&store).await, before, "still untouched");
}

/// Every cell of every sheet of a workbook, as text.
fn workbook_cells(path: &std::path::Path) -> Vec<(String, Vec<Vec<String>>)> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(path).unwrap();
    let names = book.sheet_names();
    names
        .into_iter()
        .map(|n| {
            let range = book.worksheet_range(&n).unwrap();
            (n, range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect())
        })
        .collect()
}

#[test]
fn committed_templates_match_what_the_program_writes() {
    let tmp = common::temp_dir();
    for (kind, name) in [("products", "produk.csv"), ("cooperatives", "koperasi.csv")] {
        let fresh = tmp.path().join(name);
        let (code, _, err) = run(common::binary().args(["import", "template", "--kind", kind]).arg(&fresh));
        assert_eq!(code, 0, "{err}");
        let committed = common::repo().join("fixtures/templates").join(name);
        assert_eq!(std::fs::read(&fresh).unwrap(), std::fs::read(&committed).unwrap(), "{name} is stale: regenerate it");
        let text = std::fs::read_to_string(&fresh).unwrap();
        assert_eq!(text.lines().count(), 1, "an empty template holds the header only: {text}");
    }
    let xlsx = tmp.path().join("produk.xlsx");
    let (code, _, err) = run(common::binary().args(["import", "template"]).arg(&xlsx));
    assert_eq!(code, 0, "{err}");
    let fresh = workbook_cells(&xlsx);
    assert_eq!(fresh, workbook_cells(&common::repo().join("fixtures/templates/produk.xlsx")), "produk.xlsx is stale: regenerate it");
    let (data_name, data) = &fresh[0];
    assert_eq!(data_name, "Produk");
    assert_eq!(data.len(), 1, "the data sheet holds the header only: {data:?}");
    assert_eq!(data[0][..3], ["kode_koperasi", "kode_anggota", "nama_anggota"]);
    let (help_name, help) = &fresh[1];
    assert_eq!(help_name, "Petunjuk");
    assert_eq!(help[0], ["kolom", "wajib", "isi", "contoh"]);
    assert!(help.iter().any(|r| r[0] == "harga" && r[1] == "ya" && r[3] == "Rp 74.500"), "{help:?}");
}

#[test]
fn a_template_never_overwrites_a_file_and_takes_csv_or_xlsx_only() {
    let tmp = common::temp_dir();
    let filled = tmp.path().join("produk.csv");
    std::fs::write(&filled, "kode_koperasi;sku\nMJK-WATES;BRS-5\n").unwrap();
    let (code, _, err) = run(common::binary().args(["import", "template"]).arg(&filled));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("already exists: not overwritten"), "{err}");
    assert_eq!(std::fs::read_to_string(&filled).unwrap(), "kode_koperasi;sku\nMJK-WATES;BRS-5\n", "the filled-in sheet is kept");
    let (code, _, err) = run(common::binary().args(["import", "template", "--force"]).arg(&filled));
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read_to_string(&filled).unwrap().contains("nama_produk"));
    let odd = tmp.path().join("produk.ods");
    let (code, _, err) = run(common::binary().args(["import", "template"]).arg(&odd));
    assert_eq!(code, 2);
    assert!(err.contains("written as .csv or .xlsx"), "{err}");
    assert!(!odd.exists());
}

#[tokio::test]
async fn the_templates_import_cleanly_and_import_nothing() {
    let (store, url) = common::fresh_db().await;
    let tmp = common::temp_dir();
    let coops = common::repo().join("fixtures/cooperatives.csv");
    run(common::binary().env("DATABASE_URL", &url).args(["import", "cooperatives"]).arg(coops));
    for name in ["koperasi.csv", "produk.csv", "produk.xlsx"] {
        let copy = tmp.path().join(name);
        std::fs::copy(common::repo().join("fixtures/templates").join(name), &copy).unwrap();
        let what = if name.starts_with("koperasi") { "cooperatives" } else { "products" };
        let (code, out, err) = run(common::binary().env("DATABASE_URL", &url).args(["import", what]).arg(&copy));
        assert_eq!(code, 0, "{name}: {out}{err}");
        assert!(out.contains("0 rows read"), "{name}: the header is recognised, and no example row becomes data: {out}");
    }
    let products: i64 = sqlx::query_scalar("SELECT count(*) FROM products").fetch_one(store.pool()).await.unwrap();
    assert_eq!(products, 0);
}

/// The README's `cargo run --release -- demo` needs cargo to know which of the
/// workspace's binaries (katalog-bridge, mock-catalog) `cargo run` means.
#[test]
fn cargo_run_defaults_to_the_main_binary() {
    let manifest: toml::Table = std::fs::read_to_string(common::repo().join("Cargo.toml")).unwrap().parse().unwrap();
    assert_eq!(manifest["package"]["default-run"].as_str(), Some("katalog-bridge"));
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    assert!(readme.contains("cargo run --release -- demo") && readme.contains("cargo test"));
}

/// Passwords in a URL's query, configuration syntax and type errors, and
/// trace-level logs never show a secret.
#[tokio::test]
async fn secrets_in_url_queries_and_bad_configuration_files_are_never_shown() {
    let (_store, url) = common::fresh_db().await;
    // The same database, with the password in the query instead of the user info.
    let (base, query) = url.split_once('?').unwrap();
    let query_url = format!("{}?password={}&{query}", base.replace(&format!(":{}@", common::SECRET_PASSWORD), "@"), common::SECRET_PASSWORD);
    let mut seen = String::new();
    for args in [&["config"][..], &["db", "status"]] {
        let (code, out, err) = run(with_secrets(&query_url).env("RUST_LOG", "trace").args(args));
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(out.contains("password=REDACTED"), "{args:?}: {out}");
        seen.push_str(&out);
        seen.push_str(&err);
    }
    let tmp = common::temp_dir();
    for (name, text) in [
        ("syntax.toml", format!("[[catalogue.sellers]]\nkode_penyedia = \"P1\"\nclient_id = \"c\"\nclient_secret = {CLIENT_SECRET}\n")),
        ("unterminated.toml", format!("[[catalogue.sellers]]\nkode_penyedia = \"P1\"\nclient_id = \"c\"\nclient_secret = \"{CLIENT_SECRET}\n")),
        ("type.toml", format!("[[catalogue.sellers]]\nkode_penyedia = \"P1\"\nclient_id = \"c\"\nclient_secret = [\"{CLIENT_SECRET}\"]\n")),
        ("url.toml", format!("[database]\nurl = \"postgres://u:{}@[::1/db\"\n", common::SECRET_PASSWORD)),
    ] {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (code, out, err) = run(common::binary().env("RUST_LOG", "trace").arg("--config").arg(&path).args(["db", "status"]));
        assert_eq!(code, 2, "{name}: {out}{err}");
        // A file that does not parse is named; a URL that does not is named by its setting.
        let names = if name == "url.toml" { "database.url or DATABASE_URL" } else { name };
        assert!(err.contains(names), "{name}: the error names {names}: {err}");
        seen.push_str(&out);
        seen.push_str(&err);
    }
    assert_no_secret(&seen);
}

/// `map` refuses an unknown cooperative and a file name where it writes a
/// folder; a one-cooperative run writes that cooperative's files only.
#[tokio::test]
async fn map_checks_the_cooperative_and_writes_each_sellers_own_files() {
    let (_store, url) = common::fresh_db().await;
    let tmp = common::temp_dir();
    let coops = common::repo().join("fixtures/cooperatives.csv");
    let products = common::repo().join("fixtures/products/magersari.csv");
    let copy = tmp.path().join("magersari.csv");
    std::fs::copy(products, &copy).unwrap();
    run(common::binary().env("DATABASE_URL", &url).args(["import", "cooperatives"]).arg(coops));
    run(common::binary().env("DATABASE_URL", &url).args(["import", "products"]).arg(&copy));
    let out = tmp.path().join("out");
    let (code, _, err) =
        run(common::binary().env("DATABASE_URL", &url).args(["map", "--format", "katalog-v6", "--cooperative", "MJK-ATLANTIS", "--out"]).arg(&out));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cooperative MJK-ATLANTIS is not registered"), "{err}");
    assert!(!out.exists(), "nothing written for an unknown cooperative");
    let (code, _, err) =
        run(common::binary().env("DATABASE_URL", &url).args(["map", "--format", "peppol-catalogue", "--out"]).arg(tmp.path().join("katalog.xml")));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("looks like a file name"), "{err}");
    assert!(!tmp.path().join("katalog.xml").exists());
    for format in ["katalog-v6", "katalog-v6-xlsx", "peppol-catalogue"] {
        let dir = out.join(format);
        let (code, _, err) = run(common::binary().env("DATABASE_URL", &url).args(["map", "--format", format, "--out"]).arg(&dir));
        assert_eq!(code, 0, "{format}: {err}");
        let before: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(before.len() >= 6, "{format}: one output per Magersari cooperative: {before:?}");
        let wates = before.iter().find(|n| n.to_string_lossy().starts_with("MJK-WATES")).unwrap().clone();
        let wates_path = dir.join(&wates);
        let kept = std::fs::metadata(dir.join(&before[0])).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let (code, _, err) = run(common::binary().env("DATABASE_URL", &url).args(["map", "--format", format, "--cooperative", "MJK-WATES", "--out"]).arg(&dir));
        assert_eq!(code, 0, "{format}: {err}");
        assert!(wates_path.exists(), "{format}");
        let after: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(before.len(), after.len(), "{format}: the other cooperatives' files stay");
        if before[0] != wates {
            assert_eq!(std::fs::metadata(dir.join(&before[0])).unwrap().modified().unwrap(), kept, "{format}: untouched");
        }
    }
}

#[test]
fn an_unreachable_database_fails_fast_with_the_real_cause() {
    let url = format!("postgres://kb:{}@127.0.0.1:1/kb", common::SECRET_PASSWORD);
    let (code, out, err) = run(common::binary().env("DATABASE_URL", &url).args(["db", "status"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.to_lowercase().contains("connection refused"), "{err}");
    assert!(!err.contains("pool timed out"), "{err}");
    assert_no_secret(&err);
}

#[test]
fn the_demo_outside_the_checkout_says_where_the_fixtures_are_expected_and_creates_nothing() {
    let tmp = common::temp_dir();
    let (code, out, err) = run(common::binary().current_dir(tmp.path()).args(["demo", "--fixtures", "no-such-folder"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("fixtures (cooperatives.csv and products/) are not in no-such-folder"), "{err}");
    assert!(err.contains("--fixtures DIR"), "{err}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "no cluster or output was created");
}

/// Logs written to a pipe or a file carry no terminal colour codes.
#[tokio::test]
async fn logs_to_a_pipe_have_no_colour_codes() {
    let (_store, url) = common::fresh_db().await;
    let (code, out, err) = run(common::binary().env("DATABASE_URL", &url).env("RUST_LOG", "debug").args(["db", "status"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("DEBUG"), "there are log lines: {err}");
    assert!(!err.contains('\u{1b}') && !out.contains('\u{1b}'), "escape codes in: {err:?}");
}

#[tokio::test]
async fn schedule_shows_each_jobs_next_runs_and_runs_shows_the_history() {
    let tmp = common::temp_dir();
    let config = tmp.path().join("katalog-bridge.toml");
    std::fs::write(&config, "[daemon]\ntimezone = \"Asia/Jakarta\"\n[daemon.schedules]\norders = \"30 9 * * 1-5\"\n").unwrap();
    let (code, out, err) = run(common::binary().arg("--config").arg(&config).args(["schedule", "--count", "7"]));
    assert_eq!(code, 0, "{err}");
    let orders = out.lines().find(|l| l.starts_with("orders")).unwrap_or_else(|| panic!("{out}"));
    assert!(orders.contains("30 9 * * 1-5"), "{orders}");
    // Seven runs at 09:30 on working days only: Monday to Friday, never a weekend.
    let next: Vec<&str> = orders.split("next: ").nth(1).unwrap().split(", ").collect();
    assert_eq!(next.len(), 7);
    assert!(next.iter().all(|t| t.ends_with(" 09:30") && !t.starts_with("Sat") && !t.starts_with("Sun")), "{next:?}");
    let publish = out.lines().find(|l| l.starts_with("publish")).unwrap();
    assert!(publish.contains("0 1 * * *") && publish.contains(" 01:00"), "the default nightly run at 01:00 WIB: {publish}");

    std::fs::write(&config, "[daemon.schedules]\norders = \"*/15 7-17 * * 1-8\"\n").unwrap();
    let (code, _, err) = run(common::binary().arg("--config").arg(&config).arg("schedule"));
    assert_eq!(code, 2);
    assert!(err.contains("daemon.schedules.orders") && err.contains("1-8"), "says which job and what: {err}");

    let (store, url) = common::fresh_db().await;
    common::load_cooperatives(&store).await;
    let (code, out, err) = run(common::binary().env("DATABASE_URL", &url).args(["runs", "--json"]));
    assert_eq!(code, 0, "{err}");
    let runs: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(runs.len(), 1, "{out}");
    assert_eq!(
        (runs[0]["job"].as_str(), runs[0]["status"].as_str(), runs[0]["role"].as_str()),
        (Some("import-cooperatives"), Some("succeeded"), Some("lead")),
        "{out}"
    );
    let (_, out, _) = run(common::binary().env("DATABASE_URL", &url).args(["runs", "--failed"]));
    assert!(out.trim().is_empty(), "no failed runs: {out}");
}

/// The dashboard's accounts are managed through the use cases: each change
/// (add, password, disable, unlock) is in the audit log in the operator's
/// name, and a refused one (a staff account without its cooperative, a
/// short password) changes and records nothing.
#[tokio::test]
async fn account_changes_on_the_command_line_are_audited_in_the_operators_name() {
    use std::io::Write;
    let (store, url) = common::fresh_db().await;
    common::load_cooperatives(&store).await;
    let users = |args: &[&str], password: Option<&str>| {
        let mut child = common::binary()
            .env("DATABASE_URL", &url)
            .env("USER", "petugas")
            .arg("users")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{}\n", password.unwrap_or("")).as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let refused = users(&["add", "staf-a", "--role", "cooperative", "--password-stdin"], Some("kata-sandi-panjang"));
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("needs --cooperative"));
    let short = users(&["add", "staf-a", "--role", "cooperative", "--cooperative", "MJK-WATES", "--password-stdin"], Some("pendek"));
    assert!(!short.status.success() && String::from_utf8_lossy(&short.stderr).contains("use at least 10"));
    let audited = || async {
        sqlx::query_as::<_, (String, String, Option<String>)>("SELECT action, username, subject FROM audit_log ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap()
    };
    assert!(audited().await.is_empty(), "a refused change records nothing");
    for (args, password) in [
        (&["add", "staf-a", "--role", "cooperative", "--cooperative", "MJK-WATES", "--password-stdin"][..], Some("kata-sandi-panjang")),
        (&["password", "staf-a", "--password-stdin"][..], Some("kata-sandi-baru-juga")),
        (&["unlock", "staf-a"][..], None),
        (&["disable", "staf-a"][..], None),
    ] {
        let out = users(args, password);
        assert!(out.status.success(), "users {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let by = |action: &str| (action.to_owned(), "cli:petugas".to_owned(), Some("staf-a".to_owned()));
    assert_eq!(audited().await, vec![by("user.add"), by("user.password"), by("user.unlock"), by("user.disable")]);
}
