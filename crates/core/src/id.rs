//! Conversation IDs: both input styles, the userID/groupID rules, rendering in the chosen style.
//!
//! The canonical form (stored, and used on the wire) is the native style: `c2c_<userID>`,
//! `group_<groupID>`.

use crate::error::{quote, ChatError, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

pub const MAX_USER_ID_BYTES: usize = 32;
pub const MAX_GROUP_ID_BYTES: usize = 48;

/// How IDs the SDK returns or emits are written (`conversationIDStyle`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdStyle {
    #[default]
    Native,
    Web,
}

impl IdStyle {
    pub fn parse(value: &str) -> Result<IdStyle> {
        match value {
            "native" => Ok(IdStyle::Native),
            "web" => Ok(IdStyle::Web),
            other => Err(ChatError::invalid(format!(
                "conversationIDStyle must be \"native\" or \"web\", got {}",
                quote(other)
            ))),
        }
    }
}

/// 1 = C2C, 2 = GROUP, as in the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConversationType {
    C2c = 1,
    Group = 2,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConversationId {
    C2c(String),
    Group(String),
}

/// `[A-Za-z0-9_-]`, 1–32 bytes.
pub fn is_valid_user_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_USER_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Printable ASCII without space, 1–48 bytes.
pub fn is_valid_group_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_GROUP_ID_BYTES
        && id.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

pub fn validate_user_id(id: &str) -> Result<()> {
    if is_valid_user_id(id) {
        Ok(())
    } else {
        Err(ChatError::invalid(format!(
            "invalid userID {}: 1-32 bytes of [A-Za-z0-9_-]",
            quote(id)
        )))
    }
}

pub fn validate_group_id(id: &str) -> Result<()> {
    if is_valid_group_id(id) {
        Ok(())
    } else {
        Err(ChatError::invalid(format!(
            "invalid groupID {}: 1-48 bytes of printable ASCII without space",
            quote(id)
        )))
    }
}

impl ConversationId {
    /// Accepts both styles whatever the option says.
    pub fn parse(raw: &str) -> Result<ConversationId> {
        let parsed = if let Some(user) = raw.strip_prefix("c2c_") {
            Some(ConversationId::C2c(user.to_owned()))
        } else if let Some(group) = raw.strip_prefix("group_") {
            Some(ConversationId::Group(group.to_owned()))
        } else if let Some(user) = raw.strip_prefix("C2C") {
            Some(ConversationId::C2c(user.to_owned()))
        } else {
            raw.strip_prefix("GROUP")
                .map(|group| ConversationId::Group(group.to_owned()))
        };
        match parsed {
            Some(id) if id.is_valid() => Ok(id),
            _ => Err(ChatError::invalid(format!(
                "invalid conversationID {}: expected c2c_<userID>, group_<groupID>, C2C<userID> or GROUP<groupID>",
                quote(raw)
            ))),
        }
    }

    fn is_valid(&self) -> bool {
        match self {
            ConversationId::C2c(u) => is_valid_user_id(u),
            ConversationId::Group(g) => is_valid_group_id(g),
        }
    }

    pub fn c2c(user_id: &str) -> ConversationId {
        ConversationId::C2c(user_id.to_owned())
    }

    pub fn group(group_id: &str) -> ConversationId {
        ConversationId::Group(group_id.to_owned())
    }

    pub fn kind(&self) -> ConversationType {
        match self {
            ConversationId::C2c(_) => ConversationType::C2c,
            ConversationId::Group(_) => ConversationType::Group,
        }
    }

    /// The peer's userID or the groupID.
    pub fn target(&self) -> &str {
        match self {
            ConversationId::C2c(s) | ConversationId::Group(s) => s,
        }
    }

    pub fn render(&self, style: IdStyle) -> String {
        match (self, style) {
            (ConversationId::C2c(u), IdStyle::Native) => format!("c2c_{u}"),
            (ConversationId::Group(g), IdStyle::Native) => format!("group_{g}"),
            (ConversationId::C2c(u), IdStyle::Web) => format!("C2C{u}"),
            (ConversationId::Group(g), IdStyle::Web) => format!("GROUP{g}"),
        }
    }

    /// The stored and wire form (native style).
    pub fn canonical(&self) -> String {
        self.render(IdStyle::Native)
    }
}

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// Re-renders a canonical ID in `style`; unparsable input is returned unchanged.
pub fn restyle(canonical: &str, style: IdStyle) -> String {
    match ConversationId::parse(canonical) {
        Ok(id) => id.render(style),
        Err(_) => canonical.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_styles_to_one_id() {
        let native = ConversationId::parse("c2c_bob").unwrap();
        let web = ConversationId::parse("C2Cbob").unwrap();
        assert_eq!(native, web);
        assert_eq!(native.render(IdStyle::Web), "C2Cbob");
        let g = ConversationId::parse("GROUPteam:1").unwrap();
        assert_eq!(g.canonical(), "group_team:1");
        assert_eq!(g.kind(), ConversationType::Group);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "c2c_",
            "bob",
            "c2c_bob smith",
            "c2c_<script>",
            "group_",
            "group_has space",
            "C2C",
            "c2c_é",
            &format!("c2c_{}", "a".repeat(33)),
            &format!("group_{}", "a".repeat(49)),
            "group_tab\tx",
        ] {
            let err = ConversationId::parse(bad).unwrap_err();
            assert_eq!(err.code, 6017, "{bad:?}");
        }
        assert!(ConversationId::parse(&format!("c2c_{}", "a".repeat(32))).is_ok());
        assert!(ConversationId::parse(&format!("group_{}", "a".repeat(48))).is_ok());
    }
}
