#![allow(clippy::unwrap_used)]
mod tui_support;
use tui_support::*;
use warroom::domain::command::Access;
use warroom::tui::update;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use warroom::tui::update::key;
use warroom::tui::Msg;

fn typ(m: &mut warroom::tui::Model, s: &str) { for c in s.chars() { update(m, key(KeyCode::Char(c))); } }

#[test]
fn scratch() {
    let f = war_room_fixture();
    let mut m = f.model("alice", Access::Commander);
    update(&mut m, key(KeyCode::Enter));
    println!("{}", screen(&mut m, 80, 24));
    update(&mut m, key(KeyCode::Char('u')));
    println!("{}", screen(&mut m, 80, 24));
    println!("{}", screen(&mut m, 160, 48));
    update(&mut m, key(KeyCode::Esc));
    update(&mut m, key(KeyCode::Char('R')));
    println!("{}", screen(&mut m, 80, 24));
    update(&mut m, key(KeyCode::Esc));
    update(&mut m, key(KeyCode::Char('e')));
    typ(&mut m, "DB pool exhausted");
    println!("{}", screen(&mut m, 100, 40));
    update(&mut m, key(KeyCode::Esc));
    update(&mut m, key(KeyCode::Char(':')));
    typ(&mut m, "sev P9 \"worse\"");
    update(&mut m, key(KeyCode::Enter));
    println!("{}", screen(&mut m, 80, 24));
    update(&mut m, key(KeyCode::Esc));
    update(&mut m, key(KeyCode::Char('?')));
    println!("{}", screen(&mut m, 80, 24));
    update(&mut m, key(KeyCode::Esc));
    update(&mut m, key(KeyCode::Esc));
    update(&mut m, key(KeyCode::Char('d')));
    typ(&mut m, "Checkout fails");
    update(&mut m, Msg::Key(KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL)));
    println!("{}", screen(&mut m, 80, 24));
    update(&mut m, key(KeyCode::Esc));
    println!("{}", screen(&mut m, 80, 24));
    println!("{}", screen(&mut m, 20, 5));
}
