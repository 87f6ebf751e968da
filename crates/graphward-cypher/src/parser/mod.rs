//! Cypher parser: a hand-written lexer and recursive-descent / precedence-climbing parser.
//!
//! * Keywords are case-insensitive; identifiers keep their case.
//! * Nesting (parentheses, lists, maps, unary/NOT chains, subqueries, and long operator
//!   chains) is bounded by `max_depth`; exceeding it is a `SyntaxError`, never a stack
//!   overflow.
//! * Errors carry a `Position` and the TCK detail (`UnexpectedSyntax`, `IntegerOverflow`, ...).

mod commands;
pub use commands::{CypherOption, CypherOptions};
mod expr;
pub mod lexer;
mod show;
#[cfg(test)]
mod tests;

use crate::ast::*;
use graphward_core::error::Position;
use graphward_core::{Error, Result};
use lexer::{Tok, Token};

/// Parse one statement. `max_depth` bounds expression/pattern nesting.
///
/// Deeply nested input is parsed on a helper thread with a large stack (debug builds use a
/// lot of stack per nesting level); shallow input is parsed on the caller's thread.
pub fn parse(query: &str, max_depth: usize) -> Result<Statement> {
    let toks = lexer::tokenize(query)?;
    let deep = nesting_estimate(&toks) > SHALLOW_NESTING;
    let run = move || {
        let matching = match_brackets(&toks);
        let mut p = Parser {
            src: query,
            toks,
            pos: 0,
            depth: 0,
            max_depth,
            matching,
            failed: std::collections::HashSet::new(),
            use_ctx: UseCtx::Statement,
            uses: Vec::new(),
        };
        p.parse_statement_top()
    };
    if deep {
        on_big_stack(run)?
    } else {
        run()
    }
}

/// Nesting up to this estimate is parsed/checked on the caller's stack.
pub(crate) const SHALLOW_NESTING: usize = 12;

/// Stack size of the helper thread used for deeply nested queries.
pub const BIG_STACK_BYTES: usize = 64 << 20;

/// Run `f` on a scoped helper thread with a `BIG_STACK_BYTES` stack (reserved lazily by the
/// OS). Use it for recursive work over ASTs of deeply nested queries.
pub fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T> {
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .name("graphward-deep-query".into())
            .stack_size(BIG_STACK_BYTES)
            .spawn_scoped(s, f)
            .map_err(|e| Error::internal(format!("cannot start a query thread: {e}")))?;
        handle
            .join()
            .map_err(|_| Error::internal("query thread panicked"))
    })
}

/// A cheap upper-bound-ish estimate of how deeply the parser will recurse.
fn nesting_estimate(toks: &[Token]) -> usize {
    let mut depth: usize = 0;
    let mut max = 0;
    let mut extra = 0;
    for t in toks {
        match &t.tok {
            Tok::Sym("(") | Tok::Sym("[") | Tok::Sym("{") => {
                depth += 1;
                max = max.max(depth);
            }
            Tok::Sym(")") | Tok::Sym("]") | Tok::Sym("}") => depth = depth.saturating_sub(1),
            Tok::Sym("-") | Tok::Sym("+") => extra += 1,
            Tok::Ident(w)
                if w.eq_ignore_ascii_case("CASE")
                    || w.eq_ignore_ascii_case("NOT")
                    || w.eq_ignore_ascii_case("WHEN") =>
            {
                extra += 1
            }
            _ => {}
        }
    }
    max + extra / 4
}

/// Line/column (1-based, columns in characters) of a byte offset.
pub fn position_of(src: &str, offset: usize) -> Position {
    let mut line = 1;
    let mut column = 1;
    for (i, c) in src.char_indices() {
        if i >= offset {
            break;
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    Position {
        offset: offset.min(src.len()),
        line,
        column,
    }
}

pub(crate) struct Parser<'a> {
    pub(crate) src: &'a str,
    pub(crate) toks: Vec<Token>,
    pub(crate) pos: usize,
    pub(crate) depth: usize,
    pub(crate) max_depth: usize,
    /// For each opening bracket token, the index of its closing token (`usize::MAX` if none).
    pub(crate) matching: Vec<usize>,
    /// Speculative parses (token index, kind) that already failed: never retried, which
    /// keeps backtracking linear-ish instead of exponential.
    pub(crate) failed: std::collections::HashSet<(usize, u8)>,
    /// Where a `USE` clause may stand right now.
    pub(crate) use_ctx: UseCtx,
    /// The `USE` clauses parsed so far: (graph, its offset).
    pub(crate) uses: Vec<(String, usize)>,
}

/// Where the parser is, for `USE`: a statement's query, a `CALL { }` body, or an expression
/// subquery (`EXISTS { }`, `COUNT { }`, `COLLECT { }`), where `USE` is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UseCtx {
    Statement,
    Call,
    Forbidden,
}

