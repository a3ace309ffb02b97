//! `GET /metrics`: the cluster's numbers, read from Redis so that every node reports the same,
//! then this process's own (its HTTP requests, open streams, Redis errors, build).
//!
//! Per-process numbers are recorded with the [`metrics`] facade and rendered by
//! `metrics-exporter-prometheus`, rather than with `prometheus-client`: the facade's macros
//! (`counter!`, `histogram!`, `gauge!`) can be called from any module (the worker, the relayer,
//! the HTTP layer) without a registry handle threaded through every constructor, a process
//! without a recorder (the CLI, unit tests) pays nothing, and the exporter renders without an
//! HTTP listener of its own (default features off): serve's router, or a worker's
//! `--health-listen`, answers the scrape. `prometheus-client` would need its registry passed to
//! every place that records, and its typed families declared up front in one struct.
//!
//! A number Redis did not give is an error (`503 STORAGE_UNAVAILABLE`), never a 0: a scrape that
//! fails is a gap Prometheus shows, a 0 is a lie it would graph.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::auth::Admin;
use super::{storage, tasks, AppState};
use crate::runtime::queue::Priority;
use crate::service::redis::tasks::Tasks;
use crate::service::scaling;

/// The request-latency histogram's buckets (seconds).
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Names of the per-process metrics (one place, so the README and the tests agree).
pub mod names {
    /// Counter: HTTP requests by `route` (the matched path, never the raw URI), `method`,
    /// `status`.
    pub const HTTP_REQUESTS: &str = "airprover_http_requests_total";
    /// Histogram: time to the response's head by `route` and `method` (a stream's life is not
    /// counted).
    pub const HTTP_DURATION: &str = "airprover_http_request_duration_seconds";
    /// Gauge: open event streams on this node by `kind` (`sse`, `ws`).
    pub const OPEN_STREAMS: &str = "airprover_open_streams";
    /// Counter: Redis errors by `process` (`serve`, `worker`, `relay`).
    pub const REDIS_ERRORS: &str = "airprover_redis_errors_total";
    /// Gauge (1): the build, `version` as its label.
    pub const BUILD_INFO: &str = "airprover_build_info";
}

/// This process's recorder, installed on first use (once per process: the facade has one
/// global recorder). Every binary that serves `/metrics` calls it at start, so that what it
/// records from then on is kept.
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(names::HTTP_DURATION.into()), &LATENCY_BUCKETS)
            .expect("the buckets are not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder installed first (an embedding program's) keeps its place: this
        // handle then renders only the build line below, which it records itself.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was installed before airprover's: /metrics shows only the cluster's numbers");
        }
        metrics::describe_counter!(
            names::HTTP_REQUESTS,
            "HTTP requests answered by this process, by matched route, method and status."
        );
        metrics::describe_histogram!(
            names::HTTP_DURATION,
            metrics::Unit::Seconds,
            "Time to the response's head, by matched route and method."
        );
        metrics::describe_gauge!(
            names::OPEN_STREAMS,
            "Event streams open on this process (SSE, WebSocket)."
        );
        metrics::describe_counter!(
            names::REDIS_ERRORS,
            "Redis commands that failed in this process."
        );
        metrics::describe_gauge!(names::BUILD_INFO, "The build of this process (always 1).");
        metrics::gauge!(names::BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        // Zero lines from the start: a rate over a counter that appears only with its first
        // error misses that error.
        for process in ["serve", "worker", "relay"] {
            metrics::counter!(names::REDIS_ERRORS, "process" => process).absolute(0);
        }
        for kind in ["sse", "ws"] {
            metrics::gauge!(names::OPEN_STREAMS, "kind" => kind).set(0.0);
        }
        handle.clone()
    })
}

/// This process's metrics as Prometheus text.
pub fn render() -> String {
    let handle = recorder();
    // Histograms are kept as samples until the upkeep folds them into their buckets.
    handle.run_upkeep();
    handle.render()
}

/// Counts one failed Redis command of `process` (`serve`, `worker`, `relay`).
pub fn redis_error(process: &'static str) {
    metrics::counter!(names::REDIS_ERRORS, "process" => process).increment(1);
}

/// A failed Redis command of `process`: counted, and logged with what happens `next`.
pub fn redis_failed(process: &'static str, e: &redis::RedisError, next: &str) {
    redis_error(process);
    tracing::warn!("redis: {e}; {next}");
}

/// An open event stream, counted in [`names::OPEN_STREAMS`] until dropped, and in the count a
/// draining `serve` waits on ([`super::health::open_streams`]).
pub struct StreamGauge {
    kind: &'static str,
}

impl StreamGauge {
    /// One more open stream of `kind` (`sse`, `ws`).
    pub fn open(kind: &'static str) -> StreamGauge {
        metrics::gauge!(names::OPEN_STREAMS, "kind" => kind).increment(1.0);
        super::health::stream_opened();
        StreamGauge { kind }
    }
}

impl Drop for StreamGauge {
    fn drop(&mut self) {
        metrics::gauge!(names::OPEN_STREAMS, "kind" => self.kind).decrement(1.0);
        super::health::stream_closed();
    }
}

