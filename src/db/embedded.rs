//! Embedded PostgreSQL: when no `DATABASE_URL` is configured, grantd runs a
//! private cluster under `$DATA_DIR/postgres` using the PostgreSQL binaries
//! installed on the machine.
//!
//! The cluster listens only on a unix socket in a private (0700) directory,
//! never on TCP, so `trust` authentication is safe: only the cluster's owner
//! (and root) can reach the socket. Exactly one grantd owns a data directory at
//! a time (an exclusive `flock` on `$DATA_DIR/grantd.lock`); admin commands run
//! while a server is up attach to its socket instead.
//!
//! Everything here is synchronous (std::process, std::thread::sleep): call it
//! before starting, or outside of, the async runtime.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{kill, Signal};
use nix::unistd::{chown, getegid, geteuid, Gid, Pid, Uid, User};
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use tracing::{info, warn};

/// Only names the socket file (`.s.PGSQL.5432`); no TCP listener exists.
const PORT: u16 = 5432;
const SOCKET_FILE: &str = ".s.PGSQL.5432";
/// `sun_path` is 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;
/// Superuser created by initdb; the caller creates its own database.
const SUPERUSER: &str = "grantd";
const MAINTENANCE_DB: &str = "postgres";

const CLUSTER_SUBDIR: &str = "postgres";
const STAGING_SUBDIR: &str = "postgres.initdb";
const RUN_SUBDIR: &str = "run";
const LOCK_FILE: &str = "grantd.lock";
const LOG_FILE: &str = "postgres.log";
/// postgres.log is rotated once (to postgres.log.1) at start beyond this size.
const LOG_ROTATE_BYTES: u64 = 16 * 1024 * 1024;
const LOG_TAIL_LINES: usize = 20;

const PG_INSTALL_ROOT: &str = "/usr/lib/postgresql";
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
const QUIT_TIMEOUT: Duration = Duration::from_secs(10);
const KILL_TIMEOUT: Duration = Duration::from_secs(5);
const ATTACH_WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);

/// Errors from managing the embedded cluster. Display texts are meant for
/// operators: they say what is wrong and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "no PostgreSQL binaries found (looked on PATH and in /usr/lib/postgresql/*/bin): \
         install PostgreSQL (e.g. `apt-get install postgresql`) or set DATABASE_URL to use an existing server"
    )]
    NoBinaries,

    #[error(
        "another grantd{} is already using data directory {}; stop it first or choose another GRANTD_DATA_DIR",
        pid_suffix(*.pid),
        .data_dir.display()
    )]
    AlreadyRunning { data_dir: PathBuf, pid: Option<i32> },

    /// Running as root, PostgreSQL runs as `user`, which cannot reach the data
    /// directory because `dir` (the data dir or one of its ancestors) is not
    /// searchable by it.
    #[error(
        "grantd runs as root, so the embedded PostgreSQL runs as the unprivileged user `{user}`, \
         but `{user}` cannot traverse directory {} ({detail}) on the way to data directory {}: \
         make it searchable (e.g. `chmod o+x {}`), choose another GRANTD_DATA_DIR whose parent \
         directories are world-searchable, or set DATABASE_URL to use an existing server",
        .dir.display(),
        .data_dir.display(),
        .dir.display()
    )]
    Unreachable {
        data_dir: PathBuf,
        dir: PathBuf,
        user: String,
        detail: String,
    },

    #[error("initdb failed for {}: {detail}", .data_dir.display())]
    InitDb { data_dir: PathBuf, detail: String },

    #[error("could not start embedded PostgreSQL in {}: {detail}", .data_dir.display())]
    Start { data_dir: PathBuf, detail: String },

    #[error("no running grantd cluster for data directory {}: {reason}", .data_dir.display())]
    NotRunning { data_dir: PathBuf, reason: String },

    #[error("{0}: {1}")]
    Io(String, #[source] io::Error),
}

fn pid_suffix(pid: Option<i32>) -> String {
    pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
}

/// Attaches a human-readable context to IO errors.
trait IoContext<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, EmbeddedError>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, EmbeddedError> {
        self.map_err(|e| EmbeddedError::Io(what(), e))
    }
}

impl<T> IoContext<T> for nix::Result<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, EmbeddedError> {
        self.map_err(|e| EmbeddedError::Io(what(), io::Error::from(e)))
    }
}

// ---------------------------------------------------------------------------
// Binaries

