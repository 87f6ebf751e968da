//! The authorization table: for every kind of statement, the privilege it needs. This is the one
//! place that decides; it reads the typed statement the parser made (never its text), and the
//! front door ([`crate::front_door`]) applies it to every statement, in auto-commit and explicit
//! transactions alike, on Bolt and HTTP.
//!
//! | statement | needs |
//! | --- | --- |
//! | `SHOW CURRENT USER`, `BEGIN`/`COMMIT`/`ROLLBACK` | any authenticated client (a graph-scoped token too) |
//! | `ALTER CURRENT USER SET PASSWORD`, `SHOW PRIVILEGES` (own), `SHOW DATABASES` (rows: graphs it can read), `SHOW QUERIES` (rows: graphs it can read), `SHOW TRANSACTIONS` / `TERMINATE TRANSACTIONS` (its own transactions; an administrator with ADMIN on `*`: all) | a login not limited to one graph |
//! | `CREATE/SHOW/DROP SECRET` (own) | a password login (not a token) |
//! | a query that only reads; `EXPLAIN`/`PROFILE` of it; `SHOW INDEXES/CONSTRAINTS`; `SHOW QUERIES ON GRAPH g` | READ on the graph |
//! | a query that writes (CREATE, MERGE, SET, REMOVE, DELETE); `EXPLAIN`/`PROFILE` of it | WRITE on the graph |
//! | `CREATE/DROP INDEX` (nodes and relationships), `CREATE/DROP CONSTRAINT` (uniqueness, existence, key; Neo4j and Memgraph forms) | ADMIN on the graph |
//! | a `SHOW` command with a `YIELD` / `WHERE` / `RETURN` tail | what the `SHOW` command needs (the tail reads its rows only; `SHOW DATABASES` rows are narrowed to the principal's databases before the tail) |
//! | `SHOW INDEX INFO`, `SHOW CONSTRAINT INFO`, `SHOW STORAGE INFO` (Memgraph) | READ on the graph |
//! | `SHOW PROCEDURES`, `SHOW FUNCTIONS` | any authenticated client |
//! | a query with `LOAD CSV` (it reads the server's import directory; Neo4j's LOAD privilege) | ADMIN on every graph (`*`) |
//! | `CREATE/DROP DATABASE`; users, roles, grants; another user's secrets or privileges; `ROTATE TOKEN SIGNING KEY`; `RELOAD CONFIG`; `INSTALL/DROP QUERY` | ADMIN on every graph (`*`) |
//! | `RELOAD ... TLS`, `CALL dbms.security.reloadTLS()`, `SHOW TLS` | the `TLS MANAGEMENT` DBMS privilege (ADMIN on `*` includes it) |
//! | HTTP `POST /admin/config/apply` (as `RELOAD CONFIG`), `POST /admin/backup`, `GET /admin/backup/{id}/file`, `DELETE /admin/backup/{id}`, `POST /admin/compact/{database}` and the statement `COMPACT DATABASE` (one row: the statement is decided as the endpoint's typed command) | ADMIN on every graph (`*`) |
//! | HTTP `POST /admin/tls/reload` (as `RELOAD ... TLS`) | the `TLS MANAGEMENT` DBMS privilege |
//! | HTTP `GET /metrics` | the `METRICS` DBMS privilege (ADMIN on `*` includes it) |
//!
//! The HTTP admin endpoints carry out their work themselves, but are decided here from a typed
//! [`Command`] (see [`endpoint_commands`]) through `QueryEngine::authorize`, like any statement.
//!
//! "The graph" is the transaction's database, or the graph a query names with `USE g` (the
//! statement carries it typed: `Statement::use_target`): an auto-commit transaction is
//! reopened on that graph and every check (READ at opening, this table) applies there; an
//! unknown graph is `Neo.ClientError.Database.DatabaseNotFound`; in an explicit transaction
//! the engine refuses a `USE` of any graph but the transaction's own; on `system` (where drivers send administration)
//! a query or schema command reaches the default database's data, so it needs the same
//! privilege there. On `system`, a token limited to one graph may only run `SHOW CURRENT USER`.
//! `EXPLAIN`/`PROFILE` apply to queries only (the parser refuses them on commands).

