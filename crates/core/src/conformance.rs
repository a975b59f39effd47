//! The `Store` conformance suite: every implementation (memory natively, IndexedDB in headless
//! browsers) runs the same cases, one test each, through `store_conformance_tests!` (in the
//! style of matrix-sdk-base's `statestore_integration_tests!`).

use crate::model::{Conversation, Message, Tombstone};
use crate::store::{Namespace, Prune, Snapshot, StoreBatch, StoreOpener};

/// Defines one test per conformance case in a module `store_conformance`, for the opener
/// `$opener` (an expression evaluated per test; `use`d names of the calling module are in scope).
/// Each case uses fresh namespaces whose user IDs start with `$prefix` (evaluated per test: a
/// persistent store needs a unique one per run).
///
/// ```ignore
/// // Native: each test blocks on the case.
/// chat_core::store_conformance_tests!(#[test] block_on = futures::executor::block_on,
///     opener = MemoryOpener::default(), prefix = String::from("t"));
/// // Browser: async tests.
/// chat_core::store_conformance_tests!(#[wasm_bindgen_test] async,
///     opener = IdbOpener::default(), prefix = prefix("conf"));
/// ```
#[macro_export]
macro_rules! store_conformance_tests {
    (#[$test:meta] block_on = $block_on:path, opener = $opener:expr, prefix = $prefix:expr) => {
        $crate::store_conformance_tests!(@cases (#[$test] block_on $block_on) $opener, $prefix;
            put_and_load removal_and_tombstones messages_paging_and_clear namespaces_are_isolated
            reopen_keeps_state batch_order_clear_then_put large_batch newer_record_wins
            reset_prunes_what_only_the_store_knew cached_history_stays_cleared);
    };
    (#[$test:meta] async, opener = $opener:expr, prefix = $prefix:expr) => {
        $crate::store_conformance_tests!(@cases (#[$test] async) $opener, $prefix;
            put_and_load removal_and_tombstones messages_paging_and_clear namespaces_are_isolated
            reopen_keeps_state batch_order_clear_then_put large_batch newer_record_wins
            reset_prunes_what_only_the_store_knew cached_history_stays_cleared);
    };
    (@cases $how:tt $opener:expr, $prefix:expr; $($case:ident)*) => {
        mod store_conformance {
            #[allow(unused_imports)]
            use super::*;
            $( $crate::store_conformance_tests!(@case $how $case, $opener, $prefix); )*
        }
    };
    (@case (#[$test:meta] block_on $block_on:path) $case:ident, $opener:expr, $prefix:expr) => {
        #[$test]
        fn $case() {
            let opener = $opener;
            let prefix: String = $prefix;
            $block_on($crate::conformance::$case(&opener, &prefix));
        }
    };
    (@case (#[$test:meta] async) $case:ident, $opener:expr, $prefix:expr) => {
        #[$test]
        async fn $case() {
            let opener = $opener;
            let prefix: String = $prefix;
            $crate::conformance::$case(&opener, &prefix).await;
        }
    };
}

fn ns(user: &str) -> Namespace {
    Namespace {
        sdk_app_id: 1400000001,
        user_id: user.to_owned(),
    }
}

pub fn message(conv: &str, seq: u64) -> Message {
    Message {
        msg_id: format!("{conv}-{seq}"),
        conversation_id: conv.to_owned(),
        sender: "peer".into(),
        text: format!("text {seq} <b>\"'</b>"),
        timestamp: 1_700_000_000_000 + seq,
        seq,
    }
}

pub fn conversation(conv: &str, order_key: u64, unread: u32, last_seq: u64) -> Conversation {
    let id = crate::id::ConversationId::parse(conv).expect("valid test id");
    Conversation {
        conversation_id: conv.to_owned(),
        kind: id.kind() as u8,
        user_id: matches!(id, crate::id::ConversationId::C2c(_)).then(|| id.target().to_owned()),
        group_id: matches!(id, crate::id::ConversationId::Group(_)).then(|| id.target().to_owned()),
        show_name: id.target().to_owned(),
        unread_count: unread,
        last_message: (last_seq > 0).then(|| message(conv, last_seq)),
        order_key,
    }
}

pub async fn put_and_load(opener: &dyn StoreOpener, prefix: &str) {
    let user = &format!("{prefix}put_and_load");
    let store = opener.open(&ns(user)).await.expect("open");
    let empty = store.load().await.expect("load empty");
    assert!(
        empty.conversations.is_empty(),
        "put_and_load: fresh store not empty"
    );
    assert_eq!(empty.cursor, 0, "put_and_load: fresh cursor");
    assert_eq!(
        store.cursor().await.expect("cursor"),
        0,
        "put_and_load: cursor alone, fresh"
    );
    let batch = StoreBatch {
        put_conversations: vec![
            conversation("c2c_bob", 5, 2, 3),
            conversation("group_g:1", 9, 0, 1),
        ],
        cursor: Some(42),
        ..Default::default()
    };
    store.apply(&batch).await.expect("apply");
    let mut snap = store.load().await.expect("load");
    snap.conversations.sort_by_key(|c| c.order_key);
    assert_eq!(
        snap.conversations, batch.put_conversations,
        "put_and_load: conversations round-trip"
    );
    assert_eq!(snap.cursor, 42, "put_and_load: cursor");
    assert_eq!(
        store.cursor().await.expect("cursor"),
        42,
        "put_and_load: cursor alone"
    );
    // A put replaces the record with the same ID.
    let updated = conversation("c2c_bob", 11, 0, 4);
    store
        .apply(&StoreBatch {
            put_conversations: vec![updated.clone()],
            ..Default::default()
        })
        .await
        .expect("apply update");
    let snap = store.load().await.expect("load");
    assert_eq!(
        snap.conversations.len(),
        2,
        "put_and_load: replace, not add"
    );
    assert!(
        snap.conversations.contains(&updated),
        "put_and_load: updated record"
    );
    assert_eq!(
        snap.cursor, 42,
        "put_and_load: cursor kept when batch has none"
    );
    store.close().await;
}

pub async fn removal_and_tombstones(opener: &dyn StoreOpener, prefix: &str) {
    let user = &format!("{prefix}removal_and_tombstones");
    let store = opener.open(&ns(user)).await.expect("open");
    store
        .apply(&StoreBatch {
            put_conversations: vec![
                conversation("c2c_a", 1, 0, 1),
                conversation("c2c_b", 2, 0, 1),
            ],
            ..Default::default()
        })
        .await
        .expect("apply");
    let tomb = Tombstone {
        conversation_id: "c2c_a".into(),
        upto_seq: 1,
        cleared: true,
    };
    store
        .apply(&StoreBatch {
            remove_conversations: vec!["c2c_a".into(), "c2c_unknown".into()],
            put_tombstones: vec![tomb.clone()],
            ..Default::default()
        })
        .await
        .expect("apply removal");
    let snap = store.load().await.expect("load");
    let ids: Vec<_> = snap
        .conversations
        .iter()
        .map(|c| c.conversation_id.as_str())
        .collect();
    assert_eq!(ids, vec!["c2c_b"], "removal: only c2c_b left");
    assert_eq!(snap.tombstones, vec![tomb], "removal: tombstone stored");
    store
        .apply(&StoreBatch {
            remove_tombstones: vec!["c2c_a".into()],
            ..Default::default()
        })
        .await
        .expect("apply");
    assert!(
        store.load().await.expect("load").tombstones.is_empty(),
        "removal: tombstone removed"
    );
    store.close().await;
}

pub async fn messages_paging_and_clear(opener: &dyn StoreOpener, prefix: &str) {
    let user = &format!("{prefix}messages_paging_and_clear");
    let store = opener.open(&ns(user)).await.expect("open");
    let msgs: Vec<_> = (1..=10).map(|s| message("c2c_bob", s)).collect();
    let other: Vec<_> = (1..=3).map(|s| message("c2c_carol", s)).collect();
    store
        .apply(&StoreBatch {
            put_messages: msgs.iter().chain(other.iter()).cloned().collect(),
            ..Default::default()
        })
        .await
        .expect("apply");
    let page = store.messages("c2c_bob", None, 4).await.expect("messages");
    let seqs: Vec<_> = page.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![10, 9, 8, 7], "messages: newest first");
    assert_eq!(page[0], msgs[9], "messages: round-trip");
    let page = store
        .messages("c2c_bob", Some(7), 100)
        .await
        .expect("messages");
    let seqs: Vec<_> = page.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![6, 5, 4, 3, 2, 1], "messages: before_seq");
    store
        .apply(&StoreBatch {
            clear_messages: vec![("c2c_bob".into(), 8)],
            ..Default::default()
        })
        .await
        .expect("clear");
    let seqs: Vec<_> = store
        .messages("c2c_bob", None, 100)
        .await
        .expect("messages")
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, vec![10, 9], "clear: only newer than 8 left");
    assert_eq!(
        store
            .messages("c2c_carol", None, 100)
            .await
            .expect("messages")
            .len(),
        3,
        "clear: other conversations untouched"
    );
    assert!(
        store
            .messages("c2c_nobody", None, 10)
            .await
            .expect("messages")
            .is_empty(),
        "messages: unknown conversation is empty"
    );
    store.close().await;
}

pub async fn namespaces_are_isolated(opener: &dyn StoreOpener, prefix: &str) {
    let (user_a, user_b) = (
        &format!("{prefix}isolated_a"),
        &format!("{prefix}isolated_b"),
    );
    let a = opener.open(&ns(user_a)).await.expect("open a");
    let b = opener.open(&ns(user_b)).await.expect("open b");
    a.apply(&StoreBatch {
        put_conversations: vec![conversation("c2c_x", 1, 1, 1)],
        put_messages: vec![message("c2c_x", 1)],
        cursor: Some(7),
        ..Default::default()
    })
    .await
    .expect("apply a");
    let snap_b = b.load().await.expect("load b");
    assert!(
        snap_b.conversations.is_empty(),
        "isolation: b sees none of a"
    );
    assert_eq!(snap_b.cursor, 0, "isolation: cursor");
    assert!(
        b.messages("c2c_x", None, 10)
            .await
            .expect("msgs")
            .is_empty(),
        "isolation: messages"
    );
    let other_app = Namespace {
        sdk_app_id: 7,
        user_id: user_a.to_owned(),
    };
    let c = opener.open(&other_app).await.expect("open other app");
    assert!(
        c.load().await.expect("load").conversations.is_empty(),
        "isolation: same user, other sdkAppID"
    );
    a.close().await;
    b.close().await;
    c.close().await;
}

pub async fn reopen_keeps_state(opener: &dyn StoreOpener, prefix: &str) {
    let user = &format!("{prefix}reopen_keeps_state");
    let first = opener.open(&ns(user)).await.expect("open");
    first
        .apply(&StoreBatch {
            put_conversations: vec![conversation("c2c_z", 3, 1, 2)],
            put_tombstones: vec![Tombstone {
                conversation_id: "c2c_y".into(),
                upto_seq: 5,
                cleared: false,
            }],
            put_messages: vec![message("c2c_z", 2)],
            cursor: Some(9),
            ..Default::default()
        })
        .await
        .expect("apply");
    first.close().await;
    let again = opener.open(&ns(user)).await.expect("reopen");
    let snap = again.load().await.expect("load");
    assert_eq!(snap.conversations.len(), 1, "reopen: conversation kept");
    assert_eq!(snap.tombstones.len(), 1, "reopen: tombstone kept");
    assert_eq!(snap.cursor, 9, "reopen: cursor kept");
    assert_eq!(
        again.cursor().await.expect("cursor"),
        9,
        "reopen: cursor alone"
    );
    assert_eq!(
        again.messages("c2c_z", None, 5).await.expect("msgs").len(),
        1,
        "reopen: messages kept"
    );
    again.close().await;
}

pub async fn batch_order_clear_then_put(opener: &dyn StoreOpener, prefix: &str) {
    let user = &format!("{prefix}batch_order_clear_then_put");
    let store = opener.open(&ns(user)).await.expect("open");
    store
        .apply(&StoreBatch {
            put_messages: (1..=3).map(|s| message("c2c_q", s)).collect(),
            ..Default::default()
        })
        .await
        .expect("apply");
    // One batch that clears up to 3 and stores message 4: 4 must survive.
    store
        .apply(&StoreBatch {
            clear_messages: vec![("c2c_q".into(), 3)],
            put_messages: vec![message("c2c_q", 4)],
            ..Default::default()
        })
        .await
        .expect("apply");
    let seqs: Vec<_> = store
        .messages("c2c_q", None, 10)
        .await
        .expect("msgs")
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, vec![4], "batch order: clear before put");
    store.close().await;
}