/// Returns the directory holding `initdb` and `postgres`: the first PATH entry
/// containing both, else the highest version under `/usr/lib/postgresql/*/bin`.
pub fn find_binaries() -> Result<PathBuf, EmbeddedError> {
    if let Some(path) = std::env::var_os("PATH") {
        // Relative PATH entries would depend on the cwd; never trust them.
        if let Some(dir) = std::env::split_paths(&path).find(|d| d.is_absolute() && has_binaries(d))
        {
            return Ok(dir);
        }
    }
    let Ok(entries) = fs::read_dir(PG_INSTALL_ROOT) else {
        return Err(EmbeddedError::NoBinaries);
    };
    let mut versions: Vec<(Vec<u64>, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let key = version_key(e.file_name().to_str()?)?;
            Some((key, e.path().join("bin")))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions
        .into_iter()
        .map(|(_, dir)| dir)
        .find(|dir| has_binaries(dir))
        .ok_or(EmbeddedError::NoBinaries)
}

/// "15" → [15], "9.6" → [9, 6]; anything else is not a version directory.
fn version_key(name: &str) -> Option<Vec<u64>> {
    name.split('.').map(|p| p.parse().ok()).collect()
}

fn has_binaries(dir: &Path) -> bool {
    ["initdb", "postgres"]
        .iter()
        .all(|b| is_executable(&dir.join(b)))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path)
        .map(|m| m.is_file() && m.mode() & 0o111 != 0)
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------
// Paths

/// The socket directory of the cluster in `data_dir`: `$DATA_DIR/run`, or,
/// when the socket path would exceed the 107-byte unix socket limit,
/// `/tmp/grantd-<first 16 hex of sha256(canonical data dir)>`.
///
/// Deterministic, so another process (admin commands) can find a running
/// cluster's socket from the data directory alone.
pub fn socket_dir_for(data_dir: &Path) -> PathBuf {
    let canonical = canonical_or_absolute(data_dir);
    let preferred = canonical.join(RUN_SUBDIR);
    if preferred.join(SOCKET_FILE).as_os_str().len() <= MAX_SOCKET_PATH {
        return preferred;
    }
    let digest = Sha256::digest(canonical.as_os_str().as_bytes());
    PathBuf::from(format!("/tmp/grantd-{}", &hex::encode(digest)[..16]))
}

/// Canonical path when the directory exists (so "./data" and "/abs/data" agree),
/// else the lexically absolute path.
fn canonical_or_absolute(path: &Path) -> PathBuf {
    fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

fn connect_options_for(socket_dir: &Path) -> PgConnectOptions {
    // No pgpass lookup (trust auth needs no password) and no TLS over a unix
    // socket, whatever PGSSLMODE says.
    PgConnectOptions::new_without_pgpass()
        .socket(socket_dir)
        .port(PORT)
        .username(SUPERUSER)
        .database(MAINTENANCE_DB)
        .ssl_mode(PgSslMode::Disable)
}

// ---------------------------------------------------------------------------
// Who runs PostgreSQL

/// The account initdb and postgres run as.
#[derive(Debug, Clone)]
struct PgAccount {
    name: String,
    uid: Uid,
    gid: Gid,
    /// True when grantd is root and must switch to `uid`/`gid` in the child.
    switch: bool,
}

impl PgAccount {
    /// PostgreSQL refuses to run as root: as root, use `postgres` (or `nobody`).
    fn detect() -> Result<Self, EmbeddedError> {
        let euid = geteuid();
        if !euid.is_root() {
            let name = User::from_uid(euid)
                .ok()
                .flatten()
                .map(|u| u.name)
                .unwrap_or_else(|| euid.to_string());
            return Ok(Self {
                name,
                uid: euid,
                gid: getegid(),
                switch: false,
            });
        }
        for name in ["postgres", "nobody"] {
            let user = User::from_name(name).ctx(|| format!("looking up user `{name}`"))?;
            if let Some(u) = user.filter(|u| !u.uid.is_root()) {
                return Ok(Self {
                    name: u.name,
                    uid: u.uid,
                    gid: u.gid,
                    switch: true,
                });
            }
        }
        Err(EmbeddedError::Start {
            data_dir: PathBuf::new(),
            detail: "grantd runs as root and PostgreSQL refuses to, but neither user `postgres` \
                     nor `nobody` exists; create a `postgres` user or set DATABASE_URL"
                .into(),
        })
    }

    fn chown(&self, path: &Path) -> Result<(), EmbeddedError> {
        chown(path, Some(self.uid), Some(self.gid))
            .ctx(|| format!("changing owner of {} to {}", path.display(), self.name))
    }
}

/// Checks that `account` can search every directory from `/` down to `data_dir`
/// (inclusive), using the owner/group/other rule. Only the primary group is
/// considered: std drops supplementary groups when it switches uid.
fn check_traversal(data_dir: &Path, account: &PgAccount) -> Result<(), EmbeddedError> {
    let mut dirs: Vec<&Path> = data_dir.ancestors().collect();
    dirs.reverse();
    for dir in dirs {
        let md = fs::metadata(dir).ctx(|| format!("inspecting {}", dir.display()))?;
        let mode = md.mode();
        let bit = if md.uid() == account.uid.as_raw() {
            0o100
        } else if md.gid() == account.gid.as_raw() {
            0o010
        } else {
            0o001
        };
        if mode & bit == 0 {
            return Err(EmbeddedError::Unreachable {
                data_dir: data_dir.to_path_buf(),
                dir: dir.to_path_buf(),
                user: account.name.clone(),
                detail: format!(
                    "mode {:04o}, owner uid {}, group gid {}",
                    mode & 0o7777,
                    md.uid(),
                    md.gid()
                ),
            });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Data directory and lock

/// Creates the data dir if missing (0700; as root, 0710 with the PostgreSQL
/// account's group so that account can reach its cluster inside) and returns
/// its canonical path. Existing directories are left as they are.
fn ensure_data_dir(data_dir: &Path, account: &PgAccount) -> Result<PathBuf, EmbeddedError> {
    match fs::metadata(data_dir) {
        Ok(md) if md.is_dir() => {}
        Ok(_) => {
            return Err(EmbeddedError::Start {
                data_dir: data_dir.to_path_buf(),
                detail: "the data directory path exists but is not a directory".into(),
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = data_dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                fs::create_dir_all(parent).ctx(|| format!("creating {}", parent.display()))?;
            }
            match DirBuilder::new().mode(0o700).create(data_dir) {
                Ok(()) => {
                    if account.switch {
                        chown(data_dir, None, Some(account.gid))
                            .ctx(|| format!("changing group of {}", data_dir.display()))?;
                        fs::set_permissions(data_dir, fs::Permissions::from_mode(0o710))
                            .ctx(|| format!("setting mode of {}", data_dir.display()))?;
                    }
                }
                // Created concurrently by another process; fine.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(EmbeddedError::Io(
                        format!("creating {}", data_dir.display()),
                        e,
                    ))
                }
            }
        }
        Err(e) => {
            return Err(EmbeddedError::Io(
                format!("inspecting {}", data_dir.display()),
                e,
            ))
        }
    }
    fs::canonicalize(data_dir).ctx(|| format!("resolving {}", data_dir.display()))
}

/// Takes the exclusive, non-blocking lock on `$DATA_DIR/grantd.lock` and
/// records our PID in it (for the other side's error message).
fn acquire_lock(data_dir: &Path) -> Result<Flock<File>, EmbeddedError> {
    let path = data_dir.join(LOCK_FILE);
    // No truncate on open: the current holder's PID must survive until we own the lock.
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .open(&path)
        .ctx(|| format!("opening lock file {}", path.display()))?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(mut lock) => {
            lock.set_len(0)
                .and_then(|()| lock.seek(SeekFrom::Start(0)).map(|_| ()))
                .and_then(|()| writeln!(*lock, "{}", std::process::id()))
                .and_then(|()| lock.flush())
                .ctx(|| format!("writing lock file {}", path.display()))?;
            Ok(lock)
        }
        Err((mut file, Errno::EWOULDBLOCK)) => {
            let mut text = String::new();
            let pid = file
                .read_to_string(&mut text)
                .ok()
                .and_then(|_| text.trim().parse().ok());
            Err(EmbeddedError::AlreadyRunning {
                data_dir: data_dir.to_path_buf(),
                pid,
            })
        }
        Err((_, errno)) => Err(EmbeddedError::Io(
            format!("locking {}", path.display()),
            io::Error::from(errno),
        )),
    }
}

/// Opens `$DATA_DIR/postgres.log` for appending (0600: server logs can contain
/// query text), rotating it once when it has grown large.
fn open_log(data_dir: &Path) -> Result<(PathBuf, File), EmbeddedError> {
    let path = data_dir.join(LOG_FILE);
    if fs::metadata(&path).is_ok_and(|m| m.len() > LOG_ROTATE_BYTES) {
        let old = data_dir.join(format!("{LOG_FILE}.1"));
        fs::rename(&path, &old).ctx(|| format!("rotating {}", path.display()))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
        .ctx(|| format!("opening {}", path.display()))?;
    Ok((path, file))
}

/// Separates runs in postgres.log, which is shared by initdb and postgres.
fn log_marker(log: &File, what: &str) -> Result<(), EmbeddedError> {
    let mut log = log;
    writeln!(log, "--- grantd (pid {}): {what} ---", std::process::id())
        .ctx(|| "writing postgres.log".into())
}

/// The last lines of postgres.log, for error messages.
fn log_tail(path: &Path) -> String {
    let Ok(mut file) = File::open(path) else {
        return format!("({} is unreadable)", path.display());
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut buf = Vec::new();
    if file
        .seek(SeekFrom::Start(len.saturating_sub(32 * 1024)))
        .is_err()
        || file.read_to_end(&mut buf).is_err()
    {
        return format!("({} is unreadable)", path.display());
    }
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
    format!("last lines of {}:\n{}", path.display(), tail)
}

// ---------------------------------------------------------------------------
// Child processes

/// A command with a minimal environment (grantd's environment may hold secrets,
/// and PG* variables must not leak in), run as `account`, that receives
/// `death_signal` if grantd's forking thread dies.
fn pg_command(program: &Path, account: &PgAccount, death_signal: libc::c_int) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .current_dir("/")
        .stdin(Stdio::null());
    if let Some(tz) = std::env::var_os("TZ") {
        cmd.env("TZ", tz);
    }
    if account.switch {
        cmd.uid(account.uid.as_raw()).gid(account.gid.as_raw());
    }
    let parent = libc::pid_t::try_from(std::process::id()).unwrap_or(0);
    // SAFETY: the closure runs between fork and exec and only makes
    // async-signal-safe calls (prctl, getppid, _exit), without allocating.
    unsafe {
        cmd.pre_exec(move || {
            // Runs after std's setuid/setgid (which clear PDEATHSIG), so it sticks.
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                death_signal as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before the prctl took effect.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    cmd
}

fn signal_pid(pid: i32, signal: Signal) {
    if let Err(e) = kill(Pid::from_raw(pid), signal) {
        if e != Errno::ESRCH {
            warn!(pid, ?signal, error = %e, "could not signal PostgreSQL process");
        }
    }
}

/// Polls our child until it exits or `timeout` passes.
fn wait_child(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) => {}
            Err(e) => {
                warn!(error = %e, "could not poll PostgreSQL");
                return None;
            }
        }
        if Instant::now() >= deadline {
            return None;
        }
        sleep(POLL);
    }
}

/// Fast shutdown (SIGINT), then immediate shutdown (SIGQUIT), then SIGKILL.
fn shutdown_child(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let pid = i32::try_from(child.id()).unwrap_or(i32::MAX);
    signal_pid(pid, Signal::SIGINT);
    if wait_child(child, SHUTDOWN_TIMEOUT).is_some() {
        return;
    }
    warn!(
        pid,
        "PostgreSQL did not finish a fast shutdown in time; sending SIGQUIT"
    );
    signal_pid(pid, Signal::SIGQUIT);
    if wait_child(child, QUIT_TIMEOUT).is_some() {
        return;
    }
    warn!(pid, "PostgreSQL ignored SIGQUIT; killing it");
    if let Err(e) = child.kill() {
        warn!(pid, error = %e, "could not kill PostgreSQL");
    }
    if let Err(e) = child.wait() {
        warn!(pid, error = %e, "could not reap PostgreSQL");
    }
}

/// Alive and not a zombie (a zombie orphan may never be reaped by its new parent).
fn is_alive(pid: i32) -> bool {
    match kill(Pid::from_raw(pid), None) {
        Ok(()) | Err(Errno::EPERM) => {}
        Err(_) => return false,
    }
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // Format: "pid (comm) S ..."; comm may contain spaces and parentheses.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_none_or(|state| state != "Z" && state != "X"),
        Err(_) => true,
    }
}

fn wait_gone(pids: &[i32], timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if !pids.iter().any(|&p| is_alive(p)) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        sleep(POLL);
    }
}

/// PostgreSQL processes (postmaster or backends) whose working directory is
/// `cluster`: the postmaster chdirs into its data directory and children
/// inherit it, so this finds every process using the cluster, and only those.
fn cluster_processes(cluster: &Path) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| {
            let base = PathBuf::from(format!("/proc/{pid}"));
            let is_postgres = fs::read_to_string(base.join("comm"))
                .is_ok_and(|c| matches!(c.trim_end(), "postgres" | "postmaster"));
            is_postgres
                && fs::read_link(base.join("cwd")).is_ok_and(|cwd| cwd == cluster)
                && is_alive(pid)
        })
        .collect()
}

