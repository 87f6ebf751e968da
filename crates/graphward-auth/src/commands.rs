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
//! surrounding transaction. Everything but the `CURRENT USER` forms and a user's own
//! privileges needs ADMIN on every graph.

use std::sync::Arc;

use graphward_core::commands::{CommandContext, RowsStream, ServerCommand};
use graphward_core::engine::{Params, ResultStream};
use graphward_core::{Error, ErrorCode, Result, Value};

use crate::service::AuthService;
use crate::store::{DbmsPrivilege, Level, ALL_GRAPHS};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A bare word (keyword or name).
    Word(String),
    /// A back-quoted name.
    Quoted(String),
    Str(String),
    Param(String),
    Sym(char),
}

fn lex(q: &str) -> Result<Vec<Tok>> {
    let mut out = Vec::new();
    let chars: Vec<char> = q.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-' | '.' | '@'))
            {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect()));
        } else if c == '$' {
            let start = i + 1;
            i += 1;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Param(chars[start..i].iter().collect()));
        } else if c == '`' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(Error::syntax("unterminated `name`")),
                    Some('`') if chars.get(i + 1) == Some(&'`') => {
                        s.push('`');
                        i += 2;
                    }
                    Some('`') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        s.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Quoted(s));
        } else if c == '\'' || c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(Error::syntax("unterminated string literal")),
                    Some('\\') => {
                        let esc = chars
                            .get(i + 1)
                            .ok_or_else(|| Error::syntax("unterminated string literal"))?;
                        s.push(match esc {
                            'n' => '\n',
                            't' => '\t',
                            other => *other,
                        });
                        i += 2;
                    }
                    Some(ch) if *ch == c => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        s.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(s));
        } else if matches!(c, '*' | ',' | ';') {
            out.push(Tok::Sym(c));
            i += 1;
        } else {
            return Err(Error::syntax(format!("unexpected character {c:?}")));
        }
    }
    while out.last() == Some(&Tok::Sym(';')) {
        out.pop();
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Command {
    CreateUser {
        name: String,
        password: Option<Secret>,
        if_not_exists: bool,
    },
    SetPassword {
        name: String,
        password: Secret,
    },
    ChangeOwnPassword {
        old: Secret,
        new: Secret,
    },
    DropUser {
        name: String,
        if_exists: bool,
    },
    ShowUsers,
    ShowCurrentUser,
    CreateRole {
        name: String,
        if_not_exists: bool,
    },
    DropRole {
        name: String,
        if_exists: bool,
    },
    ShowRoles,
    GrantRole {
        roles: Vec<String>,
        user: String,
    },
    RevokeRole {
        roles: Vec<String>,
        user: String,
    },
    Grant {
        levels: Vec<Level>,
        graph: String,
        to: String,
    },
    Revoke {
        levels: Vec<Level>,
        graph: String,
        from: String,
    },
    ShowPrivileges {
        name: Option<String>,
    },
    GrantDbms {
        privilege: DbmsPrivilege,
        to: String,
    },
    RevokeDbms {
        privilege: DbmsPrivilege,
        from: String,
    },
    CreateSecret {
        alias: Option<String>,
        user: Option<String>,
    },
    ShowSecrets {
        user: Option<String>,
    },
    DropSecret {
        alias: String,
        user: Option<String>,
    },
    RotateTokenKey,
}

/// A password as written in the statement: a literal or a parameter name.
#[derive(Clone, PartialEq)]
enum Secret {
    Literal(String),
    Param(String),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Literal(_) => write!(f, "Literal(****)"),
            Secret::Param(p) => write!(f, "Param({p})"),
        }
    }
}

