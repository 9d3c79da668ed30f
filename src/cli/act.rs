//! One-shot actions from a shell (`warroom declare`, `ack`, `note`, …), for
//! scripts and for people without the TUI open, and the same actions over SSH
//! (`ssh -p 2222 HOST incidents`). They print what the server recorded.
//!
//! Where the data comes from is a [`Backend`]: the HTTP API for the CLI (the
//! same API as the TUI), the server's own read model and command path for an
//! SSH seat ([`crate::ssh::exec`]). The words printed are the same either way.

use crate::client::{Api, Replica};
use crate::domain::clocks::{self, ClockState};
use crate::domain::duration::countdown;
use crate::domain::{Action, Command, NoteKind, Policy, Status};
use crate::protocol::CommandResult;
use crate::protocol::MAX_PAGE;
use chrono::DateTime;
use chrono::Utc;
use clap::Subcommand;
use std::future::Future;
use std::io::Write;
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
    /// A report that is not an alert — a customer's, a researcher's — into the
    /// triage queue with its acknowledge clock: `warroom report disclosure
    /// "XSS in the exports page" --reporter researcher@example.org`.
    Report {
        /// The policy's intake kind (`warroom policy show` lists them).
        intake: String,
        title: String,
        /// Triage it at this severity instead of the kind's.
        #[arg(long, short)]
        severity: Option<String>,
        /// Who reported it.
        #[arg(long, default_value = "")]
        reporter: String,
        /// What they wrote: description, steps to reproduce, impact.
        #[arg(long, default_value = "")]
        details: String,
    },
    /// Acknowledge an incident.
    Ack { incident: String },
    /// Add a timeline entry: `warroom note INC-3 "text" --kind decision`.
    Note {
        incident: String,
        text: String,
        #[arg(long, default_value = "note", ignore_case = true)]
        kind: NoteKind,
    },
    /// Post a status update on a channel (status_page, internal, customer).
    Update {
        incident: String,
        #[arg(long, default_value = "status_page", ignore_case = true)]
        channel: crate::domain::Channel,
        #[arg(long, ignore_case = true)]
        state: Option<Status>,
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
        /// Override unmet resolution criteria, recording why (implies --force).
        #[arg(long, default_value = "")]
        reason: String,
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
    /// Write a field of the post-incident review (before or after closing):
    /// `warroom review-field INC-3 requests_failed 18250`; an empty value
    /// clears it. `warroom policy show` lists each template's fields.
    ReviewField {
        incident: String,
        field: String,
        #[arg(default_value = "")]
        value: String,
    },
    /// Add a follow-up action item: `warroom action INC-3 "Add pool alerts"
    /// --owner dana --due 2026-12-01 --priority P1`.
    Action {
        incident: String,
        text: String,
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        due: Option<chrono::NaiveDate>,
        #[arg(long)]
        priority: Option<String>,
    },
    /// Change the N-th action item (as numbered in the review), also after
    /// closing: `warroom action-item INC-3 1 --state done`.
    ActionItem {
        incident: String,
        number: usize,
        /// open, in_progress, done or cancelled (unchanged when absent).
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        due: Option<chrono::NaiveDate>,
        #[arg(long)]
        priority: Option<String>,
    },
    /// Open action items of closed incidents that are past due or due for
    /// their priority's review (002 §8.4: P1 weekly, P2 bi-weekly).
    FollowUps,
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

/// What the actions need from a server.
pub trait Backend: Sync {
    /// Runs a command; the error is the server's reason, as a person reads it.
    fn send(&self, cmd: &Command) -> impl Future<Output = Result<CommandResult, String>> + Send;
    /// The whole log, folded with the same `apply` the TUI and server use.
    fn replica(&self) -> impl Future<Output = anyhow::Result<Replica>> + Send;
    fn policy(&self) -> impl Future<Output = anyhow::Result<Policy>> + Send;
    /// The server's idea of now (deadlines are its).
    fn now(&self) -> DateTime<Utc>;
}

impl Backend for Api {
    async fn send(&self, cmd: &Command) -> Result<CommandResult, String> {
        send_retrying(self, cmd).await.map_err(|e| e.to_string())
    }

    async fn replica(&self) -> anyhow::Result<Replica> {
        load(self).await
    }

    async fn policy(&self) -> anyhow::Result<Policy> {
        Ok(Api::policy(self).await?)
    }

    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.clock_offset().unwrap_or_default()
    }
}

