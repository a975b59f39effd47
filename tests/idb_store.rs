//! The IndexedDB store (and the browser's memory store, through the same adapter) in headless
//! Chromium:
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test idb_store --features test-hooks`
//! (without the feature, the test that needs the fault hook is left out).
#![cfg(target_arch = "wasm32")]

use chat_core::conformance::{conversation, message};
use chat_core::store::{Namespace, StoreBatch, StoreOpener};
use chat_sdk::idb_store::IdbOpener;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Unique per test and run, so the origin's persistent databases never collide.
fn prefix(test: &str) -> String {
    format!(
        "{test}{}r{}",
        js_sys::Date::now() as u64,
        (js_sys::Math::random() * 1e9) as u64
    )
}

fn ns(user: String) -> Namespace {
    Namespace {
        sdk_app_id: 1400000001,
        user_id: user,
    }
}

chat_core::store_conformance_tests!(
    #[wasm_bindgen_test] async,
    opener = IdbOpener::default(),
    prefix = prefix("conf")
);

/// The same cases for the browser's memory store (in js/glue.js, through the same adapter).
mod memory {
    use super::*;
    use chat_sdk::idb_store::JsMemoryOpener;

    chat_core::store_conformance_tests!(
        #[wasm_bindgen_test] async,
        opener = JsMemoryOpener::default(),
        prefix = prefix("mem")
    );
}

#[wasm_bindgen_test]
async fn two_opens_share_data() {
    let namespace = ns(prefix("persist"));
    let first = IdbOpener::new().open(&namespace).await.expect("open 1");
    let second = IdbOpener::new().open(&namespace).await.expect("open 2");
    first
        .apply(&StoreBatch {
            put_conversations: vec![conversation("c2c_bob", 3, 1, 2)],
            put_messages: vec![message("c2c_bob", 1), message("c2c_bob", 2)],
            cursor: Some(77),
            ..Default::default()
        })
        .await
        .expect("apply");
    // The second connection (as in another tab) sees the committed write.
    let snap = second.load().await.expect("load");
    assert_eq!(snap.conversations, vec![conversation("c2c_bob", 3, 1, 2)]);
    assert_eq!(snap.cursor, 77);
    let seqs: Vec<u64> = second
        .messages("c2c_bob", None, 10)
        .await
        .expect("messages")
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, vec![2, 1]);
    first.close().await;
    second.close().await;
    // And a fresh connection after both closed still does.
    let third = IdbOpener::new().open(&namespace).await.expect("open 3");
    assert_eq!(third.load().await.expect("load").cursor, 77);
    third.close().await;
}

#[cfg(feature = "test-hooks")]
#[wasm_bindgen_test]
async fn failed_batch_changes_nothing() {
    use chat_core::store::Store;
    let namespace = ns(prefix("atomic"));
    let store = IdbOpener::new().open_idb(&namespace).await.expect("open");
    let before_batch = StoreBatch {
        put_conversations: vec![
            conversation("c2c_a", 1, 0, 3),
            conversation("c2c_b", 2, 0, 1),
        ],
        put_tombstones: vec![chat_core::model::Tombstone {
            conversation_id: "c2c_x".into(),
            upto_seq: 4,
            cleared: false,
        }],
        put_messages: (1..=3).map(|s| message("c2c_a", s)).collect(),
        cursor: Some(5),
        ..Default::default()
    };
    store.apply(&before_batch).await.expect("apply");
    let before = store.load().await.expect("load");
    let before_msgs = store.messages("c2c_a", None, 10).await.expect("messages");

    // Touches every store, in every kind of request; its last request fails.
    store.fail_next_apply();
    let err = store
        .apply(&StoreBatch {
            clear_messages: vec![("c2c_a".into(), 2)],
            remove_conversations: vec!["c2c_b".into()],
            remove_tombstones: vec!["c2c_x".into()],
            put_conversations: vec![conversation("c2c_a", 9, 5, 4)],
            put_tombstones: vec![chat_core::model::Tombstone {
                conversation_id: "c2c_b".into(),
                upto_seq: 1,
                cleared: true,
            }],
            put_messages: vec![message("c2c_a", 4)],
            cursor: Some(6),
            versions: vec![
                ("c2c_a".into(), 9),
                ("c2c_b".into(), 9),
                ("c2c_x".into(), 9),
            ],
            prune: None,
        })
        .await
        .expect_err("the batch must fail");
    assert_eq!(err.code, 6019, "database error code: {err:?}");

    assert_eq!(
        store.load().await.expect("load"),
        before,
        "snapshot unchanged"
    );
    assert_eq!(
        store.messages("c2c_a", None, 10).await.expect("messages"),
        before_msgs,
        "messages unchanged"
    );
    // The store is still usable after the aborted transaction.
    store
        .apply(&StoreBatch {
            cursor: Some(8),
            ..Default::default()
        })
        .await
        .expect("apply after abort");
    assert_eq!(store.load().await.expect("load").cursor, 8);
    store.close().await;
}

#[wasm_bindgen_test]
async fn closed_store_fails_with_database_error() {
    let store = IdbOpener::new()
        .open(&ns(prefix("closed")))
        .await
        .expect("open");
    store.close().await;
    let err = store.load().await.expect_err("closed");
    assert_eq!(err.code, 6019);
}

#[wasm_bindgen_test]
async fn messages_edges() {
    let store = IdbOpener::new()
        .open(&ns(prefix("edges")))
        .await
        .expect("open");
    store
        .apply(&StoreBatch {
            put_messages: vec![
                message("c2c_a", 1),
                message("c2c_a", 2),
                // Neighbouring keys in other conversations must stay outside the range.
                message("c2c_", 5),
                message("c2c_a_", 1),
                message("c2c_b", 1),
            ],
            ..Default::default()
        })
        .await
        .expect("apply");
    let seqs = |v: Vec<chat_core::model::Message>| v.iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(store.messages("c2c_a", None, 10).await.unwrap()),
        vec![2, 1]
    );
    assert_eq!(
        seqs(store.messages("c2c_a", Some(2), 10).await.unwrap()),
        vec![1]
    );
    assert_eq!(
        seqs(store.messages("c2c_a", Some(1), 10).await.unwrap()),
        Vec::<u64>::new()
    );
    assert_eq!(
        seqs(store.messages("c2c_a", Some(0), 10).await.unwrap()),
        Vec::<u64>::new()
    );
    assert_eq!(
        seqs(store.messages("c2c_a", None, 0).await.unwrap()),
        Vec::<u64>::new()
    );
    assert_eq!(
        seqs(store.messages("c2c_a", None, 1).await.unwrap()),
        vec![2]
    );
    store
        .apply(&StoreBatch {
            clear_messages: vec![("c2c_a".into(), u64::MAX)],
            ..Default::default()
        })
        .await
        .expect("clear all");
    assert!(store.messages("c2c_a", None, 10).await.unwrap().is_empty());
    assert_eq!(store.messages("c2c_", None, 10).await.unwrap().len(), 1);
    assert_eq!(store.messages("c2c_a_", None, 10).await.unwrap().len(), 1);
    store.close().await;
}

/// Opens `name` at `version` directly, as a newer SDK in another tab would.
async fn raw_open(name: &str, version: u32) -> Result<web_sys::IdbDatabase, wasm_bindgen::JsValue> {
    use wasm_bindgen::JsCast;
    let factory: web_sys::IdbFactory =
        js_sys::Reflect::get(&js_sys::global(), &"indexedDB".into())?.unchecked_into();
    let req = factory.open_with_u32(name, version)?;
    let done = js_sys::Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    });
    wasm_bindgen_futures::JsFuture::from(done).await?;
    Ok(req.result()?.unchecked_into())
}

#[wasm_bindgen_test]
async fn upgrade_elsewhere_closes_us_and_newer_schema_fails_open() {
    use chat_sdk::idb_store::DB_VERSION;
    let namespace = ns(prefix("upgrade"));
    let store = IdbOpener::new().open(&namespace).await.expect("open");
    store
        .apply(&StoreBatch {
            cursor: Some(3),
            ..Default::default()
        })
        .await
        .expect("apply");
    // Would wait on `blocked` forever if our connection did not close on `versionchange`.
    let newer = raw_open(&namespace.key(), DB_VERSION + 1)
        .await
        .expect("upgrade from another connection is not blocked");
    assert_eq!(newer.version(), f64::from(DB_VERSION + 1));
    let err = store.load().await.expect_err("our connection was closed");
    assert_eq!(err.code, 6019);
    newer.close();
    // A database newer than this build cannot be opened: 6019, so the engine falls back.
    let err = IdbOpener::new()
        .open(&namespace)
        .await
        .err()
        .expect("VersionError");
    assert_eq!(err.code, 6019, "{err:?}");
    assert!(err.message.contains("VersionError"), "{}", err.message);
}

/// A database of an earlier schema, as an earlier build left it: version 1 (no stored versions),
/// 2 (versions without their index) or 3 (versions and their index in stores of their own),
/// holding conversation c2c_old, the tombstone of c2c_gone, cursor 5 and, from 2 on, the given
/// versions.
async fn create_old(name: &str, version: u32, versions: &'static [(&'static str, u32)]) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let factory: web_sys::IdbFactory = js_sys::Reflect::get(&js_sys::global(), &"indexedDB".into())
        .unwrap()
        .unchecked_into();
    let req = factory.open_with_u32(name, version).expect("open old");
    let r = req.clone();
    let upgrade = Closure::once_into_js(move || {
        let db: web_sys::IdbDatabase = r.result().unwrap().unchecked_into();
        let by_id = web_sys::IdbObjectStoreParameters::new();
        by_id.set_key_path(&"conversationID".into());
        let conversations = db
            .create_object_store_with_optional_parameters("conversations", &by_id)
            .unwrap();
        let tombstones = db
            .create_object_store_with_optional_parameters("tombstones", &by_id)
            .unwrap();
        let by_seq = web_sys::IdbObjectStoreParameters::new();
        by_seq.set_key_path(&js_sys::Array::of2(&"conversationID".into(), &"seq".into()));
        db.create_object_store_with_optional_parameters("messages", &by_seq)
            .unwrap();
        let meta = db.create_object_store("meta").unwrap();
        let record = js_sys::Object::new();
        for (k, v) in [
            ("conversationID", JsValue::from("c2c_old")),
            ("type", 1.into()),
            ("userID", "old".into()),
            ("showName", "old".into()),
            ("unreadCount", 2.into()),
            ("orderKey", 4.into()),
        ] {
            js_sys::Reflect::set(&record, &k.into(), &v).unwrap();
        }
        conversations.put(&record).unwrap();
        let tomb = js_sys::Object::new();
        for (k, v) in [
            ("conversationID", JsValue::from("c2c_gone")),
            ("uptoSeq", 3.into()),
            ("cleared", true.into()),
        ] {
            js_sys::Reflect::set(&tomb, &k.into(), &v).unwrap();
        }
        tombstones.put(&tomb).unwrap();
        meta.put_with_key(&5.into(), &"cursor".into()).unwrap();
        if version >= 2 {
            let store = db.create_object_store("versions").unwrap();
            for (id, v) in versions {
                store.put_with_key(&(*v).into(), &(*id).into()).unwrap();
            }
            if version >= 3 {
                store.create_index_with_str("byVersion", "").unwrap();
            }
        }
    });
    req.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    let done = js_sys::Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    });
    wasm_bindgen_futures::JsFuture::from(done)
        .await
        .expect("old schema created");
    req.result()
        .unwrap()
        .unchecked_into::<web_sys::IdbDatabase>()
        .close();
}

/// An existing database is upgraded in place: its records are kept and count as version 0, so
/// the first versioned write replaces them.
#[wasm_bindgen_test]
async fn first_schema_upgrades_with_records_at_version_zero() {
    use chat_core::store::Store;
    let namespace = ns(prefix("v1"));
    create_old(&namespace.key(), 1, &[]).await;
    let store = IdbOpener::new().open_idb(&namespace).await.expect("open");
    let snap = store.load().await.expect("load");
    let ids: Vec<_> = snap
        .conversations
        .iter()
        .map(|c| c.conversation_id.as_str())
        .collect();
    assert_eq!(ids, vec!["c2c_old"], "records kept");
    assert_eq!(snap.cursor, 5, "cursor kept");
    assert_eq!(snap.tombstones.len(), 1, "tombstone kept");
    assert!(
        snap.versions.is_empty(),
        "no versions yet: {:?}",
        snap.versions
    );
    store
        .apply(&StoreBatch {
            remove_conversations: vec!["c2c_old".into()],
            versions: vec![("c2c_old".into(), 7)],
            ..Default::default()
        })
        .await
        .expect("apply");
    let snap = store.load().await.expect("load");
    assert!(snap.conversations.is_empty(), "a versioned write replaces");
    assert_eq!(snap.versions, vec![("c2c_old".to_owned(), 7)]);
    store.close().await;
}

/// The second and third schemas' versions and tombstones move into the conversations' records:
/// load returns the versions newer than the cursor (5) and every tombstone, and writes stay
/// conditional on every stored version, loaded or not.
#[wasm_bindgen_test]
async fn second_and_third_schemas_upgrade_with_their_versions() {
    use chat_core::store::Store;
    for schema in [2, 3] {
        let namespace = ns(prefix(&format!("v{schema}")));
        let stored = &[
            ("c2c_old", 4),
            ("c2c_x", 5),
            ("c2c_y", 9),
            ("c2c_z", 6),
            ("c2c_gone", 7),
        ];
        create_old(&namespace.key(), schema, stored).await;
        let store = IdbOpener::new().open_idb(&namespace).await.expect("open");
        let mut snap = store.load().await.expect("load");
        snap.versions.sort();
        assert_eq!(snap.cursor, 5, "cursor kept");
        assert_eq!(snap.conversations.len(), 1, "records kept");
        assert_eq!(
            snap.tombstones,
            vec![chat_core::model::Tombstone {
                conversation_id: "c2c_gone".into(),
                upto_seq: 3,
                cleared: true
            }],
            "tombstone kept"
        );
        assert_eq!(
            snap.versions,
            vec![
                ("c2c_gone".to_owned(), 7),
                ("c2c_y".to_owned(), 9),
                ("c2c_z".to_owned(), 6)
            ],
            "the versions above the cursor"
        );
        // c2c_old is stored at version 4 (not loaded, below the cursor): a version-3 removal is
        // refused, a version-4 one is not.
        for (version, left) in [(3, 1), (4, 0)] {
            store
                .apply(&StoreBatch {
                    remove_conversations: vec!["c2c_old".into()],
                    versions: vec![("c2c_old".into(), version)],
                    ..Default::default()
                })
                .await
                .expect("apply");
            let snap = store.load().await.expect("load");
            assert_eq!(
                snap.conversations.len(),
                left,
                "schema {schema}: removal at version {version}"
            );
        }
        // A put of c2c_gone older than its deletion is refused; the tombstone stays.
        store
            .apply(&StoreBatch {
                put_conversations: vec![conversation("c2c_gone", 1, 0, 2)],
                versions: vec![("c2c_gone".into(), 6)],
                ..Default::default()
            })
            .await
            .expect("apply");
        let snap = store.load().await.expect("load");
        assert_eq!(
            snap.conversations.len(),
            0,
            "schema {schema}: stale revival refused"
        );
        assert_eq!(snap.tombstones.len(), 1, "schema {schema}: tombstone kept");
        store.close().await;
    }
}

/// Writes are decided per conversation also when more stored versions are newer than the batch
/// than one read of them returns (js/glue.js then reads the batch's own).
#[wasm_bindgen_test]
async fn writes_are_decided_when_many_stored_versions_are_newer() {
    use chat_core::store::Store;
    let store = IdbOpener::new()
        .open_idb(&ns(prefix("many")))
        .await
        .expect("open");
    let ids: Vec<String> = (0..100).map(|i| format!("c2c_m{i}")).collect();
    store
        .apply(&StoreBatch {
            put_conversations: (ids.iter().enumerate())
                .map(|(i, id)| conversation(id, i as u64 + 1, 0, 1))
                .collect(),
            versions: ids.iter().map(|id| (id.clone(), 10)).collect(),
            ..Default::default()
        })
        .await
        .expect("apply");
    // c2c_m0's removal is older than what is stored (refused), c2c_m1's newer (applied).
    store
        .apply(&StoreBatch {
            remove_conversations: vec!["c2c_m0".into(), "c2c_m1".into()],
            versions: vec![("c2c_m0".into(), 5), ("c2c_m1".into(), 20)],
            ..Default::default()
        })
        .await
        .expect("apply");
    let snap = store.load().await.expect("load");
    let has = |id: &str| snap.conversations.iter().any(|c| c.conversation_id == id);
    assert_eq!(snap.conversations.len(), 99, "one removed");
    assert!(has("c2c_m0"), "the older removal refused");
    assert!(!has("c2c_m1"), "the newer removal applied");
    store.close().await;
}
