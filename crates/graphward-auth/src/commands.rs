//! User, role and privilege administration as server commands (Memgraph and Neo4j syntax):
//!
//! ```text
//! CREATE USER [IF NOT EXISTS] name [IF NOT EXISTS] [IDENTIFIED BY | SET [PLAINTEXT] PASSWORD] 'pw'
//! ALTER USER name SET PASSWORD 'pw'      SET PASSWORD FOR name TO 'pw'
//! ALTER CURRENT USER SET PASSWORD FROM 'old' TO 'new'
//! DROP USER [IF EXISTS] name [IF EXISTS]  SHOW USERS   SHOW CURRENT USER
//! CREATE ROLE [IF NOT EXISTS] r  DROP ROLE [IF EXISTS] r  SHOW ROLES
//! GRANT ROLE r[, r2] TO u        REVOKE ROLE r FROM u
//! GRANT READ|WRITE|ADMIN[, ...] ON GRAPH g|* TO user|role
//! REVOKE READ|WRITE|ADMIN[, ...] ON GRAPH g|* FROM user|role
//! GRANT TLS MANAGEMENT ON DBMS TO user|role     REVOKE TLS MANAGEMENT ON DBMS FROM user|role
//! SHOW PRIVILEGES [FOR name]
//! ```
//! Passwords may be given as parameters (`$pw`). Changes apply at once and are not part of the
//! surrounding transaction. The statements are parsed by the one parser
//! (`graphward_cypher::parser`) into [`graphward_core::commands::AuthCommand`] and authorized by
//! the front door from `crate::policy` before they reach this handler.

use std::sync::Arc;

use graphward_core::commands::{
    wrong_family, AuthCommand as Command, Command as AnyCommand, CommandContext, CommandFamily,
    GraphLevel, RowsStream, ServerCommand,
};
use graphward_core::engine::{Params, ResultStream};
use graphward_core::{Error, ErrorCode, Result, Value};

use crate::service::AuthService;
use crate::store::Level;

fn level(l: GraphLevel) -> Level {
    match l {
        GraphLevel::Read => Level::Read,
        GraphLevel::Write => Level::Write,
        GraphLevel::Admin => Level::Admin,
    }
}

/// The server command handler for users, roles and privileges.
pub struct AuthCommands {
    auth: Arc<AuthService>,
}

impl AuthCommands {
    pub fn new(auth: Arc<AuthService>) -> Self {
        AuthCommands { auth }
    }

