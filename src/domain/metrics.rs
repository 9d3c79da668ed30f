//! Response metrics (runbook 002 §1.3: time to mitigation / resolution and
//! their means): how long incidents took to be acknowledged, contained and
//! resolved, and how often each severity's targets were met.
//!
//! Durations run from the declaration, the moment the war room learnt of the
//! incident. Whether a target was met is judged exactly as the clock on screen
//! judged it ([`super::clocks`]: from the SLA origin, against the current
//! severity's target), so the report never disagrees with what responders saw.
//! A target still running and not yet due counts neither as met nor as missed.

use super::clocks::{ClockKind, ClockState, clocks};
use super::duration::humanize;
use super::policy::{Policy, Severity};
use super::state::Incident;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::fmt::Write;

/// How long one incident took to reach each point, from its declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncidentTimes {
    pub key: String,
    pub severity: String,
    /// Time to detect (002 §1.3 TTD): impact start to detection, when the impact start is recorded.
    pub to_detect: Option<Duration>,
    pub to_acknowledge: Option<Duration>,
    /// Time to containment (mitigation). Resolution counts as containment when
    /// nobody marked it separately, as it does for the contain clock.
    pub to_contain: Option<Duration>,
    pub to_resolve: Option<Duration>,
}

/// The times of one incident. Resolution also counts as acknowledgement and
/// containment when those were never marked (the clocks do the same).
pub fn incident_times(inc: &Incident) -> IncidentTimes {
    let start = inc.declared.at;
    let resolved = inc.resolved.as_ref().map(|s| s.at);
    let since = |t: Option<DateTime<Utc>>| t.map(|t| (t - start).max(Duration::zero()));
    IncidentTimes {
        key: inc.key(),
        severity: inc.severity.clone(),
        to_detect: inc.time_to_detect(),
        to_acknowledge: since(inc.acknowledged.as_ref().map(|s| s.at).or(resolved)),
        to_contain: since(inc.contained.as_ref().map(|s| s.at).or(resolved)),
        to_resolve: since(resolved),
    }
}

/// Metrics over a set of incidents, one row per severity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The policy's name.
    pub policy: String,
    /// The `now` targets were judged at.
    pub generated_at: DateTime<Utc>,
    pub incidents: usize,
    /// Every severity of the policy, worst first, then any severity the
    /// incidents carry that the policy no longer defines.
    pub severities: Vec<SeverityStats>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeverityStats {
    pub severity: String,
    pub label: String,
    pub name: String,
    pub count: usize,
    /// MTTD: over the incidents whose impact start was recorded (no target: no runbook sets one).
    pub detect: StageStats,
    /// MTTA.
    pub acknowledge: StageStats,
    /// MTTM.
    pub contain: StageStats,
    /// MTTR.
    pub resolve: StageStats,
}

/// One point of the response (acknowledge / contain / resolve) for one severity.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StageStats {
    /// Incidents that reached this point.
    pub reached: usize,
    /// Mean seconds from declaration over the incidents that reached it.
    pub mean_secs: Option<i64>,
    /// The policy's target for the severity (`5m`, `3bd`), if it sets one.
    pub target: Option<String>,
    /// Reached within the target.
    pub met: usize,
    /// Reached late, or not reached and already past due.
    pub missed: usize,
    /// `met / (met + missed)`, when any target is decided.
    pub met_share: Option<f64>,
}

impl StageStats {
    fn add(&mut self, time: Option<Duration>, state: Option<ClockState>, sum: &mut i64) {
        if let Some(t) = time {
            self.reached += 1;
            *sum += t.num_seconds();
        }
        match state {
            Some(ClockState::Met) => self.met += 1,
            Some(ClockState::Breached) => self.missed += 1,
            _ => {}
        }
    }

    fn finish(&mut self, sum: i64) {
        if self.reached > 0 {
            self.mean_secs = Some(sum / self.reached as i64);
        }
        let decided = self.met + self.missed;
        if decided > 0 {
            self.met_share = Some(self.met as f64 / decided as f64);
        }
    }

    /// `4m`, or `-` when nothing reached this point.
    fn mean_text(&self) -> String {
        self.mean_secs
            .map_or_else(|| "-".into(), |s| humanize(Duration::seconds(s)))
    }

    /// `2/3 67%`, or `-` when no target is decided.
    fn met_text(&self) -> String {
        match self.met_share {
            Some(share) => format!(
                "{}/{} {:.0}%",
                self.met,
                self.met + self.missed,
                share * 100.0
            ),
            None => "-".into(),
        }
    }
}

