//! The user store: users, roles and per-graph privileges, in their own redb file
//! (`DATA_DIR/system/auth.redb`), mirrored in memory for cheap privilege checks.
//!
//! Every change is written to disk (one redb write transaction, durable on commit) before the
//! in-memory copy changes, so what a client was told happened survives a restart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use graphward_core::{Error, ErrorCode, Result};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users");
const ROLES: TableDefinition<&str, &[u8]> = TableDefinition::new("roles");
/// Dropped user names → when (seconds since the epoch): a user created again under the same
/// name refuses every token issued up to the drop (the old user's tokens name it in `sub`).
const DROPPED: TableDefinition<&str, i64> = TableDefinition::new("dropped_users");

/// Most secrets one user may hold.
pub const MAX_SECRETS_PER_USER: usize = 32;

/// The wildcard graph name (`ON GRAPH *`).
pub const ALL_GRAPHS: &str = "*";

/// A privilege level on a graph. Levels are cumulative: WRITE includes READ, ADMIN includes
/// WRITE. ADMIN on `*` is needed for user, role and database management.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    Read,
    Write,
    Admin,
}

impl Level {
    pub fn as_str(&self) -> &'static str {
        match self {
            Level::Read => "READ",
            Level::Write => "WRITE",
            Level::Admin => "ADMIN",
        }
    }
    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_uppercase().as_str() {
            "READ" => Some(Level::Read),
            "WRITE" => Some(Level::Write),
            "ADMIN" => Some(Level::Admin),
            _ => None,
        }
    }
    /// The level just below (what remains after revoking `self`).
    fn below(&self) -> Option<Level> {
        match self {
            Level::Read => None,
            Level::Write => Some(Level::Read),
            Level::Admin => Some(Level::Write),
        }
    }
}

/// Privileges: graph name (lower case) or `*` → level.
pub type Privileges = BTreeMap<String, Level>;

pub use graphward_core::auth::DbmsPrivilege;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct UserRecord {
    /// PHC string of the argon2id hash.
    pub hash: String,
    #[serde(default)]
    pub roles: BTreeSet<String>,
    #[serde(default)]
    pub privileges: Privileges,
    /// Tokens issued before this time (seconds since the epoch) are refused ("revoke all").
    #[serde(default)]
    pub tokens_not_before: i64,
    /// DBMS privileges ([`DbmsPrivilege::as_str`]) granted to the user itself.
    #[serde(default)]
    pub dbms: BTreeSet<String>,
    /// The user's block list: SHA-256 digest (hex) of a dropped token → its `exp`. Entries
    /// whose token has expired are pruned on every change.
    #[serde(default)]
    pub blocked: BTreeMap<String, i64>,
    /// User secrets (for `POST /gsql/v1/tokens` with `{"secret": ...}`), by alias.
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretRecord>,
}

/// A user secret: only its SHA-256 digest is stored (the secret is 32 random bytes, shown once).
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct SecretRecord {
    /// Hex SHA-256 of the secret.
    pub digest: String,
    /// The secret masked for `SHOW SECRETS` (first and last four characters).
    pub masked: String,
    /// Creation time, seconds since the epoch.
    pub created: i64,
}

/// Why [`Store::block_tokens`] refused.
#[derive(Debug, Clone, PartialEq)]
pub enum BlockError {
    /// The user's block list would hold more than `limit` live entries.
    Limit {
        live: usize,
        adding: usize,
        limit: usize,
    },
    Other(Error),
}

