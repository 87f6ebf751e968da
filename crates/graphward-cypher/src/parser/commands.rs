//! Server commands in the one parser: users, roles, privileges and secrets, TLS, configuration,
//! stored queries and transaction control. They are parsed with the same lexer as Cypher
//! (comments, backticks, string escapes, Unicode whitespace) into the typed
//! [`graphward_core::commands::Command`] values that the front door authorizes and routes.
//!
//! ```text
//! CREATE USER [IF NOT EXISTS] name [IF NOT EXISTS] [IDENTIFIED BY | SET [PLAINTEXT] PASSWORD] 'pw'
//! ALTER USER name SET [PLAINTEXT] PASSWORD 'pw'      SET PASSWORD FOR name TO 'pw'
//! ALTER CURRENT USER SET PASSWORD FROM 'old' TO 'new'
//! DROP USER [IF EXISTS] name [IF EXISTS]   SHOW USERS   SHOW CURRENT USER
//! CREATE ROLE [IF NOT EXISTS] r   DROP ROLE [IF EXISTS] r   SHOW ROLES
//! GRANT ROLE r[, r2] TO u   REVOKE ROLE r FROM u
//! GRANT|REVOKE READ|WRITE|ADMIN[, ...] ON GRAPH g|* TO|FROM user|role
//! GRANT|REVOKE TLS MANAGEMENT|METRICS ON DBMS TO|FROM user|role
//! SHOW PRIVILEGES [FOR name]
//! CREATE SECRET [alias] [FOR user]   SHOW SECRETS [FOR user]   DROP SECRET alias [FOR user]
//! ROTATE TOKEN SIGNING KEY
//! RELOAD [BOLT_SERVER|HTTP_SERVER] TLS   CALL dbms.security.reloadTLS()   SHOW TLS
//! RELOAD CONFIG
//! INSTALL QUERY name ON GRAPH g AS '...'   SHOW QUERIES [ON GRAPH g]   DROP QUERY name ON GRAPH g
//! BEGIN   COMMIT   ROLLBACK
//! SHOW TRANSACTION[S] ['id', ...]   TERMINATE TRANSACTION[S] 'id'[, 'id' ...]
//! ```
//! Passwords may be literals or parameters (`$pw`).

use graphward_core::auth::DbmsPrivilege;
use graphward_core::commands::{
    AuthCommand, Command, GraphLevel, Secret, StoredQueryCommand, TlsCommand, TxControl,
};
use graphward_core::Result;

use super::lexer::Tok;
use super::Parser;
use crate::ast::{AdminCommand, Statement};

/// `*` in `ON GRAPH *`: every graph.
pub const ALL_GRAPHS: &str = "*";

/// Most transaction ids one `SHOW`/`TERMINATE TRANSACTIONS` names.
pub const MAX_TRANSACTION_IDS: usize = 1000;