pub async fn large_batch(opener: &dyn StoreOpener, prefix: &str) {
    let user = &format!("{prefix}large_batch");
    let store = opener.open(&ns(user)).await.expect("open");
    let convs: Vec<_> = (0..100)
        .map(|i| conversation(&format!("c2c_u{i}"), i + 1, 1, 50))
        .collect();
    let msgs: Vec<_> = (0..100)
        .flat_map(|i| (1..=50).map(move |s| message(&format!("c2c_u{i}"), s)))
        .collect();
    store
        .apply(&StoreBatch {
            put_conversations: convs,
            put_messages: msgs,
            ..Default::default()
        })
        .await
        .expect("apply large");
    let ids: Vec<String> = (0..100).map(|i| format!("c2c_u{i}")).collect();
    store
        .apply(&StoreBatch {
            clear_messages: ids.iter().map(|id| (id.clone(), 50)).collect(),
            remove_conversations: ids.clone(),
            ..Default::default()
        })
        .await
        .expect("delete large");
    assert!(
        store.load().await.expect("load").conversations.is_empty(),
        "large: all removed"
    );
    for id in ids.iter().step_by(17) {
        assert!(
            store
                .messages(id, None, 100)
                .await
                .expect("msgs")
                .is_empty(),
            "large: messages of {id} cleared"
        );
    }
    store.close().await;
}

