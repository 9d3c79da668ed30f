//! Finding the embedded server: joining the one already running on this data
//! dir, and never joining a stranger at a stale address.
#![allow(clippy::unwrap_used)]

use warroom::cli::session;
use warroom::domain::Policy;
use warroom::domain::command::Access;
use warroom::server::{self, ServerConfig};

#[tokio::test]
async fn a_stale_address_now_served_by_another_warroom_is_not_joined() {
    // Someone else's embedded server (another user, another data dir).
    let theirs = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(theirs.path().join("warroom.db"), "127.0.0.1:0");
    config.bootstrap_token = Some(("bob".into(), Access::Admin));
    let other = server::start(config).await.unwrap();

    // Our data dir still names that address from a run that has ended, with our own token.
    let ours = tempfile::tempdir().unwrap();
    std::fs::write(ours.path().join("local.addr"), other.url()).unwrap();
    std::fs::write(
        ours.path().join(warroom::server::auth::LOCAL_TOKEN_FILE),
        "wr_not_known_to_bob\n",
    )
    .unwrap();

    let s = session::embedded(ours.path(), Policy::builtin_default(), "alice", true)
        .await
        .unwrap();
    assert!(
        s.embedded.is_some(),
        "joined a server that does not know our token ({})",
        s.url
    );
    let me = s.api.me().await.unwrap();
    assert_eq!(me.name, "alice");

    // And a second terminal on our data dir joins ours.
    let second = session::embedded(ours.path(), Policy::builtin_default(), "alice", true)
        .await
        .unwrap();
    assert!(second.embedded.is_none());
    assert_eq!(second.url, s.url);
    assert_eq!(second.api.me().await.unwrap().name, "alice");

    second.close().await.unwrap();
    s.close().await.unwrap();
    other.shutdown().await.unwrap();
}

/// A second window whose config names another person acts as that person on
/// the embedded server, with a token of its own kept for the next time.
#[tokio::test]
async fn a_seat_named_in_its_config_acts_as_that_person() {
    let data = tempfile::tempdir().unwrap();
    let host = session::embedded(data.path(), Policy::builtin_default(), "alice", true)
        .await
        .unwrap();
    assert!(host.embedded.is_some());
    let dave = session::embedded(data.path(), Policy::builtin_default(), "dave", true)
        .await
        .unwrap();
    assert!(dave.embedded.is_none(), "joined, not a second server");
    let me = dave.api.me().await.unwrap();
    assert_eq!(me.name, "dave");
    assert_eq!(host.api.me().await.unwrap().name, "alice");
    // Next time: the same token, from the seat's file.
    let again = session::embedded(data.path(), Policy::builtin_default(), "dave", true)
        .await
        .unwrap();
    assert_eq!(again.api.token(), dave.api.token());
    again.close().await.unwrap();
    dave.close().await.unwrap();
    host.close().await.unwrap();
}
