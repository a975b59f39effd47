//! A table of bad inputs to every public entry point: each is refused with its code, its message
//! names the bad value, no request reaches the server, and nothing changes locally.

mod support;

use chat_core::{Arg, IdStyle};
use support::fake_server::FakeServer;
use support::*;

fn s(v: &str) -> Arg {
    Arg::str(v)
}
fn n(v: f64) -> Arg {
    Arg::Number(v)
}

#[test]
fn bad_inputs_are_refused_and_change_nothing() {
    let server = FakeServer::new();
    let alice = device(&server, "alice", IdStyle::Native);
    let bob = device(&server, "bob", IdStyle::Native);
    bob.send("c2c_alice", "hello");
    alice.deliver_pushes();
    let e = &alice.engine;
    let long = "x".repeat(10_000);
    let ids_101 = Arg::array((0..101).map(|i| Arg::Str(format!("c2c_u{i}"))).collect());
    let text_12001 = "é".repeat(6000) + "x";

    type Case = (
        &'static str,
        chat_core::Result<()>,
        u32,
        Option<&'static str>,
    );
    let list =
        |ids: Arg, clear: Arg| block_on(e.delete_conversation_list(&ids, &clear)).map(|_| ());
    let one = |id: Arg| block_on(e.delete_conversation(&id));
    let page = |seq: Arg, count: Arg| block_on(e.get_conversation_list(&seq, &count)).map(|_| ());
    let send = |id: Arg, text: Arg| block_on(e.send_text_message(&id, &text)).map(|_| ());
    let hist = |id: Arg, count: Arg, last: Arg| {
        block_on(e.get_history_message_list(&id, &count, &last)).map(|_| ())
    };
    let cases: Vec<Case> = vec![
        (
            "list: not an array",
            list(s("c2c_bob"), Arg::Bool(true)),
            6017,
            Some("\"c2c_bob\""),
        ),
        (
            "list: null",
            list(Arg::Null, Arg::Bool(true)),
            6017,
            Some("null"),
        ),
        (
            "list: undefined",
            list(Arg::Undefined, Arg::Bool(true)),
            6017,
            Some("undefined"),
        ),
        (
            "list: object",
            list(Arg::Object, Arg::Bool(true)),
            6017,
            Some("object"),
        ),
        (
            "list: empty",
            list(Arg::array(vec![]), Arg::Bool(true)),
            6017,
            Some("empty"),
        ),
        (
            "list: 101 items",
            list(ids_101.clone(), Arg::Bool(true)),
            6017,
            Some("101"),
        ),
        (
            "list: number item",
            list(Arg::array(vec![s("c2c_bob"), n(7.0)]), Arg::Bool(true)),
            6017,
            Some("number 7"),
        ),
        (
            "list: null item",
            list(Arg::array(vec![Arg::Null]), Arg::Bool(true)),
            6017,
            Some("null"),
        ),
        (
            "list: nested array",
            list(
                Arg::array(vec![Arg::strings(&["c2c_bob"])]),
                Arg::Bool(true),
            ),
            6017,
            Some("array"),
        ),
        (
            "clear: missing",
            list(Arg::strings(&["c2c_bob"]), Arg::Undefined),
            6017,
            Some("clearMessage"),
        ),
        (
            "clear: string",
            list(Arg::strings(&["c2c_bob"]), s("true")),
            6017,
            Some("\"true\""),
        ),
        (
            "clear: number",
            list(Arg::strings(&["c2c_bob"]), n(1.0)),
            6017,
            Some("number 1"),
        ),
        (
            "clear: null",
            list(Arg::strings(&["c2c_bob"]), Arg::Null),
            6017,
            Some("null"),
        ),
        ("one: number", one(n(42.0)), 6017, Some("number 42")),
        (
            "one: undefined",
            one(Arg::Undefined),
            6017,
            Some("undefined"),
        ),
        ("one: empty", one(s("")), 6017, Some("\"\"")),
        (
            "one: script",
            one(s("<script>alert(1)</script>")),
            6017,
            Some("<script>"),
        ),
        (
            "one: path",
            one(s("c2c_../../etc")),
            6017,
            Some("c2c_../../etc"),
        ),
        (
            "one: sql",
            one(s("c2c_bob; DROP TABLE")),
            6017,
            Some("DROP TABLE"),
        ),
        ("one: 10 KB", one(s(&long)), 6017, Some("10000 bytes")),
        ("one: unicode", one(s("c2c_bób")), 6017, Some("bób")),
        (
            "one: 33-byte user",
            one(Arg::Str(format!("c2c_{}", "a".repeat(33)))),
            6017,
            Some("aaaa"),
        ),
        (
            "page: count 0",
            page(n(0.0), n(0.0)),
            6017,
            Some("number 0"),
        ),
        (
            "page: count 101",
            page(n(0.0), n(101.0)),
            6017,
            Some("number 101"),
        ),
        ("page: count 1.5", page(n(0.0), n(1.5)), 6017, Some("1.5")),
        (
            "page: count string",
            page(n(0.0), s("10")),
            6017,
            Some("\"10\""),
        ),
        ("page: nextSeq -1", page(n(-1.0), n(10.0)), 6017, Some("-1")),
        (
            "page: nextSeq NaN",
            page(n(f64::NAN), n(10.0)),
            6017,
            Some("NaN"),
        ),
        (
            "send: empty text",
            send(s("c2c_bob"), s("")),
            6017,
            Some("0 bytes"),
        ),
        (
            "send: 12001 bytes",
            send(s("c2c_bob"), s(&text_12001)),
            6017,
            Some("12001 bytes"),
        ),
        (
            "send: text number",
            send(s("c2c_bob"), n(3.0)),
            6017,
            Some("number 3"),
        ),
        (
            "send: to self",
            send(s("c2c_alice"), s("hi")),
            6017,
            Some("c2c_alice"),
        ),
        (
            "send: bad id",
            send(s("c2c_"), s("hi")),
            6017,
            Some("\"c2c_\""),
        ),
        (
            "history: count 0",
            hist(s("c2c_bob"), n(0.0), Arg::Undefined),
            6017,
            Some("number 0"),
        ),
        (
            "history: lastMsgID number",
            hist(s("c2c_bob"), n(5.0), n(1.0)),
            6017,
            Some("number 1"),
        ),
        (
            "history: unknown lastMsgID",
            hist(s("c2c_bob"), n(5.0), s("nope")),
            6017,
            Some("\"nope\""),
        ),
        (
            "clean: bad id",
            block_on(e.clean_conversation_unread_message_count(&s("group_a b"))),
            6017,
            Some("group_a b"),
        ),
        (
            "get: bad id",
            block_on(e.get_conversation(&Arg::Bool(true))).map(|_| ()),
            6017,
            Some("boolean true"),
        ),
        (
            "get: unknown",
            block_on(e.get_conversation(&s("c2c_zed"))).map(|_| ()),
            2500,
            Some("c2c_zed"),
        ),
        (
            "delete: unknown",
            one(s("group_none")),
            2500,
            Some("group_none"),
        ),
    ];
    assert!(cases.len() >= 25);
    let calls_before = server.calls.get();
    for (name, result, code, needle) in &cases {
        let err = result.as_ref().expect_err(name);
        assert_eq!(err.code, *code, "{name}: {err:?}");
        if let Some(needle) = needle {
            assert!(
                err.message.contains(needle),
                "{name}: message {:?} lacks {needle:?}",
                err.message
            );
        }
    }
    // Only the four cases that had to ask the server (2500s, history, get) made requests.
    assert!(
        server.calls.get() - calls_before <= 4,
        "requests: {}",
        server.calls.get() - calls_before
    );
    assert_eq!(alice.ids(), vec!["c2c_bob"]);
    assert_eq!(alice.total_unread(), 1);
    assert_eq!(server.live_ids("alice"), vec!["c2c_bob"]);
    assert!(alice.hooks.deleted_ids().is_empty());
    assert!(alice.hooks.shared.borrow().is_empty());
}