fn versions_of(snap: &Snapshot) -> Vec<(String, u64)> {
    let mut v = snap.versions.clone();
    v.sort();
    v
}

fn ids_of(snap: &Snapshot) -> Vec<String> {
    let mut ids: Vec<String> = snap
        .conversations
        .iter()
        .map(|c| c.conversation_id.clone())
        .collect();
    ids.sort();
    ids
}

/// Two tabs write one store: a write older than the stored record of a conversation (by feed
/// version) changes nothing of it, the cursor only moves forward, and the versions persist.
pub async fn newer_record_wins(opener: &dyn StoreOpener, prefix: &str) {
    let user = &format!("{prefix}newer_record_wins");
    let store = opener.open(&ns(user)).await.expect("open");
    let newer_a = conversation("c2c_a", 7, 0, 4);
    store
        .apply(&StoreBatch {
            put_conversations: vec![newer_a.clone(), conversation("c2c_b", 2, 1, 1)],
            put_messages: vec![message("c2c_a", 4)],
            cursor: Some(3),
            versions: vec![("c2c_a".into(), 5), ("c2c_b".into(), 2)],
            ..Default::default()
        })
        .await
        .expect("apply newer");
    // A lagging tab: its c2c_a (and a message of it) is older, its deletion of c2c_b newer.
    let tomb_b = Tombstone {
        conversation_id: "c2c_b".into(),
        upto_seq: 1,
        cleared: false,
    };
    store
        .apply(&StoreBatch {
            put_conversations: vec![conversation("c2c_a", 3, 2, 3)],
            put_messages: vec![message("c2c_a", 3)],
            remove_conversations: vec!["c2c_b".into()],
            put_tombstones: vec![tomb_b.clone()],
            cursor: Some(1),
            versions: vec![("c2c_a".into(), 3), ("c2c_b".into(), 4)],
            ..Default::default()
        })
        .await
        .expect("apply older");
    let snap = store.load().await.expect("load");
    assert_eq!(
        snap.conversations,
        vec![newer_a.clone()],
        "newer: c2c_a kept"
    );
    assert_eq!(
        snap.tombstones,
        vec![tomb_b],
        "newer: c2c_b deletion applied"
    );
    assert_eq!(snap.cursor, 3, "newer: cursor never moves back");
    assert_eq!(
        versions_of(&snap),
        vec![("c2c_a".into(), 5), ("c2c_b".into(), 4)],
        "newer: versions stored"
    );
    let seqs: Vec<u64> = store
        .messages("c2c_a", None, 10)
        .await
        .expect("messages")
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, vec![4], "newer: the older writer's message refused");
    // An older removal is refused too; an equal version replaces; the same for a stale put of
    // a deleted conversation.
    store
        .apply(&StoreBatch {
            remove_conversations: vec!["c2c_a".into()],
            put_conversations: vec![conversation("c2c_b", 2, 1, 1)],
            versions: vec![("c2c_a".into(), 4), ("c2c_b".into(), 3)],
            ..Default::default()
        })
        .await
        .expect("apply stale removal");
    assert_eq!(
        store.load().await.expect("load").conversations,
        vec![newer_a],
        "newer: stale removal and stale revival refused"
    );
    let same_version = conversation("c2c_a", 8, 0, 4);
    store
        .apply(&StoreBatch {
            put_conversations: vec![same_version.clone()],
            cursor: Some(4),
            versions: vec![("c2c_a".into(), 5)],
            ..Default::default()
        })
        .await
        .expect("apply equal");
    store.close().await;
    // Versions persist: a reload (a new connection) gets them back.
    let again = opener.open(&ns(user)).await.expect("reopen");
    let snap = again.load().await.expect("load");
    assert_eq!(
        snap.conversations,
        vec![same_version],
        "newer: equal replaces"
    );
    assert_eq!(snap.cursor, 4, "newer: cursor moves forward");
    // Only versions newer than the cursor are loaded: c2c_b's 4 counts as the cursor.
    assert_eq!(
        versions_of(&snap),
        vec![("c2c_a".into(), 5)],
        "newer: versions above the cursor after reopen"
    );
    again.close().await;
}

