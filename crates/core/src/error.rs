//! The error codes of the public contract, as one type with numbers, names and messages.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! error_codes {
    ($($name:ident = $num:literal, $js:literal;)*) => {
        /// Every code a public call can fail with (see `docs/api.md`, "Errors").
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $($name),* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name),*];

            pub fn code(self) -> u32 {
                match self { $(ErrorCode::$name => $num),* }
            }

            /// The name exported to JavaScript in `ErrorCode`.
            pub fn name(self) -> &'static str {
                match self { $(ErrorCode::$name => $js),* }
            }

            pub fn from_code(code: u32) -> Option<ErrorCode> {
                match code { $($num => Some(ErrorCode::$name),)* _ => None }
            }
        }
    };
}

error_codes! {
    ConversationNotFound = 2500, "CONVERSATION_NOT_FOUND";
    SdkNotInitialized = 6013, "SDK_NOT_INITIALIZED";
    SdkNotLoggedIn = 6014, "SDK_NOT_LOGGED_IN";
    InvalidParameters = 6017, "INVALID_PARAMETERS";
    DatabaseOperateFailed = 6019, "DATABASE_OPERATE_FAILED";
    FrequencyLimit = 9506, "FREQUENCY_LIMIT";
    NetworkDisconnected = 9508, "NETWORK_DISCONNECTED";
    RequestTimeout = 9520, "REQUEST_TIMEOUT";
    ServerError = 9530, "SERVER_ERROR";
    NoPermission = 10007, "NO_PERMISSION";
    UserSigExpired = 70001, "USERSIG_EXPIRED";
    UserSigInvalid = 70003, "USERSIG_INVALID";
}

/// A failed call: a contract code and a message that names the bad value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatError {
    pub code: u32,
    pub message: String,
}

impl ChatError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ChatError {
            code: code.code(),
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParameters, message)
    }

    pub fn not_found(conversation_id: &str) -> Self {
        Self::new(
            ErrorCode::ConversationNotFound,
            format!("conversation {} does not exist", quote(conversation_id)),
        )
    }

    pub fn not_logged_in() -> Self {
        Self::new(ErrorCode::SdkNotLoggedIn, "not logged in: call login first")
    }

    pub fn destroyed() -> Self {
        Self::new(
            ErrorCode::SdkNotInitialized,
            "the SDK was destroyed: create a new instance",
        )
    }

    pub fn database(message: impl fmt::Display) -> Self {
        Self::new(
            ErrorCode::DatabaseOperateFailed,
            format!("local database failed: {message}"),
        )
    }

    pub fn is(&self, code: ErrorCode) -> bool {
        self.code == code.code()
    }
}

impl fmt::Display for ChatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)
    }
}

impl std::error::Error for ChatError {}

pub type Result<T, E = ChatError> = std::result::Result<T, E>;

/// Quotes a value for an error message: JSON-escaped (so hostile strings stay inert) and cut
/// to a readable length. Escaped by hand rather than by `serde_json`, which would otherwise be
/// linked into the wasm for this alone.
pub fn quote(value: &str) -> String {
    const MAX_CHARS: usize = 64;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut quoted = String::with_capacity(value.len().min(4 * MAX_CHARS) + 2);
    quoted.push('"');
    let mut chars = value.chars();
    for c in chars.by_ref().take(MAX_CHARS) {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            '\u{8}' => quoted.push_str("\\b"),
            '\u{c}' => quoted.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                quoted.push_str("\\u00");
                quoted.push(HEX[(c as usize) >> 4] as char);
                quoted.push(HEX[(c as usize) & 15] as char);
            }
            c => quoted.push(c),
        }
    }
    let truncated = chars.next().is_some();
    if truncated {
        quoted.push('…');
    }
    quoted.push('"');
    if truncated {
        quoted.push_str(" (");
        quoted.push_str(&value.len().to_string());
        quoted.push_str(" bytes)");
    }
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for &c in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(c.code()), Some(c));
            assert!(names.insert(c.name()));
        }
        assert_eq!(ErrorCode::ConversationNotFound.code(), 2500);
        assert_eq!(ErrorCode::UserSigInvalid.code(), 70003);
    }

    #[test]
    fn quote_escapes_and_truncates() {
        assert_eq!(quote("a\"b"), r#""a\"b""#);
        let long = "x".repeat(200);
        let q = quote(&long);
        assert!(q.contains("(200 bytes)"), "{q}");
        assert!(q.len() < 100);
        assert_eq!(quote("a\\b\n\u{1}é"), r#""a\\b\n\u0001é""#);
        // Same as JSON's escaping, which error messages promise.
        for s in [
            "plain",
            "q\"uote",
            "tab\there",
            "\u{7f}\u{0}\u{8}\u{c}\u{1f}x",
            "ü😀",
        ] {
            assert_eq!(quote(s), serde_json::to_string(s).unwrap());
        }
    }
}