impl Parser<'_> {
    /// Is the statement ahead a server command? Consumes nothing when it is not.
    pub(crate) fn try_command(&mut self) -> Result<Option<Statement>> {
        let kw = |p: &Self, n: usize, w: &str| p.is_kw_at(n, w);
        let ends_after = |p: &Self, n: usize| {
            matches!(p.tok_at(n), Tok::Eof)
                || (p.is_sym_at(n, ";") && matches!(p.tok_at(n + 1), Tok::Eof))
        };
        for (word, control) in [
            ("BEGIN", TxControl::Begin),
            ("COMMIT", TxControl::Commit),
            ("ROLLBACK", TxControl::Rollback),
        ] {
            if kw(self, 0, word) && ends_after(self, 1) {
                self.advance();
                return Ok(Some(Statement::TxControl(control)));
            }
        }
        let command = if kw(self, 0, "CREATE")
            && (kw(self, 1, "USER") || kw(self, 1, "ROLE") || kw(self, 1, "SECRET"))
            || kw(self, 0, "DROP")
                && (kw(self, 1, "USER") || kw(self, 1, "ROLE") || kw(self, 1, "SECRET"))
            || kw(self, 0, "ALTER")
            || kw(self, 0, "SET") && kw(self, 1, "PASSWORD") && kw(self, 2, "FOR")
            || kw(self, 0, "SHOW")
                && ["USERS", "CURRENT", "ROLES", "PRIVILEGES", "SECRETS"]
                    .iter()
                    .any(|w| kw(self, 1, w))
            || kw(self, 0, "GRANT")
            || kw(self, 0, "REVOKE")
            || kw(self, 0, "ROTATE")
        {
            Command::Auth(self.auth_command()?)
        } else if kw(self, 0, "RELOAD") {
            self.advance();
            if self.eat_kw("CONFIG") {
                Command::ReloadConfig
            } else {
                let (bolt, http) = if self.eat_kw("BOLT_SERVER") {
                    (true, false)
                } else if self.eat_kw("HTTP_SERVER") {
                    (false, true)
                } else {
                    (true, true)
                };
                self.expect_kw("TLS")?;
                Command::Tls(TlsCommand::Reload { bolt, http })
            }
        } else if kw(self, 0, "SHOW") && kw(self, 1, "TLS") {
            self.advance();
            self.advance();
            Command::Tls(TlsCommand::Show)
        } else if self.is_reload_tls_procedure() {
            Command::Tls(TlsCommand::Reload {
                bolt: true,
                http: true,
            })
        } else if kw(self, 0, "INSTALL")
            || kw(self, 0, "SHOW") && kw(self, 1, "QUERIES")
            || kw(self, 0, "DROP") && kw(self, 1, "QUERY")
        {
            Command::StoredQuery(self.stored_query_command()?)
        } else {
            return Ok(None);
        };
        Ok(Some(Statement::Command(command)))
    }

    /// `CALL dbms.security.reloadTLS` with optional `()`, and nothing after it (Neo4j's
    /// procedure; no YIELD). Consumes it when it matches.
    fn is_reload_tls_procedure(&mut self) -> bool {
        let words = ["CALL", "dbms", ".", "security", ".", "reloadTLS"];
        let matches_at = |p: &Self, i: usize, w: &str| {
            if w == "." {
                p.is_sym_at(i, ".")
            } else {
                p.is_kw_at(i, w)
            }
        };
        if !words
            .iter()
            .enumerate()
            .all(|(i, w)| matches_at(self, i, w))
        {
            return false;
        }
        let mut n = words.len();
        if self.is_sym_at(n, "(") && self.is_sym_at(n + 1, ")") {
            n += 2;
        }
        let end = matches!(self.tok_at(n), Tok::Eof)
            || (self.is_sym_at(n, ";") && matches!(self.tok_at(n + 1), Tok::Eof));
        if end {
            for _ in 0..n {
                self.advance();
            }
        }
        end
    }

    fn eat_kws(&mut self, kws: &[&str]) -> bool {
        if kws.iter().enumerate().all(|(i, k)| self.is_kw_at(i, k)) {
            for _ in kws {
                self.advance();
            }
            true
        } else {
            false
        }
    }

    /// A user, role or alias name: a word or a backticked name, with `-`/`.` joined as in
    /// database names (`ci-bot`).
    fn account_name(&mut self) -> Result<String> {
        self.parse_db_name_as("a name")
    }

    fn account_names(&mut self) -> Result<Vec<String>> {
        let mut v = vec![self.account_name()?];
        while self.eat_sym(",") {
            v.push(self.account_name()?);
        }
        Ok(v)
    }

    fn secret(&mut self) -> Result<Secret> {
        match self.tok().clone() {
            Tok::Str(s) => {
                self.advance();
                Ok(Secret::Literal(s))
            }
            Tok::Param(p) => {
                self.advance();
                Ok(Secret::Param(p))
            }
            _ => Err(self.unexpected("a password string or parameter")),
        }
    }

    /// `SHOW TRANSACTION[S] ['id', ...]` and `TERMINATE TRANSACTION[S] 'id' [, 'id' ...]`
    /// (Neo4j syntax; ids are string literals, at most [`MAX_TRANSACTION_IDS`]).
    pub(crate) fn try_transactions_command(&mut self) -> Result<Option<AdminCommand>> {
        let show = self.is_kw("SHOW");
        if !(show || self.is_kw("TERMINATE"))
            || !(self.is_kw_at(1, "TRANSACTION") || self.is_kw_at(1, "TRANSACTIONS"))
        {
            return Ok(None);
        }
        self.advance();
        self.advance();
        let mut ids = Vec::new();
        if matches!(self.tok(), Tok::Str(_)) || !show {
            loop {
                if ids.len() == MAX_TRANSACTION_IDS {
                    return Err(
                        self.unexpected(&format!("at most {MAX_TRANSACTION_IDS} transaction ids"))
                    );
                }
                ids.push(self.string_literal("a transaction id string")?);
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        Ok(Some(if show {
            AdminCommand::ShowTransactions {
                ids,
                all_users: false,
            }
        } else {
            AdminCommand::TerminateTransactions {
                ids,
                all_users: false,
            }
        }))
    }

    fn string_literal(&mut self, what: &str) -> Result<String> {
        match self.tok().clone() {
            Tok::Str(s) => {
                self.advance();
                Ok(s)
            }
            _ => Err(self.unexpected(what)),
        }
    }

    /// `GRAPH g` / `GRAPH *` (also GRAPHS, DATABASE, DATABASES); graph names are lower-cased.
    fn graph_target(&mut self) -> Result<String> {
        if !(self.eat_kw("GRAPH")
            || self.eat_kw("GRAPHS")
            || self.eat_kw("DATABASE")
            || self.eat_kw("DATABASES"))
        {
            return Err(self.unexpected("GRAPH"));
        }
        if self.eat_sym("*") {
            return Ok(ALL_GRAPHS.to_string());
        }
        Ok(self.parse_db_name()?.to_ascii_lowercase())
    }

    fn levels(&mut self) -> Result<Vec<GraphLevel>> {
        let mut v = Vec::new();
        loop {
            let level = if self.eat_kw("READ") {
                GraphLevel::Read
            } else if self.eat_kw("WRITE") {
                GraphLevel::Write
            } else if self.eat_kw("ADMIN") {
                GraphLevel::Admin
            } else {
                return Err(self.unexpected("READ, WRITE, ADMIN, ROLE, TLS MANAGEMENT or METRICS"));
            };
            v.push(level);
            if !self.eat_sym(",") {
                return Ok(v);
            }
        }
    }

    fn for_user(&mut self) -> Result<Option<String>> {
        if self.eat_kw("FOR") {
            Ok(Some(self.account_name()?))
        } else {
            Ok(None)
        }
    }

    fn change_required(&mut self) -> Result<()> {
        if self.eat_kw("CHANGE") {
            self.eat_kw("NOT");
            self.expect_kw("REQUIRED")?;
        }
        Ok(())
    }

    fn auth_command(&mut self) -> Result<AuthCommand> {
        if self.eat_kws(&["CREATE", "USER"]) {
            let mut if_not_exists = self.eat_kws(&["IF", "NOT", "EXISTS"]);
            let name = self.account_name()?;
            if_not_exists |= self.eat_kws(&["IF", "NOT", "EXISTS"]);
            let password = if self.eat_kws(&["IDENTIFIED", "BY"]) {
                Some(self.secret()?)
            } else if self.eat_kw("SET") {
                self.eat_kw("PLAINTEXT");
                self.expect_kw("PASSWORD")?;
                Some(self.secret()?)
            } else {
                None
            };
            self.change_required()?;
            return Ok(AuthCommand::CreateUser {
                name,
                password,
                if_not_exists,
            });
        }
        if self.eat_kws(&["ALTER", "CURRENT", "USER", "SET", "PASSWORD", "FROM"]) {
            let old = self.secret()?;
            self.expect_kw("TO")?;
            let new = self.secret()?;
            return Ok(AuthCommand::ChangeOwnPassword { old, new });
        }
        if self.eat_kws(&["ALTER", "USER"]) {
            let name = self.account_name()?;
            self.expect_kw("SET")?;
            self.eat_kw("PLAINTEXT");
            self.expect_kw("PASSWORD")?;
            let password = self.secret()?;
            self.change_required()?;
            return Ok(AuthCommand::SetPassword { name, password });
        }
        if self.eat_kws(&["SET", "PASSWORD", "FOR"]) {
            let name = self.account_name()?;
            self.expect_kw("TO")?;
            let password = self.secret()?;
            return Ok(AuthCommand::SetPassword { name, password });
        }
        for (kws, role) in [(["DROP", "USER"], false), (["DROP", "ROLE"], true)] {
            if self.eat_kws(&kws) {
                let mut if_exists = self.eat_kws(&["IF", "EXISTS"]);
                let name = self.account_name()?;
                if_exists |= self.eat_kws(&["IF", "EXISTS"]);
                return Ok(if role {
                    AuthCommand::DropRole { name, if_exists }
                } else {
                    AuthCommand::DropUser { name, if_exists }
                });
            }
        }
        if self.eat_kws(&["CREATE", "ROLE"]) {
            let mut if_not_exists = self.eat_kws(&["IF", "NOT", "EXISTS"]);
            let name = self.account_name()?;
            if_not_exists |= self.eat_kws(&["IF", "NOT", "EXISTS"]);
            return Ok(AuthCommand::CreateRole {
                name,
                if_not_exists,
            });
        }
        if self.eat_kws(&["SHOW", "USERS"]) {
            return Ok(AuthCommand::ShowUsers);
        }
        if self.eat_kws(&["SHOW", "CURRENT", "USER"]) {
            return Ok(AuthCommand::ShowCurrentUser);
        }
        if self.eat_kws(&["SHOW", "ROLES"]) {
            return Ok(AuthCommand::ShowRoles);
        }
        if self.eat_kws(&["SHOW", "PRIVILEGES"]) {
            return Ok(AuthCommand::ShowPrivileges {
                name: self.for_user()?,
            });
        }
        if self.eat_kws(&["CREATE", "SECRET"]) {
            let alias = if self.is_name() && !self.is_kw("FOR") {
                Some(self.account_name()?)
            } else {
                None
            };
            return Ok(AuthCommand::CreateSecret {
                alias,
                user: self.for_user()?,
            });
        }
        if self.eat_kws(&["SHOW", "SECRETS"]) {
            return Ok(AuthCommand::ShowSecrets {
                user: self.for_user()?,
            });
        }
        if self.eat_kws(&["DROP", "SECRET"]) {
            let alias = self.account_name()?;
            return Ok(AuthCommand::DropSecret {
                alias,
                user: self.for_user()?,
            });
        }
        if self.eat_kws(&["ROTATE", "TOKEN", "SIGNING", "KEY"]) {
            return Ok(AuthCommand::RotateTokenKey);
        }
        let grant = self.is_kw("GRANT");
        if grant || self.is_kw("REVOKE") {
            self.advance();
            let to_word = if grant { "TO" } else { "FROM" };
            if self.eat_kw("ROLE") || self.eat_kw("ROLES") {
                let roles = self.account_names()?;
                self.expect_kw(to_word)?;
                let user = self.account_name()?;
                return Ok(if grant {
                    AuthCommand::GrantRole { roles, user }
                } else {
                    AuthCommand::RevokeRole { roles, user }
                });
            }
            let dbms = if self.eat_kw("TLS") {
                self.expect_kw("MANAGEMENT")?;
                Some(DbmsPrivilege::TlsManagement)
            } else if self.eat_kw("METRICS") {
                Some(DbmsPrivilege::Metrics)
            } else {
                None
            };
            if let Some(privilege) = dbms {
                self.expect_kw("ON")?;
                self.expect_kw("DBMS")?;
                self.expect_kw(to_word)?;
                let name = self.account_name()?;
                return Ok(if grant {
                    AuthCommand::GrantDbms {
                        privilege,
                        to: name,
                    }
                } else {
                    AuthCommand::RevokeDbms {
                        privilege,
                        from: name,
                    }
                });
            }
            let levels = self.levels()?;
            self.expect_kw("ON")?;
            let graph = self.graph_target()?;
            self.expect_kw(to_word)?;
            let name = self.account_name()?;
            return Ok(if grant {
                AuthCommand::Grant {
                    levels,
                    graph,
                    to: name,
                }
            } else {
                AuthCommand::Revoke {
                    levels,
                    graph,
                    from: name,
                }
            });
        }
        // ALTER followed by something else, ROTATE without TOKEN SIGNING KEY, ...
        Err(self.unexpected(
            "a user, role, privilege or secret command (ALTER USER, ALTER CURRENT USER, ROTATE TOKEN SIGNING KEY, ...)",
        ))
    }

    /// `name ON GRAPH g`.
    fn name_on_graph(&mut self) -> Result<(String, String)> {
        let name = self.account_name()?;
        self.expect_kw("ON")?;
        self.expect_kw("GRAPH")?;
        let graph = self.parse_db_name()?;
        Ok((name, graph))
    }

    fn stored_query_command(&mut self) -> Result<StoredQueryCommand> {
        if self.eat_kw("INSTALL") {
            self.expect_kw("QUERY")?;
            let (name, graph) = self.name_on_graph()?;
            self.expect_kw("AS")?;
            let statement = self.string_literal("the query as a string: AS '...'")?;
            return Ok(StoredQueryCommand::Install {
                name,
                graph,
                statement,
            });
        }
        if self.eat_kws(&["SHOW", "QUERIES"]) {
            let graph = if self.eat_kw("ON") {
                self.expect_kw("GRAPH")?;
                Some(self.parse_db_name()?)
            } else {
                None
            };
            return Ok(StoredQueryCommand::Show { graph });
        }
        self.expect_kw("DROP")?;
        self.expect_kw("QUERY")?;
        let (name, graph) = self.name_on_graph()?;
        Ok(StoredQueryCommand::Drop { name, graph })
    }
}

#[cfg(test)]
mod tests {
    use graphward_core::commands::*;
    use graphward_core::ErrorCode;

    use crate::ast::Statement;
    use crate::parser::parse;

    fn cmd(q: &str) -> Command {
        match parse(q, 64) {
            Ok(Statement::Command(c)) => c,
            other => panic!("{q}: {other:?}"),
        }
    }

    fn auth(q: &str) -> AuthCommand {
        match cmd(q) {
            Command::Auth(a) => a,
            other => panic!("{q}: {other:?}"),
        }
    }

    #[test]
    fn auth_commands() {
        assert_eq!(
            auth("CREATE USER alice IDENTIFIED BY 'secret-pw';"),
            AuthCommand::CreateUser {
                name: "alice".into(),
                password: Some(Secret::Literal("secret-pw".into())),
                if_not_exists: false
            }
        );
        assert!(matches!(
            auth("create user `bob` if not exists set password $pw change not required"),
            AuthCommand::CreateUser {
                if_not_exists: true,
                password: Some(Secret::Param(_)),
                ..
            }
        ));
        assert!(matches!(
            auth("SET PASSWORD FOR alice TO 'x'"),
            AuthCommand::SetPassword { .. }
        ));
        assert!(matches!(
            auth("ALTER CURRENT USER SET PASSWORD FROM 'a' TO 'b'"),
            AuthCommand::ChangeOwnPassword { .. }
        ));
        assert_eq!(
            auth("GRANT READ, WRITE ON GRAPH Movies TO alice"),
            AuthCommand::Grant {
                levels: vec![GraphLevel::Read, GraphLevel::Write],
                graph: "movies".into(),
                to: "alice".into()
            }
        );
        assert_eq!(
            auth("revoke tls management on dbms from ops;"),
            AuthCommand::RevokeDbms {
                privilege: graphward_core::auth::DbmsPrivilege::TlsManagement,
                from: "ops".into()
            }
        );
        assert_eq!(
            auth("GRANT METRICS ON DBMS TO prometheus"),
            AuthCommand::GrantDbms {
                privilege: graphward_core::auth::DbmsPrivilege::Metrics,
                to: "prometheus".into()
            }
        );
        assert_eq!(
            auth("REVOKE ADMIN ON GRAPH * FROM ops"),
            AuthCommand::Revoke {
                levels: vec![GraphLevel::Admin],
                graph: "*".into(),
                from: "ops".into()
            }
        );
        assert_eq!(
            auth("GRANT ROLE a, b TO u"),
            AuthCommand::GrantRole {
                roles: vec!["a".into(), "b".into()],
                user: "u".into()
            }
        );
        assert_eq!(
            auth("SHOW PRIVILEGES FOR u"),
            AuthCommand::ShowPrivileges {
                name: Some("u".into())
            }
        );
        assert_eq!(
            auth("CREATE SECRET ci FOR bob"),
            AuthCommand::CreateSecret {
                alias: Some("ci".into()),
                user: Some("bob".into())
            }
        );
        assert_eq!(
            auth("create secret for bob"),
            AuthCommand::CreateSecret {
                alias: None,
                user: Some("bob".into())
            }
        );
        assert_eq!(
            auth("SHOW SECRETS"),
            AuthCommand::ShowSecrets { user: None }
        );
        assert_eq!(
            auth("DROP SECRET ci"),
            AuthCommand::DropSecret {
                alias: "ci".into(),
                user: None
            }
        );
        assert_eq!(
            auth("ROTATE TOKEN SIGNING KEY"),
            AuthCommand::RotateTokenKey
        );
        assert!(!format!(
            "{:?}",
            auth("CREATE USER a IDENTIFIED BY 'hunter2-hunter2'")
        )
        .contains("hunter2"));
        // Cypher that merely looks like a command
        for q in [
            "CREATE (u:USER)",
            "MATCH (n) RETURN 'CREATE USER x' AS s",
            "SET password.x = 1",
        ] {
            assert!(!matches!(parse(q, 64), Ok(Statement::Command(_))), "{q}");
        }
    }

    #[test]
    fn tls_config_stored_and_control() {
        let reload = |bolt, http| Command::Tls(TlsCommand::Reload { bolt, http });
        assert_eq!(cmd("RELOAD BOLT_SERVER TLS"), reload(true, false));
        assert_eq!(cmd(" reload bolt_server tls ;"), reload(true, false));
        assert_eq!(cmd("RELOAD HTTP_SERVER TLS;"), reload(false, true));
        assert_eq!(cmd("RELOAD TLS"), reload(true, true));
        assert_eq!(cmd("CALL dbms.security.reloadTLS()"), reload(true, true));
        assert_eq!(
            cmd("call dbms.security.reloadTLS ( ) ;"),
            reload(true, true)
        );
        assert_eq!(cmd("CALL dbms.security.reloadTLS"), reload(true, true));
        assert_eq!(cmd("SHOW TLS"), Command::Tls(TlsCommand::Show));
        assert_eq!(cmd("reload /* now */ config"), Command::ReloadConfig);
        assert_eq!(
            cmd("install query top ON graph neo4j AS 'MATCH (n) WHERE n.x = $x RETURN n' ;"),
            Command::StoredQuery(StoredQueryCommand::Install {
                name: "top".into(),
                graph: "neo4j".into(),
                statement: "MATCH (n) WHERE n.x = $x RETURN n".into()
            })
        );
        assert_eq!(
            cmd("SHOW QUERIES"),
            Command::StoredQuery(StoredQueryCommand::Show { graph: None })
        );
        assert_eq!(
            cmd("drop query q on graph g"),
            Command::StoredQuery(StoredQueryCommand::Drop {
                name: "q".into(),
                graph: "g".into()
            })
        );
        for (q, c) in [
            ("BEGIN", TxControl::Begin),
            (" commit ; ", TxControl::Commit),
            ("Rollback", TxControl::Rollback),
        ] {
            assert_eq!(parse(q, 64).ok(), Some(Statement::TxControl(c)), "{q}");
        }
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
            "RELOAD",
            "RELOAD BOLT_SERVER",
            "RELOAD TLS NOW",
            "SHOW TLS x",
            "INSTALL QUERY",
            "INSTALL QUERY q ON GRAPH g",
            "INSTALL QUERY q ON GRAPH g AS MATCH (n) RETURN n",
            "INSTALL QUERY q ON GRAPH g AS 'x' trailing",
            "SHOW QUERIES ON",
            "DROP QUERY q",
            "BEGIN BEGIN",
            "COMMIT; COMMIT",
        ] {
            let e = parse(q, 64).expect_err(q);
            assert_eq!(e.code, ErrorCode::SyntaxError, "{q}: {e}");
        }
    }

    #[test]
    fn explain_and_profile_apply_to_queries_only() {
        for q in [
            "EXPLAIN DROP DATABASE g2",
            "PROFILE CREATE DATABASE x",
            "EXPLAIN CREATE INDEX FOR (n:L) ON (n.p)",
            "EXPLAIN CREATE USER x SET PASSWORD 'p'",
            "EXPLAIN RELOAD TLS",
            "PROFILE GRANT ADMIN ON GRAPH * TO me",
            "EXPLAIN EXPLAIN RETURN 1",
            "EXPLAIN BEGIN",
            "explain /* x */ show databases",
        ] {
            let e = parse(q, 64).expect_err(q);
            assert_eq!(e.code, ErrorCode::SyntaxError, "{q}: {e}");
        }
        assert!(matches!(
            parse("EXPLAIN MATCH (n) RETURN n", 64),
            Ok(Statement::Explain(_))
        ));
    }

    #[test]
    fn obfuscation_does_not_hide_a_command() {
        for q in [
            "/* x */ DROP DATABASE victim",
            "//comment\nCREATE DATABASE x",
            "DROP/**/DATABASE victim",
            "\tdrop\r\n database\u{00a0}`victim`;",
            "DrOp DaTaBaSe victim // trailing",
            "\u{2003}GRANT ADMIN ON GRAPH * TO me",
        ] {
            assert!(
                matches!(
                    parse(q, 64),
                    Ok(Statement::Admin(_)) | Ok(Statement::Command(_))
                ),
                "{q:?}: {:?}",
                parse(q, 64)
            );
        }
    }
}