/// A reset removes the stored conversations it lacks that only another tab wrote, unless they
/// are newer than the page that covers them.
pub async fn reset_prunes_what_only_the_store_knew(opener: &dyn StoreOpener, prefix: &str) {
    let user = &format!("{prefix}reset_prunes");
    let store = opener.open(&ns(user)).await.expect("open");
    store
        .apply(&StoreBatch {
            put_conversations: vec![
                conversation("c2c_a", 1, 0, 2),
                conversation("c2c_m", 2, 0, 1),
                conversation("c2c_z", 3, 0, 1),
            ],
            put_messages: vec![message("c2c_a", 2), message("c2c_z", 1)],
            versions: vec![
                ("c2c_a".into(), 3),
                ("c2c_m".into(), 9),
                ("c2c_z".into(), 3),
            ],
            ..Default::default()
        })
        .await
        .expect("apply");
    // Pages: IDs up to c2c_n as of seq 5, the rest as of seq 8; the list holds only c2c_n.
    store
        .apply(&StoreBatch {
            put_conversations: vec![conversation("c2c_n", 4, 0, 1)],
            cursor: Some(5),
            versions: vec![("c2c_n".into(), 5)],
            prune: Some(Prune {
                pages: vec![(Some("c2c_n".into()), 5), (None, 8)],
                listed: vec!["c2c_n".into()],
            }),
            ..Default::default()
        })
        .await
        .expect("apply reset");
    let snap = store.load().await.expect("load");
    assert_eq!(
        ids_of(&snap),
        vec!["c2c_m".to_owned(), "c2c_n".to_owned()],
        "prune: older ones removed, the newer c2c_m kept"
    );
    // Loaded: the versions above the cursor (5); c2c_a's and c2c_n's are 5.
    assert_eq!(
        versions_of(&snap),
        vec![("c2c_m".into(), 9), ("c2c_z".into(), 8)],
        "prune: removals keep the page's cursor as version"
    );
    for id in ["c2c_a", "c2c_z"] {
        assert!(
            store.messages(id, None, 10).await.expect("msgs").is_empty(),
            "prune: cached messages of {id} forgotten"
        );
    }
    // The removal's version (the page's cursor) is kept: a write older than it is refused.
    store
        .apply(&StoreBatch {
            put_conversations: vec![conversation("c2c_a", 1, 0, 2)],
            versions: vec![("c2c_a".into(), 4)],
            ..Default::default()
        })
        .await
        .expect("apply stale");
    assert_eq!(
        ids_of(&store.load().await.expect("load")),
        vec!["c2c_m".to_owned(), "c2c_n".to_owned()],
        "prune: a write older than the removal refused"
    );
    store.close().await;
}