/// The middleware that counts and times every request by its matched route (`/v1/proofs/{id}`,
/// never `/v1/proofs/abc...`: one series per route, not per task); what matched no route is
/// `unmatched`.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().as_str().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(names::HTTP_REQUESTS, "route" => route.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(names::HTTP_DURATION, "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics` (admins): the cluster's numbers from Redis, then this node's.
pub(super) async fn metrics(State(state): State<AppState>, _: Admin) -> Response {
    match cluster_text(&state.tasks).await {
        Ok(mut out) => {
            out.push_str(&render());
            (
                [(
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; version=0.0.4",
                )],
                out,
            )
                .into_response()
        }
        Err(e) => storage(e),
    }
}

/// What a `/metrics` of a worker or relay worker (`--health-listen`) answers: this process's
/// numbers only (the cluster's are serve's to report).
pub fn process_text() -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        render(),
    )
        .into_response()
}

/// The cluster's numbers, every one read from Redis.
async fn cluster_text(tasks: &Tasks) -> redis::RedisResult<String> {
    let mut out = String::new();
    out.push_str("# HELP airprover_queue_depth Tasks waiting, per priority.\n# TYPE airprover_queue_depth gauge\n");
    let mut flight = String::from("# HELP airprover_in_flight Tasks delivered to a worker and not finished.\n# TYPE airprover_in_flight gauge\n");
    for priority in Priority::HIGHEST_FIRST {
        let (waiting, in_flight) = tasks.counts(priority).await?;
        out.push_str(&format!(
            "airprover_queue_depth{{priority=\"{priority}\"}} {waiting}\n"
        ));
        flight.push_str(&format!(
            "airprover_in_flight{{priority=\"{priority}\"}} {in_flight}\n"
        ));
    }
    out.push_str(&flight);
    for (name, help) in [
        ("submitted", "Tasks accepted."),
        ("succeeded", "Tasks that ended with a proof."),
        ("failed", "Tasks that ended with an error."),
        ("cancelled", "Tasks cancelled."),
        ("retries", "Retries after retryable failures."),
        (
            "reclaimed",
            "Tasks taken over from a worker that went silent.",
        ),
    ] {
        let n = tasks.stat(name).await?;
        out.push_str(&format!("# HELP airprover_tasks_{name}_total {help}\n# TYPE airprover_tasks_{name}_total counter\nairprover_tasks_{name}_total {n}\n"));
    }
    let (_, dead) = tasks.waiting_and_dead().await?;
    out.push_str(&format!("# HELP airprover_dead_letters Tasks out of tries.\n# TYPE airprover_dead_letters gauge\nairprover_dead_letters {dead}\n"));
    let histograms = tasks.histograms().await?;
    out.push_str("# HELP airprover_proving_seconds Proving time per circuit.\n# TYPE airprover_proving_seconds histogram\n");
    for (circuit, h) in &histograms {
        let mut cumulative = 0;
        for b in tasks::BUCKETS_MS {
            cumulative += h.get(&b.to_string()).copied().unwrap_or(0);
            out.push_str(&format!("airprover_proving_seconds_bucket{{circuit=\"{circuit}\",le=\"{}\"}} {cumulative}\n", b as f64 / 1000.0));
        }
        cumulative += h.get("inf").copied().unwrap_or(0);
        out.push_str(&format!(
            "airprover_proving_seconds_bucket{{circuit=\"{circuit}\",le=\"+Inf\"}} {cumulative}\n"
        ));
        out.push_str(&format!(
            "airprover_proving_seconds_sum{{circuit=\"{circuit}\"}} {}\n",
            h.get("sum_ms").copied().unwrap_or(0) as f64 / 1000.0
        ));
        out.push_str(&format!(
            "airprover_proving_seconds_count{{circuit=\"{circuit}\"}} {cumulative}\n"
        ));
    }
    let signal = scaling::read(tasks).await?;
    out.push_str(&format!(
        "# HELP airprover_arrivals_per_second Tasks submitted per second over the last {} s.\n# TYPE airprover_arrivals_per_second gauge\nairprover_arrivals_per_second {}\n",
        scaling::WINDOW.as_secs(),
        signal.inputs.arrivals_per_s
    ));
    out.push_str(&format!(
        "# HELP airprover_recommended_workers Prover workers that keep a task's wait under {} s (Little's law plus the backlog).\n# TYPE airprover_recommended_workers gauge\nairprover_recommended_workers {}\n",
        signal.inputs.target_wait.as_secs_f64(),
        signal.recommended
    ));
    Ok(out)
}

/// The scaling signal as `GET /v1/queue` shows it: `recommendedWorkers` and what it came from.
pub(super) async fn scaling_view(tasks: &Tasks) -> redis::RedisResult<serde_json::Value> {
    let signal = scaling::read(tasks).await?;
    Ok(serde_json::json!({
        "recommendedWorkers": signal.recommended,
        "arrivalsPerSecond": signal.inputs.arrivals_per_s,
        "provingSeconds": signal.inputs.service_s,
        "waiting": signal.inputs.waiting,
        "targetWaitSeconds": signal.inputs.target_wait.as_secs_f64(),
        "windowSeconds": scaling::WINDOW.as_secs(),
    }))
}
