//! `GET /metrics`: the Prometheus text format (version 0.0.4), checked by
//! `promtool check metrics` in `tests/it/metrics.rs`.
//!
//! Two kinds of numbers:
//! - **Counted as they happen** (this process): ingest payloads and alerts,
//!   commit latency, live stream subscribers, notification deliveries. They
//!   live in [`Metrics`] and restart at zero with the process, as Prometheus
//!   counters do.
//! - **Read off the read model at scrape time**: open incidents by severity
//!   and status, the triage queue, breached clocks, and the
//!   time-to-acknowledge/contain/resolve histograms. The log is the truth, so
//!   these survive restarts and never drift from what the board shows; the
//!   histograms are recomputed from every incident on each scrape (cheap next
//!   to a scrape interval; thousands of incidents take well under a millisecond).
//!
//! The `prometheus` crate does the encoding (its text encoder is the format
//! `promtool` and every Prometheus since 2.0 read; the OpenMetrics encoder of
//! `prometheus-client` writes `_total` samples that promtool 2.42's linter
//! rejects for want of help text).

use crate::domain::clocks::{ClockKind, ClockState, clocks};
use crate::domain::event::Status;
use crate::domain::metrics::incident_times;
use crate::domain::policy::Policy;
use crate::domain::state::World;
use chrono::{DateTime, Utc};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::time::Duration;

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What happened to one ingest payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum IngestOutcome {
    /// Stored: it opened, updated or cleared something.
    Changed,
    /// A repeat: nothing new to store.
    Unchanged,
    /// Refused (bad payload, unknown key, too large…).
    Rejected,
}

impl IngestOutcome {
    fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The process's counters (see the module docs).
pub struct Metrics {
    registry: Registry,
    ingest_payloads: IntCounterVec,
    ingest_alerts: IntCounterVec,
    commit_latency: Histogram,
    /// Decisions refused because another replica committed first (and
    /// decided again): how contended a multi-replica deployment is.
    raced: IntCounter,
    sse_subscribers: IntGauge,
    // ---- Notifications out (issue 9 §2): the delivery worker calls
    // `Metrics::delivery(channel, outcome)` once per attempt. Add further
    // delivery metrics (e.g. a latency histogram) beside this one. ----
    deliveries: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics(..)")
    }
}

/// Buckets for durations of incident phases: a minute to a day.
const PHASE_BUCKETS: &[f64] = &[
    60.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0,
];

