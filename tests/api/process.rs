//! Running the real `grantd` binary as a child process.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_grantd");

/// A `grantd serve` child; stopped with SIGTERM when dropped.
pub struct Grantd {
    pub child: Child,
    /// The JSON line `serve` printed once listening.
    pub started: serde_json::Value,
    /// Everything logged on stderr, read as it comes so a chatty log never fills the pipe
    /// and blocks the server.
    logs: Option<std::thread::JoinHandle<String>>,
}

impl Grantd {
    /// Starts `grantd serve` on a free port and waits for its startup line.
    pub fn serve(data_dir: &Path, env: &[(&str, &str)]) -> Result<Grantd, String> {
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            .env("GRANTD_DATA_DIR", data_dir)
            .env("GRANTD_LOG_FORMAT", "json")
            .env("GRANTD_WORKERS", "1")
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| e.to_string())?;
        let mut stderr = child.stderr.take().unwrap();
        let logs = std::thread::spawn(move || {
            use std::io::Read as _;
            let mut logs = String::new();
            let _ = stderr.read_to_string(&mut logs);
            logs
        });
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        match rx.recv_timeout(Duration::from_secs(90)) {
            Ok(line) if !line.trim().is_empty() => {
                let started = serde_json::from_str(&line).map_err(|e| format!("{e}: {line}"))?;
                Ok(Grantd {
                    started,
                    logs: Some(logs),
                    child,
                })
            }
            _ => {
                let _ = child.kill();
                let status = child.wait().map_err(|e| e.to_string())?;
                Err(format!(
                    "grantd exited ({:?}) without starting: {}",
                    status.code(),
                    logs.join().unwrap_or_default()
                ))
            }
        }
    }

    pub fn endpoint(&self) -> String {
        self.started["Endpoint"].as_str().unwrap().to_owned()
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), signal).unwrap();
    }

    /// SIGTERM, then wait; returns the exit status and everything logged on stderr.
    pub fn stop(mut self) -> (std::process::ExitStatus, String) {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        let status = self.child.wait().unwrap();
        let logs = self
            .logs
            .take()
            .map(|t| t.join().unwrap_or_default())
            .unwrap_or_default();
        (status, logs)
    }
}

impl Drop for Grantd {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.signal(nix::sys::signal::Signal::SIGTERM);
            let _ = self.child.wait();
        }
    }
}

/// Runs `grantd <args>` to completion: (exit code, stdout, stderr).
pub fn run(data_dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("GRANTD_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A temporary directory the unprivileged PostgreSQL user can traverse.
pub fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("grantd-it-")
        .tempdir()
        .unwrap();
    crate::helpers::set_mode(dir.path(), 0o755);
    dir
}