impl Secret {
    fn resolve(&self, params: &Params) -> Result<String> {
        match self {
            Secret::Literal(s) => Ok(s.clone()),
            Secret::Param(p) => match params.get(p) {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(Error::type_error(format!(
                    "parameter ${p} must be a string"
                ))),
                None => Err(Error::new(
                    ErrorCode::ParameterMissing,
                    format!("Expected parameter(s): {p}"),
                )),
            },
        }
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek_kw(&self, kw: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.peek_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn eat_kws(&mut self, kws: &[&str]) -> bool {
        let save = self.pos;
        for k in kws {
            if !self.eat_kw(k) {
                self.pos = save;
                return false;
            }
        }
        true
    }
    fn expect_kw(&mut self, kw: &str) -> Result<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(Error::syntax(format!("expected {kw} {}", self.where_())))
        }
    }
    fn where_(&self) -> String {
        match self.toks.get(self.pos) {
            None => "at the end of the statement".to_string(),
            Some(Tok::Word(w)) | Some(Tok::Quoted(w)) => format!("before '{w}'"),
            Some(Tok::Str(_)) => "before a string".to_string(),
            Some(Tok::Param(p)) => format!("before ${p}"),
            Some(Tok::Sym(c)) => format!("before '{c}'"),
        }
    }
    fn name(&mut self) -> Result<String> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Word(w)) | Some(Tok::Quoted(w)) => {
                self.pos += 1;
                Ok(w)
            }
            _ => Err(Error::syntax(format!("expected a name {}", self.where_()))),
        }
    }
    fn names(&mut self) -> Result<Vec<String>> {
        let mut v = vec![self.name()?];
        while self.toks.get(self.pos) == Some(&Tok::Sym(',')) {
            self.pos += 1;
            v.push(self.name()?);
        }
        Ok(v)
    }
    fn secret(&mut self) -> Result<Secret> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(Secret::Literal(s))
            }
            Some(Tok::Param(p)) => {
                self.pos += 1;
                Ok(Secret::Param(p))
            }
            _ => Err(Error::syntax(format!(
                "expected a password string or parameter {}",
                self.where_()
            ))),
        }
    }
    fn graph(&mut self) -> Result<String> {
        if !(self.eat_kw("GRAPH")
            || self.eat_kw("GRAPHS")
            || self.eat_kw("DATABASE")
            || self.eat_kw("DATABASES"))
        {
            return Err(Error::syntax(format!("expected GRAPH {}", self.where_())));
        }
        if self.toks.get(self.pos) == Some(&Tok::Sym('*')) {
            self.pos += 1;
            return Ok(ALL_GRAPHS.to_string());
        }
        Ok(self.name()?.to_ascii_lowercase())
    }
    fn levels(&mut self) -> Result<Vec<Level>> {
        let mut v = Vec::new();
        loop {
            let w = self.name()?;
            v.push(Level::parse(&w).ok_or_else(|| {
                Error::syntax(format!(
                    "unknown privilege '{w}' (use READ, WRITE or ADMIN)"
                ))
            })?);
            if self.toks.get(self.pos) == Some(&Tok::Sym(',')) {
                self.pos += 1;
            } else {
                return Ok(v);
            }
        }
    }
    /// An optional `FOR user`.
    fn for_user(&mut self) -> Result<Option<String>> {
        if self.eat_kw("FOR") {
            Ok(Some(self.name()?))
        } else {
            Ok(None)
        }
    }
    fn end(&self) -> Result<()> {
        if self.pos == self.toks.len() {
            Ok(())
        } else {
            Err(Error::syntax(format!("unexpected input {}", self.where_())))
        }
    }
}

/// `None` when the statement is not an auth command.
fn parse(query: &str) -> Option<Result<Command>> {
    let words = graphward_core::commands::keywords(query);
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let ours = matches!(
        (w(0), w(1)),
        ("CREATE", "USER")
            | ("CREATE", "ROLE")
            | ("DROP", "USER")
            | ("DROP", "ROLE")
            | ("ALTER", "USER")
            | ("ALTER", "CURRENT")
            | ("SET", "PASSWORD")
            | ("SHOW", "USERS")
            | ("SHOW", "ROLES")
            | ("SHOW", "PRIVILEGES")
            | ("SHOW", "CURRENT")
            | ("CREATE", "SECRET")
            | ("SHOW", "SECRETS")
            | ("DROP", "SECRET")
            | ("ROTATE", "TOKEN")
            | ("GRANT", _)
            | ("REVOKE", _)
    );
    if !ours {
        return None;
    }
    Some(lex(query).and_then(|toks| {
        let mut p = Parser { toks, pos: 0 };
        let cmd = parse_command(&mut p)?;
        p.end()?;
        Ok(cmd)
    }))
}