/// `postmaster.pid` line 1 (PID) and line 8 (status: "starting", "ready", ...).
fn read_postmaster_pid(cluster: &Path) -> io::Result<Option<(i32, String)>> {
    let text = match fs::read_to_string(cluster.join("postmaster.pid")) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut lines = text.lines();
    let Some(pid) = lines.next().and_then(|l| l.trim().parse().ok()) else {
        return Ok(None);
    };
    let status = lines.nth(6).unwrap_or("").trim().to_string();
    Ok(Some((pid, status)))
}

/// We hold the lock, so any PostgreSQL still using our cluster is an orphan of
/// a previous grantd (e.g. one that was SIGKILLed): shut it down before starting.
fn reap_orphans(data_dir: &Path, cluster: &Path) -> Result<(), EmbeddedError> {
    let recorded = read_postmaster_pid(cluster)
        .ok()
        .flatten()
        .map(|(pid, _)| pid);
    let procs = cluster_processes(cluster);
    if let Some(pm) = recorded.filter(|p| procs.contains(p)) {
        warn!(pid = pm, data_dir = %data_dir.display(),
            "found an orphaned PostgreSQL from a previous grantd; shutting it down");
        signal_pid(pm, Signal::SIGINT);
        if !wait_gone(&[pm], SHUTDOWN_TIMEOUT) {
            warn!(
                pid = pm,
                "orphaned PostgreSQL did not shut down in time; sending SIGQUIT"
            );
            signal_pid(pm, Signal::SIGQUIT);
            if !wait_gone(&[pm], QUIT_TIMEOUT) {
                signal_pid(pm, Signal::SIGKILL);
                wait_gone(&[pm], KILL_TIMEOUT);
            }
        }
    }
    // Backends outlive a postmaster that died without shutting them down; they
    // exit on their own once they notice, so give them a moment first.
    let mut left = cluster_processes(cluster);
    if !left.is_empty() && !wait_gone(&left, QUIT_TIMEOUT) {
        warn!(pids = ?left, "orphaned PostgreSQL backends still running; sending SIGQUIT");
        left.iter().for_each(|&p| signal_pid(p, Signal::SIGQUIT));
        if !wait_gone(&left, KILL_TIMEOUT) {
            left.iter().for_each(|&p| signal_pid(p, Signal::SIGKILL));
            wait_gone(&left, KILL_TIMEOUT);
        }
    }
    left = cluster_processes(cluster);
    if !left.is_empty() {
        return Err(EmbeddedError::Start {
            data_dir: data_dir.to_path_buf(),
            detail: format!("PostgreSQL processes {left:?} from a previous run are still using the cluster and would not exit"),
        });
    }
    // A stale postmaster.pid whose PID now belongs to an unrelated process
    // (common after a container restart) makes postgres refuse to start. No
    // process uses the cluster any more, so it is safe to remove.
    if let Some(pid) = recorded.filter(|&p| is_alive(p)) {
        warn!(
            pid,
            "removing stale postmaster.pid whose PID belongs to an unrelated process"
        );
        let path = cluster.join("postmaster.pid");
        fs::remove_file(&path).ctx(|| format!("removing {}", path.display()))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// initdb

/// Creates the cluster on first run. initdb works in a staging directory that
/// is renamed into place only when complete, so an interrupted initdb never
/// leaves a half-built cluster that looks real.
fn init_cluster_if_needed(
    data_dir: &Path,
    bin_dir: &Path,
    account: &PgAccount,
    log_path: &Path,
    log: &File,
) -> Result<(), EmbeddedError> {
    let cluster = data_dir.join(CLUSTER_SUBDIR);
    if cluster.join("PG_VERSION").is_file() {
        let md = fs::metadata(&cluster).ctx(|| format!("inspecting {}", cluster.display()))?;
        if md.uid() != account.uid.as_raw() {
            return Err(EmbeddedError::Start {
                data_dir: data_dir.to_path_buf(),
                detail: format!(
                    "cluster directory {} is owned by uid {} but PostgreSQL runs as `{}` (uid {}); \
                     fix its ownership (chown -R) or choose another GRANTD_DATA_DIR",
                    cluster.display(),
                    md.uid(),
                    account.name,
                    account.uid
                ),
            });
        }
        return Ok(());
    }
    if fs::symlink_metadata(&cluster).is_ok() {
        warn!(dir = %cluster.display(), "removing incomplete PostgreSQL cluster directory (no PG_VERSION)");
        fs::remove_dir_all(&cluster).ctx(|| format!("removing {}", cluster.display()))?;
    }
    let staging = data_dir.join(STAGING_SUBDIR);
    info!(data_dir = %data_dir.display(), bin_dir = %bin_dir.display(), user = %account.name,
        "initializing embedded PostgreSQL cluster");

    let mut last_failure = String::new();
    for locale in ["C.UTF-8", "C"] {
        if fs::symlink_metadata(&staging).is_ok() {
            fs::remove_dir_all(&staging).ctx(|| format!("removing {}", staging.display()))?;
        }
        DirBuilder::new()
            .mode(0o700)
            .create(&staging)
            .ctx(|| format!("creating {}", staging.display()))?;
        if account.switch {
            account.chown(&staging)?;
        }
        log_marker(log, &format!("running initdb --locale={locale}"))?;
        let out = log
            .try_clone()
            .ctx(|| "duplicating log file handle".into())?;
        let err = log
            .try_clone()
            .ctx(|| "duplicating log file handle".into())?;
        // SIGKILL: an orphaned initdb must not keep writing into a directory the
        // next grantd is about to wipe.
        let status = pg_command(&bin_dir.join("initdb"), account, libc::SIGKILL)
            .arg("-D")
            .arg(&staging)
            .args(["-U", SUPERUSER, "-A", "trust", "-E", "UTF8"])
            .arg(format!("--locale={locale}"))
            .stdout(out)
            .stderr(err)
            .status()
            .map_err(|e| EmbeddedError::InitDb {
                data_dir: data_dir.to_path_buf(),
                detail: format!("could not run {}: {e}", bin_dir.join("initdb").display()),
            })?;
        if status.success() {
            fs::rename(&staging, &cluster)
                .ctx(|| format!("moving {} to {}", staging.display(), cluster.display()))?;
            // Make the rename durable before anything depends on it.
            File::open(data_dir)
                .and_then(|d| d.sync_all())
                .ctx(|| format!("syncing {}", data_dir.display()))?;
            return Ok(());
        }
        warn!(locale, %status, "initdb failed");
        last_failure = format!(
            "initdb --locale={locale} exited with {status}; {}",
            log_tail(log_path)
        );
    }
    // Best effort: the staging directory is wiped on the next attempt anyway.
    let _ = fs::remove_dir_all(&staging);
    Err(EmbeddedError::InitDb {
        data_dir: data_dir.to_path_buf(),
        detail: last_failure,
    })
}

// ---------------------------------------------------------------------------
// Socket directory

/// Creates the socket directory (0700, owned by the PostgreSQL account). Its
/// privacy is what makes trust auth safe, so a directory owned by anyone else
/// (e.g. planted in /tmp) is refused rather than used.
fn ensure_socket_dir(
    data_dir: &Path,
    dir: &Path,
    account: &PgAccount,
) -> Result<(), EmbeddedError> {
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(EmbeddedError::Io(format!("creating {}", dir.display()), e)),
    }
    let md = fs::symlink_metadata(dir).ctx(|| format!("inspecting {}", dir.display()))?;
    let refuse = |why: String| EmbeddedError::Start {
        data_dir: data_dir.to_path_buf(),
        detail: format!(
            "socket directory {}: {why}; remove it and retry",
            dir.display()
        ),
    };
    if !md.file_type().is_dir() {
        return Err(refuse("exists but is not a directory".into()));
    }
    if md.uid() != account.uid.as_raw() {
        if account.switch && md.uid() == geteuid().as_raw() {
            account.chown(dir)?;
        } else {
            return Err(refuse(format!(
                "is owned by uid {}, expected `{}` (uid {})",
                md.uid(),
                account.name,
                account.uid
            )));
        }
    }
    if md.mode() & 0o777 != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .ctx(|| format!("setting mode of {}", dir.display()))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Owned cluster

/// A running embedded cluster owned by this process. Holds the data-dir lock;
/// dropping it stops PostgreSQL, then releases the lock.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    data_dir: PathBuf,
    socket_dir: PathBuf,
    child: Option<Child>,
    // Declared last: dropped (unlocked) only after Drop has stopped PostgreSQL.
    _lock: Flock<File>,
}

impl EmbeddedPostgres {
    /// Locks `data_dir`, runs initdb on first use, starts PostgreSQL and waits
    /// until it accepts connections (up to 60 s).
    ///
    /// Must be called from a thread that lives as long as the process (the main
    /// thread): the postmaster gets SIGINT via `PR_SET_PDEATHSIG` when the
    /// *thread* that spawned it exits, which is what makes it shut down if
    /// grantd is SIGKILLed — and would also stop it early if that thread were a
    /// short-lived one (e.g. a tokio blocking-pool thread).
    pub fn start(data_dir: &Path) -> Result<Self, EmbeddedError> {
        let account = PgAccount::detect().map_err(|e| with_data_dir(e, data_dir))?;
        let data_dir = ensure_data_dir(data_dir, &account)?;
        let lock = acquire_lock(&data_dir)?;
        Self::start_locked(data_dir, lock, &account)
    }

    fn start_locked(
        data_dir: PathBuf,
        lock: Flock<File>,
        account: &PgAccount,
    ) -> Result<Self, EmbeddedError> {
        let bin_dir = find_binaries()?;
        if account.switch {
            check_traversal(&data_dir, account)?;
        }
        let cluster = data_dir.join(CLUSTER_SUBDIR);
        let (log_path, log) = open_log(&data_dir)?;

        reap_orphans(&data_dir, &cluster)?;
        init_cluster_if_needed(&data_dir, &bin_dir, account, &log_path, &log)?;

        let socket_dir = socket_dir_for(&data_dir);
        ensure_socket_dir(&data_dir, &socket_dir, account)?;

        let postgres = bin_dir.join("postgres");
        log_marker(&log, &format!("starting {}", postgres.display()))?;
        let out = log
            .try_clone()
            .ctx(|| "duplicating log file handle".into())?;
        let mut child = pg_command(&postgres, account, libc::SIGINT)
            .arg("-D")
            .arg(&cluster)
            .arg("-k")
            .arg(&socket_dir)
            // Empty listen_addresses: no TCP at all, only the private socket.
            .args(["-c", "listen_addresses="])
            .arg("-c")
            .arg(format!("port={PORT}"))
            .args([
                "-c",
                "unix_socket_permissions=0700",
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=128MB",
                "-c",
                "fsync=on",
            ])
            // Own process group: a terminal's Ctrl-C must reach grantd only;
            // grantd stops PostgreSQL itself after draining.
            .process_group(0)
            .stdout(out)
            .stderr(log)
            .spawn()
            .map_err(|e| EmbeddedError::Start {
                data_dir: data_dir.clone(),
                detail: format!("could not run {}: {e}", postgres.display()),
            })?;

        if let Err(detail) = wait_ready(&mut child, &cluster, &socket_dir) {
            shutdown_child(&mut child);
            return Err(EmbeddedError::Start {
                data_dir,
                detail: format!("{detail}; {}", log_tail(&log_path)),
            });
        }
        info!(data_dir = %data_dir.display(), socket_dir = %socket_dir.display(),
            pid = child.id(), bin_dir = %bin_dir.display(), "embedded PostgreSQL started");
        Ok(Self {
            data_dir,
            socket_dir,
            child: Some(child),
            _lock: lock,
        })
    }

    /// Options for connecting as the `grantd` superuser to the `postgres`
    /// database over the private socket.
    pub fn connect_options(&self) -> PgConnectOptions {
        connect_options_for(&self.socket_dir)
    }

    /// Fast shutdown (SIGINT), escalating to SIGQUIT after 30 s. Idempotent.
    /// Blocks; the lock stays held until the value is dropped.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        info!(data_dir = %self.data_dir.display(), pid = child.id(), "stopping embedded PostgreSQL");
        shutdown_child(&mut child);
        info!(data_dir = %self.data_dir.display(), "embedded PostgreSQL stopped");
    }

    /// The canonical data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Errors raised before the data dir is known get it filled in.
fn with_data_dir(err: EmbeddedError, data_dir: &Path) -> EmbeddedError {
    match err {
        EmbeddedError::Start {
            data_dir: d,
            detail,
        } if d.as_os_str().is_empty() => EmbeddedError::Start {
            data_dir: data_dir.to_path_buf(),
            detail,
        },
        other => other,
    }
}

/// Waits until postmaster.pid (written by *our* child) says "ready" and the
/// socket exists; PostgreSQL writes "ready" only once it accepts connections.
fn wait_ready(child: &mut Child, cluster: &Path, socket_dir: &Path) -> Result<(), String> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let socket = socket_dir.join(SOCKET_FILE);
    let own_pid = i32::try_from(child.id()).unwrap_or(i32::MAX);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return Err(format!("postgres exited with {status} during startup"))
            }
            Ok(None) => {}
            Err(e) => return Err(format!("could not poll postgres: {e}")),
        }
        let ready = matches!(read_postmaster_pid(cluster),
            Ok(Some((pid, ref status))) if pid == own_pid && status == "ready");
        if ready && socket.exists() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "postgres did not become ready within {} s",
                READY_TIMEOUT.as_secs()
            ));
        }
        sleep(POLL);
    }
}

