//! A private PostgreSQL cluster started from the server binaries on this
//! machine, used when no `DATABASE_URL` is configured.
//!
//! The cluster lives in a data directory, listens on a Unix socket only (in the
//! data directory, or in a short folder under the temp dir when that path is
//! too long for a socket), is reused across runs, and is stopped cleanly by
//! whoever started it. As root the server runs as the `postgres` system user,
//! because `initdb` refuses to run as root.

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use nix::unistd::{Uid, User};
use sha2::{Digest, Sha256};
use sqlx::postgres::PgConnectOptions;

/// The superuser created by `initdb`; clients connect as it over the socket.
pub const SUPERUSER: &str = "postgres";
const SERVER_USER: &str = "postgres";
const REQUIRED: [&str; 3] = ["initdb", "pg_ctl", "postgres"];
/// Longest socket path Linux accepts is 107 bytes; keep a margin.
const MAX_SOCKET_PATH: usize = 100;
/// How long the server may take to start or to stop.
const START_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// How often the server's lock file is read while it starts or stops.
const POLL: std::time::Duration = std::time::Duration::from_millis(5);

/// Whether a process runs. A zombie (exited, not yet reaped: the server's
/// parent may be a container's init that never reaps) counts as gone.
fn process_alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses and may hold any byte.
        Ok(stat) => stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next()).is_some_and(|state| !matches!(state, 'Z' | 'X')),
        Err(_) => false,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("PostgreSQL server binaries not found (looked for {missing} on PATH and in {searched}): install PostgreSQL or set DATABASE_URL")]
    BinariesNotFound { missing: String, searched: String },
    #[error("running as root, but there is no `postgres` system user to run the embedded server: create it, install PostgreSQL, or set DATABASE_URL")]
    NoServerUser,
    #[error(
        "the `postgres` system user cannot reach the data directory {0} (a parent folder is private): choose another data directory (database.data_dir) or set DATABASE_URL"
    )]
    Unreachable(PathBuf),
    #[error("cannot prepare the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("refusing the folder {path}: {reason}; remove it or choose another data directory (database.data_dir)")]
    UnsafeDir { path: PathBuf, reason: String },
    #[error("could not run {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{step} failed for the cluster in {data_dir}: {detail}")]
    Command { step: &'static str, data_dir: PathBuf, detail: String },
}

/// Where `initdb`, `pg_ctl` and `postgres` are.
#[derive(Debug, Clone)]
pub struct PgBinaries {
    pub dir: PathBuf,
}

impl PgBinaries {
    /// Searches each `PATH` entry, then each of `extra_dirs` (which may hold
    /// `*` globs, newest version first), for a folder holding all three.
    pub fn locate(path_var: Option<&OsStr>, extra_dirs: &[String]) -> Result<Self, EmbeddedError> {
        let mut candidates: Vec<PathBuf> = path_var.map(|p| std::env::split_paths(p).collect()).unwrap_or_default();
        for pattern in extra_dirs {
            let mut found: Vec<PathBuf> = glob::glob(pattern).map(|g| g.flatten().collect()).unwrap_or_default();
            found.sort_by_key(|p| std::cmp::Reverse(version_key(p)));
            candidates.extend(found);
        }
        let has = |dir: &Path, bin: &str| dir.join(bin).is_file();
        if let Some(dir) = candidates.iter().find(|d| REQUIRED.iter().all(|b| has(d, b))) {
            return Ok(Self { dir: dir.clone() });
        }
        let missing: Vec<&str> = REQUIRED.iter().copied().filter(|b| !candidates.iter().any(|d| has(d, b))).collect();
        let missing = if missing.is_empty() { REQUIRED.to_vec() } else { missing };
        Err(EmbeddedError::BinariesNotFound {
            missing: missing.join(", "),
            searched: if extra_dirs.is_empty() { "no other folder".into() } else { extra_dirs.join(", ") },
        })
    }

