//! Accounts as the API shows them, and the rules on their inputs.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::access::{Role, Scope, ScopeKind};
use crate::platform::validate::Check;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Account {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
    pub scope_kind: ScopeKind,
    /// Department or facility id, region code, or country code, by `scope_kind`.
    pub scope_id: Option<String>,
    pub person_id: Option<Uuid>,
    pub lang: Option<String>,
    pub totp_enrolled: bool,
    pub disabled: bool,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct LoginInput {
    pub username: String,
    pub password: String,
    /// Six-digit code from the authenticator app, for accounts that have one.
    pub totp: String,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct NewAccount {
    pub username: String,
    /// One of the role codes (worker, security_guard, ... system_admin).
    pub role: String,
    /// own, department, facility, region or country.
    pub scope_kind: String,
    pub scope_id: Option<String>,
    pub person_id: Option<Uuid>,
}

impl NewAccount {
    /// Checks the shape; whether the scope's target exists is the store's job.
    pub fn check(&self, c: &mut Check) -> Option<(String, Role, Scope)> {
        let username = self.username.trim().to_lowercase();
        if username.len() < 3
            || username.len() > 64
            || !username
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch))
        {
            c.fail("username", "err-username");
        }
        let role = Role::parse(self.role.trim());
        if role.is_none() {
            c.fail("role", "err-choice");
        }
        let scope = Scope::from_parts(
            self.scope_kind.trim(),
            self.scope_id.as_deref().map(str::trim),
        );
        if scope.is_none() {
            c.fail("scope_id", "err-scope");
        }
        if role.is_some_and(|r| r.natural_scope() == ScopeKind::Own) && self.person_id.is_none() {
            c.fail("person_id", "err-required");
        }
        Some((username, role?, scope?))
    }
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct NewToken {
    pub name: String,
    /// `["all"]` or `["read"]`.
    pub scopes: Vec<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TokenInfo {
    pub id: Uuid,
    pub name: String,
    pub read_only: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: crate::platform::time::Ts,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<crate::platform::time::Ts>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub id: Uuid,
    /// Shown once; only its hash is stored.
    pub token: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ResetLink {
    /// Path of the one-time link, valid for 24 hours.
    pub path: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_account_needs_a_person() {
        let mut c = Check::new();
        let r = NewAccount {
            username: "Aigul.S".into(),
            role: "worker".into(),
            scope_kind: "own".into(),
            ..Default::default()
        }
        .check(&mut c);
        assert_eq!(r.map(|x| x.0), Some("aigul.s".to_owned()));
        assert_eq!(c.errors.len(), 1);
        assert_eq!(c.errors[0].field, "person_id");
    }

    #[test]
    fn bad_shapes_are_named() {
        let mut c = Check::new();
        let r = NewAccount {
            username: "a b".into(),
            role: "king".into(),
            scope_kind: "facility".into(),
            scope_id: Some("not-a-uuid".into()),
            person_id: None,
        }
        .check(&mut c);
        assert!(r.is_none());
        let f: Vec<_> = c.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(f, vec!["username", "role", "scope_id"]);
    }
}
