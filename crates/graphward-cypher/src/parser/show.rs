//! `SHOW` commands of the engine and the Neo4j 5 tail every `SHOW` command takes:
//!
//! ```text
//! SHOW [ALL | BUILT IN | USER DEFINED] PROCEDURE[S] | FUNCTION[S]
//! SHOW [DEFAULT | HOME] DATABASE[S] [name]
//! SHOW [ALL | RANGE | LOOKUP | TEXT | POINT | FULLTEXT | VECTOR] INDEX[ES]
//! SHOW [ALL | NODE | REL[ATIONSHIP]] [UNIQUE | KEY | [PROPERTY] EXISTENCE] CONSTRAINT[S]
//!
//! ... [YIELD * | col [AS alias], ... [ORDER BY ...] [SKIP n] [LIMIT n]] [WHERE expr] [RETURN ...]
//! ... WHERE expr
//! ```
//!
//! The tail is kept as parsed ([`ShowTail`]); `runtime::show` compiles it over the command's
//! columns.

use graphward_core::Result;

use super::Parser;
use crate::ast::{
    AdminCommand, ConstraintFilter, ConstraintRule, DatabaseFilter, Expr, IndexFilter,
    RoutineFilter, SchemaEntity, ShowCommand, ShowStatement, ShowTail, Statement,
};

