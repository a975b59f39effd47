//! Validation of every public argument. The browser facade converts each JavaScript value into an
//! [`Arg`] (a shallow, type-tagged copy) and calls the checks here, so the rules and the error
//! messages are written once, for every entry point.

use crate::error::{quote, ChatError, Result};
use crate::id::{validate_user_id, ConversationId, IdStyle};
use crate::wire::MAX_PAGE;

/// A JavaScript value as the SDK received it.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    /// `len` is the real length; `items` may hold only a prefix (enough to validate).
    Array {
        len: usize,
        items: Vec<Arg>,
    },
    Object,
    Function,
    /// Anything else, by its `typeof` (symbol, bigint).
    Other(&'static str),
}

impl Arg {
    pub fn str(s: &str) -> Arg {
        Arg::Str(s.to_owned())
    }

    pub fn strings(list: &[&str]) -> Arg {
        Arg::array(list.iter().map(|s| Arg::str(s)).collect())
    }

    pub fn array(items: Vec<Arg>) -> Arg {
        Arg::Array {
            len: items.len(),
            items,
        }
    }

    /// How the value is named in an error message.
    pub fn describe(&self) -> String {
        match self {
            Arg::Undefined => "undefined".into(),
            Arg::Null => "null".into(),
            Arg::Bool(b) => format!("boolean {b}"),
            Arg::Number(n) => format!("number {}", number_text(*n)),
            Arg::Str(s) => format!("string {}", quote(s)),
            Arg::Array { len, .. } => format!("an array of {len} items"),
            Arg::Object => "an object".into(),
            Arg::Function => "a function".into(),
            Arg::Other(t) => format!("a {t}"),
        }
    }
}

/// Writes a number as JavaScript would for the usual cases, without core's float formatting
/// (about 15 KB of wasm): integers exactly, fractions to up to 9 digits.
fn number_text(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sign = if n < 0.0 { "-" } else { "" };
    let a = n.abs();
    if a >= 1e18 {
        // The leading digit and the exponent, by division: no libm log10 in the wasm.
        let (mut p, mut e) = (1.0, 0);
        while a >= p * 10.0 {
            p *= 10.0;
            e += 1;
        }
        // p is 10^e up to a few ulps per multiplication: nudge the quotient past them.
        return format!("{sign}{}e+{e}", (a / p + 1e-9) as u64);
    }
    let int = a.trunc() as u64;
    let mut frac = ((a - a.trunc()) * 1e9).round() as u64;
    if frac == 0 {
        return format!("{sign}{int}");
    }
    let mut digits = 9;
    while frac.is_multiple_of(10) {
        frac /= 10;
        digits -= 1;
    }
    format!("{sign}{int}.{frac:0digits$}")
}

fn wrong_type(name: &str, expected: &str, got: &Arg) -> ChatError {
    ChatError::invalid(format!("{name} must be {expected}, got {}", got.describe()))
}

pub fn string<'a>(arg: &'a Arg, name: &str) -> Result<&'a str> {
    match arg {
        Arg::Str(s) => Ok(s),
        other => Err(wrong_type(name, "a string", other)),
    }
}

pub fn boolean(arg: &Arg, name: &str) -> Result<bool> {
    match arg {
        Arg::Bool(b) => Ok(*b),
        other => Err(wrong_type(name, "a boolean", other)),
    }
}

/// An integer in `min..=max`.
pub fn integer(arg: &Arg, name: &str, min: u64, max: u64) -> Result<u64> {
    match arg {
        Arg::Number(n) if n.fract() == 0.0 && *n >= min as f64 && *n <= max as f64 => Ok(*n as u64),
        other => Err(wrong_type(
            name,
            &format!("an integer from {min} to {max}"),
            other,
        )),
    }
}

pub fn conversation_id(arg: &Arg) -> Result<ConversationId> {
    ConversationId::parse(string(arg, "conversationID")?)
}

/// The list argument of `deleteConversationList`: 1–100 items, each checked later one by one.
pub fn conversation_id_list(arg: &Arg) -> Result<&[Arg]> {
    match arg {
        Arg::Array { len, items } => {
            crate::rules::check_delete_batch(*len)?;
            if let Some((i, bad)) = items
                .iter()
                .enumerate()
                .find(|(_, a)| !matches!(a, Arg::Str(_)))
            {
                return Err(ChatError::invalid(format!(
                    "conversationIDList[{i}] must be a string, got {}",
                    bad.describe()
                )));
            }
            Ok(items)
        }
        other => Err(wrong_type(
            "conversationIDList",
            "an array of conversation ID strings",
            other,
        )),
    }
}

pub fn clear_message(arg: &Arg) -> Result<bool> {
    boolean(arg, "clearMessage")
}

pub fn page_count(arg: &Arg) -> Result<usize> {
    integer(arg, "count", 1, MAX_PAGE as u64).map(|n| n as usize)
}

/// `nextSeq` of `getConversationList`: 0 or an orderKey returned before.
pub fn next_seq(arg: &Arg) -> Result<u64> {
    integer(arg, "nextSeq", 0, MAX_SAFE_INTEGER)
}

pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

pub fn text(arg: &Arg) -> Result<&str> {
    let t = string(arg, "text")?;
    crate::rules::check_text(t)?;
    Ok(t)
}