impl From<Error> for BlockError {
    fn from(e: Error) -> Self {
        BlockError::Other(e)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct RoleRecord {
    #[serde(default)]
    pub privileges: Privileges,
    /// DBMS privileges ([`DbmsPrivilege::as_str`]) of the role.
    #[serde(default)]
    pub dbms: BTreeSet<String>,
}

#[derive(Debug, Clone, Default)]
struct State {
    users: BTreeMap<String, UserRecord>,
    roles: BTreeMap<String, RoleRecord>,
    dropped: BTreeMap<String, i64>,
}

pub struct Store {
    path: PathBuf,
    db: redb::Database,
    state: RwLock<State>,
    /// Serializes writers so that read-modify-write of a record is atomic.
    write: Mutex<()>,
}

fn store_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::internal(format!("user store {}: {e}", path.display()))
}

fn lock_err() -> Error {
    Error::internal("user store lock poisoned")
}

/// A name for a user or role: 1-64 characters, letters, digits, `_`, `-`, `.`, `@`.
pub fn valid_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
    if ok {
        Ok(())
    } else {
        Err(Error::argument(format!(
            "invalid name {name:?}: use 1-64 letters, digits, '_', '-', '.' or '@'"
        )))
    }
}

impl Store {
    /// Writes a consistent copy of the store (one read transaction) to the new file `dest`,
    /// mode 0600.
    pub(crate) fn backup_to(&self, dest: &Path) -> Result<()> {
        let err = |e: &dyn std::fmt::Display| store_err(dest, e);
        {
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                o.mode(0o600);
            }
            o.open(dest).map_err(|e| err(&e))?;
        }
        let rtxn = self.db.begin_read().map_err(|e| err(&e))?;
        let out = redb::Database::create(dest).map_err(|e| err(&e))?;
        let w = out.begin_write().map_err(|e| err(&e))?;
        {
            for def in [USERS, ROLES] {
                let src = rtxn.open_table(def).map_err(|e| err(&e))?;
                let mut dst = w.open_table(def).map_err(|e| err(&e))?;
                for entry in src.iter().map_err(|e| err(&e))? {
                    let (k, v) = entry.map_err(|e| err(&e))?;
                    dst.insert(k.value(), v.value()).map_err(|e| err(&e))?;
                }
            }
            let src = rtxn.open_table(DROPPED).map_err(|e| err(&e))?;
            let mut dst = w.open_table(DROPPED).map_err(|e| err(&e))?;
            for entry in src.iter().map_err(|e| err(&e))? {
                let (k, v) = entry.map_err(|e| err(&e))?;
                dst.insert(k.value(), v.value()).map_err(|e| err(&e))?;
            }
        }
        w.commit().map_err(|e| err(&e))?;
        out.close().map_err(|e| err(&e))?;
        Ok(())
    }

    /// Open (or create) the store at `path`; the parent directory is created (mode 0700).
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(parent) = path.parent() {
            if !parent.exists() {
                let mut b = std::fs::DirBuilder::new();
                b.recursive(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::DirBuilderExt;
                    b.mode(0o700);
                }
                b.create(parent).map_err(|e| store_err(parent, e))?;
            }
        }
        let db = redb::Database::create(path).map_err(|e| store_err(path, e))?;
        let wtxn = db.begin_write().map_err(|e| store_err(path, e))?;
        {
            wtxn.open_table(USERS).map_err(|e| store_err(path, e))?;
            wtxn.open_table(ROLES).map_err(|e| store_err(path, e))?;
            wtxn.open_table(DROPPED).map_err(|e| store_err(path, e))?;
        }
        wtxn.commit().map_err(|e| store_err(path, e))?;
        let mut state = State::default();
        let rtxn = db.begin_read().map_err(|e| store_err(path, e))?;
        let users = rtxn.open_table(USERS).map_err(|e| store_err(path, e))?;
        for entry in users.iter().map_err(|e| store_err(path, e))? {
            let (k, v) = entry.map_err(|e| store_err(path, e))?;
            let rec: UserRecord = serde_json::from_slice(v.value())
                .map_err(|e| store_err(path, format!("user {:?}: {e}", k.value())))?;
            state.users.insert(k.value().to_string(), rec);
        }
        let roles = rtxn.open_table(ROLES).map_err(|e| store_err(path, e))?;
        for entry in roles.iter().map_err(|e| store_err(path, e))? {
            let (k, v) = entry.map_err(|e| store_err(path, e))?;
            let rec: RoleRecord = serde_json::from_slice(v.value())
                .map_err(|e| store_err(path, format!("role {:?}: {e}", k.value())))?;
            state.roles.insert(k.value().to_string(), rec);
        }
        let dropped = rtxn.open_table(DROPPED).map_err(|e| store_err(path, e))?;
        for entry in dropped.iter().map_err(|e| store_err(path, e))? {
            let (k, v) = entry.map_err(|e| store_err(path, e))?;
            state.dropped.insert(k.value().to_string(), v.value());
        }
        Ok(Store {
            path: path.to_path_buf(),
            db,
            state: RwLock::new(state),
            write: Mutex::new(()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, State>> {
        self.state.read().map_err(|_| lock_err())
    }

    pub fn user(&self, name: &str) -> Result<Option<UserRecord>> {
        Ok(self.read()?.users.get(name).cloned())
    }

    /// `f` of the user's record, read in place (no copy): `None` if there is no such user.
    /// `f` must not call back into the store.
    pub fn with_user<R>(&self, name: &str, f: impl FnOnce(&UserRecord) -> R) -> Result<Option<R>> {
        Ok(self.read()?.users.get(name).map(f))
    }

    pub fn user_exists(&self, name: &str) -> bool {
        self.read()
            .map(|s| s.users.contains_key(name))
            .unwrap_or(false)
    }

    pub fn role_exists(&self, name: &str) -> bool {
        self.read()
            .map(|s| s.roles.contains_key(name))
            .unwrap_or(false)
    }

    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.read()?.users.is_empty())
    }

    pub fn users(&self) -> Result<Vec<(String, UserRecord)>> {
        Ok(self
            .read()?
            .users
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    pub fn roles(&self) -> Result<Vec<(String, RoleRecord)>> {
        Ok(self
            .read()?
            .roles
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    /// The user's effective level on `graph` (own privileges and its roles', `*` included).
    pub fn level(&self, user: &str, graph: &str) -> Option<Level> {
        let state = self.read().ok()?;
        let rec = state.users.get(user)?;
        let graph = graph.to_ascii_lowercase();
        let of = |p: &Privileges| {
            [p.get(&graph), p.get(ALL_GRAPHS)]
                .into_iter()
                .flatten()
                .copied()
                .max()
        };
        let mut best = of(&rec.privileges);
        for role in &rec.roles {
            if let Some(r) = state.roles.get(role) {
                best = best.max(of(&r.privileges));
            }
        }
        best
    }

    /// Every privilege the user holds, with where it comes from (`user` or the role name).
    pub fn privileges_of(&self, name: &str) -> Result<Vec<(String, Level, String)>> {
        let state = self.read()?;
        let mut out = Vec::new();
        if let Some(rec) = state.users.get(name) {
            for (g, l) in &rec.privileges {
                out.push((g.clone(), *l, "user".to_string()));
            }
            for role in &rec.roles {
                if let Some(r) = state.roles.get(role) {
                    for (g, l) in &r.privileges {
                        out.push((g.clone(), *l, role.clone()));
                    }
                }
            }
        } else if let Some(r) = state.roles.get(name) {
            for (g, l) in &r.privileges {
                out.push((g.clone(), *l, name.to_string()));
            }
        } else {
            return Err(not_found(name));
        }
        Ok(out)
    }

    /// Apply `f` to a copy of the state, persist what changed, then publish it.
    fn update<T>(&self, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        let _w = self.write.lock().map_err(|_| lock_err())?;
        let mut next = self.read()?.clone();
        let out = f(&mut next)?;
        let before = self.read()?.clone();
        let p = &self.path;
        let wtxn = self.db.begin_write().map_err(|e| store_err(p, e))?;
        {
            let mut users = wtxn.open_table(USERS).map_err(|e| store_err(p, e))?;
            for name in before.users.keys() {
                if !next.users.contains_key(name) {
                    users.remove(name.as_str()).map_err(|e| store_err(p, e))?;
                }
            }
            for (name, rec) in &next.users {
                let bytes = serde_json::to_vec(rec).map_err(|e| store_err(p, e))?;
                users
                    .insert(name.as_str(), bytes.as_slice())
                    .map_err(|e| store_err(p, e))?;
            }
            let mut roles = wtxn.open_table(ROLES).map_err(|e| store_err(p, e))?;
            for name in before.roles.keys() {
                if !next.roles.contains_key(name) {
                    roles.remove(name.as_str()).map_err(|e| store_err(p, e))?;
                }
            }
            for (name, rec) in &next.roles {
                let bytes = serde_json::to_vec(rec).map_err(|e| store_err(p, e))?;
                roles
                    .insert(name.as_str(), bytes.as_slice())
                    .map_err(|e| store_err(p, e))?;
            }
            if before.dropped != next.dropped {
                let mut dropped = wtxn.open_table(DROPPED).map_err(|e| store_err(p, e))?;
                for name in before.dropped.keys() {
                    if !next.dropped.contains_key(name) {
                        dropped.remove(name.as_str()).map_err(|e| store_err(p, e))?;
                    }
                }
                for (name, t) in &next.dropped {
                    dropped
                        .insert(name.as_str(), *t)
                        .map_err(|e| store_err(p, e))?;
                }
            }
        }
        wtxn.commit().map_err(|e| store_err(p, e))?;
        *self.state.write().map_err(|_| lock_err())? = next;
        Ok(out)
    }

    /// Create a user; `Ok(false)` if it exists and `if_not_exists`.
    pub fn create_user(&self, name: &str, hash: String, if_not_exists: bool) -> Result<bool> {
        valid_name(name)?;
        self.update(|s| {
            if s.users.contains_key(name) {
                if if_not_exists {
                    return Ok(false);
                }
                return Err(Error::argument(format!("user '{name}' already exists")));
            }
            if s.roles.contains_key(name) {
                return Err(Error::argument(format!(
                    "'{name}' is already the name of a role"
                )));
            }
            // A name used before: the old user's tokens (issued up to its drop) stay refused.
            let tokens_not_before = s.dropped.remove(name).map(|t| t + 1).unwrap_or(0);
            s.users.insert(
                name.to_string(),
                UserRecord {
                    hash,
                    tokens_not_before,
                    ..UserRecord::default()
                },
            );
            Ok(true)
        })
    }

    pub fn drop_user(&self, name: &str, if_exists: bool) -> Result<bool> {
        self.update(|s| {
            if s.users.remove(name).is_none() {
                if if_exists {
                    return Ok(false);
                }
                return Err(Error::argument(format!("user '{name}' does not exist")));
            }
            if !s.users.values().any(|u| has_global_admin(u, &s.roles)) {
                return Err(Error::new(
                    ErrorCode::Forbidden,
                    format!("cannot drop '{name}': it is the last user with ADMIN on every graph"),
                ));
            }
            s.dropped.insert(name.to_string(), crate::jwt::now_secs());
            Ok(true)
        })
    }

    pub fn set_hash(&self, name: &str, hash: String) -> Result<()> {
        self.update(|s| match s.users.get_mut(name) {
            Some(u) => {
                u.hash = hash;
                Ok(())
            }
            None => Err(not_found_user(name)),
        })
    }

    pub fn set_tokens_not_before(&self, name: &str, t: i64) -> Result<()> {
        self.update(|s| match s.users.get_mut(name) {
            Some(u) => {
                u.tokens_not_before = t;
                Ok(())
            }
            None => Err(not_found_user(name)),
        })
    }

    /// Add tokens (digest → exp) to `user`'s block list. Entries whose token has expired
    /// (`exp < now`) are pruned first. Refused, and nothing changes, when the list would then
    /// hold more than `limit` entries: an older entry is never dropped to make room.
    /// Returns how many entries were new.
    pub fn block_tokens(
        &self,
        user: &str,
        tokens: &[(String, i64)],
        limit: usize,
        now: i64,
    ) -> std::result::Result<usize, BlockError> {
        let mut refused = None;
        let added = self.update(|s| {
            let u = s.users.get_mut(user).ok_or_else(|| not_found_user(user))?;
            u.blocked.retain(|_, exp| *exp >= now);
            let new: BTreeMap<String, i64> = tokens
                .iter()
                .filter(|(d, exp)| *exp >= now && !u.blocked.contains_key(d))
                .cloned()
                .collect();
            if u.blocked.len() + new.len() > limit {
                refused = Some(BlockError::Limit {
                    live: u.blocked.len(),
                    adding: new.len(),
                    limit,
                });
                return Err(Error::new(ErrorCode::ResourceLimit, "block list full"));
            }
            let n = new.len();
            u.blocked.extend(new);
            Ok(n)
        });
        match (added, refused) {
            (_, Some(r)) => Err(r),
            (Ok(n), None) => Ok(n),
            (Err(e), None) => Err(BlockError::Other(e)),
        }
    }

    /// Empty `user`'s block list; returns how many live entries it held.
    pub fn clear_blocked(&self, user: &str, now: i64) -> Result<usize> {
        self.update(|s| {
            let u = s.users.get_mut(user).ok_or_else(|| not_found_user(user))?;
            let n = u.blocked.values().filter(|exp| **exp >= now).count();
            u.blocked.clear();
            Ok(n)
        })
    }

    /// Add a secret for `user` under `alias` (refused if the alias is taken).
    pub fn add_secret(&self, user: &str, alias: &str, rec: SecretRecord) -> Result<()> {
        valid_name(alias)?;
        self.update(|s| {
            let u = s.users.get_mut(user).ok_or_else(|| not_found_user(user))?;
            if u.secrets.contains_key(alias) {
                return Err(Error::argument(format!(
                    "user '{user}' already has a secret with alias '{alias}'"
                )));
            }
            if u.secrets.len() >= MAX_SECRETS_PER_USER {
                return Err(Error::new(
                    ErrorCode::ResourceLimit,
                    format!(
                        "user '{user}' already has {MAX_SECRETS_PER_USER} secrets: drop one first"
                    ),
                ));
            }
            u.secrets.insert(alias.to_string(), rec);
            Ok(())
        })
    }

    /// Remove `user`'s secret `alias`; `Ok(false)` if there was none.
    pub fn drop_secret(&self, user: &str, alias: &str) -> Result<bool> {
        self.update(|s| {
            let u = s.users.get_mut(user).ok_or_else(|| not_found_user(user))?;
            Ok(u.secrets.remove(alias).is_some())
        })
    }

    /// The user owning the secret with this digest, if any.
    pub fn user_by_secret(&self, digest: &str) -> Result<Option<String>> {
        let state = self.read()?;
        Ok(state
            .users
            .iter()
            .find(|(_, u)| u.secrets.values().any(|s| s.digest == digest))
            .map(|(name, _)| name.clone()))
    }

    pub fn create_role(&self, name: &str, if_not_exists: bool) -> Result<bool> {
        valid_name(name)?;
        self.update(|s| {
            if s.roles.contains_key(name) {
                if if_not_exists {
                    return Ok(false);
                }
                return Err(Error::argument(format!("role '{name}' already exists")));
            }
            if s.users.contains_key(name) {
                return Err(Error::argument(format!(
                    "'{name}' is already the name of a user"
                )));
            }
            s.roles.insert(name.to_string(), RoleRecord::default());
            Ok(true)
        })
    }

    pub fn drop_role(&self, name: &str, if_exists: bool) -> Result<bool> {
        self.update(|s| {
            if s.roles.remove(name).is_none() {
                if if_exists {
                    return Ok(false);
                }
                return Err(Error::argument(format!("role '{name}' does not exist")));
            }
            for u in s.users.values_mut() {
                u.roles.remove(name);
            }
            check_admin_left(s)?;
            Ok(true)
        })
    }

    pub fn grant_role(&self, role: &str, user: &str) -> Result<()> {
        self.update(|s| {
            if !s.roles.contains_key(role) {
                return Err(Error::argument(format!("role '{role}' does not exist")));
            }
            match s.users.get_mut(user) {
                Some(u) => {
                    u.roles.insert(role.to_string());
                    Ok(())
                }
                None => Err(not_found_user(user)),
            }
        })
    }

    pub fn revoke_role(&self, role: &str, user: &str) -> Result<()> {
        self.update(|s| {
            match s.users.get_mut(user) {
                Some(u) => {
                    u.roles.remove(role);
                }
                None => return Err(not_found_user(user)),
            }
            check_admin_left(s)
        })
    }

    /// Grant `level` on `graph` to a user or a role.
    pub fn grant(&self, level: Level, graph: &str, to: &str) -> Result<()> {
        let graph = graph.to_ascii_lowercase();
        self.update(|s| {
            let p = privileges_mut(s, to)?;
            let cur = p.get(&graph).copied();
            p.insert(graph.clone(), cur.max(Some(level)).unwrap_or(level));
            Ok(())
        })
    }

    /// Grant a DBMS privilege to a user or a role.
    pub fn grant_dbms(&self, privilege: DbmsPrivilege, to: &str) -> Result<()> {
        self.update(|s| {
            dbms_mut(s, to)?.insert(privilege.as_str().to_string());
            Ok(())
        })
    }

    /// Revoke a DBMS privilege from a user or a role (ADMIN on `*` still includes it).
    pub fn revoke_dbms(&self, privilege: DbmsPrivilege, from: &str) -> Result<()> {
        self.update(|s| {
            dbms_mut(s, from)?.remove(privilege.as_str());
            Ok(())
        })
    }

    /// Whether the user holds `privilege` itself or through a role, or has ADMIN on `*`.
    pub fn has_dbms(&self, user: &str, privilege: DbmsPrivilege) -> bool {
        if self.level(user, ALL_GRAPHS) == Some(Level::Admin) {
            return true;
        }
        let Ok(state) = self.read() else {
            return false;
        };
        let Some(rec) = state.users.get(user) else {
            return false;
        };
        let name = privilege.as_str();
        rec.dbms.contains(name)
            || rec
                .roles
                .iter()
                .any(|r| state.roles.get(r).is_some_and(|r| r.dbms.contains(name)))
    }

    /// The DBMS privileges a user holds, with where each comes from (`user` or the role name).
    pub fn dbms_privileges_of(&self, name: &str) -> Result<Vec<(String, String)>> {
        let state = self.read()?;
        let mut out = Vec::new();
        if let Some(rec) = state.users.get(name) {
            out.extend(rec.dbms.iter().map(|p| (p.clone(), "user".to_string())));
            for role in &rec.roles {
                if let Some(r) = state.roles.get(role) {
                    out.extend(r.dbms.iter().map(|p| (p.clone(), role.clone())));
                }
            }
        } else if let Some(r) = state.roles.get(name) {
            out.extend(r.dbms.iter().map(|p| (p.clone(), "role".to_string())));
        }
        Ok(out)
    }

    /// Revoke `level` on `graph` from a user or a role; the levels below it remain.
    pub fn revoke(&self, level: Level, graph: &str, from: &str) -> Result<()> {
        let graph = graph.to_ascii_lowercase();
        self.update(|s| {
            let p = privileges_mut(s, from)?;
            if let Some(cur) = p.get(&graph).copied() {
                if cur >= level {
                    match level.below() {
                        Some(b) => p.insert(graph.clone(), b),
                        None => p.remove(&graph),
                    };
                }
            }
            check_admin_left(s)
        })
    }
}

fn dbms_mut<'a>(s: &'a mut State, name: &str) -> Result<&'a mut BTreeSet<String>> {
    if let Some(u) = s.users.get_mut(name) {
        return Ok(&mut u.dbms);
    }
    if let Some(r) = s.roles.get_mut(name) {
        return Ok(&mut r.dbms);
    }
    Err(not_found(name))
}

fn privileges_mut<'a>(s: &'a mut State, name: &str) -> Result<&'a mut Privileges> {
    if let Some(u) = s.users.get_mut(name) {
        return Ok(&mut u.privileges);
    }
    if let Some(r) = s.roles.get_mut(name) {
        return Ok(&mut r.privileges);
    }
    Err(not_found(name))
}