/// Where an action prints: what it recorded or found, and what went wrong.
pub struct Output<'a> {
    pub out: &'a mut (dyn Write + Send),
    pub err: &'a mut (dyn Write + Send),
}

/// Runs one action from the command line, printing to stdout and stderr;
/// returns the exit code.
pub async fn run(api: &Api, cmd: ActCmd) -> anyhow::Result<i32> {
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    run_on(
        api,
        cmd,
        &mut Output {
            out: &mut out,
            err: &mut err,
        },
    )
    .await
}

/// Runs one action against `backend`; returns the exit code.
pub async fn run_on(
    backend: &impl Backend,
    cmd: ActCmd,
    o: &mut Output<'_>,
) -> anyhow::Result<i32> {
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
            let replica = backend.replica().await?;
            let Some(current) = replica.world.resolve(&incident) else {
                writeln!(o.err, "warroom: unknown incident {incident:?}")?;
                return Ok(1);
            };
            let mut next = impact.apply(current.impact.clone());
            if let Some(d) = data_exposure {
                next.data_exposure = d;
            }
            (Some(incident), Action::UpdateImpact { impact: next })
        }
        ActCmd::Report {
            intake,
            title,
            severity,
            reporter,
            details,
        } => (
            None,
            Action::Report {
                intake,
                title,
                severity,
                reporter,
                details,
            },
        ),
        ActCmd::Ack { incident } => (Some(incident), Action::Acknowledge),
        ActCmd::Note {
            incident,
            text,
            kind,
        } => (Some(incident), Action::Note { kind, text }),
        ActCmd::Update {
            incident,
            channel,
            state,
            text,
        } => (
            Some(incident),
            Action::PostUpdate {
                channel,
                state,
                text,
            },
        ),
        ActCmd::Resolve {
            incident,
            summary,
            force,
            reason,
        } => (
            Some(incident),
            Action::Resolve {
                summary,
                force: force || !reason.is_empty(),
                reason,
            },
        ),
        ActCmd::ReviewField {
            incident,
            field,
            value,
        } => (Some(incident), Action::SetReviewField { field, value }),
        ActCmd::Action {
            incident,
            text,
            owner,
            due,
            priority,
        } => (
            Some(incident),
            Action::AddActionItem {
                text,
                owner,
                due,
                priority,
            },
        ),
        ActCmd::ActionItem {
            incident,
            number,
            state,
            owner,
            due,
            priority,
        } => {
            let replica = backend.replica().await?;
            let Some(inc) = replica.world.resolve(&incident) else {
                writeln!(o.err, "warroom: unknown incident {incident:?}")?;
                return Ok(1);
            };
            let Some(item) = number.checked_sub(1).and_then(|i| inc.actions.get(i)) else {
                writeln!(
                    o.err,
                    "warroom: {} has no action item {number} (it has {})",
                    inc.key(),
                    inc.actions.len()
                )?;
                return Ok(1);
            };
            let state = match state
                .as_deref()
                .map(crate::domain::event::ActionState::parse)
            {
                None => item.state,
                Some(Some(s)) => s,
                Some(None) => {
                    writeln!(
                        o.err,
                        "warroom: --state {:?}: use open, in_progress, done or cancelled",
                        state.unwrap_or_default()
                    )?;
                    return Ok(2);
                }
            };
            (
                Some(incident),
                Action::UpdateActionItem {
                    action: item.id,
                    state,
                    owner,
                    due,
                    priority,
                },
            )
        }
        ActCmd::FollowUps => return follow_ups(backend, o).await,
        ActCmd::Incidents { all } => return list(backend, all, o).await,
        ActCmd::Review { incident } => return review(backend, &incident, o).await,
        ActCmd::Metrics => return metrics(backend, o).await,
    };
    let cmd = Command {
        id: Uuid::new_v4(),
        incident,
        action,
        occurred_at: None,
    };
    match backend.send(&cmd).await {
        Ok(result) => {
            let replica = backend.replica().await?;
            for rec in &result.events {
                let id = rec.event.incident;
                let key = replica
                    .world
                    .get(&id)
                    .map(|i| i.key())
                    .or_else(|| replica.world.alerts.triage.get(&id).map(|t| t.key()))
                    .unwrap_or_default();
                writeln!(o.out, "{key} #{}: {}", rec.seq, rec.event.body.describe())?;
            }
            Ok(0)
        }
        Err(e) => {
            writeln!(o.err, "warroom: {e}")?;
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

async fn list(backend: &impl Backend, all: bool, o: &mut Output<'_>) -> anyhow::Result<i32> {
    let policy: Policy = backend.policy().await?;
    let replica = backend.replica().await?;
    let now = backend.now();
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
        writeln!(
            o.out,
            "{}",
            if all {
                "no incidents"
            } else {
                "no incidents open or awaiting close (--all lists closed ones too)"
            }
        )?;
    }
    for (_, inc, urgent) in rows {
        let label = policy
            .severity(&inc.severity)
            .map_or(inc.severity.as_str(), |s| s.label.as_str());
        let next = match urgent {
            // A closed incident has one thing left: its post-incident review.
            _ if inc.closed.is_some() => {
                format!(
                    "review {}",
                    clocks::ReviewDue::of(inc, &policy, now).words()
                )
            }
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
        writeln!(
            o.out,
            "{:<7} {:<5} {:<13} IC {:<10} {:<40} {}",
            inc.key(),
            label,
            if inc.closed.is_some() {
                "closed"
            } else {
                inc.status.as_str()
            },
            ic,
            inc.title.chars().take(40).collect::<String>(),
            next.trim_end()
        )?;
    }
    Ok(0)
}

async fn review(
    backend: &impl Backend,
    reference: &str,
    o: &mut Output<'_>,
) -> anyhow::Result<i32> {
    let policy: Policy = backend.policy().await?;
    let replica = backend.replica().await?;
    let Some(inc) = replica.world.resolve(reference) else {
        writeln!(o.err, "warroom: unknown incident {reference:?}")?;
        return Ok(1);
    };
    let events: Vec<_> = replica.timeline(&inc.id).map(|r| &r.event).collect();
    let now = backend.now();
    write!(
        o.out,
        "{}",
        crate::domain::review::render(inc, &events, &policy, now)
    )?;
    Ok(0)
}

async fn follow_ups(backend: &impl Backend, o: &mut Output<'_>) -> anyhow::Result<i32> {
    let policy: Policy = backend.policy().await?;
    let replica = backend.replica().await?;
    let list = crate::domain::review::follow_up::list(&replica.world, &policy, backend.now());
    if list.is_empty() {
        writeln!(
            o.out,
            "no action item of a closed incident is overdue or due for review"
        )?;
    }
    for line in crate::domain::review::follow_up::lines(&list, &policy) {
        writeln!(o.out, "{line}")?;
    }
    Ok(0)
}

async fn metrics(backend: &impl Backend, o: &mut Output<'_>) -> anyhow::Result<i32> {
    let policy: Policy = backend.policy().await?;
    let replica = backend.replica().await?;
    let now = backend.now();
    let report = crate::domain::metrics::report(replica.world.incidents.values(), &policy, now);
    write!(o.out, "{}", report.render_text())?;
    Ok(0)
}