/// Syntax check only: `None` when the statement is not an auth command. For the fuzz target.
pub fn check_syntax(query: &str) -> Option<Result<()>> {
    parse(query).map(|r| r.map(|_| ()))
}

fn parse_command(p: &mut Parser) -> Result<Command> {
    if p.eat_kws(&["CREATE", "USER"]) {
        let mut if_not_exists = p.eat_kws(&["IF", "NOT", "EXISTS"]);
        let name = p.name()?;
        if_not_exists |= p.eat_kws(&["IF", "NOT", "EXISTS"]);
        let password = if p.eat_kws(&["IDENTIFIED", "BY"]) {
            Some(p.secret()?)
        } else if p.eat_kw("SET") {
            p.eat_kw("PLAINTEXT");
            p.expect_kw("PASSWORD")?;
            Some(p.secret()?)
        } else {
            None
        };
        if p.eat_kw("CHANGE") {
            p.eat_kw("NOT");
            p.expect_kw("REQUIRED")?;
        }
        return Ok(Command::CreateUser {
            name,
            password,
            if_not_exists,
        });
    }
    if p.eat_kws(&["ALTER", "CURRENT", "USER", "SET", "PASSWORD", "FROM"]) {
        let old = p.secret()?;
        p.expect_kw("TO")?;
        let new = p.secret()?;
        return Ok(Command::ChangeOwnPassword { old, new });
    }
    if p.eat_kws(&["ALTER", "USER"]) {
        let name = p.name()?;
        p.expect_kw("SET")?;
        p.eat_kw("PLAINTEXT");
        p.expect_kw("PASSWORD")?;
        let password = p.secret()?;
        if p.eat_kw("CHANGE") {
            p.eat_kw("NOT");
            p.expect_kw("REQUIRED")?;
        }
        return Ok(Command::SetPassword { name, password });
    }
    if p.eat_kws(&["SET", "PASSWORD", "FOR"]) {
        let name = p.name()?;
        p.expect_kw("TO")?;
        let password = p.secret()?;
        return Ok(Command::SetPassword { name, password });
    }
    for (kws, role) in [(["DROP", "USER"], false), (["DROP", "ROLE"], true)] {
        if p.eat_kws(&kws) {
            let mut if_exists = p.eat_kws(&["IF", "EXISTS"]);
            let name = p.name()?;
            if_exists |= p.eat_kws(&["IF", "EXISTS"]);
            return Ok(if role {
                Command::DropRole { name, if_exists }
            } else {
                Command::DropUser { name, if_exists }
            });
        }
    }
    if p.eat_kws(&["CREATE", "ROLE"]) {
        let mut if_not_exists = p.eat_kws(&["IF", "NOT", "EXISTS"]);
        let name = p.name()?;
        if_not_exists |= p.eat_kws(&["IF", "NOT", "EXISTS"]);
        return Ok(Command::CreateRole {
            name,
            if_not_exists,
        });
    }
    if p.eat_kws(&["SHOW", "USERS"]) {
        return Ok(Command::ShowUsers);
    }
    if p.eat_kws(&["SHOW", "CURRENT", "USER"]) {
        return Ok(Command::ShowCurrentUser);
    }
    if p.eat_kws(&["SHOW", "ROLES"]) {
        return Ok(Command::ShowRoles);
    }
    if p.eat_kws(&["SHOW", "PRIVILEGES"]) {
        let name = if p.eat_kw("FOR") {
            Some(p.name()?)
        } else {
            None
        };
        return Ok(Command::ShowPrivileges { name });
    }
    if p.eat_kws(&["CREATE", "SECRET"]) {
        let alias = if p.pos < p.toks.len() && !p.peek_kw("FOR") {
            Some(p.name()?)
        } else {
            None
        };
        return Ok(Command::CreateSecret {
            alias,
            user: p.for_user()?,
        });
    }
    if p.eat_kws(&["SHOW", "SECRETS"]) {
        return Ok(Command::ShowSecrets {
            user: p.for_user()?,
        });
    }
    if p.eat_kws(&["DROP", "SECRET"]) {
        let alias = p.name()?;
        return Ok(Command::DropSecret {
            alias,
            user: p.for_user()?,
        });
    }
    if p.eat_kws(&["ROTATE", "TOKEN", "SIGNING", "KEY"]) {
        return Ok(Command::RotateTokenKey);
    }
    let grant = p.eat_kw("GRANT");
    if grant || p.eat_kw("REVOKE") {
        if p.eat_kw("ROLE") || p.eat_kw("ROLES") {
            let roles = p.names()?;
            return Ok(if grant {
                p.expect_kw("TO")?;
                Command::GrantRole {
                    roles,
                    user: p.name()?,
                }
            } else {
                p.expect_kw("FROM")?;
                Command::RevokeRole {
                    roles,
                    user: p.name()?,
                }
            });
        }
        if p.eat_kw("TLS") {
            p.expect_kw("MANAGEMENT")?;
            p.expect_kw("ON")?;
            p.expect_kw("DBMS")?;
            let privilege = DbmsPrivilege::TlsManagement;
            return Ok(if grant {
                p.expect_kw("TO")?;
                Command::GrantDbms {
                    privilege,
                    to: p.name()?,
                }
            } else {
                p.expect_kw("FROM")?;
                Command::RevokeDbms {
                    privilege,
                    from: p.name()?,
                }
            });
        }
        let levels = p.levels()?;
        p.expect_kw("ON")?;
        let graph = p.graph()?;
        return Ok(if grant {
            p.expect_kw("TO")?;
            Command::Grant {
                levels,
                graph,
                to: p.name()?,
            }
        } else {
            p.expect_kw("FROM")?;
            Command::Revoke {
                levels,
                graph,
                from: p.name()?,
            }
        });
    }
    Err(Error::syntax(format!("unknown command {}", p.where_())))
}

