//! Notification deliveries in the TUI: the board's badge for a failing
//! delivery, the deliveries list of an incident (`l`), and retrying one (`t`).
#![allow(clippy::unwrap_used)]

use crate::support::tui::*;
use crossterm::event::KeyCode;
use uuid::Uuid;
use warroom::domain::command::{Access, Action};
use warroom::domain::event::{DeliveryAttempt, DeliveryOutcome, Event, EventBody, Recorded};
use warroom::domain::notify::ChannelKind;
use warroom::tui::msg::Effect;
use warroom::tui::update::key;
use warroom::tui::{Model, update};

#[allow(clippy::too_many_arguments)]
fn attempt(
    f: &mut Fixture,
    inc: &str,
    delivery: Uuid,
    kind: ChannelKind,
    target: &str,
    attempt: u32,
    outcome: DeliveryOutcome,
    detail: &str,
) {
    let incident = f.id_of(inc);
    let seq = f
        .replica
        .world
        .incidents
        .values()
        .map(|i| i.event_count)
        .sum::<u64>()
        + 1000
        + u64::from(attempt);
    let body = EventBody::DeliveryAttempted(Box::new(DeliveryAttempt {
        delivery,
        channel: match kind {
            ChannelKind::Slack => "chat".into(),
            _ => "pager".into(),
        },
        kind,
        target: target.into(),
        about: incident,
        what: "trigger".into(),
        attempt,
        outcome,
        detail: detail.into(),
        retry_at: (outcome == DeliveryOutcome::Failed)
            .then(|| f.now + chrono::Duration::seconds(40)),
        retry_in: (outcome == DeliveryOutcome::Failed).then_some(40),
    }));
    f.replica.apply(Recorded {
        seq,
        recorded_at: f.now,
        event: Event {
            id: Uuid::new_v4(),
            incident,
            actor: "notify".into(),
            occurred_at: f.now,
            body,
        },
    });
}

fn with_deliveries() -> (Model, Uuid, Uuid) {
    let mut f = war_room_fixture();
    let sent = Uuid::new_v4();
    let failed = Uuid::new_v4();
    attempt(
        &mut f,
        "INC-1",
        sent,
        ChannelKind::Slack,
        "",
        1,
        DeliveryOutcome::Sent,
        "HTTP 200: ok",
    );
    attempt(
        &mut f,
        "INC-1",
        failed,
        ChannelKind::Pagerduty,
        "alice",
        1,
        DeliveryOutcome::Failed,
        "HTTP 500",
    );
    attempt(
        &mut f,
        "INC-1",
        failed,
        ChannelKind::Pagerduty,
        "alice",
        2,
        DeliveryOutcome::GaveUp,
        "HTTP 400: invalid routing key",
    );
    (f.model("alice", Access::Commander), sent, failed)
}

#[test]
fn the_board_badges_an_incident_whose_delivery_is_failing() {
    let (mut m, _, _) = with_deliveries();
    let shot = screen(&mut m, 100, 24);
    let row = shot.lines().find(|l| l.contains("INC-1 ")).unwrap();
    assert!(row.contains("✉✗1"), "{shot}");
    let others: Vec<&str> = shot
        .lines()
        .filter(|l| l.contains("INC-2 ") || l.contains("INC-3 "))
        .collect();
    assert!(others.iter().all(|l| !l.contains('✉')), "{shot}");
}

#[test]
fn the_deliveries_list_shows_each_delivery_and_retries_the_failed_one() {
    let (mut m, _, failed) = with_deliveries();
    // Select INC-1 on the board, open its war room, then the list.
    let inc1 = m.replica.world.resolve("INC-1").unwrap().id;
    let row = m.board.order.iter().position(|i| *i == inc1).unwrap();
    m.board.selected = row;
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, key(KeyCode::Char('l')));
    let shot = screen(&mut m, 120, 24);
    insta::assert_snapshot!("deliveries_120x24", shot);
    let failed_line = shot
        .lines()
        .find(|l| l.contains("PagerDuty → alice"))
        .unwrap();
    assert!(
        failed_line.contains("FAILED") && failed_line.contains("2 tries"),
        "{failed_line}"
    );
    assert!(failed_line.contains("invalid routing key"), "{failed_line}");
    let sent_line = shot.lines().find(|l| l.contains("Slack (chat)")).unwrap();
    assert!(sent_line.contains("SENT"), "{sent_line}");

    // The failing one is listed first and selected: `t` asks for a retry.
    let fx = update(&mut m, key(KeyCode::Char('t')));
    let cmd = fx
        .iter()
        .find_map(|e| match e {
            Effect::Submit(c) => Some(c.clone()),
            _ => None,
        })
        .expect("a retry command");
    assert_eq!(cmd.action, Action::RetryDelivery { delivery: failed });
    assert_eq!(cmd.incident.as_deref(), Some(inc1.to_string().as_str()));

    // On a delivered one, `t` says there is nothing to retry.
    update(&mut m, key(KeyCode::Char('j')));
    let fx = update(&mut m, key(KeyCode::Char('t')));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Submit(_))));
    let shot = screen(&mut m, 120, 24);
    assert!(shot.contains("was delivered; nothing to retry"), "{shot}");

    // Esc closes it.
    update(&mut m, key(KeyCode::Esc));
    let shot = screen(&mut m, 120, 24);
    assert!(!shot.contains("deliveries ·"), "{shot}");
}

#[test]
fn help_lists_the_delivery_keys() {
    let (mut m, _, _) = with_deliveries();
    update(&mut m, key(KeyCode::Char('?')));
    let lines = warroom::tui::view::help_lines(&m.keymap);
    let all: String = lines.iter().map(|l| format!("{l:?}\n")).collect();
    assert!(all.contains("Notification deliveries"), "{all}");
    assert!(
        all.contains("try the selected failed delivery again"),
        "{all}"
    );
    assert!(
        all.contains("notification deliveries of the selected incident"),
        "{all}"
    );
}
