//! Prometheus metrics, one registry per application instance (tests run many in one
//! process): requests by route template and status, a latency histogram, and the
//! database pool's gauges, read when scraped.

use crate::db::PoolStatus;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::time::Duration;

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_size: IntGaugeVec,
    pool_idle: IntGaugeVec,
    pool_max: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Self {
        let registry =
            Registry::new_custom(Some("grantd".into()), None).expect("a static prefix is valid");
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route template, method and status",
            ),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from request received to response ready",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["route", "method"],
        )
        .expect("valid metric");
        // By pool: `system` (grantd's own role) and `tenant` (row-level security).
        let gauge = |name: &str, help: &str| {
            IntGaugeVec::new(Opts::new(name, help), &["pool"]).expect("valid metric")
        };
        let pool_size = gauge(
            "db_pool_connections",
            "Open database connections in the pool",
        );
        let pool_idle = gauge(
            "db_pool_idle_connections",
            "Idle database connections in the pool",
        );
        let pool_max = gauge("db_pool_max_connections", "Configured maximum pool size");
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool_size.clone()),
            Box::new(pool_idle.clone()),
            Box::new(pool_max.clone()),
        ] {
            registry.register(c).expect("metric names are unique");
        }
        Metrics {
            registry,
            requests,
            latency,
            pool_size,
            pool_idle,
            pool_max,
        }
    }

    pub fn observe(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[route, method])
            .observe(elapsed.as_secs_f64());
    }

    /// The text exposition, with the pool gauges read now.
    pub fn render(&self, pools: &[(&str, PoolStatus)]) -> String {
        for (name, status) in pools {
            let labels = [*name];
            let gauge = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
            self.pool_size
                .with_label_values(&labels)
                .set(gauge(status.open));
            self.pool_idle
                .with_label_values(&labels)
                .set(gauge(status.idle));
            self.pool_max
                .with_label_values(&labels)
                .set(gauge(status.max));
        }
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("encoding metrics into memory cannot fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