use graphward_core::auth::DbmsPrivilege;
use graphward_core::commands::{
    AuthCommand, Command, GraphLevel, MaintenanceCommand, StoredQueryCommand, TlsCommand,
};
use graphward_cypher::ast::{AdminCommand, MemgraphCommand, ShowCommand, Statement};

/// What a statement needs of the principal running it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Needs {
    /// Any authenticated client, a token limited to one graph included.
    Anyone,
    /// A login not limited to one graph, acting on its own account.
    OwnAccount,
    /// A password login (not a token), acting on its own account.
    OwnAccountByPassword,
    /// This level on the transaction's graph.
    Graph(GraphLevel),
    /// This level on the named graph.
    NamedGraph(GraphLevel, String),
    /// ADMIN on every graph.
    AdminAll,
    /// A server-wide privilege (ADMIN on every graph includes it).
    Dbms(DbmsPrivilege),
}

impl Needs {
    /// How the requirement reads in a refusal.
    pub fn describe(&self, graph: &str) -> String {
        match self {
            Needs::Anyone => "an authenticated login".to_string(),
            Needs::OwnAccount => "a login not limited to one graph".to_string(),
            Needs::OwnAccountByPassword => "a password login (not a token)".to_string(),
            Needs::Graph(l) => format!("{} on graph '{graph}'", l.as_str()),
            Needs::NamedGraph(l, g) => format!("{} on graph '{g}'", l.as_str()),
            Needs::AdminAll => "ADMIN ON GRAPH *".to_string(),
            Needs::Dbms(p) => format!("the {} privilege", p.as_str()),
        }
    }
}

/// Whether a query writes (any updating clause, in any part of it). A query with `LOAD CSV`
/// reads files of the server (Neo4j's LOAD privilege): ADMIN on every graph.
fn query_needs(q: &graphward_cypher::ast::Query) -> Needs {
    if graphward_cypher::runtime::runner::has_load_csv(q) {
        Needs::AdminAll
    } else if graphward_cypher::runtime::runner::has_updates(q) {
        Needs::Graph(GraphLevel::Write)
    } else {
        Needs::Graph(GraphLevel::Read)
    }
}

/// The privilege `statement` needs, run by `user` (its own name, for "own account" commands).
pub fn needs(statement: &Statement, user: Option<&str>) -> Needs {
    match statement {
        Statement::Query(q) => query_needs(q),
        Statement::Explain(inner) | Statement::Profile(inner) => needs(inner, user),
        Statement::TxControl(_) => Needs::Anyone,
        Statement::Admin(cmd) => admin_needs(cmd, user),
        Statement::Command(cmd) => command_needs(cmd, user),
        // A SHOW command's tail reads the command's rows only: the command decides.
        Statement::Show(show) => match &show.command {
            ShowCommand::Admin(cmd) => admin_needs(cmd, user),
            ShowCommand::Server(cmd) => command_needs(cmd, user),
        },
    }
}