/// Builds the report for `incidents`, judging targets at `now`.
pub fn report<'a>(
    incidents: impl IntoIterator<Item = &'a Incident>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Report {
    let mut rows: Vec<(SeverityStats, [i64; 4])> = policy
        .severities
        .iter()
        .map(|s| (empty_row(&s.id, &s.label, &s.name, Some(s)), [0; 4]))
        .collect();
    let mut total = 0;
    for inc in incidents {
        total += 1;
        let idx = match rows
            .iter()
            .position(|(r, _)| r.severity.eq_ignore_ascii_case(&inc.severity))
        {
            Some(i) => i,
            None => {
                let row = empty_row(&inc.severity, &inc.severity, "not in policy", None);
                rows.push((row, [0; 4]));
                rows.len() - 1
            }
        };
        let times = incident_times(inc);
        let cl = clocks(inc, policy, now);
        let state = |kind: ClockKind| cl.iter().find(|c| c.kind == kind).map(|c| c.state);
        let (row, sums) = &mut rows[idx];
        row.count += 1;
        row.acknowledge.add(
            times.to_acknowledge,
            state(ClockKind::Acknowledge),
            &mut sums[0],
        );
        row.contain
            .add(times.to_contain, state(ClockKind::Contain), &mut sums[1]);
        row.resolve
            .add(times.to_resolve, state(ClockKind::Resolve), &mut sums[2]);
        row.detect.add(times.to_detect, None, &mut sums[3]);
    }
    let severities = rows
        .into_iter()
        .map(|(mut row, sums)| {
            row.acknowledge.finish(sums[0]);
            row.contain.finish(sums[1]);
            row.resolve.finish(sums[2]);
            row.detect.finish(sums[3]);
            row
        })
        .collect();
    Report {
        policy: policy.name.clone(),
        generated_at: now,
        incidents: total,
        severities,
    }
}

fn empty_row(id: &str, label: &str, name: &str, sev: Option<&Severity>) -> SeverityStats {
    let target = |span: Option<super::duration::Span>| StageStats {
        target: span.map(|s| s.to_string()),
        ..StageStats::default()
    };
    SeverityStats {
        severity: id.to_string(),
        label: label.to_string(),
        name: name.to_string(),
        count: 0,
        detect: StageStats::default(),
        acknowledge: target(sev.and_then(|s| s.acknowledge)),
        contain: target(sev.and_then(|s| s.contain)),
        resolve: target(sev.and_then(|s| s.resolve)),
    }
}