    fn bin(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Numeric key of the first all-digit path component, so `15` sorts above `9.6`.
fn version_key(path: &Path) -> Vec<u32> {
    path.components()
        .filter_map(|c| c.as_os_str().to_str())
        .find(|s| s.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(|s| s.split('.').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_default()
}

/// Tuning of a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub port: u16,
    /// Trade durability for speed (fsync off): for throwaway test clusters only.
    pub ephemeral: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self { port: 5432, ephemeral: false }
    }
}

/// A cluster in a data directory, started or not.
#[derive(Debug)]
pub struct Cluster {
    bins: PgBinaries,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    run_as: Option<User>,
    options: ClusterOptions,
}

impl Cluster {
    pub fn new(bins: PgBinaries, data_dir: &Path, options: ClusterOptions) -> Result<Self, EmbeddedError> {
        let run_as = if Uid::effective().is_root() { Some(User::from_name(SERVER_USER).ok().flatten().ok_or(EmbeddedError::NoServerUser)?) } else { None };
        let data_err = |source| EmbeddedError::DataDir { path: data_dir.to_owned(), source };
        fs::create_dir_all(data_dir).map_err(data_err)?;
        let data_dir = data_dir.canonicalize().map_err(data_err)?;
        let socket_dir = Self::socket_dir_for(&data_dir, options.port);
        let cluster = Self { bins, data_dir, socket_dir, run_as, options };
        cluster.own_dir(&cluster.data_dir)?;
        cluster.own_dir(&cluster.socket_dir)?;
        Ok(cluster)
    }

    /// Where the server's socket goes for a (canonical) data directory: the
    /// directory itself, or, when that path would be too long for a socket, a
    /// folder in the temporary folder named after the directory's digest.
    pub fn socket_dir_for(data_dir: &Path, port: u16) -> PathBuf {
        let socket_name = format!(".s.PGSQL.{port}");
        if data_dir.join(&socket_name).as_os_str().len() > MAX_SOCKET_PATH {
            let digest = Sha256::digest(data_dir.as_os_str().as_encoded_bytes());
            std::env::temp_dir().join(format!("katalog-bridge-{}", &hex::encode(digest)[..12]))
        } else {
            data_dir.to_owned()
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// Connection options for a database in this cluster, over its socket.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new().host(&self.socket_dir.to_string_lossy()).port(self.options.port).username(SUPERUSER).database(database)
    }

    /// `postgres:///db?host=/socket/dir&port=N`, for `db status` and logs.
    pub fn describe(&self, database: &str) -> String {
        format!("embedded PostgreSQL in {} (socket {}, database {database})", self.data_dir.display(), self.socket_dir.display())
    }

    /// The data directory and the socket folder are private (0700) and owned
    /// by the server user. The socket folder may sit in the shared temporary
    /// folder under a name anyone can foresee, so the folder is opened without
    /// following a symbolic link, must be a folder owned by this process's user
    /// or the server user, and is changed through that open handle: a link or
    /// someone else's folder planted there is refused, never taken over.
    fn own_dir(&self, dir: &Path) -> Result<(), EmbeddedError> {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
        let err = |source| EmbeddedError::DataDir { path: dir.to_owned(), source };
        let refuse = |reason: String| EmbeddedError::UnsafeDir { path: dir.to_owned(), reason };
        if let Some(parent) = dir.parent() {
            fs::create_dir_all(parent).map_err(err)?;
        }
        match fs::DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(err(e)),
        }
        let handle = fs::OpenOptions::new().read(true).custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_DIRECTORY | nix::libc::O_CLOEXEC).open(dir).map_err(
            |e| match e.raw_os_error() {
                // Linux says ELOOP or ENOTDIR for a link opened with both flags.
                Some(nix::libc::ELOOP | nix::libc::ENOTDIR) if fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) => {
                    refuse("it is a symbolic link".into())
                }
                Some(nix::libc::ENOTDIR) => refuse("it is not a folder".into()),
                _ => err(e),
            },
        )?;
        let meta = handle.metadata().map_err(err)?;
        let me = Uid::effective().as_raw();
        let server = self.run_as.as_ref().map(|u| u.uid.as_raw());
        if meta.uid() != me && Some(meta.uid()) != server {
            return Err(refuse(format!("it belongs to another user (uid {})", meta.uid())));
        }
        if let Some(user) = &self.run_as {
            std::os::unix::fs::fchown(&handle, Some(user.uid.as_raw()), Some(user.gid.as_raw())).map_err(err)?;
        }
        handle.set_permissions(fs::Permissions::from_mode(0o700)).map_err(err)
    }

    pub fn is_initialized(&self) -> bool {
        self.data_dir.join("PG_VERSION").is_file()
    }

    /// `pg_ctl status`: true when a server runs on this data directory.
    pub fn is_running(&self) -> bool {
        self.command("pg_ctl").arg("status").arg("-D").arg(&self.data_dir).output().is_ok_and(|o| o.status.success())
    }