    fn run_auth(
        &self,
        cmd: Command,
        params: &Params,
        ctx: &CommandContext<'_>,
    ) -> Result<RowsStream> {
        let db = ctx.database;
        let auth = &self.auth;
        let store = auth.store();
        let s = |x: &str| Value::String(x.to_string());
        let done = |n: u64| Ok(RowsStream::empty(db).with_system_updates(n));
        match cmd {
            Command::ShowCurrentUser => {
                let user = ctx.principal.user.clone();
                let roles = match &user {
                    Some(u) => store
                        .user(u)?
                        .map(|r| r.roles.iter().map(|x| s(x)).collect())
                        .unwrap_or_default(),
                    None => Vec::new(),
                };
                Ok(RowsStream::new(
                    vec!["user".into(), "roles".into()],
                    vec![vec![
                        user.map(Value::String).unwrap_or(Value::Null),
                        Value::List(roles),
                    ]],
                    db,
                ))
            }
            Command::ChangeOwnPassword { old, new } => {
                let Some(user) = ctx.principal.user.clone() else {
                    return Err(Error::new(ErrorCode::Unauthorized, "not authenticated"));
                };
                let (old, new) = (old.resolve(params)?, new.resolve(params)?);
                auth.check_password(&user, &old, None).map_err(|_| {
                    Error::new(
                        ErrorCode::Forbidden,
                        "the current password given is not correct",
                    )
                })?;
                store.set_hash(&user, auth.hash(&new)?)?;
                tracing::info!(user = %user, "password changed by its user");
                done(1)
            }
            Command::ShowPrivileges { name } => {
                let targets: Vec<String> = match name {
                    Some(n) => vec![n],
                    None => match &ctx.principal.user {
                        Some(u) if !auth.is_disabled() => vec![u.clone()],
                        _ => store.users()?.into_iter().map(|(n, _)| n).collect(),
                    },
                };
                let mut rows = Vec::new();
                for t in targets {
                    for (graph, level, source) in store.privileges_of(&t)? {
                        rows.push(vec![
                            s(&t),
                            s(level.as_str()),
                            s(&graph),
                            s(&source),
                            s("GRANTED"),
                        ]);
                    }
                    for (privilege, source) in store.dbms_privileges_of(&t)? {
                        rows.push(vec![
                            s(&t),
                            s(&privilege),
                            s("DBMS"),
                            s(&source),
                            s("GRANTED"),
                        ]);
                    }
                }
                Ok(RowsStream::new(
                    ["user", "privilege", "graph", "source", "access"]
                        .iter()
                        .map(|c| c.to_string())
                        .collect(),
                    rows,
                    db,
                ))
            }
            Command::CreateSecret { alias, user } => {
                let user = self.secret_owner(ctx, user)?;
                let (alias, secret) = auth.create_secret(&user, alias.as_deref())?;
                Ok(RowsStream::new(
                    vec!["user".into(), "alias".into(), "secret".into()],
                    vec![vec![s(&user), s(&alias), s(&secret)]],
                    db,
                )
                .with_system_updates(1))
            }
            Command::ShowSecrets { user } => {
                let user = self.secret_owner(ctx, user)?;
                let rec = store
                    .user(&user)?
                    .ok_or_else(|| Error::argument(format!("user '{user}' does not exist")))?;
                let rows = rec
                    .secrets
                    .iter()
                    .map(|(alias, r)| vec![s(&user), s(alias), s(&r.masked), Value::Int(r.created)])
                    .collect();
                Ok(RowsStream::new(
                    ["user", "alias", "secret", "created"]
                        .iter()
                        .map(|c| c.to_string())
                        .collect(),
                    rows,
                    db,
                ))
            }
            Command::DropSecret { alias, user } => {
                let user = self.secret_owner(ctx, user)?;
                if !store.drop_secret(&user, &alias)? {
                    return Err(Error::argument(format!(
                        "user '{user}' has no secret with alias '{alias}'"
                    )));
                }
                tracing::info!(user = %user, alias = %alias, "secret dropped");
                done(1)
            }
            other => self.admin(other, params, db),
        }
    }

    /// Whose secrets a secret command touches: the caller's, or the user named by `FOR`. The
    /// front door has checked that the caller may (a password login for its own secrets, ADMIN
    /// on every graph for another user's).
    fn secret_owner(&self, ctx: &CommandContext<'_>, user: Option<String>) -> Result<String> {
        match user {
            Some(u) => Ok(u),
            None => ctx.principal.user.clone().ok_or_else(|| {
                Error::new(
                    ErrorCode::Unauthorized,
                    "not authenticated: log in as the user whose secrets these are",
                )
            }),
        }
    }