/// Buckets for a commit: 100 µs to 1 s (an fsync here is ~0.25 ms).
const COMMIT_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let ingest_payloads = IntCounterVec::new(
            Opts::new(
                "warroom_ingest_payloads_total",
                "Alert payloads received, by sender and outcome (changed, unchanged, rejected).",
            ),
            &["source", "outcome"],
        );
        let ingest_alerts = IntCounterVec::new(
            Opts::new(
                "warroom_ingest_alerts_total",
                "Alerts carried by accepted payloads, by sender.",
            ),
            &["source"],
        );
        let commit_latency = Histogram::with_opts(
            HistogramOpts::new(
                "warroom_commit_latency_seconds",
                "Time from queueing a decided command to its durable commit.",
            )
            .buckets(COMMIT_BUCKETS.to_vec()),
        );
        let raced = IntCounter::new(
            "warroom_commands_raced_total",
            "Commands decided again because another replica committed first (PostgreSQL).",
        );
        let sse_subscribers = IntGauge::new(
            "warroom_sse_subscribers",
            "Clients connected to the live stream (GET /api/v1/stream).",
        );
        let deliveries = IntCounterVec::new(
            Opts::new(
                "warroom_deliveries_total",
                "Notification delivery attempts, by channel and outcome.",
            ),
            &["channel", "outcome"],
        );
        let m = Metrics {
            registry,
            ingest_payloads: ok(ingest_payloads),
            ingest_alerts: ok(ingest_alerts),
            commit_latency: ok(commit_latency),
            raced: ok(raced),
            sse_subscribers: ok(sse_subscribers),
            deliveries: ok(deliveries),
        };
        for c in [
            Box::new(m.ingest_payloads.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(m.ingest_alerts.clone()),
            Box::new(m.commit_latency.clone()),
            Box::new(m.raced.clone()),
            Box::new(m.sse_subscribers.clone()),
            Box::new(m.deliveries.clone()),
        ] {
            if let Err(e) = m.registry.register(c) {
                tracing::error!("metrics: {e}");
            }
        }
        m
    }

    pub fn commit_latency(&self, took: Duration) {
        self.commit_latency.observe(took.as_secs_f64());
    }

    pub fn raced(&self) {
        self.raced.inc();
    }

    pub fn ingest(&self, source: &str, outcome: IngestOutcome, alerts: usize) {
        self.ingest_payloads
            .with_label_values(&[source, outcome.as_str()])
            .inc();
        if outcome != IngestOutcome::Rejected {
            self.ingest_alerts
                .with_label_values(&[source])
                .inc_by(alerts as u64);
        }
    }

    /// One more live subscriber, until the guard drops.
    pub fn sse_connected(&self) -> SubscriberGuard {
        self.sse_subscribers.inc();
        SubscriberGuard(self.sse_subscribers.clone())
    }

    /// One delivery attempt on `channel` (`slack`, `pagerduty`, `webhook`,
    /// `email`) with `outcome` (`sent`, `failed`, `retrying`…).
    pub fn delivery(&self, channel: &str, outcome: &str) {
        self.deliveries.with_label_values(&[channel, outcome]).inc();
    }

    /// The whole exposition: the process's counters, then the numbers read off `world` at `now`.
    pub fn render(&self, world: &World, policy: &Policy, now: DateTime<Utc>) -> String {
        let mut families = self.registry.gather();
        families.extend(read_model(world, policy, now).gather());
        families.sort_by(|a, b| a.name().cmp(b.name()));
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&families, &mut buf) {
            tracing::error!("metrics encoding failed: {e}");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// Decrements the subscriber gauge when a stream ends.
#[derive(Debug)]
pub struct SubscriberGuard(IntGauge);

impl Drop for SubscriberGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// A metric whose name, help and labels are constants of this file: valid,
/// and a test renders them all, so this never panics.
fn ok<T>(m: prometheus::Result<T>) -> T {
    #[allow(clippy::expect_used)]
    m.expect("constant metric options are valid")
}

fn clock_name(kind: ClockKind) -> String {
    match kind {
        ClockKind::Acknowledge => "acknowledge".into(),
        ClockKind::Contain => "contain".into(),
        ClockKind::Resolve => "resolve".into(),
        ClockKind::Update(c) => format!("update_{}", c.as_str()),
        ClockKind::Escalation => "escalation".into(),
        ClockKind::Stability => "stability".into(),
        ClockKind::Review => "review".into(),
        ClockKind::Answer => "answer".into(),
        ClockKind::Checklist => "checklist".into(),
    }
}

/// The numbers of the read model, in a registry of their own made per scrape.
fn read_model(world: &World, policy: &Policy, now: DateTime<Utc>) -> Registry {
    let reg = Registry::new();
    let open = ok(IntGaugeVec::new(
        Opts::new(
            "warroom_incidents_open",
            "Open (not resolved, not closed) incidents, by severity and status.",
        ),
        &["severity", "status"],
    ));
    // Every severity and live status, zeros included: a series that vanishes
    // at zero breaks `rate()` and alerting on absence.
    for s in &policy.severities {
        for st in [
            Status::Investigating,
            Status::Identified,
            Status::Monitoring,
        ] {
            open.with_label_values(&[s.id.as_str(), st.as_str()]).set(0);
        }
    }
    let breached = ok(IntGaugeVec::new(
        Opts::new(
            "warroom_clocks_breached",
            "Running clocks past their deadline on open incidents, by clock.",
        ),
        &["clock"],
    ));
    for c in ["acknowledge", "contain", "resolve"] {
        breached.with_label_values(&[c]).set(0);
    }
    let phase = |name: &str, help: &str| {
        ok(HistogramVec::new(
            HistogramOpts::new(name, help).buckets(PHASE_BUCKETS.to_vec()),
            &["severity"],
        ))
    };
    let to_detect = phase(
        "warroom_time_to_detect_seconds",
        "From the recorded impact start to detection (runbook 002 §1.3 TTD), per incident with an impact start.",
    );
    let to_ack = phase(
        "warroom_time_to_acknowledge_seconds",
        "From declaration to acknowledgement, per incident that got there.",
    );
    let to_contain = phase(
        "warroom_time_to_contain_seconds",
        "From declaration to containment, per incident that got there.",
    );
    let to_resolve = phase(
        "warroom_time_to_resolve_seconds",
        "From declaration to resolution, per incident that got there.",
    );
    for s in &policy.severities {
        for h in [&to_detect, &to_ack, &to_contain, &to_resolve] {
            // Zero series for every severity, as for the gauges.
            let _ = h.with_label_values(&[s.id.as_str()]);
        }
    }
    for inc in world.incidents.values() {
        if inc.is_open() {
            open.with_label_values(&[inc.severity.as_str(), inc.status.as_str()])
                .inc();
            for c in clocks(inc, policy, now) {
                if c.state == ClockState::Breached && c.done_at.is_none() {
                    breached.with_label_values(&[&clock_name(c.kind)]).inc();
                }
            }
        }
        let t = incident_times(inc);
        for (h, d) in [
            (&to_detect, t.to_detect),
            (&to_ack, t.to_acknowledge),
            (&to_contain, t.to_contain),
            (&to_resolve, t.to_resolve),
        ] {
            if let Some(d) = d {
                h.with_label_values(&[inc.severity.as_str()])
                    .observe(d.num_milliseconds() as f64 / 1000.0);
            }
        }
    }
    let triage = ok(IntGauge::new(
        "warroom_triage_pending",
        "Alert groups waiting in the triage queue for a human to declare or dismiss.",
    ));
    triage.set(world.alerts.queue().count() as i64);
    for c in [
        Box::new(open) as Box<dyn prometheus::core::Collector>,
        Box::new(breached),
        Box::new(to_detect),
        Box::new(to_ack),
        Box::new(to_contain),
        Box::new(to_resolve),
        Box::new(triage),
    ] {
        if let Err(e) = reg.register(c) {
            tracing::error!("metrics: {e}");
        }
    }
    reg
}