fn admin_needs(cmd: &AdminCommand, user: Option<&str>) -> Needs {
    match cmd {
        AdminCommand::CreateDatabase { .. } | AdminCommand::DropDatabase { .. } => Needs::AdminAll,
        // One row for compaction: the statement is decided as the typed command of the
        // HTTP endpoint `POST /admin/compact/{database}`.
        AdminCommand::CompactDatabase { name } => command_needs(
            &Command::Maintenance(MaintenanceCommand::Compact {
                database: name.clone(),
            }),
            user,
        ),
        AdminCommand::ShowDatabases { .. }
        | AdminCommand::ShowTransactions { .. }
        | AdminCommand::TerminateTransactions { .. } => Needs::OwnAccount,
        AdminCommand::CreateIndex { .. }
        | AdminCommand::DropIndex { .. }
        | AdminCommand::CreateUniqueConstraint { .. }
        | AdminCommand::CreateExistenceConstraint { .. }
        | AdminCommand::CreateKeyConstraint { .. }
        | AdminCommand::DropConstraint { .. } => Needs::Graph(GraphLevel::Admin),
        AdminCommand::ShowIndexes { .. } | AdminCommand::ShowConstraints { .. } => {
            Needs::Graph(GraphLevel::Read)
        }
        // The built-in procedures and functions: a fixed list, nothing of any graph.
        AdminCommand::ShowProcedures { .. } | AdminCommand::ShowFunctions { .. } => Needs::Anyone,
        AdminCommand::Memgraph(m) => match m {
            MemgraphCommand::DropIndexOn { .. }
            | MemgraphCommand::LabelIndex { .. }
            | MemgraphCommand::DropUniqueOn { .. }
            | MemgraphCommand::Existence { .. } => Needs::Graph(GraphLevel::Admin),
            MemgraphCommand::ShowIndexInfo
            | MemgraphCommand::ShowConstraintInfo
            | MemgraphCommand::ShowStorageInfo => Needs::Graph(GraphLevel::Read),
        },
    }
}

fn is_self(name: &Option<String>, user: Option<&str>) -> bool {
    match name {
        None => true,
        Some(n) => Some(n.as_str()) == user,
    }
}

fn command_needs(cmd: &Command, user: Option<&str>) -> Needs {
    match cmd {
        Command::Auth(a) => match a {
            AuthCommand::ShowCurrentUser => Needs::Anyone,
            AuthCommand::ChangeOwnPassword { .. } => Needs::OwnAccount,
            AuthCommand::ShowPrivileges { name } if is_self(name, user) => Needs::OwnAccount,
            AuthCommand::CreateSecret { user: owner, .. }
            | AuthCommand::ShowSecrets { user: owner }
            | AuthCommand::DropSecret { user: owner, .. }
                if is_self(owner, user) =>
            {
                Needs::OwnAccountByPassword
            }
            AuthCommand::ShowPrivileges { .. }
            | AuthCommand::CreateSecret { .. }
            | AuthCommand::ShowSecrets { .. }
            | AuthCommand::DropSecret { .. }
            | AuthCommand::CreateUser { .. }
            | AuthCommand::SetPassword { .. }
            | AuthCommand::DropUser { .. }
            | AuthCommand::ShowUsers
            | AuthCommand::CreateRole { .. }
            | AuthCommand::DropRole { .. }
            | AuthCommand::ShowRoles
            | AuthCommand::GrantRole { .. }
            | AuthCommand::RevokeRole { .. }
            | AuthCommand::Grant { .. }
            | AuthCommand::Revoke { .. }
            | AuthCommand::GrantDbms { .. }
            | AuthCommand::RevokeDbms { .. }
            | AuthCommand::RotateTokenKey => Needs::AdminAll,
        },
        Command::Tls(TlsCommand::Reload { .. } | TlsCommand::Show) => {
            Needs::Dbms(DbmsPrivilege::TlsManagement)
        }
        Command::ReloadConfig => Needs::AdminAll,
        Command::StoredQuery(s) => match s {
            StoredQueryCommand::Install { .. } | StoredQueryCommand::Drop { .. } => Needs::AdminAll,
            StoredQueryCommand::Show { graph: None } => Needs::OwnAccount,
            StoredQueryCommand::Show { graph: Some(g) } => {
                Needs::NamedGraph(GraphLevel::Read, g.to_ascii_lowercase())
            }
        },
        Command::Maintenance(MaintenanceCommand::Backup | MaintenanceCommand::Compact { .. }) => {
            Needs::AdminAll
        }
        Command::Maintenance(MaintenanceCommand::Metrics) => Needs::Dbms(DbmsPrivilege::Metrics),
    }
}