fn has_global_admin(u: &UserRecord, roles: &BTreeMap<String, RoleRecord>) -> bool {
    let admin = |p: &Privileges| p.get(ALL_GRAPHS) == Some(&Level::Admin);
    admin(&u.privileges)
        || u.roles
            .iter()
            .any(|r| roles.get(r).is_some_and(|r| admin(&r.privileges)))
}

/// Refuse a change that would leave nobody able to administer the server.
fn check_admin_left(s: &State) -> Result<()> {
    if s.users.values().any(|u| has_global_admin(u, &s.roles)) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::Forbidden,
            "refused: no user would be left with ADMIN on every graph",
        ))
    }
}

fn not_found(name: &str) -> Error {
    Error::argument(format!("no user or role named '{name}'"))
}

fn not_found_user(name: &str) -> Error {
    Error::argument(format!("user '{name}' does not exist"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dbms_privileges_from_user_role_and_global_admin() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.redb");
        let tls = DbmsPrivilege::TlsManagement;
        {
            let s = Store::open(&path).unwrap();
            s.create_user("root", "h".into(), false).unwrap();
            s.grant(Level::Admin, "*", "root").unwrap();
            s.create_user("ops", "h".into(), false).unwrap();
            s.create_user("bob", "h".into(), false).unwrap();
            s.create_role("tls", false).unwrap();
            assert!(s.has_dbms("root", tls), "ADMIN on * includes it");
            assert!(!s.has_dbms("ops", tls));
            s.grant_dbms(tls, "tls").unwrap();
            s.grant_role("tls", "ops").unwrap();
            s.grant_dbms(tls, "bob").unwrap();
            assert!(s.grant_dbms(tls, "nobody").is_err());
        }
        let s = Store::open(&path).unwrap();
        assert!(s.has_dbms("ops", tls) && s.has_dbms("bob", tls));
        assert_eq!(
            s.dbms_privileges_of("ops").unwrap(),
            vec![("TLS MANAGEMENT".to_string(), "tls".to_string())]
        );
        assert_eq!(
            s.level("ops", "neo4j"),
            None,
            "no graph privilege comes with it"
        );
        s.revoke_dbms(tls, "tls").unwrap();
        s.revoke_dbms(tls, "bob").unwrap();
        assert!(!s.has_dbms("ops", tls) && !s.has_dbms("bob", tls));
        assert!(!s.has_dbms("missing", tls));
    }

    #[test]
    fn store_survives_reopen_and_computes_levels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("system").join("auth.redb");
        {
            let s = Store::open(&path).unwrap();
            assert!(s.is_empty().unwrap());
            s.create_user("neo4j", "h".into(), false).unwrap();
            s.create_role("admin", false).unwrap();
            s.grant(Level::Admin, "*", "admin").unwrap();
            s.grant_role("admin", "neo4j").unwrap();
            s.create_user("alice", "h2".into(), false).unwrap();
            s.grant(Level::Write, "Movies", "alice").unwrap();
            assert!(s.create_user("alice", "x".into(), false).is_err());
            assert!(!s.create_user("alice", "x".into(), true).unwrap());
            assert!(s.create_role("alice", false).is_err());
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.level("neo4j", "anything"), Some(Level::Admin));
        assert_eq!(s.level("alice", "movies"), Some(Level::Write));
        assert_eq!(s.level("alice", "other"), None);
        s.revoke(Level::Write, "movies", "alice").unwrap();
        assert_eq!(s.level("alice", "movies"), Some(Level::Read));
        s.revoke(Level::Read, "movies", "alice").unwrap();
        assert_eq!(s.level("alice", "movies"), None);
        // The last administrator cannot be removed.
        assert!(s.revoke_role("admin", "neo4j").is_err());
        assert!(s.drop_user("neo4j", false).is_err());
        assert!(s.drop_role("admin", false).is_err());
        assert_eq!(s.level("neo4j", "x"), Some(Level::Admin));
        assert!(valid_name("a b").is_err());
        assert!(valid_name("").is_err());
    }
}
