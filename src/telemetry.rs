//! tracing setup: logs go to stderr (stdout carries the commands' JSON), JSON when
//! stderr is not a terminal, filtered by `RUST_LOG`.
//!
//! A request thread appends its formatted line to a shared buffer and goes on: no system
//! call, and no other thread woken. A dedicated thread writes the buffer out every
//! [`FLUSH_EVERY`], or as soon as it holds [`FLUSH_AT`] bytes, in one write. A writer finding
//! the buffer at [`LIMIT`] waits for it to be written (lines are never dropped). Dropping the
//! guard writes out what is buffered; lines logged after that go straight to stderr.
//!
//! tracing-appender's non-blocking writer, used before, sends every line through a channel
//! and wakes its thread for it: at thousands of lines a second that was the larger part of
//! what a log line cost a request (bench/README.md, "Logging").

use crate::config::LogFormat;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// How long a line may wait in the buffer.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// Buffered bytes that get written out without waiting for the interval.
pub const FLUSH_AT: usize = 256 * 1024;
/// Buffered bytes at which writers wait for the buffer to be written.
pub const LIMIT: usize = 8 * 1024 * 1024;

/// Sets the global subscriber. Keep the guard for as long as logs may be written: dropping
/// it writes out what is buffered.
pub fn init(format: Option<LogFormat>, default_filter: &str) -> LogGuard {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let format = format.unwrap_or(if std::io::stderr().is_terminal() {
        LogFormat::Pretty
    } else {
        LogFormat::Json
    });
    let (writer, guard) = batched(std::io::stderr());
    // A second init (tests start many servers in one process) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => json_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(writer)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(writer)
            .compact()
            .try_init(),
    };
    guard
}

struct Shared {
    state: Mutex<State>,
    /// The writing thread waits here for [`FLUSH_AT`] bytes or the guard's drop.
    full: Condvar,
    /// Writers blocked at [`LIMIT`] wait here for the buffer to be taken.
    taken: Condvar,
}

struct State {
    buf: Vec<u8>,
    closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the buffer as valid bytes.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A [`MakeWriter`] whose lines go to the shared buffer.
#[derive(Clone)]
pub struct BatchWriter(Arc<Shared>);

/// Writes out what is buffered when dropped, and stops the writing thread.
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// A writer buffering lines for `out`, and the guard that owns the thread writing them.
pub fn batched<W: Write + Send + 'static>(out: W) -> (BatchWriter, LogGuard) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            buf: Vec::with_capacity(64 * 1024),
            closed: false,
        }),
        full: Condvar::new(),
        taken: Condvar::new(),
    });
    let thread = {
        let shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("grantd-log".into())
            .spawn(move || write_out(&shared, out))
            .expect("spawn the log writer thread")
    };
    (
        BatchWriter(Arc::clone(&shared)),
        LogGuard {
            shared,
            thread: Some(thread),
        },
    )
}

fn write_out(shared: &Shared, mut out: impl Write) {
    let mut spare = Vec::with_capacity(64 * 1024);
    loop {
        let mut state = shared.lock();
        if !state.closed && state.buf.len() < FLUSH_AT {
            state = shared
                .full
                .wait_timeout(state, FLUSH_EVERY)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        std::mem::swap(&mut state.buf, &mut spare);
        let closed = state.closed;
        drop(state);
        shared.taken.notify_all();
        if !spare.is_empty() {
            // Nowhere to report a failed write to stderr: the lines are lost, as they
            // would be with any other writer.
            let _ = out.write_all(&spare).and_then(|()| out.flush());
            spare.clear();
        }
        if closed {
            // Closed under the lock: nothing was added after the swap.
            return;
        }
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.full.notify_one();
        self.shared.taken.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One line's writer (the formatters write each line with one `write_all`).
pub struct LineWriter<'a>(&'a Shared);

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(&self.0)
    }
}

impl Write for LineWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut state = self.0.lock();
        while state.buf.len() >= LIMIT && !state.closed {
            state = self
                .0
                .taken
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if state.closed {
            drop(state);
            return std::io::stderr().write(bytes);
        }
        state.buf.extend_from_slice(bytes);
        if state.buf.len() >= FLUSH_AT {
            self.0.full.notify_one();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// A `Write` into a shared vector, recording how many writes it took.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let mut s = self.0.lock().unwrap();
            s.0.extend_from_slice(bytes);
            s.1 += 1;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_from_many_threads_arrive_whole_and_batched() {
        let sink = Sink::default();
        let (writer, guard) = batched(sink.clone());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        let line = format!("thread {t} line {i:04} {}\n", "x".repeat(50));
                        writer.make_writer().write_all(line.as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        drop(guard);
        let (bytes, writes) = sink.0.lock().unwrap().clone();
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4000);
        for t in 0..4 {
            let mine: Vec<&str> = lines
                .iter()
                .copied()
                .filter(|l| l.starts_with(&format!("thread {t} ")))
                .collect();
            assert_eq!(mine.len(), 1000);
            // Each thread's lines keep their order and arrive whole.
            for (i, line) in mine.iter().enumerate() {
                assert_eq!(*line, format!("thread {t} line {i:04} {}", "x".repeat(50)));
            }
        }
        assert!(writes < 100, "{writes} writes for 4000 lines");
    }

    #[test]
    fn a_line_is_written_within_the_interval_without_the_guard_dropping() {
        let sink = Sink::default();
        let (writer, guard) = batched(sink.clone());
        writer.make_writer().write_all(b"one line\n").unwrap();
        let start = Instant::now();
        while sink.0.lock().unwrap().0.is_empty() {
            assert!(start.elapsed() < Duration::from_secs(5), "never written");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(sink.0.lock().unwrap().0, b"one line\n");
        drop(guard);
        // After the guard, lines still go somewhere (stderr) rather than blocking.
        writer.make_writer().write_all(b"late line\n").unwrap();
    }
}