fn match_brackets(toks: &[Token]) -> Vec<usize> {
    let mut out = vec![usize::MAX; toks.len()];
    let mut stack: Vec<(usize, &str)> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        match &t.tok {
            Tok::Sym(s @ ("(" | "[" | "{")) => stack.push((i, s)),
            Tok::Sym(s @ (")" | "]" | "}")) => {
                let want = match *s {
                    ")" => "(",
                    "]" => "[",
                    _ => "{",
                };
                if let Some(&(j, open)) = stack.last() {
                    if open == want {
                        stack.pop();
                        if let Some(slot) = out.get_mut(j) {
                            *slot = i;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Words that end an expression / cannot be used as a bare variable at the start of an
/// expression atom.
const CLAUSE_WORDS: &[&str] = &[
    "MATCH", "OPTIONAL", "UNWIND", "WITH", "RETURN", "CREATE", "MERGE", "SET", "REMOVE", "DELETE",
    "DETACH", "CALL", "FOREACH", "UNION", "WHERE", "ORDER", "SKIP", "LIMIT", "ON", "YIELD",
];

impl<'a> Parser<'a> {
    // ----- token helpers -------------------------------------------------------------------

    pub(crate) fn tok(&self) -> &Tok {
        self.tok_at(0)
    }

    pub(crate) fn tok_at(&self, n: usize) -> &Tok {
        match self.toks.get(self.pos + n).or_else(|| self.toks.last()) {
            Some(t) => &t.tok,
            None => &Tok::Eof,
        }
    }

    pub(crate) fn start_of(&self, n: usize) -> usize {
        self.toks
            .get(self.pos + n)
            .or_else(|| self.toks.last())
            .map(|t| t.start)
            .unwrap_or(0)
    }

    pub(crate) fn cur_start(&self) -> usize {
        self.start_of(0)
    }

    /// End offset of the last consumed token.
    pub(crate) fn prev_end(&self) -> usize {
        if self.pos == 0 {
            return 0;
        }
        self.toks.get(self.pos - 1).map(|t| t.end).unwrap_or(0)
    }

    pub(crate) fn advance(&mut self) {
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
    }

    pub(crate) fn at_eof(&self) -> bool {
        matches!(self.tok(), Tok::Eof)
    }

    pub(crate) fn is_kw_at(&self, n: usize, kw: &str) -> bool {
        matches!(self.tok_at(n), Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    pub(crate) fn is_kw(&self, kw: &str) -> bool {
        self.is_kw_at(0, kw)
    }

    pub(crate) fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.advance();
            true
        } else {
            false
        }
    }

    pub(crate) fn expect_kw(&mut self, kw: &str) -> Result<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.unexpected(kw))
        }
    }

    pub(crate) fn is_name_at(&self, n: usize) -> bool {
        matches!(self.tok_at(n), Tok::Ident(_) | Tok::Quoted(_))
    }

    pub(crate) fn is_sym_at(&self, n: usize, s: &str) -> bool {
        matches!(self.tok_at(n), Tok::Sym(x) if *x == s)
    }

    pub(crate) fn is_sym(&self, s: &str) -> bool {
        self.is_sym_at(0, s)
    }

    pub(crate) fn eat_sym(&mut self, s: &str) -> bool {
        if self.is_sym(s) {
            self.advance();
            true
        } else {
            false
        }
    }

    pub(crate) fn expect_sym(&mut self, s: &str) -> Result<()> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("'{s}'")))
        }
    }

    pub(crate) fn is_clause_word(&self) -> bool {
        CLAUSE_WORDS.iter().any(|w| self.is_kw(w))
    }

    /// A syntax error at the current token.
    pub(crate) fn unexpected(&self, expected: &str) -> Error {
        let t = self.toks.get(self.pos).or_else(|| self.toks.last());
        let (start, end, tok) = match t {
            Some(t) => (t.start, t.end, &t.tok),
            None => (0, 0, &Tok::Eof),
        };
        let p = position_of(self.src, start);
        let (detail, what) = match tok {
            Tok::Eof => ("UnexpectedSyntax", "Unexpected end of input".to_string()),
            Tok::Unknown(c) if !c.is_ascii() => (
                "InvalidUnicodeCharacter",
                format!("Invalid input '{c}': invalid unicode character"),
            ),
            Tok::IntOverflow => (
                "IntegerOverflow",
                "integer literal is too large".to_string(),
            ),
            Tok::FloatOverflow => (
                "FloatingPointOverflow",
                "floating point literal is too large".to_string(),
            ),
            _ => {
                let text: String = self
                    .src
                    .get(start..end)
                    .unwrap_or("")
                    .chars()
                    .take(30)
                    .collect();
                ("UnexpectedSyntax", format!("Invalid input '{text}'"))
            }
        };
        Error::syntax(format!(
            "{what}: expected {expected} (line {}, column {})",
            p.line, p.column
        ))
        .with_detail(detail)
        .at(p)
    }

    pub(crate) fn error_at(&self, offset: usize, msg: &str, detail: &str) -> Error {
        let p = position_of(self.src, offset);
        Error::syntax(format!("{msg} (line {}, column {})", p.line, p.column))
            .with_detail(detail)
            .at(p)
    }

    pub(crate) fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(self.error_at(
                self.cur_start(),
                &format!(
                    "Query nesting is too deep (the limit is {})",
                    self.max_depth
                ),
                "UnexpectedSyntax",
            ));
        }
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    pub(crate) fn check_chain(&self, extra: usize) -> Result<()> {
        if self.depth + extra > self.max_depth {
            return Err(self.error_at(
                self.cur_start(),
                &format!(
                    "Expression is too deeply nested (the limit is {})",
                    self.max_depth
                ),
                "UnexpectedSyntax",
            ));
        }
        Ok(())
    }

    /// A symbolic name: a bare word (keywords allowed) or a backtick-quoted name.
    pub(crate) fn symbolic_name(&mut self, what: &str) -> Result<String> {
        match self.tok().clone() {
            Tok::Ident(s) | Tok::Quoted(s) => {
                self.advance();
                Ok(s)
            }
            _ => Err(self.unexpected(what)),
        }
    }

    pub(crate) fn is_name(&self) -> bool {
        matches!(self.tok(), Tok::Ident(_) | Tok::Quoted(_))
    }

    /// A variable name: like `symbolic_name` but rejects clause keywords used bare.
    pub(crate) fn variable_name(&mut self) -> Result<String> {
        match self.tok().clone() {
            Tok::Quoted(s) => {
                self.advance();
                Ok(s)
            }
            Tok::Ident(s) => {
                self.advance();
                Ok(s)
            }
            _ => Err(self.unexpected("a variable name")),
        }
    }

    // ----- statements -----------------------------------------------------------------------

    fn parse_statement_top(&mut self) -> Result<Statement> {
        if self.at_eof() || (self.is_sym(";") && matches!(self.tok_at(1), Tok::Eof)) {
            return Err(self.error_at(
                0,
                "Invalid input '': the query is empty",
                "UnexpectedSyntax",
            ));
        }
        let stmt = self.parse_statement()?;
        self.eat_sym(";");
        if !self.at_eof() {
            return Err(self.unexpected(
                "a clause (MATCH, OPTIONAL MATCH, UNWIND, WITH, RETURN, CREATE, MERGE, SET, REMOVE, DELETE, CALL, FOREACH), UNION, ';' or end of input",
            ));
        }
        // Every `USE` of a statement names one graph: a query runs on one database (Neo4j
        // accesses several only from a composite database).
        if let Some((first, _)) = self.uses.first() {
            if let Some((other, at)) = self
                .uses
                .iter()
                .find(|(g, _)| !g.eq_ignore_ascii_case(first))
            {
                let p = position_of(self.src, *at);
                return Err(Error::new(
                    graphward_core::ErrorCode::NotSupported,
                    format!(
                        "Not supported: accessing multiple graphs in the same query ('{first}' and '{other}'); \
                         graphward has no composite databases (line {}, column {})",
                        p.line, p.column
                    ),
                )
                .with_detail("FeatureNotSupported")
                .at(p));
            }
        }
        Ok(stmt)
    }

    fn parse_statement(&mut self) -> Result<Statement> {
        // `CYPHER 5 runtime=slotted ...`: checked and typed; one runtime runs them all.
        while self.try_cypher_prefix()?.is_some() {}
        for (word, explain) in [("EXPLAIN", true), ("PROFILE", false)] {
            if self.is_kw(word) {
                let start = self.cur_start();
                self.advance();
                let inner = self.parse_statement()?;
                // Only a query has a plan: EXPLAIN/PROFILE of a command (or of EXPLAIN) is
                // refused here, so it never runs anything (Neo4j refuses them too).
                if !matches!(inner, Statement::Query(_)) {
                    return Err(self.error_at(
                        start,
                        &format!("{word} applies to queries only, not to administration, schema or transaction commands"),
                        "UnexpectedSyntax",
                    ));
                }
                return Ok(if explain {
                    Statement::Explain(Box::new(inner))
                } else {
                    Statement::Profile(Box::new(inner))
                });
            }
        }
        if let Some(statement) = self.try_command()? {
            return self.with_show_tail(statement);
        }
        if let Some(cmd) = self.try_transactions_command()? {
            return self.with_show_tail(Statement::Admin(cmd));
        }
        if let Some(cmd) = self.try_admin()? {
            return self.with_show_tail(Statement::Admin(cmd));
        }
        Ok(Statement::Query(self.parse_query()?))
    }

    pub(crate) fn parse_query(&mut self) -> Result<Query> {
        let first = self.parse_single_query()?;
        let mut unions = Vec::new();
        while self.eat_kw("UNION") {
            let all = self.eat_kw("ALL");
            unions.push((all, self.parse_single_query()?));
        }
        Ok(Query { first, unions })
    }

    fn parse_single_query(&mut self) -> Result<SingleQuery> {
        let use_graph = self.parse_use()?;
        let mut clauses = Vec::new();
        while let Some(c) = self.parse_clause()? {
            clauses.push(c);
        }
        if clauses.is_empty() {
            return Err(self.unexpected(
                "a clause (MATCH, OPTIONAL MATCH, UNWIND, WITH, RETURN, CREATE, MERGE, SET, REMOVE, DELETE, CALL, FOREACH)",
            ));
        }
        Ok(SingleQuery { use_graph, clauses })
    }

    /// `USE name` / ``USE `name` `` / `USE graph.byName('name')` before a query's first
    /// clause.
    fn parse_use(&mut self) -> Result<Option<String>> {
        if !self.is_use_clause() {
            return Ok(None);
        }
        let at = self.cur_start();
        if self.use_ctx == UseCtx::Forbidden {
            return Err(self.not_supported(
                "USE inside an EXISTS, COUNT or COLLECT subquery: put USE at the start of the query",
            ));
        }
        self.advance();
        let graph = if self.is_kw("graph") && self.is_sym_at(1, ".") {
            self.skip_tokens(2);
            if !self.eat_kw("byName") {
                return Err(self
                    .not_supported("this graph function in USE: graph.byName('name') is offered"));
            }
            self.expect_sym("(")?;
            let name = match self.tok().clone() {
                lexer::Tok::Str(s) => {
                    self.advance();
                    s
                }
                _ => {
                    return Err(
                        self.not_supported("USE graph.byName with anything but a string literal")
                    )
                }
            };
            self.expect_sym(")")?;
            name
        } else {
            let mut name = self.symbolic_name("a graph name")?;
            // A dotted name (`USE composite.part`) is one name in Neo4j.
            while self.is_sym(".") && self.is_name_at(1) {
                self.advance();
                name.push('.');
                name.push_str(&self.symbolic_name("a graph name")?);
            }
            name
        };
        self.uses.push((graph.clone(), at));
        Ok(Some(graph))
    }

    /// At `USE` starting a clause (not a variable named `use`).
    fn is_use_clause(&self) -> bool {
        self.is_kw("USE")
            && !self.is_sym_at(1, "=")
            && !self.is_sym_at(1, ".")
            && (self.is_name_at(1))
    }

    fn parse_clause(&mut self) -> Result<Option<Clause>> {
        let start = self.cur_start();
        let c = if self.is_kw("OPTIONAL") && self.is_kw_at(1, "MATCH") {
            self.advance();
            self.advance();
            Clause::Match(self.parse_match_rest(true, start)?)
        } else if self.eat_kw("MATCH") {
            Clause::Match(self.parse_match_rest(false, start)?)
        } else if self.eat_kw("UNWIND") {
            let expr = self.parse_expr()?;
            self.expect_kw("AS")?;
            let variable = self.variable_name()?;
            Clause::Unwind(Unwind { expr, variable })
        } else if self.eat_kw("WITH") {
            let projection = self.parse_projection()?;
            let where_ = if self.eat_kw("WHERE") {
                Some(self.parse_expr()?)
            } else {
                None
            };
            Clause::With(With { projection, where_ })
        } else if self.eat_kw("RETURN") {
            Clause::Return(Return {
                projection: self.parse_projection()?,
            })
        } else if self.eat_kw("CREATE") {
            Clause::Create(Create {
                pattern: self.parse_pattern()?,
            })
        } else if self.eat_kw("MERGE") {
            let pattern = self.parse_pattern_part()?;
            let mut on_create = Vec::new();
            let mut on_match = Vec::new();
            while self.is_kw("ON") {
                self.advance();
                if self.eat_kw("CREATE") {
                    self.expect_kw("SET")?;
                    on_create.extend(self.parse_set_items()?);
                } else if self.eat_kw("MATCH") {
                    self.expect_kw("SET")?;
                    on_match.extend(self.parse_set_items()?);
                } else {
                    return Err(self.unexpected("CREATE or MATCH"));
                }
            }
            Clause::Merge(Merge {
                pattern,
                on_create,
                on_match,
            })
        } else if self.eat_kw("SET") {
            Clause::Set(self.parse_set_items()?)
        } else if self.eat_kw("REMOVE") {
            let mut items = Vec::new();
            loop {
                items.push(self.parse_remove_item()?);
                if !self.eat_sym(",") {
                    break;
                }
            }
            Clause::Remove(items)
        } else if self.is_kw("DETACH") && self.is_kw_at(1, "DELETE") {
            self.advance();
            self.advance();
            Clause::Delete(Delete {
                detach: true,
                exprs: self.parse_expr_list()?,
            })
        } else if self.eat_kw("DELETE") {
            Clause::Delete(Delete {
                detach: false,
                exprs: self.parse_expr_list()?,
            })
        } else if self.is_kw("LOAD") && self.is_kw_at(1, "CSV") {
            self.skip_tokens(2);
            let with_headers = self.is_kw("WITH") && self.is_kw_at(1, "HEADERS");
            if with_headers {
                self.skip_tokens(2);
            }
            self.expect_kw("FROM")?;
            let url = self.parse_expr()?;
            self.expect_kw("AS")?;
            let variable = self.variable_name()?;
            let field_terminator = if self.is_kw("FIELDTERMINATOR") {
                let at = self.cur_start();
                self.advance();
                let lexer::Tok::Str(t) = self.tok().clone() else {
                    return Err(self.unexpected("a string literal"));
                };
                self.advance();
                let mut chars = t.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Some(c),
                    _ => {
                        return Err(self.error_at(
                            at,
                            "CSV field terminator can only be one character wide",
                            "UnexpectedSyntax",
                        ))
                    }
                }
            } else {
                None
            };
            Clause::LoadCsv(LoadCsv {
                with_headers,
                url,
                variable,
                field_terminator,
            })
        } else if self.is_use_clause() {
            return Err(self.not_supported(
                "USE after the first clause: USE must come first in a query or CALL { } subquery",
            ));
        } else if self.is_kw("OPTIONAL") && self.is_kw_at(1, "CALL") {
            self.skip_tokens(2);
            match self.parse_call_subquery()? {
                Some((None, q)) => {
                    self.in_transactions(Clause::OptionalCallSubquery(Box::new(q)), start)?
                }
                Some((Some(variables), q)) => self.in_transactions(
                    Clause::ScopedCallSubquery {
                        variables,
                        optional: true,
                        query: Box::new(q),
                    },
                    start,
                )?,
                None => {
                    return Err(self.not_supported(
                        "OPTIONAL CALL of a procedure (OPTIONAL CALL { ... } is offered)",
                    ))
                }
            }
        } else if self.eat_kw("CALL") {
            match self.parse_call_subquery()? {
                Some((None, q)) => {
                    self.in_transactions(Clause::CallSubquery(Box::new(q)), start)?
                }
                Some((Some(variables), q)) => self.in_transactions(
                    Clause::ScopedCallSubquery {
                        variables,
                        optional: false,
                        query: Box::new(q),
                    },
                    start,
                )?,
                None => Clause::Call(self.parse_call_rest()?),
            }
        } else if self.eat_kw("FOREACH") {
            self.enter()?;
            self.expect_sym("(")?;
            let variable = self.variable_name()?;
            self.expect_kw("IN")?;
            let list = self.parse_expr()?;
            self.expect_sym("|")?;
            let mut clauses = Vec::new();
            while let Some(c) = self.parse_clause()? {
                clauses.push(c);
            }
            if clauses.is_empty() {
                return Err(self.unexpected("an updating clause"));
            }
            self.expect_sym(")")?;
            self.leave();
            Clause::Foreach(Foreach {
                variable,
                list,
                clauses,
            })
        } else {
            return Ok(None);
        };
        Ok(Some(c))
    }

    fn skip_tokens(&mut self, n: usize) {
        for _ in 0..n {
            self.advance();
        }
    }

    /// After `CALL`: `{ query }`, `() { query }`, `(x, y) { query }` or `(*) { query }` (an
    /// `IN TRANSACTIONS` after it is read by [`Parser::in_transactions`]): the scope clause,
    /// if any (`Some(None)` for `(*)`), and the query. `None` if a procedure call follows.
    #[allow(clippy::type_complexity)]
    fn parse_call_subquery(&mut self) -> Result<Option<(Option<Option<Vec<String>>>, Query)>> {
        let scope: Option<Option<Vec<String>>> = if self.is_sym("(") {
            // A scope clause only if the parenthesis closes right before `{`.
            let save = self.pos;
            self.advance();
            let mut vars = Vec::new();
            let mut all = false;
            let mut ok = true;
            if self.eat_sym("*") {
                all = true;
            } else if !self.is_sym(")") {
                loop {
                    if !self.is_name() {
                        ok = false;
                        break;
                    }
                    vars.push(self.variable_name()?);
                    if !self.eat_sym(",") {
                        break;
                    }
                }
            }
            if ok && self.eat_sym(")") && self.is_sym("{") {
                Some(if all { None } else { Some(vars) })
            } else {
                self.pos = save;
                return Ok(None);
            }
        } else {
            None
        };
        if !self.eat_sym("{") {
            return Ok(None);
        }
        self.enter()?;
        let outer = std::mem::replace(&mut self.use_ctx, UseCtx::Call);
        let q = self.parse_query();
        self.use_ctx = outer;
        let q = q?;
        self.expect_sym("}")?;
        self.leave();
        Ok(Some((scope, q)))
    }

    /// After a `CALL { }` subquery clause: `IN [[n] CONCURRENT] TRANSACTIONS` and its options
    /// (`OF n ROW[S]`, `ON ERROR CONTINUE|BREAK|FAIL`, `REPORT STATUS AS s`, each at most once,
    /// in any order) make it a [`Clause::InTransactions`]; otherwise the clause is returned
    /// as it is.
    fn in_transactions(&mut self, call: Clause, start: usize) -> Result<Clause> {
        if !self.is_kw("IN") {
            return Ok(call);
        }
        self.advance();
        let concurrency = if self.eat_kw("CONCURRENT") {
            Some(None)
        } else if self.is_kw("TRANSACTIONS") {
            None
        } else {
            let n = self.parse_expr()?;
            if !self.eat_kw("CONCURRENT") {
                return Err(self.unexpected("CONCURRENT"));
            }
            Some(Some(n))
        };
        self.expect_kw("TRANSACTIONS")?;
        let mut batch_size = None;
        let mut batch_span = Span::default();
        let mut on_error = None;
        let mut report_status = None;
        loop {
            let at = self.cur_start();
            if self.eat_kw("OF") {
                if batch_size.is_some() {
                    return Err(self.error_at(
                        at,
                        "Duplicated OF ROWS parameter",
                        "UnexpectedSyntax",
                    ));
                }
                let value_at = self.cur_start();
                let e = self.parse_expr()?;
                batch_span = Span {
                    start: value_at,
                    end: self.prev_end(),
                };
                if !(self.eat_kw("ROWS") || self.eat_kw("ROW")) {
                    return Err(self.unexpected("ROW or ROWS"));
                }
                batch_size = Some(e);
            } else if self.is_kw("ON") && self.is_kw_at(1, "ERROR") {
                if on_error.is_some() {
                    return Err(self.error_at(
                        at,
                        "Duplicated ON ERROR parameter",
                        "UnexpectedSyntax",
                    ));
                }
                self.skip_tokens(2);
                on_error = Some(if self.eat_kw("CONTINUE") {
                    OnError::Continue
                } else if self.eat_kw("BREAK") {
                    OnError::Break
                } else if self.eat_kw("FAIL") {
                    OnError::Fail
                } else if self.is_kw("RETRY") {
                    return Err(self.not_supported(
                        "ON ERROR RETRY (Cypher 25): batches run one after the other under a \
                         single write lock, so they meet no transient lock conflicts to retry; \
                         use ON ERROR CONTINUE, BREAK or FAIL",
                    ));
                } else {
                    return Err(self.unexpected("CONTINUE, BREAK or FAIL"));
                });
            } else if self.is_kw("REPORT") && self.is_kw_at(1, "STATUS") {
                if report_status.is_some() {
                    return Err(self.error_at(
                        at,
                        "Duplicated REPORT STATUS parameter",
                        "UnexpectedSyntax",
                    ));
                }
                self.skip_tokens(2);
                self.expect_kw("AS")?;
                report_status = Some(self.variable_name()?);
            } else {
                break;
            }
        }
        Ok(Clause::InTransactions {
            call: Box::new(call),
            options: InTransactions {
                concurrency,
                batch_size,
                batch_span,
                on_error_given: on_error.is_some(),
                on_error: on_error.unwrap_or_default(),
                report_status,
                span: Span {
                    start,
                    end: self.prev_end(),
                },
            },
        })
    }

    fn parse_match_rest(&mut self, optional: bool, start: usize) -> Result<Match> {
        let pattern = self.parse_pattern()?;
        // Index / scan hints are accepted and ignored.
        while self.is_kw("USING") {
            self.advance();
            while !self.at_eof() && !self.is_clause_word() && !self.is_kw("USING") {
                self.advance();
            }
        }
        let where_ = if self.eat_kw("WHERE") {
            Some(self.parse_expr()?)
        } else {
            None
        };
        Ok(Match {
            optional,
            pattern,
            where_,
            span: Span {
                start,
                end: self.prev_end(),
            },
        })
    }

    fn parse_expr_list(&mut self) -> Result<Vec<Expr>> {
        let mut v = vec![self.parse_expr()?];
        while self.eat_sym(",") {
            v.push(self.parse_expr()?);
        }
        Ok(v)
    }

    fn parse_projection(&mut self) -> Result<Projection> {
        let distinct = self.eat_kw("DISTINCT");
        let mut star = false;
        let mut items = Vec::new();
        if self.eat_sym("*") {
            star = true;
            while self.eat_sym(",") {
                items.push(self.parse_projection_item()?);
            }
        } else {
            loop {
                items.push(self.parse_projection_item()?);
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        let mut order_by = Vec::new();
        if self.is_kw("ORDER") {
            self.advance();
            self.expect_kw("BY")?;
            loop {
                let expr = self.parse_expr()?;
                let ascending = if self.eat_kw("DESC") || self.eat_kw("DESCENDING") {
                    false
                } else {
                    let _ = self.eat_kw("ASC") || self.eat_kw("ASCENDING");
                    true
                };
                order_by.push(SortItem { expr, ascending });
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        let skip = if self.eat_kw("SKIP") || self.eat_kw("OFFSET") {
            Some(self.parse_expr()?)
        } else {
            None
        };
        let limit = if self.eat_kw("LIMIT") {
            Some(self.parse_expr()?)
        } else {
            None
        };
        Ok(Projection {
            distinct,
            star,
            items,
            order_by,
            skip,
            limit,
        })
    }

    fn parse_projection_item(&mut self) -> Result<ProjectionItem> {
        let start = self.cur_start();
        let expr = self.parse_expr()?;
        let end = self.prev_end();
        let text = self.src.get(start..end).unwrap_or("").trim().to_string();
        let alias = if self.eat_kw("AS") {
            Some(self.variable_name()?)
        } else {
            None
        };
        Ok(ProjectionItem { expr, alias, text })
    }

    fn parse_set_items(&mut self) -> Result<Vec<SetItem>> {
        let mut items = Vec::new();
        loop {
            items.push(self.parse_set_item()?);
            if !self.eat_sym(",") {
                break;
            }
        }
        Ok(items)
    }

    /// `n`, `n.a`, `(expr).a.b`: the left side of SET / REMOVE items.
    fn parse_set_target(&mut self) -> Result<Expr> {
        let mut e = if self.is_sym("(") {
            self.advance();
            self.enter()?;
            let e = self.parse_expr()?;
            self.expect_sym(")")?;
            self.leave();
            e
        } else {
            Expr::Variable(self.variable_name()?)
        };
        let mut chain = 0;
        while self.is_sym(".") {
            self.advance();
            chain += 1;
            self.check_chain(chain)?;
            let key = self.symbolic_name("a property key name")?;
            e = Expr::Property(Box::new(e), key);
        }
        Ok(e)
    }

    fn parse_labels(&mut self) -> Result<Vec<String>> {
        let mut labels = Vec::new();
        while self.eat_sym(":") {
            labels.push(self.symbolic_name("a label name")?);
            while self.eat_sym("&") {
                labels.push(self.symbolic_name("a label name")?);
            }
        }
        Ok(labels)
    }

    /// The labels after a node variable: `:A:B` and `:A&B` (a conjunction, in the first
    /// value) or any other label expression (`:A|B`, `:!A`, `:%`, `:(A|B)&C`, in the second).
    /// In an expression (`in_expr`), `|` followed by a name and then `]`, `.`, `(` or an
    /// operator is a list comprehension's projection (`[x IN l WHERE x:A | x.name]`), not a
    /// disjunction.
    pub(crate) fn parse_node_labels(
        &mut self,
        in_expr: bool,
    ) -> Result<(Vec<String>, Option<LabelExpr>)> {
        let mut parts = Vec::new();
        while self.eat_sym(":") {
            parts.push(self.parse_label_or(in_expr)?);
        }
        let e = match parts.len() {
            0 => return Ok((Vec::new(), None)),
            1 => parts.pop().unwrap_or(LabelExpr::Any),
            _ => LabelExpr::And(parts),
        };
        Ok(match e.as_conjunction() {
            Some(labels) => (labels, None),
            None => (Vec::new(), Some(e)),
        })
    }

    fn label_or_continues(&self, in_expr: bool) -> bool {
        if !self.is_sym("|") {
            return false;
        }
        if !in_expr {
            return true;
        }
        if self.is_sym_at(1, "!") || self.is_sym_at(1, "%") || self.is_sym_at(1, ":") {
            return true;
        }
        // `| name` then an operator, `]`, `.`, `(`... is a projection; `| name` then `|`, `&`,
        // `)`, `,`, a keyword or the end is a label.
        matches!(self.tok_at(1), Tok::Ident(_) | Tok::Quoted(_))
            && match self.tok_at(2) {
                Tok::Sym(s) => matches!(*s, "|" | "&" | ")" | "," | ";"),
                _ => true,
            }
    }

    fn parse_label_or(&mut self, in_expr: bool) -> Result<LabelExpr> {
        let mut v = vec![self.parse_label_and()?];
        while self.label_or_continues(in_expr) {
            self.advance();
            self.eat_sym(":");
            v.push(self.parse_label_and()?);
        }
        Ok(if v.len() == 1 {
            v.pop().unwrap_or(LabelExpr::Any)
        } else {
            LabelExpr::Or(v)
        })
    }

    fn parse_label_and(&mut self) -> Result<LabelExpr> {
        let mut v = vec![self.parse_label_not()?];
        while self.eat_sym("&") {
            v.push(self.parse_label_not()?);
        }
        Ok(if v.len() == 1 {
            v.pop().unwrap_or(LabelExpr::Any)
        } else {
            LabelExpr::And(v)
        })
    }

    fn parse_label_not(&mut self) -> Result<LabelExpr> {
        self.enter()?;
        let e = if self.eat_sym("!") {
            LabelExpr::Not(Box::new(self.parse_label_not()?))
        } else if self.eat_sym("%") {
            LabelExpr::Any
        } else if self.eat_sym("(") {
            let e = self.parse_label_or(false)?;
            self.expect_sym(")")?;
            e
        } else {
            LabelExpr::Label(self.symbolic_name("a label name")?)
        };
        self.leave();
        Ok(e)
    }

    /// A feature graphward deliberately does not offer: named, with the FeatureNotSupported
    /// code, at the current position.
    pub(crate) fn not_supported(&self, what: &str) -> Error {
        Error::new(
            graphward_core::ErrorCode::NotSupported,
            format!("Not supported: {what}"),
        )
        .with_detail("FeatureNotSupported")
        .at(position_of(self.src, self.cur_start()))
    }

    /// A path-pattern quantifier after a relationship or a parenthesised group: `+`, `*`,
    /// `{n}`, `{n,m}`, `{,m}`, `{n,}`. `None` if there is none.
    fn parse_quantifier(&mut self) -> Result<Option<(Option<u64>, Option<u64>)>> {
        if self.eat_sym("+") {
            return Ok(Some((Some(1), None)));
        }
        if self.eat_sym("*") {
            return Ok(Some((Some(0), None)));
        }
        if !self.is_sym("{") {
            return Ok(None);
        }
        self.advance();
        let min = self.parse_range_int()?;
        let q = if self.eat_sym(",") {
            let max = self.parse_range_int()?;
            (Some(min.unwrap_or(0)), max)
        } else {
            match min {
                Some(n) => (Some(n), Some(n)),
                None => return Err(self.unexpected("a quantifier bound")),
            }
        };
        self.expect_sym("}")?;
        if let (Some(a), Some(b)) = q {
            if b < a {
                return Err(self.error_at(
                    self.cur_start(),
                    "Invalid quantifier: the upper bound is less than the lower bound",
                    "InvalidRelationshipPattern",
                ));
            }
        }
        Ok(Some(q))
    }

    /// A quantified relationship (`-[:R]->+`) as the variable-length relationship it is
    /// equivalent to (its variable a list of relationships).
    fn quantified_rel(
        &self,
        mut rel: RelationshipPattern,
        q: (Option<u64>, Option<u64>),
    ) -> Result<RelationshipPattern> {
        if rel.length.is_some() {
            return Err(
                self.not_supported("a quantifier on a variable-length relationship (`-[*]->+`)")
            );
        }
        let anon = |at: usize| NodePattern {
            variable: None,
            labels: vec![],
            label_expr: None,
            properties: None,
            predicate: None,
            seek_hints: Vec::new(),
            span: Span { start: at, end: at },
        };
        rel.length = Some(q);
        rel.group = Some(Box::new(QuantGroup {
            left: anon(rel.span.start),
            right: anon(rel.span.end),
            predicate: None,
            more: Vec::new(),
        }));
        Ok(rel)
    }

    /// A quantified path pattern `((x)-[r]->(y)<-[s]-(z) WHERE p){1,3}`: the variable-length
    /// relationship it amounts to (the group's first relationship, carrying the group's node
    /// patterns, further relationships and predicate, checked on every iteration). `None` if
    /// no quantifier follows (a parenthesized path pattern).
    fn quantified_group(&mut self, inner: PatternElement) -> Result<Option<RelationshipPattern>> {
        let at = self.cur_start();
        let Some(q) = self.parse_quantifier()? else {
            return Ok(None);
        };
        if inner.path_var.is_some() {
            return Err(self.error_at(
                at,
                "A path variable cannot be declared inside a quantified path pattern",
                "InvalidQuantifiedPathPattern",
            ));
        }
        if let Some((rel, _)) = inner.chain.iter().find(|(r, _)| r.length.is_some()) {
            return Err(self.error_at(
                rel.span.start,
                "Quantified path patterns cannot be nested: a variable-length or quantified \
                 relationship cannot be used inside a quantified path pattern",
                "InvalidQuantifiedPathPattern",
            ));
        }
        let Some(((first, _), rest)) = inner.chain.split_first() else {
            return Err(self.error_at(
                at,
                "A quantified path pattern needs at least one relationship",
                "InvalidQuantifiedPathPattern",
            ));
        };
        // The inner node before each further relationship.
        let mut more = Vec::with_capacity(rest.len());
        let mut before = &inner.chain[0].1;
        for (rel, node) in rest {
            more.push((before.clone(), rel.clone()));
            before = node;
        }
        let mut r = first.clone();
        r.length = Some(q);
        r.group = Some(Box::new(QuantGroup {
            left: inner.start.clone(),
            right: before.clone(),
            predicate: inner.predicate.clone(),
            more,
        }));
        Ok(Some(r))
    }

    /// The node pattern after a quantified path pattern: the next one written, or an
    /// anonymous one when another quantified path pattern or the end of the path follows
    /// (`((a)-->(b)){2} ((c)<--(d))+`: the groups' end nodes meet there).
    fn node_after_group(&mut self) -> Result<NodePattern> {
        if self.is_sym("(") && !self.group_starts() {
            return self.parse_node_pattern();
        }
        let at = self.prev_end();
        Ok(NodePattern {
            variable: None,
            labels: vec![],
            label_expr: None,
            properties: None,
            predicate: None,
            seek_hints: Vec::new(),
            span: Span { start: at, end: at },
        })
    }

    /// Does a parenthesized path pattern (not a node pattern) start here: `((` or `(p =`?
    fn group_starts(&self) -> bool {
        self.is_sym("(")
            && (self.is_sym_at(1, "(") || (self.is_name_at(1) && self.is_sym_at(2, "=")))
    }

    fn parse_set_item(&mut self) -> Result<SetItem> {
        let target = self.parse_set_target()?;
        match target {
            Expr::Property(t, key) => {
                self.expect_sym("=")?;
                let value = self.parse_expr()?;
                Ok(SetItem::Property {
                    target: *t,
                    key,
                    value,
                })
            }
            Expr::Variable(variable) => {
                if self.eat_sym("=") {
                    Ok(SetItem::Replace {
                        variable,
                        value: self.parse_expr()?,
                    })
                } else if self.eat_sym("+=") {
                    Ok(SetItem::Merge {
                        variable,
                        value: self.parse_expr()?,
                    })
                } else if self.is_sym(":") {
                    let labels = self.parse_labels()?;
                    Ok(SetItem::Labels { variable, labels })
                } else {
                    Err(self.unexpected("'=', '+=' or ':'"))
                }
            }
            _ => Err(self.unexpected("'.'")),
        }
    }

    fn parse_remove_item(&mut self) -> Result<RemoveItem> {
        let target = self.parse_set_target()?;
        match target {
            Expr::Property(t, key) => Ok(RemoveItem::Property { target: *t, key }),
            Expr::Variable(variable) => {
                if self.is_sym(":") {
                    let labels = self.parse_labels()?;
                    Ok(RemoveItem::Labels { variable, labels })
                } else {
                    Err(self.unexpected("'.' or ':'"))
                }
            }
            _ => Err(self.unexpected("'.'")),
        }
    }

    fn parse_call_rest(&mut self) -> Result<Call> {
        let mut procedure = self.symbolic_name("a procedure name")?;
        while self.is_sym(".") {
            self.advance();
            procedure.push('.');
            procedure.push_str(&self.symbolic_name("a procedure name")?);
        }
        let args = if self.eat_sym("(") {
            self.enter()?;
            let mut args = Vec::new();
            if !self.is_sym(")") {
                args = self.parse_expr_list()?;
            }
            self.expect_sym(")")?;
            self.leave();
            Some(args)
        } else {
            None
        };
        let mut yield_all = false;
        let mut yields = Vec::new();
        let mut where_ = None;
        if self.eat_kw("YIELD") {
            if self.eat_sym("*") {
                yield_all = true;
            } else {
                loop {
                    let field = self.symbolic_name("a procedure output name")?;
                    let alias = if self.eat_kw("AS") {
                        Some(self.variable_name()?)
                    } else {
                        None
                    };
                    yields.push((field, alias));
                    if !self.eat_sym(",") {
                        break;
                    }
                }
            }
            if self.eat_kw("WHERE") {
                where_ = Some(self.parse_expr()?);
            }
        }
        Ok(Call {
            procedure,
            args,
            yield_all,
            yields,
            where_,
        })
    }

    // ----- patterns -------------------------------------------------------------------------

    pub(crate) fn parse_pattern(&mut self) -> Result<Pattern> {
        let mut parts = vec![self.parse_pattern_part()?];
        while self.eat_sym(",") {
            parts.push(self.parse_pattern_part()?);
        }
        Ok(parts)
    }

    pub(crate) fn parse_pattern_part(&mut self) -> Result<PatternPart> {
        let start = self.cur_start();
        let mut variable = if self.is_name() && self.is_sym_at(1, "=") {
            let v = self.variable_name()?;
            self.advance();
            Some(v)
        } else {
            None
        };
        let selector_at = self.cur_start();
        if let Some(kind) = self.parse_path_selector()? {
            // GQL path selectors over a variable-length or quantified relationship.
            let mut element = self.parse_pattern_element()?;
            if let Some(inner) = element.path_var.take() {
                if let Some(outer) = &variable {
                    return Err(self.error_at(
                        selector_at,
                        &format!(
                            "A path pattern declares two path variables (`{outer}` and `{inner}`)"
                        ),
                        "InvalidPathPattern",
                    ));
                }
                variable = Some(inner);
            }
            return Ok(PatternPart {
                variable,
                shortest: Some(kind),
                element,
                span: Span {
                    start,
                    end: self.prev_end(),
                },
            });
        }
        let shortest = if self.is_kw("shortestPath") && self.is_sym_at(1, "(") {
            Some(ShortestKind::Single)
        } else if self.is_kw("allShortestPaths") && self.is_sym_at(1, "(") {
            Some(ShortestKind::All)
        } else {
            None
        };
        let element = if shortest.is_some() {
            self.advance();
            self.advance();
            self.enter()?;
            let e = self.parse_pattern_element()?;
            self.expect_sym(")")?;
            self.leave();
            e
        } else {
            self.parse_pattern_element()?
        };
        if element.path_var.is_some() {
            // Neo4j: a subpath variable needs a shortest path selector.
            return Err(self.error_at(
                selector_at,
                "A path variable inside a parenthesized path pattern can only be declared \
                 with a path selector (e.g. `MATCH SHORTEST 1 (p = (a)-->+(b) WHERE ...)`)",
                "InvalidPathPattern",
            ));
        }
        Ok(PatternPart {
            variable,
            shortest,
            element,
            span: Span {
                start,
                end: self.prev_end(),
            },
        })
    }

    /// A GQL path selector before a path pattern: `SHORTEST k`, `ANY SHORTEST`, `ALL SHORTEST`,
    /// `SHORTEST k GROUPS`, `ANY`, `ANY k` (each with an optional `PATH`/`PATHS`). `ALL` (not
    /// selective) is the same as no selector. `None` if there is none.
    fn parse_path_selector(&mut self) -> Result<Option<ShortestKind>> {
        // A written count, or a parameter (checked when the query runs).
        let count = |p: &Self, n: usize| match p.tok_at(n) {
            Tok::Int(k) => Some(SelectorCount::Literal(*k)),
            Tok::Param(name) => Some(SelectorCount::Parameter(name.clone())),
            _ => None,
        };
        let path_word = |p: &Self, n: usize| p.is_kw_at(n, "PATH") || p.is_kw_at(n, "PATHS");
        let group_word = |p: &Self, n: usize| p.is_kw_at(n, "GROUP") || p.is_kw_at(n, "GROUPS");
        let at = self.cur_start();
        let kind = if self.is_kw("SHORTEST") {
            // SHORTEST k [PATH|PATHS], SHORTEST [k] [PATH|PATHS] GROUP[S]
            let (k, mut len) = match count(self, 1) {
                Some(k) => (Some(k), 2),
                None => (None, 1),
            };
            if path_word(self, len) {
                len += 1;
            }
            let groups = group_word(self, len);
            if groups {
                len += 1;
            } else if k.is_none() {
                return Err(self.unexpected("a number of paths after SHORTEST (e.g. SHORTEST 1)"));
            }
            self.skip_tokens(len);
            let k = k.unwrap_or(SelectorCount::Literal(1));
            self.check_selector_count(&k, at)?;
            if groups {
                ShortestKind::Groups(k)
            } else {
                ShortestKind::Paths(k)
            }
        } else if self.is_kw("ALL") && self.is_kw_at(1, "SHORTEST") {
            self.skip_tokens(if path_word(self, 2) { 3 } else { 2 });
            ShortestKind::Groups(SelectorCount::Literal(1))
        } else if self.is_kw("ANY") && self.is_kw_at(1, "SHORTEST") {
            self.skip_tokens(if path_word(self, 2) { 3 } else { 2 });
            ShortestKind::Paths(SelectorCount::Literal(1))
        } else if self.is_kw("ANY")
            && (self.is_sym_at(1, "(") || count(self, 1).is_some() || path_word(self, 1))
        {
            // ANY k: any k paths per partition; the k shortest are as good as any.
            let (k, mut len) = match count(self, 1) {
                Some(k) => (k, 2),
                None => (SelectorCount::Literal(1), 1),
            };
            if path_word(self, len) {
                len += 1;
            }
            self.skip_tokens(len);
            self.check_selector_count(&k, at)?;
            ShortestKind::Paths(k)
        } else if self.is_kw("ALL") && (self.is_sym_at(1, "(") || path_word(self, 1)) {
            // ALL [PATHS]: every path, the same as no selector.
            self.skip_tokens(if path_word(self, 1) { 2 } else { 1 });
            return Ok(None);
        } else {
            return Ok(None);
        };
        Ok(Some(kind))
    }

    /// The k of a path selector must be positive (Neo4j refuses 0).
    fn check_selector_count(&self, k: &SelectorCount, at: usize) -> Result<()> {
        let SelectorCount::Literal(k) = *k else {
            return Ok(());
        };
        if k == 0 || k > i64::MAX as u64 {
            return Err(self.error_at(
                at,
                "Invalid input: the number of paths or groups of a path selector must be a \
                 positive integer",
                "InvalidArgumentValue",
            ));
        }
        Ok(())
    }

    pub(crate) fn parse_pattern_element(&mut self) -> Result<PatternElement> {
        let mut chain = Vec::new();
        // A parenthesised element: `((a)-->(b))`, or a leading quantified group.
        let parenthesized = self.is_sym("(")
            && (self.is_sym_at(1, "(") || (self.is_name_at(1) && self.is_sym_at(2, "=")));
        let start = if parenthesized {
            let at = self.cur_start();
            self.advance();
            self.enter()?;
            let e = self.parse_parenthesized_inner()?;
            self.expect_sym(")")?;
            self.leave();
            match self.quantified_group(e.clone())? {
                None => return Ok(e),
                Some(rel) => {
                    let end = self.node_after_group()?;
                    chain.push((rel, end));
                    NodePattern {
                        variable: None,
                        labels: vec![],
                        label_expr: None,
                        properties: None,
                        predicate: None,
                        seek_hints: Vec::new(),
                        span: Span { start: at, end: at },
                    }
                }
            }
        } else {
            self.parse_node_pattern()?
        };
        loop {
            if self.is_rel_start() {
                let mut rel = self.parse_rel_pattern()?;
                if let Some(q) = self.parse_quantifier()? {
                    rel = self.quantified_rel(rel, q)?;
                }
                let node = self.parse_node_pattern()?;
                chain.push((rel, node));
            } else if self.is_sym("(")
                && (self.is_sym_at(1, "(") || (self.is_name_at(1) && self.is_sym_at(2, "=")))
            {
                // `(a) ((x)-[:R]->(y)){1,3} (b)`
                self.advance();
                self.enter()?;
                let e = self.parse_parenthesized_inner()?;
                self.expect_sym(")")?;
                self.leave();
                if e.path_var.is_some() {
                    return Err(self.error_at(
                        self.cur_start(),
                        "A path variable inside a parenthesized path pattern can only be \
                         declared with a path selector, around the whole path pattern \
                         (e.g. `MATCH SHORTEST 1 (p = (a)-->+(b) WHERE ...)`)",
                        "InvalidPathPattern",
                    ));
                }
                let Some(rel) = self.quantified_group(e)? else {
                    return Err(self.unexpected("a quantifier (+, *, {n,m})"));
                };
                let node = self.node_after_group()?;
                chain.push((rel, node));
            } else {
                break;
            }
        }
        Ok(PatternElement {
            start,
            chain,
            predicate: None,
            path_var: None,
        })
    }

    /// The inside of `( ... )` around a path pattern: `[p =] element [WHERE predicate]`.
    fn parse_parenthesized_inner(&mut self) -> Result<PatternElement> {
        let path_var = if self.is_name() && self.is_sym_at(1, "=") {
            let v = self.variable_name()?;
            self.advance();
            Some(v)
        } else {
            None
        };
        let mut e = self.parse_pattern_element()?;
        if e.predicate.is_some() || e.path_var.is_some() {
            if self.eat_kw("WHERE") || path_var.is_some() {
                return Err(self.not_supported(
                    "nested parenthesized path patterns with their own WHERE or path variable",
                ));
            }
        } else if self.eat_kw("WHERE") {
            e.predicate = Some(Box::new(self.parse_expr()?));
        }
        e.path_var = path_var;
        Ok(e)
    }

    pub(crate) fn is_rel_start(&self) -> bool {
        (self.is_sym("-") && (self.is_sym_at(1, "-") || self.is_sym_at(1, "[")))
            || (self.is_sym("<") && self.is_sym_at(1, "-"))
    }

    fn parse_properties(&mut self) -> Result<Option<Expr>> {
        if self.is_sym("{") {
            Ok(Some(self.parse_map_literal()?))
        } else if let Tok::Param(p) = self.tok().clone() {
            self.advance();
            Ok(Some(Expr::Parameter(p)))
        } else {
            Ok(None)
        }
    }

    pub(crate) fn parse_node_pattern(&mut self) -> Result<NodePattern> {
        let start = self.cur_start();
        self.expect_sym("(")?;
        let variable = if self.is_name() {
            Some(self.variable_name()?)
        } else {
            None
        };
        let (labels, label_expr) = self.parse_node_labels(false)?;
        let properties = self.parse_properties()?;
        let predicate = if self.eat_kw("WHERE") {
            Some(Box::new(self.parse_expr()?))
        } else {
            None
        };
        self.expect_sym(")")?;
        Ok(NodePattern {
            variable,
            labels,
            label_expr,
            predicate,
            properties,
            seek_hints: Vec::new(),
            span: Span {
                start,
                end: self.prev_end(),
            },
        })
    }

    fn parse_rel_pattern(&mut self) -> Result<RelationshipPattern> {
        let start = self.cur_start();
        let left = self.eat_sym("<");
        self.expect_sym("-")?;
        let mut variable = None;
        let mut types = Vec::new();
        let mut length = None;
        let mut properties = None;
        let mut predicate = None;
        let mut type_expr = None;
        if self.eat_sym("[") {
            if self.is_name() {
                variable = Some(self.variable_name()?);
            }
            if self.eat_sym(":") {
                let e = self.parse_label_or(false)?;
                match &e {
                    LabelExpr::Label(t) => types.push(t.clone()),
                    LabelExpr::Or(v) if v.iter().all(|x| matches!(x, LabelExpr::Label(_))) => {
                        for x in v {
                            if let LabelExpr::Label(t) = x {
                                types.push(t.clone());
                            }
                        }
                    }
                    _ => type_expr = Some(e),
                }
            }
            if self.eat_sym("*") {
                let min = self.parse_range_int()?;
                if self.eat_sym("..") {
                    let max = self.parse_range_int()?;
                    length = Some((min, max));
                } else {
                    length = Some((min, min));
                }
                if self.is_sym("-") || self.is_sym("..") || self.is_sym("*") {
                    return Err(self.error_at(
                        self.cur_start(),
                        "Invalid relationship pattern: variable length must be written *min..max with non-negative integers",
                        "InvalidRelationshipPattern",
                    ));
                }
            } else if self.is_sym("..") || matches!(self.tok(), Tok::Int(_)) {
                return Err(self.error_at(
                    self.cur_start(),
                    "Invalid relationship pattern: a variable length range must start with '*'",
                    "InvalidRelationshipPattern",
                ));
            }
            properties = self.parse_properties()?;
            if self.eat_kw("WHERE") {
                predicate = Some(Box::new(self.parse_expr()?));
            }
            self.expect_sym("]")?;
        }
        self.expect_sym("-")?;
        let right = self.eat_sym(">");
        let direction = match (left, right) {
            (true, false) => Direction::Incoming,
            (false, true) => Direction::Outgoing,
            _ => Direction::Both,
        };
        Ok(RelationshipPattern {
            variable,
            types,
            type_expr,
            direction,
            length,
            properties,
            predicate,
            seek_hints: Vec::new(),
            group: None,
            span: Span {
                start,
                end: self.prev_end(),
            },
        })
    }

    fn parse_range_int(&mut self) -> Result<Option<u64>> {
        match self.tok() {
            Tok::Int(v) => {
                let v = *v;
                self.advance();
                Ok(Some(v))
            }
            Tok::IntOverflow => Err(self.unexpected("an integer")),
            _ => Ok(None),
        }
    }

    // ----- admin commands -------------------------------------------------------------------

    fn try_admin(&mut self) -> Result<Option<AdminCommand>> {
        if self.is_kw("COMPACT") && self.is_kw_at(1, "DATABASE") {
            self.skip_tokens(2);
            let name = self.parse_db_name()?.to_ascii_lowercase();
            return Ok(Some(AdminCommand::CompactDatabase { name }));
        }
        if self.is_kw("SHOW") && self.is_kw_at(2, "INFO") {
            let cmd = if self.is_kw_at(1, "INDEX") {
                MemgraphCommand::ShowIndexInfo
            } else if self.is_kw_at(1, "CONSTRAINT") {
                MemgraphCommand::ShowConstraintInfo
            } else if self.is_kw_at(1, "STORAGE") {
                MemgraphCommand::ShowStorageInfo
            } else {
                self.advance();
                return Err(self.unexpected("INDEX INFO, CONSTRAINT INFO or STORAGE INFO"));
            };
            self.skip_tokens(3);
            return Ok(Some(AdminCommand::Memgraph(cmd)));
        }
        if self.is_kw("SHOW") {
            self.advance();
            return self.parse_show().map(Some);
        }
        let is_create = self.is_kw("CREATE");
        let is_drop = self.is_kw("DROP");
        if !is_create && !is_drop {
            return Ok(None);
        }
        let mut k = 1;
        if is_create && self.is_kw_at(1, "RANGE") && self.is_kw_at(2, "INDEX") {
            k = 2;
        }
        if is_create && self.is_kw_at(2, "INDEX") {
            if let Some(kind) = ["TEXT", "POINT", "FULLTEXT", "VECTOR", "LOOKUP", "BTREE"]
                .into_iter()
                .find(|w| self.is_kw_at(1, w))
            {
                self.advance();
                return Err(self.not_supported(&format!(
                    "{kind} indexes: graphward offers range indexes on node and relationship \
                     properties (CREATE [RANGE] INDEX)"
                )));
            }
        }
        let what = if self.is_kw_at(k, "DATABASE") {
            "DATABASE"
        } else if self.is_kw_at(k, "INDEX") {
            "INDEX"
        } else if self.is_kw_at(k, "CONSTRAINT") {
            "CONSTRAINT"
        } else if is_drop {
            self.advance();
            return Err(self.unexpected("DATABASE, INDEX or CONSTRAINT"));
        } else {
            return Ok(None);
        };
        if self.is_sym_at(k + 1, "=") {
            return Ok(None);
        }
        for _ in 0..=k {
            self.advance();
        }
        let cmd = match (is_create, what) {
            (true, "DATABASE") => {
                let name = self.parse_db_name()?;
                let if_not_exists = self.parse_if_not_exists()?;
                self.parse_wait()?;
                AdminCommand::CreateDatabase {
                    name,
                    if_not_exists,
                }
            }
            (false, "DATABASE") => {
                let name = self.parse_db_name()?;
                let if_exists = self.parse_if_exists()?;
                if self.is_kw("DUMP") || self.is_kw("DESTROY") {
                    if self.is_kw("DUMP") {
                        return Err(self.not_supported("DROP DATABASE ... DUMP DATA"));
                    }
                    self.advance();
                    self.expect_kw("DATA")?;
                }
                self.parse_wait()?;
                AdminCommand::DropDatabase { name, if_exists }
            }
            (true, "INDEX") => self.parse_create_index()?,
            (false, "INDEX") if self.is_kw("ON") && self.is_sym_at(1, ":") => {
                // Memgraph: DROP INDEX ON :L(p) / DROP INDEX ON :L
                self.skip_tokens(2);
                let label = self.symbolic_name("a label name")?;
                let properties = self.parse_paren_names()?;
                if properties.is_empty() {
                    AdminCommand::Memgraph(MemgraphCommand::LabelIndex {
                        label,
                        create: false,
                    })
                } else {
                    AdminCommand::Memgraph(MemgraphCommand::DropIndexOn { label, properties })
                }
            }
            (false, "INDEX") => {
                let name = self.symbolic_name("an index name")?;
                let if_exists = self.parse_if_exists()?;
                AdminCommand::DropIndex { name, if_exists }
            }
            (true, _) => self.parse_create_constraint()?,
            (false, _) if self.is_kw("ON") && self.is_sym_at(1, "(") => {
                // Memgraph: DROP CONSTRAINT ON (n:L) ASSERT ...
                self.advance();
                let (var, label) = self.parse_schema_node()?;
                self.expect_kw("ASSERT")?;
                if self.eat_kw("EXISTS") {
                    let property = self.parse_exists_prop(&var)?;
                    AdminCommand::Memgraph(MemgraphCommand::Existence {
                        label,
                        property,
                        create: false,
                    })
                } else {
                    let properties = self.parse_schema_prop_list(&var)?;
                    self.expect_kw("IS")?;
                    self.expect_kw("UNIQUE")?;
                    AdminCommand::Memgraph(MemgraphCommand::DropUniqueOn { label, properties })
                }
            }
            (false, _) => {
                let name = self.symbolic_name("a constraint name")?;
                let if_exists = self.parse_if_exists()?;
                AdminCommand::DropConstraint { name, if_exists }
            }
        };
        Ok(Some(cmd))
    }

    fn parse_db_name(&mut self) -> Result<String> {
        self.parse_db_name_as("a database name")
    }

    /// A name that may join `-` and `.` without spaces (`my-db.v2`); `what` goes in errors.
    pub(crate) fn parse_db_name_as(&mut self, what: &str) -> Result<String> {
        let mut name = self.symbolic_name(what)?;
        loop {
            let adjacent = self.cur_start() == self.prev_end();
            if adjacent && (self.is_sym(".") || self.is_sym("-")) {
                let next_adjacent = self.start_of(1)
                    == self.toks.get(self.pos).map(|t| t.end).unwrap_or(usize::MAX);
                if !next_adjacent {
                    break;
                }
                if let Tok::Sym(s) = self.tok() {
                    name.push_str(s);
                }
                self.advance();
                match self.tok().clone() {
                    Tok::Ident(s) => {
                        name.push_str(&s);
                        self.advance();
                    }
                    Tok::Int(v) => {
                        name.push_str(&v.to_string());
                        self.advance();
                    }
                    _ => return Err(self.unexpected(what)),
                }
            } else if adjacent && matches!(self.tok(), Tok::Int(_)) {
                if let Tok::Int(v) = self.tok() {
                    name.push_str(&v.to_string());
                }
                self.advance();
            } else {
                break;
            }
        }
        Ok(name)
    }

    /// `WAIT [n [SEC | SECOND | SECONDS]]` or `NOWAIT` after a database command: databases are
    /// created and dropped before the command returns, so both are already satisfied.
    fn parse_wait(&mut self) -> Result<()> {
        if self.eat_kw("NOWAIT") {
            return Ok(());
        }
        if self.eat_kw("WAIT") && matches!(self.tok(), Tok::Int(_)) {
            self.advance();
            let _ = self.eat_kw("SEC") || self.eat_kw("SECOND") || self.eat_kw("SECONDS");
        }
        Ok(())
    }

    fn parse_if_not_exists(&mut self) -> Result<bool> {
        if self.eat_kw("IF") {
            self.expect_kw("NOT")?;
            self.expect_kw("EXISTS")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn parse_if_exists(&mut self) -> Result<bool> {
        if self.eat_kw("IF") {
            self.expect_kw("EXISTS")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// `(n:Label)` in schema commands; returns (variable, label).
    fn parse_schema_node(&mut self) -> Result<(String, String)> {
        if self.is_sym("(") && self.is_sym_at(1, ")") {
            return Err(self.not_supported(
                "a relationship pattern in this form: use CREATE INDEX ... FOR ()-[r:T]-() ON \
                 (r.p) or CREATE CONSTRAINT ... FOR ()-[r:T]-() REQUIRE ...",
            ));
        }
        self.expect_sym("(")?;
        let var = self.variable_name()?;
        self.expect_sym(":")?;
        let label = self.symbolic_name("a label name")?;
        self.expect_sym(")")?;
        Ok((var, label))
    }

    /// `(n:Label)` or `()-[r:TYPE]-()` (either direction) in constraint commands; returns
    /// (variable, label or type, which of the two).
    fn parse_schema_pattern(&mut self) -> Result<(String, String, SchemaEntity)> {
        if !(self.is_sym("(") && self.is_sym_at(1, ")")) {
            let (var, label) = self.parse_schema_node()?;
            return Ok((var, label, SchemaEntity::Node));
        }
        self.skip_tokens(2);
        let left = self.eat_sym("<");
        self.expect_sym("-")?;
        self.expect_sym("[")?;
        let var = self.variable_name()?;
        self.expect_sym(":")?;
        let rel_type = self.symbolic_name("a relationship type name")?;
        self.expect_sym("]")?;
        self.expect_sym("-")?;
        if !left {
            let _ = self.eat_sym(">");
        }
        self.expect_sym("(")?;
        self.expect_sym(")")?;
        Ok((var, rel_type, SchemaEntity::Relationship))
    }

    /// `n.p` in schema commands.
    fn parse_schema_prop(&mut self, var: &str) -> Result<String> {
        let v = self.variable_name()?;
        if v != var {
            return Err(self.error_at(
                self.prev_end(),
                &format!("Variable `{v}` not defined"),
                "UndefinedVariable",
            ));
        }
        self.expect_sym(".")?;
        self.symbolic_name("a property key name")
    }

    fn parse_schema_props(&mut self, var: &str) -> Result<Vec<String>> {
        let mut props = Vec::new();
        if self.eat_sym("(") {
            loop {
                props.push(self.parse_schema_prop(var)?);
                if !self.eat_sym(",") {
                    break;
                }
            }
            self.expect_sym(")")?;
        } else {
            props.push(self.parse_schema_prop(var)?);
        }
        Ok(props)
    }

    /// `(p1, p2)` after a label in Memgraph's index syntax; empty if there is no `(`.
    fn parse_paren_names(&mut self) -> Result<Vec<String>> {
        let mut properties = Vec::new();
        if self.eat_sym("(") {
            loop {
                properties.push(self.symbolic_name("a property key name")?);
                if !self.eat_sym(",") {
                    break;
                }
            }
            self.expect_sym(")")?;
        }
        Ok(properties)
    }

    /// `(n.p)` after `ASSERT EXISTS`.
    fn parse_exists_prop(&mut self, var: &str) -> Result<String> {
        self.expect_sym("(")?;
        let p = self.parse_schema_prop(var)?;
        self.expect_sym(")")?;
        Ok(p)
    }

    /// `n.p`, `(n.p, n.q)` or Memgraph's `n.p, n.q` before `IS UNIQUE`.
    fn parse_schema_prop_list(&mut self, var: &str) -> Result<Vec<String>> {
        let mut props = self.parse_schema_props(var)?;
        while self.eat_sym(",") {
            props.push(self.parse_schema_prop(var)?);
        }
        Ok(props)
    }

    fn parse_create_index(&mut self) -> Result<AdminCommand> {
        if self.is_kw("ON") && self.is_sym_at(1, ":") {
            // Old syntax: CREATE INDEX ON :Label(p1, p2)
            self.advance();
            self.advance();
            let label = self.symbolic_name("a label name")?;
            let properties = self.parse_paren_names()?;
            if properties.is_empty() {
                // Memgraph's label index: CREATE INDEX ON :Label
                return Ok(AdminCommand::Memgraph(MemgraphCommand::LabelIndex {
                    label,
                    create: true,
                }));
            }
            return Ok(AdminCommand::CreateIndex {
                name: None,
                if_not_exists: false,
                entity: SchemaEntity::Node,
                label,
                properties,
            });
        }
        let name = if !self.is_kw("IF") && !self.is_kw("FOR") && !self.is_kw("ON") {
            Some(self.symbolic_name("an index name")?)
        } else {
            None
        };
        let if_not_exists = self.parse_if_not_exists()?;
        self.expect_kw("FOR")?;
        let (var, label, entity) = self.parse_schema_pattern()?;
        self.expect_kw("ON")?;
        let properties = self.parse_schema_props(&var)?;
        // Ignore OPTIONS {...}.
        if self.eat_kw("OPTIONS") {
            let _ = self.parse_map_literal()?;
        }
        Ok(AdminCommand::CreateIndex {
            name,
            if_not_exists,
            entity,
            label,
            properties,
        })
    }

    fn parse_create_constraint(&mut self) -> Result<AdminCommand> {
        let name = if !self.is_kw("IF") && !self.is_kw("FOR") && !self.is_kw("ON") {
            Some(self.symbolic_name("a constraint name")?)
        } else {
            None
        };
        let if_not_exists = self.parse_if_not_exists()?;
        let old = if self.eat_kw("FOR") {
            false
        } else if self.eat_kw("ON") {
            true
        } else {
            return Err(self.unexpected("FOR or ON"));
        };
        let (var, label, entity) = self.parse_schema_pattern()?;
        let on_rels = entity == SchemaEntity::Relationship;
        let existence = |name, if_not_exists, entity, label, property| {
            AdminCommand::CreateExistenceConstraint {
                name,
                if_not_exists,
                entity,
                label,
                property,
            }
        };
        if old {
            self.expect_kw("ASSERT")?;
            if self.eat_kw("EXISTS") {
                let property = self.parse_exists_prop(&var)?;
                if on_rels {
                    // Neo4j 4: CREATE CONSTRAINT ON ()-[r:T]-() ASSERT exists(r.p)
                    return Ok(existence(name, if_not_exists, entity, label, property));
                }
                // Memgraph: CREATE CONSTRAINT ON (n:L) ASSERT EXISTS (n.p)
                return Ok(AdminCommand::Memgraph(MemgraphCommand::Existence {
                    label,
                    property,
                    create: true,
                }));
            }
        } else {
            self.expect_kw("REQUIRE")?;
        }
        let properties = self.parse_schema_prop_list(&var)?;
        if self.is_sym("::")
            || (self.is_kw("IS") && (self.is_kw_at(1, "TYPED") || self.is_sym_at(1, "::")))
        {
            return Err(self.not_supported(
                "property type constraints (IS :: TYPE): graphward offers IS UNIQUE, IS NOT NULL and IS KEY",
            ));
        }
        // `IS [NODE] UNIQUE|KEY` / `IS [REL | RELATIONSHIP] UNIQUE|KEY`: the keyword must fit
        // the pattern.
        let entity_kw = if self.is_kw("IS") && self.is_kw_at(1, "NODE") {
            Some(SchemaEntity::Node)
        } else if self.is_kw("IS") && (self.is_kw_at(1, "REL") || self.is_kw_at(1, "RELATIONSHIP"))
        {
            Some(SchemaEntity::Relationship)
        } else {
            None
        };
        self.expect_kw("IS")?;
        if let Some(kw) = entity_kw {
            let key = self.is_kw_at(1, "KEY");
            if kw != entity {
                let rule = if key { "KEY" } else { "UNIQUE" };
                let (said, pattern) = match kw {
                    SchemaEntity::Node => (format!("IS NODE {rule}"), "relationship"),
                    SchemaEntity::Relationship => (format!("IS RELATIONSHIP {rule}"), "node"),
                };
                return Err(self.error_at(
                    self.cur_start(),
                    &format!("'{said}' does not allow {pattern} patterns"),
                    "InvalidSyntax",
                ));
            }
            self.advance();
            if !self.is_kw("UNIQUE") && !key {
                return Err(self.unexpected("UNIQUE or KEY"));
            }
        }
        if self.eat_kw("KEY") {
            if self.eat_kw("OPTIONS") {
                let _ = self.parse_map_literal()?;
            }
            return Ok(AdminCommand::CreateKeyConstraint {
                name,
                if_not_exists,
                entity,
                label,
                properties,
            });
        }
        if self.is_kw("NOT") && self.is_kw_at(1, "NULL") {
            let at = self.cur_start();
            self.skip_tokens(2);
            if self.eat_kw("OPTIONS") {
                let _ = self.parse_map_literal()?;
            }
            let [property] = <[String; 1]>::try_from(properties).map_err(|_| {
                self.error_at(
                    at,
                    "Constraint type 'IS NOT NULL' does not allow multiple properties",
                    "UnexpectedSyntax",
                )
            })?;
            return Ok(existence(name, if_not_exists, entity, label, property));
        }
        if !self.eat_kw("UNIQUE") {
            return Err(self.unexpected("UNIQUE, KEY or NOT NULL"));
        }
        if self.eat_kw("OPTIONS") {
            let _ = self.parse_map_literal()?;
        }
        Ok(AdminCommand::CreateUniqueConstraint {
            name,
            if_not_exists,
            entity,
            label,
            properties,
        })
    }
}
