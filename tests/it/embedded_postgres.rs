//! The embedded PostgreSQL: start, reuse across runs, clean stop, and the
//! error when no server binaries are installed.

use crate::common;

use std::process::Command;

use katalog_bridge::store::embedded::{Cluster, ClusterOptions, PgBinaries, RunningCluster};
use sqlx::{ConnectOptions, Connection};

fn bins() -> PgBinaries {
    PgBinaries::locate(std::env::var_os("PATH").as_deref(), &["/usr/lib/postgresql/*/bin".into()]).unwrap()
}

fn pg_ctl_status(dir: &std::path::Path) -> bool {
    // As the harness does, ask the cluster itself.
    Cluster::new(bins(), dir, ClusterOptions::default()).unwrap().is_running()
}

#[tokio::test]
async fn starts_reuses_and_stops_cleanly_keeping_the_data() {
    let tmp = common::temp_dir();
    let data = tmp.path().join("pg");

    let first = RunningCluster::start(Cluster::new(bins(), &data, ClusterOptions::default()).unwrap()).unwrap();
    assert!(first.started_here(), "a fresh data directory is initialised and started by us");
    let mut conn = first.cluster().connect_options("postgres").connect().await.unwrap();
    sqlx::query("CREATE TABLE kept (v int)").execute(&mut conn).await.unwrap();
    sqlx::query("INSERT INTO kept VALUES (42)").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let version_file = std::fs::metadata(data.join("PG_VERSION")).unwrap().modified().unwrap();

    // A second user of the same data directory reuses the running server and does not stop it.
    let second = RunningCluster::start(Cluster::new(bins(), &data, ClusterOptions::default()).unwrap()).unwrap();
    assert!(!second.started_here());
    second.shutdown().unwrap();
    assert!(pg_ctl_status(&data), "the reusing side must not stop a server it did not start");

    first.shutdown().unwrap();
    assert!(!pg_ctl_status(&data));
    assert!(!data.join("postmaster.pid").exists(), "a clean stop removes postmaster.pid");
    let log = std::fs::read_to_string(data.join("server.log")).unwrap();
    assert!(log.contains("database system is shut down"), "{log}");

    // The next run reuses the cluster: no new initdb, the data is still there.
    let again = RunningCluster::start(Cluster::new(bins(), &data, ClusterOptions::default()).unwrap()).unwrap();
    assert!(again.started_here());
    assert_eq!(std::fs::metadata(data.join("PG_VERSION")).unwrap().modified().unwrap(), version_file);
    let mut conn = again.cluster().connect_options("postgres").connect().await.unwrap();
    let v: i32 = sqlx::query_scalar("SELECT v FROM kept").fetch_one(&mut conn).await.unwrap();
    assert_eq!(v, 42);
    conn.close().await.unwrap();
    drop(again); // dropping also stops what we started
    assert!(!pg_ctl_status(&data));
}

#[test]
fn a_long_data_directory_path_gets_a_short_socket_folder() {
    let tmp = common::temp_dir();
    let data = tmp.path().join("a-rather-long-folder-name-for-the-cooperative-data".repeat(2)).join("pg");
    let cluster = Cluster::new(bins(), &data, ClusterOptions::default()).unwrap();
    assert_ne!(cluster.socket_dir(), cluster.data_dir());
    assert!(cluster.socket_dir().join(".s.PGSQL.5432").as_os_str().len() < 108);
}

