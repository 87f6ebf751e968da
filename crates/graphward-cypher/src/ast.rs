//! The Cypher abstract syntax tree: the contract between the parser (`parser`), the semantic
//! checks (`semantic`) and the planner/executor.
//!
//! Conventions:
//! * Identifiers are stored unescaped (backticks removed), with their original case.
//! * Function and procedure names are stored as written (`toUpper`, `db.labels`); lookups are
//!   case-insensitive.
//! * `Span`s are byte offsets into the query text; the parser fills them in so errors can point
//!   at the right place and projections can be named after their source text.

use graphward_core::value::Value;

/// Byte range `[start, end)` in the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// A whole statement as sent by a client.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Query(Query),
    /// `EXPLAIN <statement>`: plan only, no execution, no rows.
    Explain(Box<Statement>),
    /// `PROFILE <statement>`: run and report the plan.
    Profile(Box<Statement>),
    /// Database and schema commands (run by the engine).
    Admin(AdminCommand),
    /// Server commands (users and privileges, TLS, configuration, stored queries), run by the
    /// handler of their family outside the engine.
    Command(graphward_core::commands::Command),
    /// `BEGIN`, `COMMIT`, `ROLLBACK` sent as statements.
    TxControl(graphward_core::commands::TxControl),
}

/// A query, possibly a UNION of several single queries.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub first: SingleQuery,
    /// `(all, query)`: `UNION ALL` when `all` is true, else `UNION` (distinct).
    pub unions: Vec<(bool, SingleQuery)>,
}