// ---------------------------------------------------------------------------
// Attaching to a cluster owned by another grantd

/// Connection info for a cluster run by another grantd process.
#[derive(Debug, Clone)]
pub struct Attached {
    data_dir: PathBuf,
    socket_dir: PathBuf,
    pid: i32,
}

impl Attached {
    pub fn connect_options(&self) -> PgConnectOptions {
        connect_options_for(&self.socket_dir)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// PID of the postmaster.
    pub fn pid(&self) -> i32 {
        self.pid
    }
}

/// Finds the running cluster of `data_dir` (started by another grantd): its
/// postmaster must be alive and report "ready", and its socket must exist.
pub fn attach(data_dir: &Path) -> Result<Attached, EmbeddedError> {
    let data_dir = canonical_or_absolute(data_dir);
    let not_running = |reason: String| EmbeddedError::NotRunning {
        data_dir: data_dir.clone(),
        reason,
    };
    let cluster = data_dir.join(CLUSTER_SUBDIR);
    let (pid, status) = match read_postmaster_pid(&cluster) {
        Ok(Some(found)) => found,
        Ok(None) => {
            return Err(not_running(
                "PostgreSQL is not running (no postmaster.pid)".into(),
            ))
        }
        Err(e) => {
            return Err(not_running(format!(
                "cannot read {}: {e}",
                cluster.join("postmaster.pid").display()
            )))
        }
    };
    if !is_alive(pid) {
        return Err(not_running(format!(
            "postmaster.pid names pid {pid}, which is not running"
        )));
    }
    if status != "ready" {
        return Err(not_running(format!(
            "PostgreSQL (pid {pid}) is not ready (status: {})",
            if status.is_empty() {
                "starting"
            } else {
                &status
            }
        )));
    }
    let socket_dir = socket_dir_for(&data_dir);
    let socket = socket_dir.join(SOCKET_FILE);
    match fs::metadata(&socket) {
        Ok(_) => Ok(Attached {
            data_dir: data_dir.clone(),
            socket_dir,
            pid,
        }),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Err(not_running(format!(
            "socket {} is not accessible to this user (uid {}); run as root or as the cluster's owner",
            socket.display(),
            geteuid()
        ))),
        Err(e) => Err(not_running(format!("socket {}: {e}", socket.display()))),
    }
}

// ---------------------------------------------------------------------------
// Admin convenience

/// A cluster for an admin command: owned when no grantd was running (stopped on
/// drop), attached to the running grantd's cluster otherwise.
#[derive(Debug)]
pub enum ClusterHandle {
    Owned(EmbeddedPostgres),
    Attached(Attached),
}

impl ClusterHandle {
    pub fn connect_options(&self) -> PgConnectOptions {
        match self {
            Self::Owned(pg) => pg.connect_options(),
            Self::Attached(a) => a.connect_options(),
        }
    }