/// The options of the `CYPHER` query prefix (Neo4j's pre-parser options): a language
/// version and `name=value` pairs, checked against the names and values Neo4j 5 documents.
/// graphward has one planner and one runtime, so every accepted value runs the same way;
/// an unknown option or value is a syntax error naming the known ones, and a language
/// version other than 5 or 25 is not supported.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CypherOptions {
    /// `CYPHER 5` / `CYPHER 25`.
    pub version: Option<u64>,
    /// `name=value` pairs, names as written in Neo4j's manual (camel case), values lower case.
    pub options: Vec<(CypherOption, String)>,
}

/// A `CYPHER` prefix option name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CypherOption {
    Runtime,
    Planner,
    ExpressionEngine,
    OperatorEngine,
    InterpretedPipesFallback,
    Replan,
    ConnectComponentsPlanner,
    UpdateStrategy,
    EagerAnalyzer,
    InferSchemaParts,
    StatefulShortestPlanningMode,
}

impl CypherOption {
    const ALL: [CypherOption; 11] = [
        CypherOption::Runtime,
        CypherOption::Planner,
        CypherOption::ExpressionEngine,
        CypherOption::OperatorEngine,
        CypherOption::InterpretedPipesFallback,
        CypherOption::Replan,
        CypherOption::ConnectComponentsPlanner,
        CypherOption::UpdateStrategy,
        CypherOption::EagerAnalyzer,
        CypherOption::InferSchemaParts,
        CypherOption::StatefulShortestPlanningMode,
    ];

