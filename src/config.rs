//! Configuration: every setting is a flag of `serve` and an environment variable
//! (PRODUCT.md's table). Secrets are `SecretString`, so `Debug` and logs never show them.

use clap::{Args, ValueEnum};
use secrecy::SecretString;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Where the data lives; shared by every command.
#[derive(Debug, Clone, Args)]
pub struct StorageSettings {
    /// External PostgreSQL; unset runs an embedded cluster under the data directory.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<SecretString>,

    /// Embedded cluster, generated keys, first-run credentials.
    #[arg(
        long,
        env = "GRANTD_DATA_DIR",
        default_value = "./grantd-data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Base64 of 32 bytes sealing access-key secrets; default: `<data-dir>/master.key`.
    #[arg(long, env = "GRANTD_MASTER_KEY", global = true, hide_env_values = true)]
    pub master_key: Option<SecretString>,

    /// Region in ARNs and accepted in SigV4 credential scopes.
    #[arg(
        long,
        env = "GRANTD_REGION",
        default_value = "us-east-1",
        global = true
    )]
    pub region: String,

    /// Log output; default `pretty` on a terminal, else `json`.
    #[arg(long, env = "GRANTD_LOG_FORMAT", value_enum, global = true)]
    pub log_format: Option<LogFormat>,
}

/// Settings of the HTTP server.
#[derive(Debug, Clone, Args)]
pub struct ServeSettings {
    /// Address to serve on.
    #[arg(long, env = "GRANTD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// Request bodies larger than this are refused with 413 before they are read.
    /// The default is Lambda's own cap for a direct layer upload.
    #[arg(long, env = "GRANTD_MAX_BODY_BYTES", default_value_t = 69_905_067)]
    pub max_body_bytes: usize,

    /// Database connections per process.
    #[arg(long, env = "GRANTD_DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: u32,

    /// HTTP worker threads; default: one per core.
    #[arg(long, env = "GRANTD_WORKERS")]
    pub workers: Option<usize>,

    /// SMTP server for share notifications, `smtp://[user:password@]host[:port]`; unset
    /// keeps them queued in the database.
    #[arg(long, env = "GRANTD_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<SecretString>,

    /// Sender of share notifications.
    #[arg(
        long,
        env = "GRANTD_SMTP_FROM",
        default_value = "grantd <grantd@localhost>"
    )]
    pub smtp_from: String,
}

impl ServeSettings {
    pub fn for_tests() -> Self {
        ServeSettings {
            listen: "127.0.0.1:0".into(),
            max_body_bytes: 69_905_067,
            db_pool_size: 4,
            workers: Some(2),
            smtp_url: None,
            smtp_from: "grantd <grantd@localhost>".into(),
        }
    }
}