/// `lastMsgID` of `getHistoryMessageList`: optional.
pub fn last_msg_id(arg: &Arg) -> Result<Option<&str>> {
    match arg {
        Arg::Undefined | Arg::Null => Ok(None),
        Arg::Str(s) if !s.is_empty() && s.len() <= 128 => Ok(Some(s)),
        other => Err(wrong_type(
            "lastMsgID",
            "a message ID string (or undefined)",
            other,
        )),
    }
}

pub fn user_id(arg: &Arg) -> Result<&str> {
    let u = string(arg, "userID")?;
    validate_user_id(u)?;
    Ok(u)
}

pub fn user_sig(arg: &Arg) -> Result<&str> {
    let s = string(arg, "userSig")?;
    if s.is_empty() || s.len() > 4096 {
        return Err(ChatError::invalid(format!(
            "userSig must be 1-4096 bytes, got {} bytes",
            s.len()
        )));
    }
    Ok(s)
}

/// Listener objects: anything but an object (or null) is refused synchronously.
pub fn listener(arg: &Arg) -> Result<()> {
    match arg {
        Arg::Object => Ok(()),
        other => Err(wrong_type("listener", "an object", other)),
    }
}

/// Which local database the SDK keeps state in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageKind {
    IndexedDb,
    Memory,
}

/// Validated `ChatOptions`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub sdk_app_id: u64,
    pub server_url: String,
    pub storage: StorageKind,
    pub style: IdStyle,
}

/// Checks `ChatOptions` field by field (the facade reads each field from the object).
pub fn options(
    object: &Arg,
    sdk_app_id: &Arg,
    server_url: &Arg,
    storage: &Arg,
    style: &Arg,
) -> Result<Options> {
    if *object != Arg::Object {
        return Err(wrong_type("options", "a ChatOptions object", object));
    }
    let sdk_app_id = integer(sdk_app_id, "sdkAppID", 1, MAX_SAFE_INTEGER)?;
    let url = string(server_url, "serverURL")?;
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    let valid_url = url.len() <= 2048
        && rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid_url {
        return Err(ChatError::invalid(format!(
            "serverURL must be an http(s) URL, got {}",
            quote(url)
        )));
    }
    let storage = match storage {
        Arg::Undefined => StorageKind::IndexedDb,
        Arg::Str(s) if s == "indexeddb" => StorageKind::IndexedDb,
        Arg::Str(s) if s == "memory" => StorageKind::Memory,
        other => return Err(wrong_type("storage", "\"indexeddb\" or \"memory\"", other)),
    };
    let style = match style {
        Arg::Undefined => IdStyle::Native,
        Arg::Str(s) => IdStyle::parse(s)?,
        other => {
            return Err(wrong_type(
                "conversationIDStyle",
                "\"native\" or \"web\"",
                other,
            ))
        }
    };
    Ok(Options {
        sdk_app_id,
        server_url: url.trim_end_matches('/').to_owned(),
        storage,
        style,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_checks_whole_call() {
        assert!(conversation_id_list(&Arg::strings(&["c2c_a"])).is_ok());
        let e = conversation_id_list(&Arg::array(vec![])).unwrap_err();
        assert_eq!(e.code, 6017);
        let many = Arg::array((0..101).map(|i| Arg::Str(format!("c2c_u{i}"))).collect());
        assert!(conversation_id_list(&many)
            .unwrap_err()
            .message
            .contains("101 items"));
        let mixed = Arg::array(vec![Arg::str("c2c_a"), Arg::Number(3.0)]);
        assert!(conversation_id_list(&mixed)
            .unwrap_err()
            .message
            .contains("[1] must be a string, got number 3"));
        assert!(conversation_id_list(&Arg::Null).is_err());
    }

    #[test]
    fn numbers_are_named_as_javascript_writes_them() {
        for (n, text) in [
            (0.0, "0"),
            (-1.0, "-1"),
            (1.5, "1.5"),
            (101.0, "101"),
            (0.25, "0.25"),
            (1e-3, "0.001"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
            (9007199254740993.0, "9007199254740992"),
            (1e21, "1e+21"),
            (-3e300, "-3e+300"),
            (f64::MAX, "1e+308"),
        ] {
            assert_eq!(number_text(n), text);
        }
    }

    #[test]
    fn options_rules() {
        let ok = options(
            &Arg::Object,
            &Arg::Number(1400000001.0),
            &Arg::str("http://127.0.0.1:8080/"),
            &Arg::Undefined,
            &Arg::str("web"),
        )
        .unwrap();
        assert_eq!(ok.server_url, "http://127.0.0.1:8080");
        assert_eq!(ok.style, IdStyle::Web);
        for (app, url) in [
            (Arg::Number(0.0), Arg::str("http://x")),
            (Arg::Number(1.5), Arg::str("http://x")),
            (Arg::str("1"), Arg::str("http://x")),
            (Arg::Number(1.0), Arg::str("ftp://x")),
            (Arg::Number(1.0), Arg::str("http://")),
            (Arg::Number(1.0), Arg::str("http://a b")),
        ] {
            let e =
                options(&Arg::Object, &app, &url, &Arg::Undefined, &Arg::Undefined).unwrap_err();
            assert_eq!(e.code, 6017);
        }
    }
}
