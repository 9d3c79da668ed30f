//! One-shot actions from a shell (`warroom declare`, `ack`, `note`, …), for
//! scripts and for people without the TUI open. They speak the same HTTP API
//! as the TUI and print what the server recorded.

use crate::client::{Api, Replica};
use crate::domain::clocks::{self, ClockState};
use crate::domain::duration::countdown;
use crate::domain::{Action, Command, NoteKind, Policy, Status};
use crate::protocol::MAX_PAGE;
use chrono::Utc;
use clap::Subcommand;
use uuid::Uuid;

#[derive(Debug, Subcommand)]
pub enum ActCmd {
    /// Declare an incident: `warroom declare "API down" --severity P1`.
    Declare {
        title: String,
        #[arg(long, short)]
        severity: String,
        #[arg(long)]
        kind: Option<String>,
        #[command(flatten)]
        impact: ImpactArgs,
    },
    /// Set what an incident affects (the status page's {impact}, {services},
    /// {customers}, {bridge}); options not given keep their current value.
    Impact {
        incident: String,
        #[command(flatten)]
        impact: ImpactArgs,
        /// Customer data was exposed (`--data-exposure false` to clear it).
        #[arg(long)]
        data_exposure: Option<bool>,
    },
    /// Acknowledge an incident.
    Ack { incident: String },
    /// Add a timeline entry: `warroom note INC-3 "text" --kind decision`.
    Note {
        incident: String,
        text: String,
        #[arg(long, default_value = "note")]
        kind: String,
    },
    /// Post a status update on a channel (status_page, internal, customer).
    Update {
        incident: String,
        /// status_page, internal or customer.
        #[arg(long, default_value = "status_page")]
        channel: String,
        /// investigating, identified, monitoring or resolved.
        #[arg(long)]
        state: Option<String>,
        text: String,
    },
    /// Resolve an incident.
    Resolve {
        incident: String,
        #[arg(long, default_value = "")]
        summary: String,
        /// Resolve before the stability window has elapsed.
        #[arg(long)]
        force: bool,
    },
    /// List incidents not yet closed (open, or resolved awaiting close) with
    /// their most urgent clock, in the board's order.
    Incidents {
        /// Closed incidents too (after the others).
        #[arg(long)]
        all: bool,
    },
    /// Print the post-incident review of an incident as Markdown.
    Review { incident: String },
    /// Response metrics (MTTA / MTTM / MTTR by severity) over every incident.
    Metrics,
}

/// What an incident affects, as options.
#[derive(Debug, Default, clap::Args)]
pub struct ImpactArgs {
    /// Who is affected and how, as a sentence.
    #[arg(long)]
    pub impact: Option<String>,
    /// Affected services, comma-separated: `--services checkout-api,payments`.
    #[arg(long)]
    pub services: Option<String>,
    /// Which customers are affected: `--customers "EU tenants"`.
    #[arg(long)]
    pub customers: Option<String>,
    /// Where responders meet: `--bridge https://meet.example.net/inc-3`.
    #[arg(long)]
    pub bridge: Option<String>,
}

impl ImpactArgs {
    /// `base` with the given options applied.
    fn apply(self, mut base: crate::domain::event::Impact) -> crate::domain::event::Impact {
        if let Some(s) = self.impact {
            base.summary = s;
        }
        if let Some(s) = self.services {
            base.services = crate::domain::event::Impact::parse_services(&s);
        }
        if let Some(c) = self.customers {
            base.customers = c;
        }
        if let Some(b) = self.bridge {
            base.bridge = b;
        }
        base
    }
}

fn parse_or<T>(value: Option<T>, what: &str, given: &str, known: &str) -> anyhow::Result<T> {
    value.ok_or_else(|| anyhow::anyhow!("unknown {what} {given:?}; expected one of {known}"))
}

/// Runs one action; returns the exit code.
pub async fn run(api: &Api, cmd: ActCmd) -> anyhow::Result<i32> {
    let (incident, action) = match cmd {
        ActCmd::Declare {
            title,
            severity,
            kind,
            impact,
        } => (
            None,
            Action::Declare {
                title,
                severity,
                kind,
                impact: Some(impact.apply(Default::default())).filter(|i| *i != Default::default()),
                commander: None,
            },
        ),
        ActCmd::Impact {
            incident,
            impact,
            data_exposure,
        } => {
            let current = api.incident(&incident).await?.incident.incident.impact;
            let mut next = impact.apply(current);
            if let Some(d) = data_exposure {
                next.data_exposure = d;
            }
            (Some(incident), Action::UpdateImpact { impact: next })
        }
        ActCmd::Ack { incident } => (Some(incident), Action::Acknowledge),
        ActCmd::Note {
            incident,
            text,
            kind,
        } => {
            let kind = parse_or(
                NoteKind::parse(&kind),
                "note kind",
                &kind,
                "note, decision, action, observation",
            )?;
            (Some(incident), Action::Note { kind, text })
        }
        ActCmd::Update {
            incident,
            channel,
            state,
            text,
        } => {
            let ch = parse_or(
                crate::domain::Channel::parse(&channel),
                "channel",
                &channel,
                "status_page, internal, customer",
            )?;
            let state = match state {
                Some(s) => Some(parse_or(
                    Status::parse(&s),
                    "state",
                    &s,
                    "investigating, identified, monitoring, resolved",
                )?),
                None => None,
            };
            (
                Some(incident),
                Action::PostUpdate {
                    channel: ch,
                    state,
                    text,
                },
            )
        }
        ActCmd::Resolve {
            incident,
            summary,
            force,
        } => (Some(incident), Action::Resolve { summary, force }),
        ActCmd::Incidents { all } => return list(api, all).await,
        ActCmd::Review { incident } => return review(api, &incident).await,
        ActCmd::Metrics => return metrics(api).await,
    };
    let cmd = Command {
        id: Uuid::new_v4(),
        incident,
        action,
        occurred_at: None,
    };
    match send_retrying(api, &cmd).await {
        Ok(result) => {
            let replica = load(api).await?;
            for rec in &result.events {
                let key = replica
                    .world
                    .get(&rec.event.incident)
                    .map(|i| i.key())
                    .unwrap_or_default();
                println!("{key} #{}: {}", rec.seq, rec.event.body.describe());
            }
            Ok(0)
        }
        Err(e) => {
            eprintln!("warroom: {e}");
            Ok(1)
        }
    }
}