    /// Creates the cluster with `initdb` unless it exists already.
    pub fn init(&self) -> Result<(), EmbeddedError> {
        if self.is_initialized() {
            return Ok(());
        }
        // Probe first: a spawn that cannot enter the data directory means a private parent folder.
        match self.command("pg_ctl").arg("--version").output() {
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => return Err(EmbeddedError::Unreachable(self.data_dir.clone())),
            Err(source) => return Err(EmbeddedError::Spawn { program: "pg_ctl".into(), source }),
            Ok(_) => {}
        }
        tracing::info!(data_dir = %self.data_dir.display(), "creating embedded PostgreSQL cluster");
        let mut cmd = self.command("initdb");
        cmd.arg("-D").arg(&self.data_dir).args(["-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-locale"]);
        if self.options.ephemeral {
            cmd.arg("--no-sync");
        }
        self.run("initdb", cmd)?;
        let conf = self.data_dir.join("postgresql.conf");
        let mut f = fs::OpenOptions::new().append(true).open(&conf).map_err(|source| EmbeddedError::DataDir { path: conf.clone(), source })?;
        writeln!(f, "\n# katalog-bridge: settings regenerated at every start\ninclude_if_exists = 'katalog-bridge.conf'")
            .map_err(|source| EmbeddedError::DataDir { path: conf, source })?;
        Ok(())
    }

    /// The file naming the process that started the running server.
    /// The server's lock file: its process and the state it reports
    /// (`starting`, `ready`, `stopping`, ...), when there is one.
    fn lock_file(&self) -> Option<(u32, String)> {
        let text = fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        let pid = text.lines().next()?.trim().parse().ok()?;
        Some((pid, text.lines().nth(7).unwrap_or_default().trim().to_owned()))
    }