    fn admin(&self, cmd: Command, params: &Params, db: &str) -> Result<RowsStream> {
        let auth = &self.auth;
        let store = auth.store();
        let s = |x: &str| Value::String(x.to_string());
        let done =
            |changed: bool| Ok(RowsStream::empty(db).with_system_updates(u64::from(changed)));
        match cmd {
            Command::CreateUser {
                name,
                password,
                if_not_exists,
            } => {
                let hash = match password {
                    Some(p) => auth.hash(&p.resolve(params)?)?,
                    // No password: the user can only sign in with a token.
                    None => String::new(),
                };
                let created = store.create_user(&name, hash, if_not_exists)?;
                if created {
                    tracing::info!(user = %name, "user created");
                }
                done(created)
            }
            Command::SetPassword { name, password } => {
                if !store.user_exists(&name) {
                    return Err(Error::argument(format!("user '{name}' does not exist")));
                }
                store.set_hash(&name, auth.hash(&password.resolve(params)?)?)?;
                tracing::info!(user = %name, "password changed by an administrator");
                done(true)
            }
            Command::DropUser { name, if_exists } => {
                let dropped = store.drop_user(&name, if_exists)?;
                if dropped {
                    tracing::info!(user = %name, "user dropped");
                }
                done(dropped)
            }
            Command::ShowUsers => {
                let rows = store
                    .users()?
                    .into_iter()
                    .map(|(name, rec)| {
                        vec![
                            s(&name),
                            Value::List(rec.roles.iter().map(|r| s(r)).collect()),
                            Value::Bool(false),
                            Value::Bool(false),
                            Value::Null,
                        ]
                    })
                    .collect();
                Ok(RowsStream::new(
                    [
                        "user",
                        "roles",
                        "passwordChangeRequired",
                        "suspended",
                        "home",
                    ]
                    .iter()
                    .map(|c| c.to_string())
                    .collect(),
                    rows,
                    db,
                ))
            }
            Command::CreateRole {
                name,
                if_not_exists,
            } => done(store.create_role(&name, if_not_exists)?),
            Command::DropRole { name, if_exists } => done(store.drop_role(&name, if_exists)?),
            Command::ShowRoles => {
                let rows = store
                    .roles()?
                    .into_iter()
                    .map(|(name, _)| vec![s(&name)])
                    .collect();
                Ok(RowsStream::new(vec!["role".into()], rows, db))
            }
            Command::GrantRole { roles, user } => {
                for r in &roles {
                    store.grant_role(r, &user)?;
                }
                done(true)
            }
            Command::RevokeRole { roles, user } => {
                for r in &roles {
                    store.revoke_role(r, &user)?;
                }
                done(true)
            }
            Command::Grant { levels, graph, to } => {
                for l in levels {
                    store.grant(level(l), &graph, &to)?;
                }
                tracing::info!(to = %to, graph = %graph, "privileges granted");
                done(true)
            }
            Command::Revoke {
                levels,
                graph,
                from,
            } => {
                for l in levels {
                    store.revoke(level(l), &graph, &from)?;
                }
                tracing::info!(from = %from, graph = %graph, "privileges revoked");
                done(true)
            }
            Command::GrantDbms { privilege, to } => {
                store.grant_dbms(privilege, &to)?;
                tracing::info!(to = %to, privilege = privilege.as_str(), "DBMS privilege granted");
                done(true)
            }
            Command::RevokeDbms { privilege, from } => {
                store.revoke_dbms(privilege, &from)?;
                tracing::info!(from = %from, privilege = privilege.as_str(), "DBMS privilege revoked");
                done(true)
            }
            Command::RotateTokenKey => {
                let kid = auth.rotate_signing_key()?;
                Ok(RowsStream::new(vec!["kid".into()], vec![vec![s(&kid)]], db)
                    .with_system_updates(1))
            }
            Command::ShowCurrentUser
            | Command::ChangeOwnPassword { .. }
            | Command::ShowPrivileges { .. }
            | Command::CreateSecret { .. }
            | Command::ShowSecrets { .. }
            | Command::DropSecret { .. } => Err(Error::internal("unreachable command")),
        }
    }
}

impl ServerCommand for AuthCommands {
    fn family(&self) -> CommandFamily {
        CommandFamily::Auth
    }

    fn run(
        &self,
        command: &AnyCommand,
        params: &Params,
        ctx: &CommandContext<'_>,
    ) -> Result<Box<dyn ResultStream>> {
        match command {
            AnyCommand::Auth(cmd) => self
                .run_auth(cmd.clone(), params, ctx)
                .map(RowsStream::boxed),
            other => Err(wrong_family(other)),
        }
    }
}