/// Attempts before a retryable failure is reported.
const SEND_ATTEMPTS: u32 = 5;

/// Sends `cmd`, retrying with the same command id while the failure may be
/// passing (unreachable, 429, 5xx). A failure after the request went out —
/// a timeout, a reset, a proxy's 502 — may hide a command the server stored;
/// the retry is then answered with those events (`duplicate`), so running the
/// command again by hand, which would declare a second incident, is never needed.
async fn send_retrying(
    api: &Api,
    cmd: &Command,
) -> Result<crate::protocol::CommandResult, crate::client::ClientError> {
    let mut attempt = 1;
    loop {
        match api.send(cmd).await {
            Err(e) if e.is_retryable() && attempt < SEND_ATTEMPTS => {
                tracing::warn!("attempt {attempt} of command {}: {e}; retrying", cmd.id);
                tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// The whole log, folded locally with the same `apply` the TUI and server use.
async fn load(api: &Api) -> anyhow::Result<Replica> {
    let mut replica = Replica::default();
    loop {
        let page = api.events_after(replica.last_seq(), MAX_PAGE).await?;
        for rec in page.events {
            replica.apply(rec);
        }
        if !page.more {
            return Ok(replica);
        }
    }
}

async fn list(api: &Api, all: bool) -> anyhow::Result<i32> {
    let policy: Policy = api.policy().await?;
    let replica = load(api).await?;
    let now = Utc::now() + api.clock_offset().unwrap_or_default();
    let mut rows: Vec<_> = replica
        .world
        .order
        .iter()
        .filter_map(|id| replica.world.get(id))
        .filter(|i| all || i.closed.is_none())
        .map(|i| {
            let cl = clocks::clocks(i, &policy, now);
            let urgent = clocks::most_urgent(&cl).cloned();
            (clocks::board_rank(i, &policy, &cl), i, urgent)
        })
        .collect();
    rows.sort_by_key(|(rank, _, _)| *rank);
    if rows.is_empty() {
        println!(
            "{}",
            if all {
                "no incidents"
            } else {
                "no incidents open or awaiting close (--all lists closed ones too)"
            }
        );
    }
    for (_, inc, urgent) in rows {
        let label = policy
            .severity(&inc.severity)
            .map_or(inc.severity.as_str(), |s| s.label.as_str());
        let next = match urgent {
            Some(c) => format!(
                "{} {} {}",
                c.label,
                countdown(c.remaining_secs),
                if c.state == ClockState::Pending {
                    ""
                } else {
                    c.state.word()
                }
            ),
            None => String::new(),
        };
        let ic = inc.roles.get("ic").map_or("—", String::as_str);
        println!(
            "{:<7} {:<5} {:<13} IC {:<10} {:<40} {}",
            inc.key(),
            label,
            inc.status.as_str(),
            ic,
            inc.title.chars().take(40).collect::<String>(),
            next.trim_end()
        );
    }
    Ok(0)
}

async fn review(api: &Api, reference: &str) -> anyhow::Result<i32> {
    let policy: Policy = api.policy().await?;
    let replica = load(api).await?;
    let Some(inc) = replica.world.resolve(reference) else {
        eprintln!("warroom: unknown incident {reference:?}");
        return Ok(1);
    };
    let events: Vec<_> = replica.timeline(&inc.id).map(|r| &r.event).collect();
    let now = Utc::now() + api.clock_offset().unwrap_or_default();
    print!(
        "{}",
        crate::domain::review::render(inc, &events, &policy, now)
    );
    Ok(0)
}

async fn metrics(api: &Api) -> anyhow::Result<i32> {
    let policy: Policy = api.policy().await?;
    let replica = load(api).await?;
    let now = Utc::now() + api.clock_offset().unwrap_or_default();
    let report = crate::domain::metrics::report(replica.world.incidents.values(), &policy, now);
    print!("{}", report.render_text());
    Ok(0)
}