/// A history page read before another tab deleted the conversation with its history, and cached
/// after that deletion was stored, does not put back what the deletion cleared; a deletion that
/// kept the history, or another conversation, keeps the whole page.
pub async fn cached_history_stays_cleared(opener: &dyn StoreOpener, prefix: &str) {
    let user = &format!("{prefix}cached_history_stays_cleared");
    let store = opener.open(&ns(user)).await.expect("open");
    let tomb = |conv: &str, cleared| Tombstone {
        conversation_id: conv.into(),
        upto_seq: 5,
        cleared,
    };
    store
        .apply(&StoreBatch {
            clear_messages: vec![("c2c_cleared".into(), 5)],
            put_tombstones: vec![tomb("c2c_cleared", true), tomb("c2c_kept", false)],
            versions: vec![("c2c_cleared".into(), 10), ("c2c_kept".into(), 11)],
            ..Default::default()
        })
        .await
        .expect("apply deletions");
    // One unversioned batch, as a history page is cached: three conversations' messages 3..=7.
    let page = ["c2c_cleared", "c2c_kept", "c2c_other"]
        .iter()
        .flat_map(|c| (3..=7).map(|s| message(c, s)))
        .collect();
    store
        .apply(&StoreBatch {
            put_messages: page,
            ..Default::default()
        })
        .await
        .expect("apply page");
    for (conv, want) in [
        ("c2c_cleared", vec![7, 6]),
        ("c2c_kept", vec![7, 6, 5, 4, 3]),
        ("c2c_other", vec![7, 6, 5, 4, 3]),
    ] {
        let seqs: Vec<u64> = (store.messages(conv, None, 10).await.expect("msgs").iter())
            .map(|m| m.seq)
            .collect();
        assert_eq!(seqs, want, "{conv}: cached messages after the deletion");
    }
    store.close().await;
}