/// The short socket folder sits in the shared temporary folder under a name
/// anyone can work out: a symbolic link or another user's folder planted
/// there is refused with a message naming it, and what it points to is left
/// as it was (never chowned or chmodded through the link).
#[test]
fn a_planted_socket_folder_is_refused_not_taken_over() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let tmp = common::temp_dir();
    let data = tmp.path().join("a-rather-long-folder-name-for-the-planted-socket-case".repeat(2)).join("pg");
    std::fs::create_dir_all(&data).unwrap();
    let data = data.canonicalize().unwrap();
    let socket_dir = Cluster::socket_dir_for(&data, 5432);
    assert_ne!(socket_dir, data, "the path is long enough to need the short folder");
    let _ = std::fs::remove_dir_all(&socket_dir);
    let _ = std::fs::remove_file(&socket_dir);

    // a link to a folder the attacker wants opened up
    let victim = tmp.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o755)).unwrap();
    let before = std::fs::metadata(&victim).unwrap();
    std::os::unix::fs::symlink(&victim, &socket_dir).unwrap();
    let err = Cluster::new(bins(), &data, ClusterOptions::default()).unwrap_err().to_string();
    assert!(err.contains(&socket_dir.display().to_string()) && err.contains("symbolic link"), "{err}");
    let after = std::fs::metadata(&victim).unwrap();
    assert_eq!((after.uid(), after.mode()), (before.uid(), before.mode()), "the link's target is untouched");
    std::fs::remove_file(&socket_dir).unwrap();

    // a folder that belongs to someone else (only root can make one here)
    if nix::unistd::Uid::effective().is_root() {
        std::fs::create_dir(&socket_dir).unwrap();
        let nobody = nix::unistd::User::from_name("nobody").unwrap().expect("a nobody user");
        nix::unistd::chown(&socket_dir, Some(nobody.uid), Some(nobody.gid)).unwrap();
        let err = Cluster::new(bins(), &data, ClusterOptions::default()).unwrap_err().to_string();
        assert!(err.contains("belongs to another user"), "{err}");
        assert_eq!(std::fs::metadata(&socket_dir).unwrap().uid(), nobody.uid.as_raw(), "not taken over");
        std::fs::remove_dir(&socket_dir).unwrap();
    }

    // a folder of ours is taken, made private
    let cluster = Cluster::new(bins(), &data, ClusterOptions::default()).unwrap();
    assert_eq!(cluster.socket_dir(), socket_dir);
    assert_eq!(std::fs::metadata(&socket_dir).unwrap().mode() & 0o777, 0o700);
    std::fs::remove_dir(&socket_dir).unwrap();
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn cli_starts_the_embedded_database_migrates_and_stops_it_each_run() {
    let tmp = common::temp_dir();
    let data = tmp.path().join("kb-data");
    let (code, out, err) = run(common::binary().arg("--data-dir").arg(&data).args(["db", "migrate"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("creating embedded PostgreSQL cluster"), "{err}");
    assert!(!pg_ctl_status(&data), "the command stops the server it started");

    let (code, out, err) = run(common::binary().arg("--data-dir").arg(&data).args(["db", "status"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!err.contains("creating embedded"), "the second run reuses the cluster: {err}");
    assert!(out.contains("embedded PostgreSQL in"), "{out}");
    let migrations = katalog_bridge::store::MIGRATOR.iter().count();
    assert!(out.contains(&format!("migrations: {migrations} applied")), "{out}");
    assert!(out.contains("0 pending"), "{out}");
    assert!(!pg_ctl_status(&data));
}

#[test]
fn missing_server_binaries_give_one_line_and_exit_non_zero() {
    let tmp = common::temp_dir();
    let (code, out, err) = run(common::binary()
        .env("PATH", tmp.path())
        .env("KATALOG_BRIDGE_DATABASE__POSTGRES_BIN_DIRS", "[]")
        .arg("--data-dir")
        .arg(tmp.path().join("pg"))
        .args(["db", "status"]));
    assert_eq!(code, 2, "{out}\n{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line: {err}");
    assert!(lines[0].starts_with("error: PostgreSQL server binaries not found"), "{err}");
    assert!(lines[0].contains("initdb"), "{err}");
    assert!(lines[0].ends_with("install PostgreSQL or set DATABASE_URL"), "{err}");
    assert!(!err.contains("panicked") && !err.to_lowercase().contains("backtrace"));
}

/// As root in a private home folder (mode 0700, as /root is), the `postgres`
/// user cannot reach a data directory inside it: the command says so in one
/// line, with what to do, instead of initdb's own failure.
#[test]
fn a_data_directory_the_server_user_cannot_reach_is_one_line_with_the_remedy() {
    use std::os::unix::fs::PermissionsExt;
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipped: only as root does the server run as another user (postgres)");
        return;
    }
    let tmp = common::temp_dir();
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    let data = home.join("katalog").join(".katalog-bridge/postgres");
    let (code, out, err) = run(common::binary().env_remove("DATABASE_URL").arg("--data-dir").arg(&data).args(["db", "status"]));
    assert_eq!(code, 2, "{out}\n{err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty() && !l.contains(" INFO ")).collect();
    assert_eq!(lines.len(), 1, "exactly one line: {err}");
    assert!(lines[0].contains("cannot reach the data directory") && lines[0].contains(&data.display().to_string()), "{err}");
    assert!(lines[0].contains("database.data_dir") && lines[0].contains("DATABASE_URL"), "says what to do: {err}");
    assert!(!err.contains("panicked") && !err.contains("initdb: error"), "{err}");
}

/// A run that ends while the database is away: its end is kept, and the
/// process's next heartbeat, once the database is back, records it (the run
/// does not stay `running` while a daemon lives on). A lead taking the job's
/// lock later also closes its own process's lost lead runs.
#[tokio::test]
async fn a_run_ending_while_the_database_is_away_is_recorded_by_the_next_heartbeat() {
    use katalog_bridge::store::runs::{self, RunStatus};
    let tmp = common::temp_dir();
    let cluster = common::private_cluster(tmp.path());
    let store = common::private_store(&cluster).await;
    let run = runs::start(&store, "publish").await.unwrap();
    let lost = runs::start(&store, "status").await.unwrap();

    cluster.stop().unwrap();
    let stats = serde_json::json!({"sent": 7});
    assert!(
        runs::finish(&store, run, RunStatus::Partial, stats.clone(), Some(runs::RunError::new("file", &"2 refused"))).await.is_err(),
        "the database is down"
    );
    assert!(runs::heartbeat(&store).await.is_err());
    cluster.start().unwrap();

    runs::heartbeat(&store).await.unwrap();
    let (status, got, error, code): (String, serde_json::Value, Option<String>, Option<String>) =
        sqlx::query_as("SELECT status, stats, error, error_code FROM sync_runs WHERE id = $1").bind(run).fetch_one(store.pool()).await.unwrap();
    assert_eq!((status.as_str(), got, error.as_deref(), code.as_deref()), ("partial", stats, Some("2 refused"), Some("file")));
    // The heartbeat keeps the other run, whose end was never given, running.
    runs::heartbeat(&store).await.unwrap();
    let finished: i64 = sqlx::query_scalar("SELECT count(*) FROM sync_runs WHERE status <> 'running'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(finished, 1);

    // The status run's end was never recorded at all: the next lead of the job closes it.
    let lock = runs::lock_lead(&store, katalog_bridge::domain::job::Job::Status).await.unwrap().unwrap();
    let status: String = sqlx::query_scalar("SELECT status FROM sync_runs WHERE id = $1").bind(lost).fetch_one(store.pool()).await.unwrap();
    assert_eq!(status, "abandoned");
    drop(lock);
    store.pool().close().await;
    cluster.stop().unwrap();
}