impl Report {
    /// A plain-text table for the terminal and `warroom report`:
    ///
    /// ```text
    /// SEVERITY        COUNT  MTTA    TARGET  MET       MTTM  ...
    /// P1 Critical         3  5m      5m      2/3 67%   1h 00m ...
    /// ```
    pub fn render_text(&self) -> String {
        let mut out = format!(
            "Incident metrics: {} incident{}, policy {}, targets judged at {}\n\n",
            self.incidents,
            if self.incidents == 1 { "" } else { "s" },
            self.policy,
            self.generated_at.format("%Y-%m-%d %H:%M UTC"),
        );
        let header = [
            "SEVERITY", "COUNT", "MTTD", "MTTA", "TARGET", "MET", "MTTM", "TARGET", "MET", "MTTR",
            "TARGET", "MET",
        ];
        let mut table: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
        for row in &self.severities {
            let mut cells = vec![
                format!("{} {}", row.label, row.name),
                row.count.to_string(),
                row.detect.mean_text(),
            ];
            for stage in [&row.acknowledge, &row.contain, &row.resolve] {
                cells.push(stage.mean_text());
                cells.push(stage.target.clone().unwrap_or_else(|| "-".into()));
                cells.push(stage.met_text());
            }
            table.push(cells);
        }
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                table
                    .iter()
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &table {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let pad = widths[i].saturating_sub(cell.chars().count());
                if i == 1 {
                    // Counts right-aligned.
                    let _ = write!(line, "{}{cell}  ", " ".repeat(pad));
                } else {
                    let _ = write!(line, "{cell}{}  ", " ".repeat(pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push_str(
            "\nMTTD: mean time from the recorded impact start to detection (runbook 002 §1.3), \
             over the incidents with an impact start.\n\
             MTTA/MTTM/MTTR: mean time from declaration to acknowledge / contain / resolve.\n\
             MET: reached within the severity's target, of those decided (still running and \
             not yet due are left out).\n",
        );
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::command::Action;
    use crate::domain::event::Status;
    use crate::domain::testkit::{Harness, at, policy};

    fn monitor_and_resolve(h: &mut Harness, key: &str, monitoring: i64, resolve: i64) {
        h.at(monitoring);
        h.run(
            "alice",
            key,
            Action::SetStatus {
                status: Status::Monitoring,
            },
        );
        h.at(resolve);
        h.run(
            "alice",
            key,
            Action::Resolve {
                summary: "fixed".into(),
                force: false,
                reason: String::new(),
            },
        );
    }

    /// Three P1s and a P2 whose numbers are worked out by hand in the assertions.
    fn fleet() -> Harness {
        let mut h = Harness::new(policy());
        // A: ack 2m, contain 30m, resolve 60m - every target met (5m, 1h, 2h).
        let a = h.declare("A", "P1");
        // Impact since 09:50, detected at the declaration: TTD 10m.
        h.at(1).run(
            "alice",
            &a,
            Action::RecordDetection {
                impact_started: Some(at(-10)),
                detected_at: None,
                method: Some(crate::domain::event::DetectionMethod::CustomerReport),
            },
        );
        h.at(2).run("bob", &a, Action::Acknowledge);
        h.at(30).run("bob", &a, Action::Contain { note: "".into() });
        monitor_and_resolve(&mut h, &a, 40, 60);
        // B, declared at +10: ack 10m (missed), contain 90m (missed), resolve 120m (met, exactly on time).
        h.at(10);
        let b = h.declare("B", "P1");
        // Impact from +4, detected +8 by an alert: TTD 4m.
        h.at(12).run(
            "alice",
            &b,
            Action::RecordDetection {
                impact_started: Some(at(4)),
                detected_at: Some(at(8)),
                method: Some(crate::domain::event::DetectionMethod::Alert),
            },
        );
        h.at(20).run("bob", &b, Action::Acknowledge);
        h.at(100)
            .run("bob", &b, Action::Contain { note: "".into() });
        monitor_and_resolve(&mut h, &b, 110, 130);
        // C, declared at +200: ack 3m (met); never contained or resolved; at +400 both are past due.
        h.at(200);
        let c = h.declare("C", "P1");
        h.at(203).run("bob", &c, Action::Acknowledge);
        // D, a P2 declared at +300: ack 10m (met, target 15m); contain / resolve not yet due at +400.
        h.at(300);
        let d = h.declare("D", "P2");
        h.at(310).run("bob", &d, Action::Acknowledge);
        h.at(400);
        h
    }

    #[test]
    fn per_incident_times_run_from_declaration() {
        let h = fleet();
        let b = incident_times(h.inc("INC-2"));
        assert_eq!(b.to_acknowledge, Some(Duration::minutes(10)));
        assert_eq!(b.to_detect, Some(Duration::minutes(4)));
        assert_eq!(
            incident_times(h.inc("INC-1")).to_detect,
            Some(Duration::minutes(10))
        );
        assert_eq!(incident_times(h.inc("INC-3")).to_detect, None);
        assert_eq!(b.to_contain, Some(Duration::minutes(90)));
        assert_eq!(b.to_resolve, Some(Duration::minutes(120)));
        let c = incident_times(h.inc("INC-3"));
        assert_eq!(
            (c.to_acknowledge, c.to_contain, c.to_resolve),
            (Some(Duration::minutes(3)), None, None)
        );
    }

    #[test]
    fn means_and_met_shares_per_severity() {
        let h = fleet();
        let r = report(h.world.incidents.values(), &h.policy, h.now);
        assert_eq!(r.incidents, 4);
        let ids: Vec<_> = r.severities.iter().map(|s| s.severity.as_str()).collect();
        assert_eq!(ids, ["P1", "P2", "P3", "P4"]);

        let p1 = &r.severities[0];
        assert_eq!(p1.count, 3);
        // MTTD (10 + 4) / 2 = 7m over the two with an impact start; no target.
        assert_eq!(p1.detect.reached, 2);
        assert_eq!(p1.detect.mean_secs, Some(420));
        assert_eq!(p1.detect.target, None);
        assert_eq!(r.severities[1].detect.mean_secs, None);
        // MTTA (2 + 10 + 3) / 3 = 5m; met: A and C.
        assert_eq!(p1.acknowledge.reached, 3);
        assert_eq!(p1.acknowledge.mean_secs, Some(300));
        assert_eq!((p1.acknowledge.met, p1.acknowledge.missed), (2, 1));
        assert_eq!(p1.acknowledge.target.as_deref(), Some("5m"));
        // MTTM (30 + 90) / 2 = 60m; met: A; missed: B (late) and C (due +260, not contained at +400).
        assert_eq!(p1.contain.reached, 2);
        assert_eq!(p1.contain.mean_secs, Some(3600));
        assert_eq!((p1.contain.met, p1.contain.missed), (1, 2));
        // MTTR (60 + 120) / 2 = 90m; met: A and B (on the dot); missed: C (due +320).
        assert_eq!(p1.resolve.mean_secs, Some(5400));
        assert_eq!((p1.resolve.met, p1.resolve.missed), (2, 1));
        assert!((p1.resolve.met_share.unwrap() - 2.0 / 3.0).abs() < 1e-9);

        let p2 = &r.severities[1];
        assert_eq!(p2.count, 1);
        assert_eq!(p2.acknowledge.mean_secs, Some(600));
        assert_eq!((p2.acknowledge.met, p2.acknowledge.missed), (1, 0));
        // Contain due +420, resolve +540: still running, so undecided.
        assert_eq!(p2.contain.met_share, None);
        assert_eq!(p2.resolve.met_share, None);
        assert_eq!(p2.resolve.mean_secs, None);

        let p4 = &r.severities[3];
        assert_eq!(p4.count, 0);
        assert_eq!(p4.acknowledge.target, None);
    }

    #[test]
    fn later_judgement_decides_running_targets() {
        let h = fleet();
        // At +421 the P2's contain target (2h from +300) has passed unreached.
        let r = report(h.world.incidents.values(), &h.policy, at(421));
        let p2 = &r.severities[1];
        assert_eq!((p2.contain.met, p2.contain.missed), (0, 1));
        assert_eq!(p2.resolve.met_share, None);
    }

    #[test]
    fn resolving_without_acknowledging_counts_as_both() {
        let mut h = Harness::new(policy());
        let key = h.declare("blip", "P1");
        h.at(3).run(
            "alice",
            &key,
            Action::Resolve {
                summary: "self-healed".into(),
                force: true,
                reason: String::new(),
            },
        );
        let r = report(h.world.incidents.values(), &h.policy, at(500));
        let p1 = &r.severities[0];
        assert_eq!(p1.acknowledge.mean_secs, Some(180));
        assert_eq!((p1.acknowledge.met, p1.acknowledge.missed), (1, 0));
        assert_eq!((p1.contain.met, p1.contain.missed), (1, 0));
    }

    #[test]
    fn renders_a_table_and_json() {
        let h = fleet();
        let r = report(h.world.incidents.values(), &h.policy, h.now);
        let text = r.render_text();
        assert!(
            text.starts_with("Incident metrics: 4 incidents, policy test"),
            "{text}"
        );
        let p1 = text.lines().find(|l| l.starts_with("P1 Critical")).unwrap();
        let cells: Vec<_> = p1
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(
            cells,
            [
                "P1 Critical",
                "3",
                "7m",
                "5m",
                "5m",
                "2/3 67%",
                "1h 00m",
                "1h",
                "1/3 33%",
                "1h 30m",
                "2h",
                "2/3 67%"
            ],
            "{text}"
        );
        let p4 = text.lines().find(|l| l.starts_with("P4 Low")).unwrap();
        assert!(p4.contains(" 0  -"), "{p4}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["severities"][0]["acknowledge"]["mean_secs"], 300);
        assert_eq!(json["severities"][1]["severity"], "P2");
    }

    #[test]
    fn severities_the_policy_dropped_get_their_own_row() {
        let mut h = fleet();
        let mut text = crate::domain::testkit::POLICY.to_string();
        // The same policy without its P4, judging an incident declared as P4.
        let cut = text.find("[[severities]]\nid = \"P4\"").unwrap();
        let end = text[cut..].find("[[roles]]").unwrap() + cut;
        text.replace_range(cut..end, "");
        h.policy = Policy::from_toml(&text).unwrap();
        let mut inc = h.inc("INC-1").clone();
        inc.severity = "P4".into();
        let r = report([&inc], &h.policy, h.now);
        let last = r.severities.last().unwrap();
        assert_eq!((last.severity.as_str(), last.count), ("P4", 1));
        assert_eq!(last.name, "not in policy");
    }
}