/// The HTTP admin endpoints and the typed command each is authorized as (the endpoint does
/// the work itself; the decision is the table's). `graphward policy` prints them with their
/// requirement, and the table-driven interop test calls each one for every kind of principal.
/// `graph` fills the `{database}` of the compaction endpoint.
pub fn endpoint_commands(graph: &str) -> Vec<(&'static str, &'static str, String, Command)> {
    vec![
        (
            "http_config_apply",
            "POST",
            "/admin/config/apply".to_string(),
            Command::ReloadConfig,
        ),
        (
            "http_tls_reload",
            "POST",
            "/admin/tls/reload".to_string(),
            Command::Tls(TlsCommand::Reload {
                bolt: true,
                http: true,
            }),
        ),
        (
            "http_backup",
            "POST",
            "/admin/backup".to_string(),
            Command::Maintenance(MaintenanceCommand::Backup),
        ),
        (
            "http_backup_file",
            "GET",
            "/admin/backup/policyprobe/file?path=manifest.json".to_string(),
            Command::Maintenance(MaintenanceCommand::Backup),
        ),
        (
            "http_backup_remove",
            "DELETE",
            "/admin/backup/policyprobe".to_string(),
            Command::Maintenance(MaintenanceCommand::Backup),
        ),
        (
            "http_compact",
            "POST",
            format!("/admin/compact/{graph}"),
            Command::Maintenance(MaintenanceCommand::Compact {
                database: graph.to_string(),
            }),
        ),
        (
            "http_metrics",
            "GET",
            "/metrics".to_string(),
            Command::Maintenance(MaintenanceCommand::Metrics),
        ),
    ]
}

/// One example of every statement kind the table distinguishes, with the requirement the table
/// gives it (for `graphward policy`, the table-driven integration test and the fuzz target).
/// The unit test below checks that each example parses to a statement with that requirement.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("show_current_user", "SHOW CURRENT USER"),
    (
        "change_own_password",
        "ALTER CURRENT USER SET PASSWORD FROM $old TO $new",
    ),
    ("show_own_privileges", "SHOW PRIVILEGES"),
    ("show_databases", "SHOW DATABASES"),
    ("show_queries", "SHOW QUERIES"),
    ("show_transactions", "SHOW TRANSACTIONS"),
    (
        "terminate_transaction",
        "TERMINATE TRANSACTION 'neo4j-transaction-0'",
    ),
    ("create_own_secret", "CREATE SECRET"),
    ("show_own_secrets", "SHOW SECRETS"),
    ("read_query", "MATCH (n) RETURN count(n) AS n"),
    ("explain_read_query", "EXPLAIN MATCH (n) RETURN n"),
    ("write_query", "CREATE (:PolicyProbe)"),
    ("profile_write_query", "PROFILE CREATE (:PolicyProbe)"),
    ("show_indexes", "SHOW INDEXES"),
    ("show_procedures", "SHOW PROCEDURES"),
    ("show_index_info", "SHOW INDEX INFO"),
    (
        "create_label_index_memgraph",
        "CREATE INDEX ON :PolicyProbe",
    ),
    ("drop_index_memgraph", "DROP INDEX ON :PolicyProbe(p)"),
    ("show_constraints", "SHOW CONSTRAINTS"),
    (
        "load_csv",
        "LOAD CSV FROM 'file:///policy-probe.csv' AS row RETURN count(row) AS n",
    ),
    (
        "create_existence_constraint",
        "CREATE CONSTRAINT policy_exists IF NOT EXISTS FOR (n:PolicyProbe) REQUIRE n.e IS NOT NULL",
    ),
    ("show_queries_on_graph", "SHOW QUERIES ON GRAPH $graph"),
    (
        "create_index",
        "CREATE INDEX policy_probe IF NOT EXISTS FOR (n:PolicyProbe) ON (n.p)",
    ),
    ("drop_index", "DROP INDEX policy_probe IF EXISTS"),
    (
        "create_constraint",
        "CREATE CONSTRAINT policy_unique IF NOT EXISTS FOR (n:PolicyProbe) REQUIRE n.u IS UNIQUE",
    ),
    ("drop_constraint", "DROP CONSTRAINT policy_unique IF EXISTS"),
    (
        "create_database",
        "CREATE DATABASE policyprobe IF NOT EXISTS",
    ),
    ("drop_database", "DROP DATABASE policyprobe IF EXISTS"),
    ("compact_database", "COMPACT DATABASE $graph"),
    (
        "create_user",
        "CREATE USER policy_probe IF NOT EXISTS SET PASSWORD 'policy-probe-pw'",
    ),
    (
        "set_password",
        "ALTER USER policy_probe SET PASSWORD 'policy-probe-pw2'",
    ),
    ("drop_user", "DROP USER policy_probe IF EXISTS"),
    ("show_users", "SHOW USERS"),
    ("create_role", "CREATE ROLE policy_role IF NOT EXISTS"),
    ("drop_role", "DROP ROLE policy_role IF EXISTS"),
    ("show_roles", "SHOW ROLES"),
    ("grant_role", "GRANT ROLE policy_role TO $user"),
    ("revoke_role", "REVOKE ROLE policy_role FROM $user"),
    (
        "grant_privilege",
        "GRANT READ ON GRAPH $graph TO policy_role",
    ),
    (
        "revoke_privilege",
        "REVOKE READ ON GRAPH $graph FROM policy_role",
    ),
    (
        "grant_dbms_privilege",
        "GRANT TLS MANAGEMENT ON DBMS TO policy_role",
    ),
    (
        "revoke_dbms_privilege",
        "REVOKE TLS MANAGEMENT ON DBMS FROM policy_role",
    ),
    ("show_others_privileges", "SHOW PRIVILEGES FOR $admin"),
    ("show_others_secrets", "SHOW SECRETS FOR $admin"),
    ("rotate_token_signing_key", "ROTATE TOKEN SIGNING KEY"),
    ("reload_config", "RELOAD CONFIG"),
    ("reload_tls", "RELOAD TLS"),
    ("reload_tls_procedure", "CALL dbms.security.reloadTLS()"),
    ("show_tls", "SHOW TLS"),
    (
        "install_query",
        "INSTALL QUERY policy_probe ON GRAPH $graph AS 'RETURN 1 AS x'",
    ),
    ("drop_query", "DROP QUERY policy_probe ON GRAPH $graph"),
];