    pub fn data_dir(&self) -> &Path {
        match self {
            Self::Owned(pg) => pg.data_dir(),
            Self::Attached(a) => a.data_dir(),
        }
    }
}

/// Starts an owned cluster if the data dir is free, else attaches to the
/// running grantd's cluster (waiting up to 10 s for it to become ready).
/// Same threading requirement as [`EmbeddedPostgres::start`].
pub fn open_for_admin(data_dir: &Path) -> Result<ClusterHandle, EmbeddedError> {
    let pid = match EmbeddedPostgres::start(data_dir) {
        Ok(pg) => return Ok(ClusterHandle::Owned(pg)),
        Err(EmbeddedError::AlreadyRunning { pid, .. }) => pid,
        Err(e) => return Err(e),
    };
    let deadline = Instant::now() + ATTACH_WAIT;
    loop {
        match attach(data_dir) {
            Ok(attached) => return Ok(ClusterHandle::Attached(attached)),
            Err(EmbeddedError::NotRunning { data_dir, reason }) if Instant::now() >= deadline => {
                return Err(EmbeddedError::NotRunning {
                    data_dir,
                    reason: format!(
                        "another grantd{} holds the data directory, but {reason}",
                        pid_suffix(pid)
                    ),
                })
            }
            Err(EmbeddedError::NotRunning { .. }) => sleep(Duration::from_millis(100)),
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_keys_sort_numerically() {
        let mut v = vec![version_key("9.6"), version_key("15"), version_key("10")];
        v.sort();
        assert_eq!(v, vec![Some(vec![9, 6]), Some(vec![10]), Some(vec![15])]);
        assert_eq!(version_key("common"), None);
    }

    #[test]
    fn short_data_dir_uses_run_subdir() {
        assert_eq!(
            socket_dir_for(Path::new("/nonexistent/grantd")),
            PathBuf::from("/nonexistent/grantd/run")
        );
    }

    #[test]
    fn long_data_dir_uses_hashed_tmp_dir() {
        let long = PathBuf::from(format!("/nonexistent/{}", "x".repeat(100)));
        let dir = socket_dir_for(&long);
        assert!(dir.starts_with("/tmp"));
        assert_eq!(dir.file_name().map(|n| n.len()), Some("grantd-".len() + 16));
        assert_eq!(dir, socket_dir_for(&long));
        assert!(dir.join(SOCKET_FILE).as_os_str().len() <= MAX_SOCKET_PATH);
    }

    #[test]
    fn already_running_message_names_pid_and_dir() {
        let e = EmbeddedError::AlreadyRunning {
            data_dir: PathBuf::from("/var/lib/grantd"),
            pid: Some(42),
        };
        assert_eq!(
            e.to_string(),
            "another grantd (pid 42) is already using data directory /var/lib/grantd; \
             stop it first or choose another GRANTD_DATA_DIR"
        );
    }
}
