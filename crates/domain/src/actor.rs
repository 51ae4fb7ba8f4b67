//! Who did something: every write and every sensitive read is attributed to an actor in the audit log.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A signed-in staff member.
    User,
    /// An integration calling with an API key.
    ApiKey,
    /// The system itself: the command line, background workers, imports.
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::ApiKey => "api_key",
            ActorKind::System => "system",
        }
    }
}

/// The identity behind a request, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub kind: ActorKind,
    /// The user's or key's id; `None` for the system.
    pub id: Option<String>,
    /// A readable name for logs and note authors (a username, a key name, `cli`).
    pub label: String,
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

impl Actor {
    /// The command line or a background task acting on the operator's behalf.
    pub fn system(label: &str) -> Actor {
        Actor {
            kind: ActorKind::System,
            id: None,
            label: label.to_string(),
            address: None,
            user_agent: None,
        }
    }
}
