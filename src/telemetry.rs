//! tracing setup: logs go to stderr (stdout carries the commands' JSON), JSON when
//! stderr is not a terminal, filtered by `RUST_LOG`.
//!
//! Lines are written by a dedicated thread (tracing-appender's non-blocking writer, which
//! blocks rather than drops when its queue is full), through a buffer that it flushes each
//! time the queue runs empty: a request thread never waits on a write to stderr, and a
//! burst of lines costs one write system call instead of one each.

use crate::config::LogFormat;
use std::io::IsTerminal;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Sets the global subscriber. Keep the guard for as long as logs may be written: dropping
/// it writes out what is queued.
pub fn init(format: Option<LogFormat>, default_filter: &str) -> WorkerGuard {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let format = format.unwrap_or(if std::io::stderr().is_terminal() {
        LogFormat::Pretty
    } else {
        LogFormat::Json
    });
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("grantd-log")
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stderr(),
        ));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    // A second init (tests start many servers in one process) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
    guard
}