/// The server command handler for users, roles and privileges.
pub struct AuthCommands {
    auth: Arc<AuthService>,
}

impl AuthCommands {
    pub fn new(auth: Arc<AuthService>) -> Self {
        AuthCommands { auth }
    }

    fn run(&self, cmd: Command, params: &Params, ctx: &CommandContext<'_>) -> Result<RowsStream> {
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
                let own = name.is_none() || name == ctx.principal.user;
                if !own {
                    auth.require_admin(ctx.principal)?;
                }
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
            other => {
                auth.require_admin(ctx.principal)?;
                self.admin(other, params, db)
            }
        }
    }

    /// Whose secrets a secret command touches: the caller's, or (for an administrator) the
    /// user named by `FOR`. A caller authenticated by a token cannot manage secrets (a secret
    /// mints tokens, which would outlive a revocation of the caller's token).
    fn secret_owner(&self, ctx: &CommandContext<'_>, user: Option<String>) -> Result<String> {
        let p = ctx.principal;
        if p.token.is_some() {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "Permission denied: secrets can be managed only after a password login, not with a token.",
            ));
        }
        let me = p.user.clone();
        match user {
            Some(u) if Some(&u) != me.as_ref() => {
                self.auth.require_admin(p)?;
                Ok(u)
            }
            Some(u) => Ok(u),
            None => me.ok_or_else(|| {
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
                    store.grant(l, &graph, &to)?;
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
                    store.revoke(l, &graph, &from)?;
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
    fn handle(
        &self,
        query: &str,
        params: &Params,
        ctx: &CommandContext<'_>,
    ) -> Option<Result<Box<dyn ResultStream>>> {
        let cmd = parse(query)?;
        Some(
            cmd.and_then(|c| self.run(c, params, ctx))
                .map(RowsStream::boxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(q: &str) -> Command {
        parse(q).unwrap().unwrap()
    }

    #[test]
    fn parses_the_commands() {
        assert_eq!(
            ok("CREATE USER alice IDENTIFIED BY 'secret-pw';"),
            Command::CreateUser {
                name: "alice".into(),
                password: Some(Secret::Literal("secret-pw".into())),
                if_not_exists: false
            }
        );
        assert!(matches!(
            ok("create user `bob` if not exists set password $pw change not required"),
            Command::CreateUser {
                if_not_exists: true,
                password: Some(Secret::Param(_)),
                ..
            }
        ));
        assert!(matches!(
            ok("SET PASSWORD FOR alice TO 'x'"),
            Command::SetPassword { .. }
        ));
        assert!(matches!(
            ok("ALTER CURRENT USER SET PASSWORD FROM 'a' TO 'b'"),
            Command::ChangeOwnPassword { .. }
        ));
        assert_eq!(
            ok("GRANT READ, WRITE ON GRAPH Movies TO alice"),
            Command::Grant {
                levels: vec![Level::Read, Level::Write],
                graph: "movies".into(),
                to: "alice".into()
            }
        );
        assert_eq!(
            ok("GRANT TLS MANAGEMENT ON DBMS TO ops"),
            Command::GrantDbms {
                privilege: DbmsPrivilege::TlsManagement,
                to: "ops".into()
            }
        );
        assert_eq!(
            ok("revoke tls management on dbms from ops;"),
            Command::RevokeDbms {
                privilege: DbmsPrivilege::TlsManagement,
                from: "ops".into()
            }
        );
        assert_eq!(
            ok("REVOKE ADMIN ON GRAPH * FROM ops"),
            Command::Revoke {
                levels: vec![Level::Admin],
                graph: "*".into(),
                from: "ops".into()
            }
        );
        assert_eq!(
            ok("GRANT ROLE a, b TO u"),
            Command::GrantRole {
                roles: vec!["a".into(), "b".into()],
                user: "u".into()
            }
        );
        assert_eq!(
            ok("SHOW PRIVILEGES FOR u"),
            Command::ShowPrivileges {
                name: Some("u".into())
            }
        );
        assert_eq!(
            ok("CREATE SECRET"),
            Command::CreateSecret {
                alias: None,
                user: None
            }
        );
        assert_eq!(
            ok("CREATE SECRET ci FOR bob"),
            Command::CreateSecret {
                alias: Some("ci".into()),
                user: Some("bob".into())
            }
        );
        assert_eq!(
            ok("create secret for bob"),
            Command::CreateSecret {
                alias: None,
                user: Some("bob".into())
            }
        );
        assert_eq!(ok("SHOW SECRETS"), Command::ShowSecrets { user: None });
        assert_eq!(
            ok("DROP SECRET ci"),
            Command::DropSecret {
                alias: "ci".into(),
                user: None
            }
        );
        assert_eq!(ok("ROTATE TOKEN SIGNING KEY"), Command::RotateTokenKey);
        assert!(parse("MATCH (n) RETURN n").is_none());
        assert!(parse("CREATE (u:USER)").is_none());
    }

    #[test]
    fn malformed_commands_are_syntax_errors() {
        for q in [
            "CREATE USER",
            "CREATE USER a IDENTIFIED BY",
            "CREATE USER a IDENTIFIED BY 'unterminated",
            "GRANT FLY ON GRAPH g TO a",
            "GRANT READ ON g TO a",
            "GRANT READ ON GRAPH g TO",
            "DROP USER a b",
            "SHOW USERS please",
            "GRANT READ ON GRAPH g TO a ~",
            "CREATE USER `x",
            "CREATE SECRET a b",
            "DROP SECRET",
            "SHOW SECRETS FOR",
            "ROTATE TOKEN",
        ] {
            let e = parse(q).unwrap().unwrap_err();
            assert_eq!(e.code, ErrorCode::SyntaxError, "{q}");
        }
    }

    #[test]
    fn secrets_are_not_printed() {
        let c = ok("CREATE USER a IDENTIFIED BY 'hunter2-hunter2'");
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
