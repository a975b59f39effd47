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

    pub fn kind(&self) -> Option<ErrorCode> {
        ErrorCode::from_code(self.code)
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
/// to a readable length.
pub fn quote(value: &str) -> String {
    const MAX_CHARS: usize = 64;
    let mut cut: String = value.chars().take(MAX_CHARS).collect();
    let truncated = cut.len() < value.len();
    if truncated {
        cut.push('…');
    }
    let quoted = serde_json::to_string(&cut).unwrap_or_else(|_| "\"?\"".into());
    if truncated {
        format!("{quoted} ({} bytes)", value.len())
    } else {
        quoted
    }
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
    }
}