    /// Waits until the server started by `pg_ctl start -W` accepts
    /// connections, as its lock file says. A lock file left by a dead server
    /// (`stale`) does not count.
    fn wait_ready(&self, stale: Option<u32>) -> Result<(), String> {
        let begun = Instant::now();
        let mut seen = false;
        loop {
            match self.lock_file() {
                Some((pid, _)) if Some(pid) == stale => {}
                Some((_, status)) if status == "ready" || status == "standby" => return Ok(()),
                Some((pid, _)) if !process_alive(pid) => return Err("the server exited while starting".into()),
                Some(_) => seen = true,
                None if seen => return Err("the server exited while starting".into()),
                None => {}
            }
            if begun.elapsed() > START_TIMEOUT {
                return Err(format!("the server was not ready within {} s", START_TIMEOUT.as_secs()));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the server process `pid`, asked to stop, has exited. Its
    /// lock file going is not enough: the server removes it, then logs that
    /// it is shut down, then exits.
    fn wait_stopped(&self, pid: Option<u32>) -> Result<(), String> {
        let begun = Instant::now();
        loop {
            if !pid.or_else(|| self.lock_file().map(|(pid, _)| pid)).is_some_and(process_alive) {
                return Ok(());
            }
            if begun.elapsed() > START_TIMEOUT {
                return Err(format!("the server did not stop within {} s", START_TIMEOUT.as_secs()));
            }
            std::thread::sleep(POLL);
        }
    }

    fn owner_file(&self) -> PathBuf {
        self.data_dir.join("katalog-bridge.owner")
    }

    /// The process recorded as the running server's owner, and whether it is alive.
    pub fn owner(&self) -> Option<(u32, bool)> {
        self.owner_record().map(|(pid, alive, _)| (pid, alive))
    }

    /// The owner, whether it is alive, and whether it is a daemon.
    fn owner_record(&self) -> Option<(u32, bool, bool)> {
        let text = fs::read_to_string(self.owner_file()).ok()?;
        let mut words = text.split_whitespace();
        let pid: u32 = words.next()?.parse().ok()?;
        Some((pid, process_alive(pid), words.next() == Some("daemon")))
    }

    /// Records this process as the running server's owner: the one that stops it.
    pub fn record_owner(&self) {
        self.write_owner(false);
    }

    fn write_owner(&self, daemon: bool) {
        let text = format!("{}{}", std::process::id(), if daemon { " daemon" } else { "" });
        if let Err(e) = fs::write(self.owner_file(), text) {
            tracing::warn!(error = %e, "cannot record this process as the embedded PostgreSQL's owner");
        }
    }

    /// Starts the server unless one already runs on this data directory.
    /// Returns whether this process now owns it (and so should stop it): it
    /// started it, or took over one whose starter died without stopping it.
    pub fn start(&self) -> Result<bool, EmbeddedError> {
        self.init()?;
        if self.is_running() {
            match self.owner() {
                Some((pid, false)) => {
                    tracing::warn!(data_dir = %self.data_dir.display(), owner = pid, "embedded PostgreSQL was left running by process {pid}, which is gone: taking it over, and stopping it at the end");
                    self.record_owner();
                    return Ok(true);
                }
                // Its owner is alive (a daemon, another command, or this process), or it was started by hand.
                owner => {
                    tracing::info!(data_dir = %self.data_dir.display(), owner = ?owner.map(|o| o.0), "reusing running embedded PostgreSQL");
                    return Ok(false);
                }
            }
        }
        self.write_settings()?;
        let log = self.data_dir.join("server.log");
        let stale = self.lock_file().map(|(pid, _)| pid);
        let mut cmd = self.command("pg_ctl");
        // Its own process group: a Ctrl-C at the terminal reaches this program,
        // which then stops the server in order, not the server directly.
        cmd.process_group(0);
        // Not `-w`: pg_ctl looks ten times a second; `wait_ready` looks far more often.
        cmd.arg("start").arg("-W").arg("-s").arg("-D").arg(&self.data_dir).arg("-l").arg(&log);
        let started = self
            .run("pg_ctl start", cmd)
            .and_then(|_| self.wait_ready(stale).map_err(|detail| EmbeddedError::Command { step: "pg_ctl start", data_dir: self.data_dir.clone(), detail }));
        match started {
            Ok(_) => {
                tracing::info!(data_dir = %self.data_dir.display(), "started embedded PostgreSQL");
                self.record_owner();
                Ok(true)
            }
            // Another process may have started it between our check and our start.
            Err(_) if self.is_running() => Ok(false),
            Err(EmbeddedError::Command { step, data_dir, detail }) => {
                let tail = fs::read_to_string(&log).unwrap_or_default();
                let tail: Vec<&str> = tail.lines().rev().take(5).collect();
                let detail = format!("{detail}; server log {}: {}", log.display(), tail.into_iter().rev().collect::<Vec<_>>().join(" | "));
                Err(EmbeddedError::Command { step, data_dir, detail })
            }
            Err(e) => Err(e),
        }
    }

    /// Fast, clean shutdown: active sessions are ended, the data is checkpointed.
    pub fn stop(&self) -> Result<(), EmbeddedError> {
        if !self.is_running() {
            return Ok(());
        }
        let pid = self.lock_file().map(|(pid, _)| pid);
        let mut cmd = self.command("pg_ctl");
        cmd.arg("stop").arg("-W").args(["-s", "-m", "fast"]).arg("-D").arg(&self.data_dir);
        self.run("pg_ctl stop", cmd)?;
        self.wait_stopped(pid).map_err(|detail| EmbeddedError::Command { step: "pg_ctl stop", data_dir: self.data_dir.clone(), detail })?;
        let _ = fs::remove_file(self.owner_file());
        // The socket folder is empty once the server is gone: it does not stay behind in /tmp.
        let _ = fs::remove_dir(&self.socket_dir);
        tracing::info!(data_dir = %self.data_dir.display(), "stopped embedded PostgreSQL");
        Ok(())
    }

    fn write_settings(&self) -> Result<(), EmbeddedError> {
        let quoted = self.socket_dir.to_string_lossy().replace('\'', "''");
        let mut text =
            format!("listen_addresses = ''\nunix_socket_directories = '{quoted}'\nport = {}\nmax_connections = 200\nmax_wal_size = 2GB\n", self.options.port);
        if self.options.ephemeral {
            text.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        let path = self.data_dir.join("katalog-bridge.conf");
        let err = |source| EmbeddedError::DataDir { path: path.clone(), source };
        fs::write(&path, text).map_err(err)?;
        if let Some(user) = &self.run_as {
            nix::unistd::chown(&path, Some(user.uid), Some(user.gid)).map_err(|e| err(e.into()))?;
        }
        Ok(())
    }

    /// A command for one of the server binaries, as the server user, from inside
    /// the data directory (so a private working directory cannot break it).
    fn command(&self, bin: &str) -> Command {
        let mut cmd = Command::new(self.bins.bin(bin));
        cmd.current_dir(&self.data_dir).env("LC_ALL", "C").env_remove("PGDATA");
        if let Some(user) = &self.run_as {
            cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw()).env("HOME", &self.data_dir).env("USER", SERVER_USER);
        }
        cmd
    }

    fn run(&self, step: &'static str, mut cmd: Command) -> Result<Output, EmbeddedError> {
        let program = cmd.get_program().to_string_lossy().into_owned();
        let output = cmd.output().map_err(|source| EmbeddedError::Spawn { program, source })?;
        if output.status.success() {
            return Ok(output);
        }
        let detail = String::from_utf8_lossy(&output.stderr).trim().replace('\n', " | ");
        Err(EmbeddedError::Command { step, data_dir: self.data_dir.clone(), detail: format!("{} ({})", detail, output.status) })
    }
}

/// A cluster this process made sure is running. Stops it on [`RunningCluster::shutdown`]
/// (or on drop) only when this process started it.
#[derive(Debug)]
pub struct RunningCluster {
    cluster: Cluster,
    started_here: std::sync::atomic::AtomicBool,
    stopped: bool,
}

impl RunningCluster {
    pub fn start(cluster: Cluster) -> Result<Self, EmbeddedError> {
        let started_here = cluster.start()?.into();
        Ok(Self { cluster, started_here, stopped: false })
    }

    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    pub fn started_here(&self) -> bool {
        self.started_here.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Makes this process (a daemon) the server's owner for the rest of its
    /// life: a command that started it then leaves it running when it ends.
    /// Another daemon that owns it and is alive keeps it: this one uses it
    /// and never stops it.
    pub fn take_ownership(&self) {
        if let Some((pid, true, true)) = self.cluster.owner_record()
            && pid != std::process::id()
        {
            tracing::info!(owner = pid, "the embedded PostgreSQL belongs to daemon {pid}: used here, and left running");
            self.started_here.store(false, std::sync::atomic::Ordering::SeqCst);
            return;
        }
        self.cluster.write_owner(true);
        self.started_here.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn shutdown(mut self) -> Result<(), EmbeddedError> {
        self.stop_if_ours()
    }

    fn stop_if_ours(&mut self) -> Result<(), EmbeddedError> {
        if self.started_here() && !self.stopped {
            self.stopped = true;
            if let Some((pid, true)) = self.cluster.owner()
                && pid != std::process::id()
            {
                tracing::info!(owner = pid, "the embedded PostgreSQL now belongs to process {pid} (a daemon): left running");
                return Ok(());
            }
            self.cluster.stop()?;
        }
        Ok(())
    }
}

impl Drop for RunningCluster {
    fn drop(&mut self) {
        if let Err(e) = self.stop_if_ours() {
            tracing::error!(error = %e, "could not stop embedded PostgreSQL");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_running_process_is_alive_and_an_unreaped_one_is_not() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        assert!(process_alive(child.id()));
        child.kill().unwrap();
        // Killed but not yet waited for: a zombie, which holds nothing.
        let begun = Instant::now();
        while process_alive(child.id()) {
            assert!(begun.elapsed() < Duration::from_secs(5), "a killed child still counted as alive");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap().contains(") Z"), "the child is a zombie here");
        child.wait().unwrap();
        assert!(!process_alive(child.id()));
    }

    #[test]
    fn missing_binaries_name_what_is_missing_and_the_remedy() {
        let empty = tempfile::tempdir().unwrap();
        let err = PgBinaries::locate(Some(empty.path().as_os_str()), &[]).unwrap_err().to_string();
        assert!(err.contains("initdb, pg_ctl, postgres"), "{err}");
        assert!(err.contains("install PostgreSQL or set DATABASE_URL"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn finds_all_three_in_one_folder_and_prefers_newer_versions() {
        let root = tempfile::tempdir().unwrap();
        for v in ["9.6", "15", "12"] {
            let bin = root.path().join(v).join("bin");
            fs::create_dir_all(&bin).unwrap();
            for b in REQUIRED {
                fs::write(bin.join(b), "").unwrap();
            }
        }
        let pattern = format!("{}/*/bin", root.path().display());
        let found = PgBinaries::locate(None, &[pattern]).unwrap();
        assert!(found.dir.ends_with("15/bin"), "{:?}", found.dir);
    }

    #[test]
    fn a_folder_with_only_some_binaries_is_not_enough() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("initdb"), "").unwrap();
        let err = PgBinaries::locate(Some(dir.path().as_os_str()), &[]).unwrap_err().to_string();
        assert!(err.contains("pg_ctl, postgres"), "{err}");
        assert!(!err.contains("initdb,"), "{err}");
    }
}