/// A sequence of clauses (reading, updating, projecting).
#[derive(Debug, Clone, PartialEq)]
pub struct SingleQuery {
    pub clauses: Vec<Clause>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    Match(Match),
    Unwind(Unwind),
    With(With),
    Return(Return),
    Create(Create),
    Merge(Merge),
    Set(Vec<SetItem>),
    Remove(Vec<RemoveItem>),
    Delete(Delete),
    Call(Call),
    /// `CALL { subquery }`.
    CallSubquery(Box<Query>),
    Foreach(Foreach),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub optional: bool,
    pub pattern: Pattern,
    pub where_: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Unwind {
    pub expr: Expr,
    pub variable: String,
}

/// `WITH` is a projection followed by an optional `WHERE`.
#[derive(Debug, Clone, PartialEq)]
pub struct With {
    pub projection: Projection,
    pub where_: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Return {
    pub projection: Projection,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub distinct: bool,
    /// `RETURN *` / `WITH *` (further items may follow the star).
    pub star: bool,
    pub items: Vec<ProjectionItem>,
    pub order_by: Vec<SortItem>,
    pub skip: Option<Expr>,
    pub limit: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionItem {
    pub expr: Expr,
    /// `AS alias`, if given.
    pub alias: Option<String>,
    /// The expression's source text exactly as written (used as the column name when there
    /// is no alias, e.g. `count(*)`, `n.name`).
    pub text: String,
}

impl ProjectionItem {
    /// The column name: the alias, or the source text.
    pub fn name(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.text)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortItem {
    pub expr: Expr,
    pub ascending: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Create {
    pub pattern: Pattern,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    pub pattern: PatternPart,
    pub on_create: Vec<SetItem>,
    pub on_match: Vec<SetItem>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SetItem {
    /// `SET n.prop = expr` (the target may be any expression yielding an entity or map,
    /// e.g. `SET (n).prop = 1` or `SET n.a.b` is rejected by semantic checks).
    Property {
        target: Expr,
        key: String,
        value: Expr,
    },
    /// `SET n = {map}` (replace all properties).
    Replace { variable: String, value: Expr },
    /// `SET n += {map}` (merge properties).
    Merge { variable: String, value: Expr },
    /// `SET n:Label:Other`.
    Labels {
        variable: String,
        labels: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum RemoveItem {
    Property {
        target: Expr,
        key: String,
    },
    Labels {
        variable: String,
        labels: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    pub detach: bool,
    pub exprs: Vec<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Qualified name, e.g. `db.labels` or `test.my.proc`.
    pub procedure: String,
    /// `None` for the implicit-argument form `CALL proc` (arguments from parameters).
    pub args: Option<Vec<Expr>>,
    /// `YIELD *`.
    pub yield_all: bool,
    /// `YIELD a, b AS c`: `(procedure output field, variable name)`.
    pub yields: Vec<(String, Option<String>)>,
    pub where_: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Foreach {
    pub variable: String,
    pub list: Expr,
    pub clauses: Vec<Clause>,
}

/// A comma-separated list of pattern parts.
pub type Pattern = Vec<PatternPart>;

#[derive(Debug, Clone, PartialEq)]
pub struct PatternPart {
    /// `p = (a)-->(b)`.
    pub variable: Option<String>,
    /// `shortestPath(...)` / `allShortestPaths(...)` wrapper.
    pub shortest: Option<ShortestKind>,
    pub element: PatternElement,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShortestKind {
    Single,
    All,
}

/// `(a)-[r]->(b)<-[s]-(c)`: a start node and a chain of (relationship, node) steps.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternElement {
    pub start: NodePattern,
    pub chain: Vec<(RelationshipPattern, NodePattern)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodePattern {
    pub variable: Option<String>,
    pub labels: Vec<String>,
    /// A map literal or a parameter.
    pub properties: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `-->`
    Outgoing,
    /// `<--`
    Incoming,
    /// `--`
    Both,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RelationshipPattern {
    pub variable: Option<String>,
    /// `[:A|B]`; empty = any type.
    pub types: Vec<String>,
    pub direction: Direction,
    /// Variable length `*min..max`; `Some((None, None))` for a bare `*`.
    pub length: Option<(Option<u64>, Option<u64>)>,
    pub properties: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Minus,
    Plus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    Xor,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    In,
    StartsWith,
    EndsWith,
    Contains,
    RegexMatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantifierKind {
    All,
    Any,
    None,
    Single,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MapProjectionItem {
    /// `.name`
    Property(String),
    /// `.*`
    AllProperties,
    /// `key: expr`
    Literal(String, Expr),
    /// `variable` (shorthand for `variable: variable`)
    Variable(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Null, Bool, Int, Float or String literal.
    Literal(Value),
    Parameter(String),
    Variable(String),
    List(Vec<Expr>),
    Map(Vec<(String, Expr)>),
    Property(Box<Expr>, String),
    /// `expr[index]`
    Index(Box<Expr>, Box<Expr>),
    /// `expr[from..to]`
    Slice(Box<Expr>, Option<Box<Expr>>, Option<Box<Expr>>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    IsNull(Box<Expr>),
    IsNotNull(Box<Expr>),
    /// `n:A:B` as a predicate.
    HasLabels(Box<Expr>, Vec<String>),
    FunctionCall {
        name: String,
        distinct: bool,
        args: Vec<Expr>,
    },
    /// `count(*)`
    CountStar,
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        else_: Option<Box<Expr>>,
    },
    /// `[x IN list WHERE pred | proj]`
    ListComprehension {
        variable: String,
        list: Box<Expr>,
        predicate: Option<Box<Expr>>,
        projection: Option<Box<Expr>>,
    },
    /// `[p = (a)-->(b) WHERE pred | proj]`
    PatternComprehension {
        variable: Option<String>,
        pattern: Box<PatternElement>,
        predicate: Option<Box<Expr>>,
        projection: Box<Expr>,
    },
    /// `all(x IN list WHERE pred)` and friends.
    Quantifier {
        kind: QuantifierKind,
        variable: String,
        list: Box<Expr>,
        predicate: Option<Box<Expr>>,
    },
    /// `reduce(acc = init, x IN list | expr)`
    Reduce {
        accumulator: String,
        init: Box<Expr>,
        variable: String,
        list: Box<Expr>,
        expr: Box<Expr>,
    },
    /// A pattern used as a predicate: `WHERE (a)-->(b)`.
    PatternPredicate(Box<PatternElement>),
    /// `EXISTS { MATCH ... [WHERE ...] }` or `EXISTS { (a)-->(b) [WHERE ...] }`.
    ExistsSubquery(Box<Query>),
    /// `n {.name, .*, k: expr, v}`
    MapProjection(Box<Expr>, Vec<MapProjectionItem>),
}

/// Administration and schema commands.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminCommand {
    CreateDatabase {
        name: String,
        if_not_exists: bool,
    },
    DropDatabase {
        name: String,
        if_exists: bool,
    },
    ShowDatabases,
    /// `CREATE INDEX [name] [IF NOT EXISTS] FOR (n:Label) ON (n.p1, n.p2)`
    CreateIndex {
        name: Option<String>,
        if_not_exists: bool,
        label: String,
        properties: Vec<String>,
    },
    DropIndex {
        name: String,
        if_exists: bool,
    },
    ShowIndexes,
    /// `CREATE CONSTRAINT [name] [IF NOT EXISTS] FOR (n:Label) REQUIRE n.p IS UNIQUE`
    /// (and the older `ON (n:Label) ASSERT n.p IS UNIQUE`).
    CreateUniqueConstraint {
        name: Option<String>,
        if_not_exists: bool,
        label: String,
        properties: Vec<String>,
    },
    DropConstraint {
        name: String,
        if_exists: bool,
    },
    ShowConstraints,
    /// `SHOW TRANSACTION[S] ['id', ...]`: open transactions (all of them, or those named).
    /// `all_users` is false as parsed (a user sees its own); the front door sets it for an
    /// administrator.
    ShowTransactions {
        ids: Vec<String>,
        all_users: bool,
    },
    /// `TERMINATE TRANSACTION[S] 'id' [, 'id' ...]`: `all_users` as for `ShowTransactions`.
    TerminateTransactions {
        ids: Vec<String>,
        all_users: bool,
    },
}
