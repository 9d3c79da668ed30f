//! The offline outbox: commands are appended to a journal on disk (and
//! fsynced) *before* they are sent, and removed only once the server has
//! answered. A scribe's note typed while the server is unreachable survives
//! closing the TUI and is replayed, in order, by the next session.

use crate::domain::Command;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use uuid::Uuid;

#[derive(Debug)]
pub struct Outbox {
    path: PathBuf,
    pending: Vec<Command>,
}

impl Outbox {
    /// Opens (or creates) the journal at `path` and loads what a previous session left.
    /// A torn last line (a crash mid-write) is skipped; every complete line is kept.
    pub fn open(path: &Path) -> io::Result<Outbox> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let mut pending = Vec::new();
        // Set when the file holds anything but whole, readable lines: it is
        // rewritten before use, or the next `push` would be appended to the
        // torn tail and be unreadable itself (a note lost by the next session).
        let mut damaged = false;
        match fs::read(path) {
            Ok(bytes) => {
                damaged = !bytes.is_empty() && !bytes.ends_with(b"\n");
                for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    match serde_json::from_slice::<Command>(line) {
                        Ok(cmd) => pending.push(cmd),
                        Err(e) => {
                            damaged = true;
                            tracing::warn!(
                                "outbox {}: line {}: skipped: {e}",
                                path.display(),
                                n + 1
                            )
                        }
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let outbox = Outbox {
            path: path.to_path_buf(),
            pending,
        };
        if damaged {
            outbox.rewrite()?;
        }
        Ok(outbox)
    }

    pub fn pending(&self) -> &[Command] {
        &self.pending
    }

    /// Appends and fsyncs one command; it is on disk when this returns `Ok`.
    pub fn push(&mut self, cmd: &Command) -> io::Result<()> {
        let mut line = serde_json::to_string(cmd).map_err(io::Error::other)?;
        line.push('\n');
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        f.write_all(line.as_bytes())?;
        f.sync_data()?;
        self.pending.push(cmd.clone());
        Ok(())
    }

    /// Forgets a command the server has answered, rewriting the journal atomically.
    pub fn remove(&mut self, id: Uuid) -> io::Result<()> {
        self.pending.retain(|c| c.id != id);
        self.rewrite()
    }

    /// Replaces the journal with exactly [`Self::pending`], atomically.
    fn rewrite(&self) -> io::Result<()> {
        let tmp = self.path.with_extension("tmp");
        {
            let mut f = File::create(&tmp)?;
            for cmd in &self.pending {
                let line = serde_json::to_string(cmd).map_err(io::Error::other)?;
                f.write_all(line.as_bytes())?;
                f.write_all(b"\n")?;
            }
            f.sync_data()?;
        }
        fs::rename(&tmp, &self.path)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::{Action, NoteKind};

    fn note(text: &str) -> Command {
        Command {
            id: Uuid::new_v4(),
            incident: Some("INC-1".into()),
            action: Action::Note {
                kind: NoteKind::Note,
                text: text.into(),
            },
            occurred_at: None,
        }
    }

    #[test]
    fn survives_reopen_and_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.jsonl");
        let (a, b, c) = (note("one"), note("two"), note("three"));
        {
            let mut o = Outbox::open(&path).unwrap();
            o.push(&a).unwrap();
            o.push(&b).unwrap();
            o.push(&c).unwrap();
            o.remove(b.id).unwrap();
        }
        // A crash in the middle of a write leaves half a line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"id\":\"trunc").unwrap();
        let o = Outbox::open(&path).unwrap();
        let ids: Vec<Uuid> = o.pending().iter().map(|c| c.id).collect();
        assert_eq!(ids, vec![a.id, c.id]);
    }

    #[test]
    fn a_push_after_a_torn_tail_is_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.jsonl");
        let a = note("one");
        {
            let mut o = Outbox::open(&path).unwrap();
            o.push(&a).unwrap();
        }
        // The previous session crashed in the middle of writing a line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"id\":\"trunc").unwrap();
        drop(f);
        // The next session queues a note while offline, and is closed.
        let b = note("typed after the crash");
        {
            let mut o = Outbox::open(&path).unwrap();
            o.push(&b).unwrap();
        }
        let o = Outbox::open(&path).unwrap();
        let ids: Vec<Uuid> = o.pending().iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            vec![a.id, b.id],
            "the note typed after the crash was lost"
        );
    }
}