/// The requirement of an example as a short string (`graphward policy` prints these).
pub fn needs_label(n: &Needs) -> String {
    match n {
        Needs::Anyone => "anyone".into(),
        Needs::OwnAccount => "own-account".into(),
        Needs::OwnAccountByPassword => "own-account-password".into(),
        Needs::Graph(l) | Needs::NamedGraph(l, _) => format!("graph:{}", l.as_str()),
        Needs::AdminAll => "admin-all".into(),
        Needs::Dbms(p) => format!("dbms:{}", p.as_str()),
    }
}

/// The HTTP admin endpoints (method and path) with their requirement, as
/// `(kind, "METHOD /path", requirement)`.
pub fn endpoint_examples(graph: &str, user: &str) -> Vec<(String, String, String)> {
    endpoint_commands(graph)
        .into_iter()
        .map(|(kind, method, path, command)| {
            let label = needs_label(&needs(&Statement::Command(command), Some(user)));
            (kind.to_string(), format!("{method} {path}"), label)
        })
        .collect()
}

/// The examples with `$graph`, `$user` and `$admin` filled in, parsed, and their requirement.
pub fn examples(graph: &str, user: &str, admin: &str) -> Vec<(String, String, String)> {
    EXAMPLES
        .iter()
        .map(|(kind, text)| {
            let text = text
                .replace("$graph", graph)
                .replace("$user", user)
                .replace("$admin", admin);
            let label = match graphward_cypher::parser::parse(&text, 64) {
                Ok(stmt) => needs_label(&needs(&stmt, Some(user))),
                Err(e) => format!("error:{e}"),
            };
            (kind.to_string(), text, label)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_parses_and_has_its_requirement() {
        let expected = [
            ("show_current_user", "anyone"),
            ("change_own_password", "own-account"),
            ("show_own_privileges", "own-account"),
            ("show_databases", "own-account"),
            ("show_queries", "own-account"),
            ("show_transactions", "own-account"),
            ("terminate_transaction", "own-account"),
            ("create_own_secret", "own-account-password"),
            ("show_own_secrets", "own-account-password"),
            ("read_query", "graph:READ"),
            ("explain_read_query", "graph:READ"),
            ("write_query", "graph:WRITE"),
            ("profile_write_query", "graph:WRITE"),
            ("show_indexes", "graph:READ"),
            ("show_procedures", "anyone"),
            ("show_index_info", "graph:READ"),
            ("create_label_index_memgraph", "graph:ADMIN"),
            ("drop_index_memgraph", "graph:ADMIN"),
            ("show_constraints", "graph:READ"),
            ("show_queries_on_graph", "graph:READ"),
            ("create_index", "graph:ADMIN"),
            ("drop_index", "graph:ADMIN"),
            ("create_constraint", "graph:ADMIN"),
            ("create_existence_constraint", "graph:ADMIN"),
            ("drop_constraint", "graph:ADMIN"),
            ("show_others_privileges", "admin-all"),
            ("show_others_secrets", "admin-all"),
            ("reload_tls", "dbms:TLS MANAGEMENT"),
            ("reload_tls_procedure", "dbms:TLS MANAGEMENT"),
            ("show_tls", "dbms:TLS MANAGEMENT"),
        ];
        let all = examples("g", "u", "root");
        assert_eq!(all.len(), EXAMPLES.len());
        for (kind, text, label) in &all {
            assert!(!label.starts_with("error"), "{kind}: {text}: {label}");
            let want = expected
                .iter()
                .find(|(k, _)| k == kind)
                .map(|(_, l)| *l)
                .unwrap_or("admin-all");
            assert_eq!(label, want, "{kind}: {text}");
        }
    }

    #[test]
    fn call_in_transactions_needs_write_like_any_write() {
        for q in [
            "UNWIND [1] AS i CALL (i) { CREATE (:N) } IN TRANSACTIONS OF 2 ROWS",
            "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS ON ERROR CONTINUE",
        ] {
            let stmt = graphward_cypher::parser::parse(q, 64).unwrap();
            assert_eq!(needs_label(&needs(&stmt, Some("u"))), "graph:WRITE", "{q}");
        }
    }

    #[test]
    fn admin_endpoints_are_in_the_table() {
        let all = endpoint_examples("g", "u");
        assert_eq!(all.len(), 7);
        for (kind, endpoint, label) in &all {
            let want = match kind.as_str() {
                "http_tls_reload" => "dbms:TLS MANAGEMENT",
                "http_metrics" => "dbms:METRICS",
                _ => "admin-all",
            };
            assert_eq!(label, want, "{kind}: {endpoint}");
        }
    }
}

/// Checks the table against what statements really do: used by the `statement_privilege` fuzz
/// target and by a seeded randomized test.
pub mod audit {
    use graphward_core::commands::GraphLevel;
    use graphward_core::engine::{AccessMode, Params, QueryEngine, TxOptions};
    use graphward_cypher::ast::Statement;
    use graphward_cypher::Engine;

    use super::{needs, Needs};

    /// How much a requirement allows, for comparing it with an effect.
    fn rank(n: &Needs) -> u8 {
        match n {
            Needs::Anyone | Needs::OwnAccount | Needs::OwnAccountByPassword => 0,
            Needs::Graph(GraphLevel::Read) | Needs::NamedGraph(GraphLevel::Read, _) => 1,
            Needs::Graph(GraphLevel::Write) | Needs::NamedGraph(GraphLevel::Write, _) => 2,
            Needs::Graph(GraphLevel::Admin) | Needs::NamedGraph(GraphLevel::Admin, _) => 3,
            Needs::Dbms(_) => 3,
            Needs::AdminAll => 4,
        }
    }

    /// Parse `text`, run it on `engine` with no authorization at all, and check that the
    /// privilege the table demands is never lower than what the statement did: data changes
    /// need WRITE, schema changes ADMIN on the graph, database changes ADMIN on every graph.
    /// `Err` describes a statement the table under-privileges.
    pub fn check(engine: &Engine, text: &str) -> Result<(), String> {
        let Ok(statement) = graphward_cypher::parser::parse(text, 64) else {
            return Ok(());
        };
        if matches!(statement, Statement::Command(_) | Statement::TxControl(_)) {
            // Server commands never reach the engine; their rows are in the table as such.
            return Ok(());
        }
        let demanded = rank(&needs(&statement, Some("audit")));
        let before = engine.databases().len();
        let Ok(mut tx) = engine.begin(TxOptions {
            mode: AccessMode::Write,
            implicit: true,
            ..TxOptions::default()
        }) else {
            return Ok(());
        };
        let mut stats = None;
        if let Ok(prepared) = engine.prepare(text) {
            if let Ok(mut rows) = tx.run_prepared(prepared, Params::new()) {
                let mut ok = true;
                for _ in 0..10_000 {
                    match rows.next_row() {
                        None => break,
                        Some(Err(_)) => {
                            ok = false;
                            break;
                        }
                        Some(Ok(_)) => {}
                    }
                }
                if ok {
                    stats = Some(rows.summary().stats);
                }
            }
        }
        let _ = tx.commit();
        let after = engine.databases().len();
        let did = match stats {
            _ if after != before => 4,
            Some(s) if s.indexes_added + s.indexes_removed + s.constraints_added > 0 => 3,
            Some(s) if s.constraints_removed + s.system_updates > 0 => 3,
            Some(s) if s.contains_updates() => 2,
            _ => 0,
        };
        if did > demanded {
            return Err(format!(
                "{text:?}: the table demands level {demanded} but the statement did level {did}"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod audit_tests {
    use graphward_core::engine::EngineConfig;

    const FRAGMENTS: &[&str] = &[
        "EXPLAIN ",
        "PROFILE ",
        "/* c */ ",
        "// c\n",
        "CREATE ",
        "DROP ",
        "DATABASE ",
        "db1 ",
        "INDEX ",
        "i1 ",
        "FOR (n:L) ON (n.p) ",
        "CONSTRAINT ",
        "c1 ",
        "REQUIRE n.p IS UNIQUE ",
        "MATCH (n) ",
        "RETURN n ",
        "RETURN 1 ",
        "SET n.p = 1 ",
        "DELETE n ",
        "DETACH ",
        "MERGE (m:M) ",
        "(:L {p: 1}) ",
        "WITH n ",
        "UNWIND [1,2] AS x ",
        "CALL { CREATE (:Q) } ",
        "FOREACH (x IN [1] | CREATE (:F)) ",
        "IF NOT EXISTS ",
        "IF EXISTS ",
        "SHOW ",
        "DATABASES ",
        "INDEXES ",
        "UNION ",
        "OPTIONAL MATCH (n) ",
        "REMOVE n:L ",
        "; ",
        "e ",
        "`db1` ",
        "\t",
        "\u{2003}",
        "ON (n:L) ASSERT n.p IS UNIQUE ",
    ];

    #[test]
    fn the_table_never_underprivileges_what_a_statement_does() {
        let engine = graphward_cypher::Engine::open_in_memory(EngineConfig::default()).unwrap();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut parsed = 0;
        for _ in 0..4_000 {
            let n = 1 + (next() % 6) as usize;
            let text: String = (0..n)
                .map(|_| FRAGMENTS[(next() % FRAGMENTS.len() as u64) as usize])
                .collect();
            if graphward_cypher::parser::parse(&text, 64).is_ok() {
                parsed += 1;
            }
            super::audit::check(&engine, &text).unwrap();
        }
        for text in [
            "CREATE DATABASE db2",
            "DROP DATABASE db2",
            "CREATE INDEX i2 FOR (n:L) ON (n.q)",
            "DROP INDEX i2",
            "CREATE (:L {p: 2})",
            "MATCH (n) DETACH DELETE n",
            "CALL { CREATE (:Q) } RETURN 1",
            "FOREACH (x IN [1] | CREATE (:F))",
            "MERGE (m:M) RETURN m",
        ] {
            super::audit::check(&engine, text).unwrap();
        }
        assert!(
            parsed > 100,
            "the generator makes too few valid statements ({parsed})"
        );
    }
}
