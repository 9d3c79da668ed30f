//! `warroom policy check|show|list`.

use super::{PolicyCmd, ShowFormat};

pub fn run(cmd: PolicyCmd) -> i32 {
    let _ = (cmd, ShowFormat::Text);
    eprintln!("warroom policy: not implemented yet");
    2
}
