//! What a request's log lines cost, without a server around them: a request span and the
//! two lines AddLayerVersionPermission logs, formatted as grantd formats them and written
//! to a file, three ways. Reports the calling thread's time and the whole process's CPU
//! (the writing thread included) per request.
//!
//!   cargo run --release --example log_cost
//!
//! 1. tracing-subscriber's JSON format through tracing-appender's non-blocking writer
//!    (grantd before this benchmark); 2. json-subscriber through the same writer;
//!    3. json-subscriber through grantd's batching writer (src/telemetry.rs), as now.
use std::time::Instant;
use tracing_subscriber::EnvFilter;

const REQUESTS: u32 = 200_000;

fn process_cpu_s() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(usage.ru_utime) + t(usage.ru_stime)
}

fn requests() {
    for i in 0..REQUESTS {
        let span =
            tracing::info_span!("request", request_id = %"b93521ff-78e6-476a-9766-b3e2d818a456");
        let _entered = span.enter();
        tracing::info!(layer = %"bulk", version = i, statement_id = "bench-1-2345", grantee = "123456789012", "layer version permission added");
        tracing::info!(
            method = "POST",
            route = "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy",
            account_id = "123456789012",
            status = 201u16,
            latency_ms = 1.234,
            "request finished"
        );
    }
}

fn measure(name: &str, dispatch: tracing::Dispatch, done: impl FnOnce()) {
    let cpu = process_cpu_s();
    let start = Instant::now();
    tracing::dispatcher::with_default(&dispatch, requests);
    let wall = start.elapsed();
    drop(dispatch);
    done();
    let per = |s: f64| s * 1e9 / f64::from(REQUESTS);
    println!(
        "{name:58} caller {:6.0} ns/request, process CPU {:6.0} ns/request",
        per(wall.as_secs_f64()),
        per(process_cpu_s() - cpu)
    );
}

fn file(dir: &tempfile::TempDir, name: &str) -> std::fs::File {
    std::fs::File::create(dir.path().join(name)).expect("create the log file")
}

/// tracing-appender's non-blocking writer as grantd used it: lossless, through a buffer.
fn appender(
    out: std::fs::File,
) -> (
    tracing_appender::non_blocking::NonBlocking,
    tracing_appender::non_blocking::WorkerGuard,
) {
    tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::BufWriter::with_capacity(64 * 1024, out))
}

/// json-subscriber configured as grantd's `telemetry::init` configures it, on `writer`.
fn grantd_json<W>(writer: W) -> tracing::Dispatch
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    json_subscriber::fmt()
        .with_env_filter(EnvFilter::new("info"))
        .with_writer(writer)
        .with_current_span(true)
        .with_span_list(false)
        .finish()
        .into()
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for round in 1..=3 {
        println!("round {round}");
        let (writer, guard) = appender(file(&dir, "a.log"));
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(EnvFilter::new("info"))
            .with_writer(writer)
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .finish();
        measure(
            "tracing-subscriber JSON, tracing-appender non-blocking",
            subscriber.into(),
            || drop(guard),
        );

        let (writer, guard) = appender(file(&dir, "b.log"));
        measure(
            "json-subscriber, tracing-appender non-blocking",
            grantd_json(writer),
            || drop(guard),
        );

        let (writer, guard) = grantd::telemetry::batched(file(&dir, "c.log"));
        measure(
            "json-subscriber, grantd's batching writer (grantd now)",
            grantd_json(writer),
            || drop(guard),
        );
    }
    for name in ["a.log", "b.log", "c.log"] {
        let lines = std::fs::read_to_string(dir.path().join(name)).map_or(0, |s| s.lines().count());
        println!("{name}: {lines} lines");
    }
}