    /// The option's name in Neo4j's manual.
    pub fn name(self) -> &'static str {
        match self {
            CypherOption::Runtime => "runtime",
            CypherOption::Planner => "planner",
            CypherOption::ExpressionEngine => "expressionEngine",
            CypherOption::OperatorEngine => "operatorEngine",
            CypherOption::InterpretedPipesFallback => "interpretedPipesFallback",
            CypherOption::Replan => "replan",
            CypherOption::ConnectComponentsPlanner => "connectComponentsPlanner",
            CypherOption::UpdateStrategy => "updateStrategy",
            CypherOption::EagerAnalyzer => "eagerAnalyzer",
            CypherOption::InferSchemaParts => "inferSchemaParts",
            CypherOption::StatefulShortestPlanningMode => "statefulShortestPlanningMode",
        }
    }

    /// The values the option takes (lower case).
    pub fn values(self) -> &'static [&'static str] {
        match self {
            CypherOption::Runtime => &["slotted", "pipelined", "interpreted", "parallel"],
            CypherOption::Planner => &["cost", "idp", "dp"],
            CypherOption::ExpressionEngine | CypherOption::OperatorEngine => {
                &["default", "interpreted", "compiled"]
            }
            CypherOption::InterpretedPipesFallback => {
                &["default", "disabled", "whitelisted_plans_only", "all"]
            }
            CypherOption::Replan => &["default", "force", "skip"],
            CypherOption::ConnectComponentsPlanner => &["greedy", "idp"],
            CypherOption::UpdateStrategy => &["default", "eager"],
            CypherOption::EagerAnalyzer => &["ir", "lp"],
            CypherOption::InferSchemaParts => &["off", "most_selective_label"],
            CypherOption::StatefulShortestPlanningMode => {
                &["into_only", "all_if_possible", "cardinality_heuristic"]
            }
        }
    }

    fn from_name(name: &str) -> Option<CypherOption> {
        Self::ALL
            .into_iter()
            .find(|o| o.name().eq_ignore_ascii_case(name))
    }
}