impl Parser<'_> {
    /// After `SHOW`: one of the engine's `SHOW` commands.
    pub(crate) fn parse_show(&mut self) -> Result<AdminCommand> {
        // SHOW [ALL | BUILT IN | USER DEFINED] PROCEDURES | FUNCTIONS
        let (routine, k) = if self.is_kw("ALL") {
            (RoutineFilter::All, 1)
        } else if self.is_kw("BUILT") && self.is_kw_at(1, "IN") {
            (RoutineFilter::BuiltIn, 2)
        } else if self.is_kw("USER") && self.is_kw_at(1, "DEFINED") {
            (RoutineFilter::UserDefined, 2)
        } else {
            (RoutineFilter::All, 0)
        };
        let procedures = self.is_kw_at(k, "PROCEDURES") || self.is_kw_at(k, "PROCEDURE");
        if procedures || self.is_kw_at(k, "FUNCTIONS") || self.is_kw_at(k, "FUNCTION") {
            self.skip_tokens(k + 1);
            if self.is_kw("EXECUTABLE") {
                return Err(self.not_supported(
                    "SHOW ... EXECUTABLE [BY ...]: every procedure and function graphward \
                     offers is executable by every user",
                ));
            }
            return Ok(if procedures {
                AdminCommand::ShowProcedures { kind: routine }
            } else {
                AdminCommand::ShowFunctions { kind: routine }
            });
        }
        // SHOW [DEFAULT | HOME] DATABASE[S] [name]
        let default = self.eat_kw("DEFAULT") || self.eat_kw("HOME");
        if self.eat_kw("DATABASES") || self.eat_kw("DATABASE") {
            let which = if default {
                DatabaseFilter::Default
            } else if self.is_name() && !self.is_kw("YIELD") && !self.is_kw("WHERE") {
                DatabaseFilter::Named(self.parse_db_name()?.to_ascii_lowercase())
            } else {
                DatabaseFilter::All
            };
            return Ok(AdminCommand::ShowDatabases {
                which,
                visible: None,
            });
        }
        if default {
            return Err(self.unexpected("DATABASE"));
        }
        // SHOW <kind> INDEXES
        let index_kinds = [
            ("ALL", IndexFilter::All),
            ("RANGE", IndexFilter::Range),
            ("LOOKUP", IndexFilter::Lookup),
            ("TEXT", IndexFilter::Text),
            ("POINT", IndexFilter::Point),
            ("FULLTEXT", IndexFilter::Fulltext),
            ("VECTOR", IndexFilter::Vector),
        ];
        let (kind, k) = index_kinds
            .iter()
            .find(|(w, _)| self.is_kw(w))
            .map_or((IndexFilter::All, 0), |(_, f)| (*f, 1));
        if self.is_kw_at(k, "INDEXES") || self.is_kw_at(k, "INDEX") {
            self.skip_tokens(k + 1);
            return Ok(AdminCommand::ShowIndexes { kind });
        }
        // SHOW [ALL | NODE | REL[ATIONSHIP]] [UNIQUE | KEY | [PROPERTY] EXISTENCE] CONSTRAINTS
        let mut filter = ConstraintFilter::ALL;
        if !self.eat_kw("ALL") {
            if self.eat_kw("NODE") {
                filter.entity = Some(SchemaEntity::Node);
            } else if self.eat_kw("REL") || self.eat_kw("RELATIONSHIP") {
                filter.entity = Some(SchemaEntity::Relationship);
            }
            if self.eat_kw("UNIQUE") || self.eat_kw("UNIQUENESS") {
                filter.rule = ConstraintRule::Unique;
            } else if self.eat_kw("KEY") {
                filter.rule = ConstraintRule::Key;
            } else {
                let property = self.eat_kw("PROPERTY");
                if self.eat_kw("EXISTENCE") || self.eat_kw("EXIST") {
                    filter.rule = ConstraintRule::Existence;
                } else if property {
                    return Err(self.unexpected("EXISTENCE"));
                }
            }
        }
        if self.eat_kw("CONSTRAINTS") || self.eat_kw("CONSTRAINT") {
            return Ok(AdminCommand::ShowConstraints { kind: filter });
        }
        Err(self.unexpected(
            "PROCEDURES, FUNCTIONS, DATABASES, INDEXES, CONSTRAINTS, TRANSACTIONS, USERS, \
             CURRENT USER, ROLES or PRIVILEGES",
        ))
    }

    /// A `SHOW` statement followed by a `YIELD` / `WHERE` / `RETURN` tail becomes a
    /// [`Statement::Show`]; any other statement is returned as it is.
    pub(crate) fn with_show_tail(&mut self, statement: Statement) -> Result<Statement> {
        let command = match statement {
            Statement::Admin(cmd) if cmd.is_show() => ShowCommand::Admin(cmd),
            Statement::Command(cmd) if cmd.is_show() => ShowCommand::Server(cmd),
            other => return Ok(other),
        };
        let tail = self.parse_show_tail()?;
        if self.is_kw("SHOW") || self.is_kw("TERMINATE") {
            return Err(self.not_supported(
                "several SHOW / TERMINATE commands in one statement: send them one by one",
            ));
        }
        Ok(match (tail, command) {
            (Some(tail), command) => Statement::Show(Box::new(ShowStatement { command, tail })),
            (None, ShowCommand::Admin(cmd)) => Statement::Admin(cmd),
            (None, ShowCommand::Server(cmd)) => Statement::Command(cmd),
        })
    }

    /// `YIELD ... [WHERE ...] [RETURN ...]` or `WHERE ...`, if present.
    fn parse_show_tail(&mut self) -> Result<Option<ShowTail>> {
        if self.eat_kw("WHERE") {
            return Ok(Some(ShowTail {
                yield_: None,
                where_: Some(self.parse_expr()?),
                return_: None,
            }));
        }
        if !self.eat_kw("YIELD") {
            return Ok(None);
        }
        if self.is_kw("DISTINCT") {
            return Err(self.unexpected("* or a column name (YIELD has no DISTINCT)"));
        }
        let at = self.cur_start();
        let projection = self.parse_projection()?;
        let plain = projection
            .items
            .iter()
            .all(|i| matches!(i.expr, Expr::Variable(_)));
        if !plain || (projection.star && !projection.items.is_empty()) {
            return Err(self.error_at(
                at,
                "YIELD takes * or column names (`YIELD name, type AS t`), not expressions",
                "InvalidSyntax",
            ));
        }
        let where_ = if self.eat_kw("WHERE") {
            Some(self.parse_expr()?)
        } else {
            None
        };
        let return_ = if self.eat_kw("RETURN") {
            Some(self.parse_projection()?)
        } else {
            None
        };
        Ok(Some(ShowTail {
            yield_: Some(projection),
            where_,
            return_,
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::ast::*;
    use crate::parser::parse;

    fn admin(q: &str) -> AdminCommand {
        match parse(q, 64) {
            Ok(Statement::Admin(c)) => c,
            other => panic!("{q}: {other:?}"),
        }
    }

    fn constraints(rule: ConstraintRule, entity: Option<SchemaEntity>) -> AdminCommand {
        AdminCommand::ShowConstraints {
            kind: ConstraintFilter { rule, entity },
        }
    }

    #[test]
    fn filtered_show_kinds_are_typed() {
        use ConstraintRule::*;
        use SchemaEntity::*;
        for (q, want) in [
            ("SHOW CONSTRAINTS", constraints(Any, None)),
            ("SHOW ALL CONSTRAINTS", constraints(Any, None)),
            ("SHOW NODE CONSTRAINTS", constraints(Any, Some(Node))),
            ("SHOW REL CONSTRAINTS", constraints(Any, Some(Relationship))),
            ("SHOW UNIQUE CONSTRAINTS", constraints(Unique, None)),
            (
                "SHOW NODE UNIQUE CONSTRAINTS",
                constraints(Unique, Some(Node)),
            ),
            (
                "SHOW RELATIONSHIP UNIQUE CONSTRAINTS",
                constraints(Unique, Some(Relationship)),
            ),
            ("SHOW EXISTENCE CONSTRAINTS", constraints(Existence, None)),
            (
                "SHOW NODE EXISTENCE CONSTRAINTS",
                constraints(Existence, Some(Node)),
            ),
            (
                "SHOW RELATIONSHIP EXISTENCE CONSTRAINTS",
                constraints(Existence, Some(Relationship)),
            ),
            (
                "SHOW PROPERTY EXISTENCE CONSTRAINTS",
                constraints(Existence, None),
            ),
            ("SHOW KEY CONSTRAINTS", constraints(Key, None)),
            ("SHOW NODE KEY CONSTRAINTS", constraints(Key, Some(Node))),
            (
                "SHOW RELATIONSHIP KEY CONSTRAINTS",
                constraints(Key, Some(Relationship)),
            ),
            (
                "SHOW VECTOR INDEXES",
                AdminCommand::ShowIndexes {
                    kind: IndexFilter::Vector,
                },
            ),
            (
                "SHOW RANGE INDEX",
                AdminCommand::ShowIndexes {
                    kind: IndexFilter::Range,
                },
            ),
            (
                "SHOW BUILT IN FUNCTIONS",
                AdminCommand::ShowFunctions {
                    kind: RoutineFilter::BuiltIn,
                },
            ),
            (
                "SHOW USER DEFINED FUNCTIONS",
                AdminCommand::ShowFunctions {
                    kind: RoutineFilter::UserDefined,
                },
            ),
            (
                "SHOW DATABASE Movies",
                AdminCommand::ShowDatabases {
                    which: DatabaseFilter::Named("movies".into()),
                    visible: None,
                },
            ),
            (
                "SHOW HOME DATABASE",
                AdminCommand::ShowDatabases {
                    which: DatabaseFilter::Default,
                    visible: None,
                },
            ),
        ] {
            assert_eq!(admin(q), want, "{q}");
        }
    }

    #[test]
    fn tails_wrap_show_commands_only() {
        let Ok(Statement::Show(s)) = parse(
            "SHOW INDEXES YIELD name, type AS t ORDER BY name SKIP 1 LIMIT 2 WHERE t = 'RANGE' RETURN name",
            64,
        ) else {
            panic!("not a SHOW statement")
        };
        let y = s.tail.yield_.as_ref().unwrap();
        assert_eq!(y.items.len(), 2);
        assert!(y.skip.is_some() && y.limit.is_some() && y.order_by.len() == 1);
        assert!(s.tail.where_.is_some() && s.tail.return_.is_some());
        assert!(matches!(
            parse("SHOW USERS YIELD user WHERE user = 'x'", 64),
            Ok(Statement::Show(s)) if matches!(s.command, ShowCommand::Server(_))
        ));
        assert!(matches!(
            parse("SHOW PROCEDURES WHERE name = 'db.labels'", 64),
            Ok(Statement::Show(s)) if s.tail.yield_.is_none()
        ));
        for q in [
            "SHOW INDEXES YIELD name.x",
            "SHOW INDEXES YIELD *, name",
            "SHOW INDEXES YIELD DISTINCT name",
            "SHOW INDEXES RETURN name",
            "SHOW INDEX INFO YIELD x",
            "CREATE INDEX FOR (n:L) ON (n.p) YIELD name",
            "SHOW PROPERTY CONSTRAINTS",
        ] {
            assert!(parse(q, 64).is_err(), "{q}");
        }
    }

    #[test]
    fn key_constraints_and_relationship_indexes() {
        assert_eq!(
            admin("CREATE CONSTRAINT k FOR (a:A) REQUIRE (a.x, a.y) IS NODE KEY"),
            AdminCommand::CreateKeyConstraint {
                name: Some("k".into()),
                if_not_exists: false,
                entity: SchemaEntity::Node,
                label: "A".into(),
                properties: vec!["x".into(), "y".into()],
            }
        );
        assert!(matches!(
            admin("CREATE CONSTRAINT ON (a:A) ASSERT (a.x) IS NODE KEY"),
            AdminCommand::CreateKeyConstraint { .. }
        ));
        assert!(matches!(
            admin("CREATE CONSTRAINT FOR ()-[r:R]-() REQUIRE r.p IS REL KEY"),
            AdminCommand::CreateKeyConstraint {
                entity: SchemaEntity::Relationship,
                ..
            }
        ));
        assert!(matches!(
            admin("CREATE CONSTRAINT FOR ()-[r:R]-() REQUIRE r.p IS KEY"),
            AdminCommand::CreateKeyConstraint {
                entity: SchemaEntity::Relationship,
                ..
            }
        ));
        assert!(parse(
            "CREATE CONSTRAINT FOR (a:A) REQUIRE a.x IS RELATIONSHIP KEY",
            64
        )
        .is_err());
        assert_eq!(
            admin("CREATE RANGE INDEX i IF NOT EXISTS FOR ()-[r:R]-() ON (r.p, r.q)"),
            AdminCommand::CreateIndex {
                name: Some("i".into()),
                if_not_exists: true,
                entity: SchemaEntity::Relationship,
                label: "R".into(),
                properties: vec!["p".into(), "q".into()],
            }
        );
        for (q, exists) in [
            ("CREATE CONSTRAINT ON ()-[r:R]-() ASSERT exists(r.p)", true),
            (
                "CREATE CONSTRAINT FOR ()-[r:R]-() REQUIRE r.p IS NOT NULL",
                true,
            ),
            ("CREATE CONSTRAINT FOR (n:L) REQUIRE n.p IS NOT NULL", true),
        ] {
            assert_eq!(
                matches!(admin(q), AdminCommand::CreateExistenceConstraint { .. }),
                exists,
                "{q}"
            );
        }
    }
}