impl Parser<'_> {
    /// `CYPHER [5 | 25] [name=value ...]` before a statement, if present.
    pub(crate) fn try_cypher_prefix(&mut self) -> Result<Option<CypherOptions>> {
        if !self.is_kw("CYPHER") {
            return Ok(None);
        }
        self.advance();
        let mut out = CypherOptions::default();
        if let Tok::Int(v) = self.tok().clone() {
            if v != 5 && v != 25 {
                return Err(self.not_supported(&format!(
                    "Cypher language version {v}: graphward speaks Cypher 5 (CYPHER 5 or CYPHER 25)"
                )));
            }
            self.advance();
            out.version = Some(v);
        }
        while matches!(self.tok(), Tok::Ident(_)) && self.is_sym_at(1, "=") {
            let Tok::Ident(name) = self.tok().clone() else {
                break;
            };
            let Some(option) = CypherOption::from_name(&name) else {
                let known: Vec<&str> = CypherOption::ALL.iter().map(|o| o.name()).collect();
                return Err(self.unexpected(&format!(
                    "a CYPHER option ({}); '{name}' is not one",
                    known.join(", ")
                )));
            };
            self.skip_tokens(2);
            let value = match self.tok().clone() {
                Tok::Ident(v) => v.to_ascii_lowercase(),
                _ => return Err(self.unexpected(&format!("a value of {}", option.name()))),
            };
            if !option.values().contains(&value.as_str()) {
                return Err(self.unexpected(&format!(
                    "a value of {} ({})",
                    option.name(),
                    option.values().join(", ")
                )));
            }
            if out.options.iter().any(|(o, v)| *o == option && *v != value) {
                return Err(self.unexpected(&format!(
                    "one value of {} (it is given twice, differently)",
                    option.name()
                )));
            }
            self.advance();
            out.options.push((option, value));
        }
        if out.version.is_none() && out.options.is_empty() {
            return Err(self.unexpected("a Cypher version (5 or 25) or an option name=value"));
        }
        Ok(Some(out))
    }
}
