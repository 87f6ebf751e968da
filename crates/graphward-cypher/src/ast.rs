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
    /// A `SHOW` command followed by `YIELD`, `WHERE` or `RETURN` (Neo4j 5): the command's
    /// rows, with every column it has, filtered and projected by the tail
    /// (`runtime::show`). A `SHOW` command without a tail stays `Admin` / `Command`.
    Show(Box<ShowStatement>),
}

/// `SHOW ... [YIELD ...] [WHERE ...] [RETURN ...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ShowStatement {
    pub command: ShowCommand,
    pub tail: ShowTail,
}

/// The `SHOW` command of a [`ShowStatement`]: one the engine runs, or a server command (users,
/// roles, privileges, TLS, stored queries) run by the front door's handlers.
#[derive(Debug, Clone, PartialEq)]
pub enum ShowCommand {
    Admin(AdminCommand),
    Server(graphward_core::commands::Command),
}

/// The tail of a `SHOW` command: run as a query over the command's rows, each row binding
/// every column of the command by its name.
#[derive(Debug, Clone, PartialEq)]
pub struct ShowTail {
    /// `YIELD *` (`star`) or `YIELD col [AS alias], ...` (each item a plain variable), with its
    /// `ORDER BY`, `SKIP` and `LIMIT`; `None` without `YIELD` (then the command's default
    /// columns are in scope).
    pub yield_: Option<Projection>,
    /// `WHERE` (after `YIELD`, or alone).
    pub where_: Option<Expr>,
    /// `RETURN ...` (only after `YIELD`); `None`: the yielded columns are returned.
    pub return_: Option<Projection>,
}

impl AdminCommand {
    /// A command that lists rows and takes a `YIELD` / `WHERE` / `RETURN` tail: a `SHOW`
    /// command, or `TERMINATE TRANSACTIONS` (which lists what it terminated).
    pub fn is_show(&self) -> bool {
        matches!(
            self,
            AdminCommand::ShowDatabases { .. }
                | AdminCommand::ShowIndexes { .. }
                | AdminCommand::ShowConstraints { .. }
                | AdminCommand::ShowProcedures { .. }
                | AdminCommand::ShowFunctions { .. }
                | AdminCommand::ShowTransactions { .. }
                | AdminCommand::TerminateTransactions { .. }
        )
    }
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
    /// `USE graph` before the first clause (Neo4j 5): the graph this part runs on. The parser
    /// allows it at the start of a statement's query (each UNION part) and of a `CALL { }`
    /// subquery, and checks that every `USE` of a statement names the same graph.
    pub use_graph: Option<String>,
    pub clauses: Vec<Clause>,
}

/// The graph a statement's `USE` clauses name (see [`Statement::use_target`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UseTarget<'a> {
    pub graph: &'a str,
    /// Named by the statement's own query (not only inside a `CALL { }` subquery): the whole
    /// statement runs on that graph.
    pub top_level: bool,
}

impl Statement {
    /// The graph named by the statement's `USE` clauses, if any (the parser guarantees they
    /// all name the same one).
    pub fn use_target(&self) -> Option<UseTarget<'_>> {
        match self {
            Statement::Query(q) => q.use_target(),
            Statement::Explain(s) | Statement::Profile(s) => s.use_target(),
            _ => None,
        }
    }
}

impl Query {
    /// The single queries of this query (the first and each UNION part).
    pub fn parts(&self) -> impl Iterator<Item = &SingleQuery> {
        std::iter::once(&self.first).chain(self.unions.iter().map(|(_, q)| q))
    }

    /// Whether every branch is MATCH, UNWIND, WITH and RETURN clauses only: a subquery the
    /// evaluator runs by itself (`Ev::run_subquery`) for each row of the streaming plan.
    pub fn reads_only(&self) -> bool {
        self.parts().all(|p| {
            p.clauses.iter().all(|c| {
                matches!(
                    c,
                    Clause::Match(_) | Clause::Unwind(_) | Clause::With(_) | Clause::Return(_)
                )
            })
        })
    }

    /// See [`Statement::use_target`].
    pub fn use_target(&self) -> Option<UseTarget<'_>> {
        if let Some(g) = self.parts().find_map(|p| p.use_graph.as_deref()) {
            return Some(UseTarget {
                graph: g,
                top_level: true,
            });
        }
        let mut nested = Vec::new();
        self.nested_uses(&mut nested);
        nested.first().map(|g| UseTarget {
            graph: g,
            top_level: false,
        })
    }

    /// Every `USE` graph named inside this query's `CALL { }` subqueries (at any depth).
    pub fn nested_uses<'a>(&'a self, out: &mut Vec<&'a str>) {
        fn clauses<'a>(cs: &'a [Clause], out: &mut Vec<&'a str>) {
            for c in cs {
                match c {
                    Clause::CallSubquery(q)
                    | Clause::OptionalCallSubquery(q)
                    | Clause::ScopedCallSubquery { query: q, .. } => {
                        for p in q.parts() {
                            if let Some(g) = p.use_graph.as_deref() {
                                out.push(g);
                            }
                        }
                        q.nested_uses(out);
                    }
                    Clause::InTransactions { call, .. } => {
                        clauses(std::slice::from_ref(&**call), out)
                    }
                    Clause::Foreach(f) => clauses(&f.clauses, out),
                    _ => {}
                }
            }
        }
        for p in self.parts() {
            clauses(&p.clauses, out);
        }
    }
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
    /// `[OPTIONAL] CALL (x, y) { subquery }` / `CALL () { ... }` / `CALL (*) { ... }`: the
    /// subquery sees only the listed outer variables (`None`: all of them).
    ScopedCallSubquery {
        variables: Option<Vec<String>>,
        optional: bool,
        query: Box<Query>,
    },
    /// `OPTIONAL CALL { subquery }`: an outer row the subquery yields nothing for is kept,
    /// with nulls for the subquery's columns.
    OptionalCallSubquery(Box<Query>),
    Foreach(Foreach),
    /// `LOAD CSV [WITH HEADERS] FROM url AS row [FIELDTERMINATOR 'c']`.
    LoadCsv(LoadCsv),
    /// `[OPTIONAL] CALL [(x)] { subquery } IN [[n] CONCURRENT] TRANSACTIONS ...`: `call` is the
    /// subquery clause itself (`CallSubquery`, `OptionalCallSubquery` or
    /// `ScopedCallSubquery`), run over the incoming rows in batches, each batch in an inner
    /// transaction of its own that commits before the next one starts.
    InTransactions {
        call: Box<Clause>,
        options: InTransactions,
    },
}

impl Clause {
    /// The subquery of a `CALL { }` clause (with or without `IN TRANSACTIONS`).
    pub fn subquery(&self) -> Option<&Query> {
        match self {
            Clause::CallSubquery(q)
            | Clause::OptionalCallSubquery(q)
            | Clause::ScopedCallSubquery { query: q, .. } => Some(q),
            Clause::InTransactions { call, .. } => call.subquery(),
            _ => None,
        }
    }

    /// Of a `CALL { }` clause: whether it is OPTIONAL, and the outer variables it imports
    /// (`CALL (x, y) { }`; `None`: every one in scope).
    pub fn subquery_imports(&self) -> (bool, Option<&[String]>) {
        match self {
            Clause::OptionalCallSubquery(_) => (true, None),
            Clause::ScopedCallSubquery {
                variables,
                optional,
                ..
            } => (*optional, variables.as_deref()),
            _ => (false, None),
        }
    }
}

/// The options of `CALL { ... } IN TRANSACTIONS` (each given at most once, in any order).
#[derive(Debug, Clone, PartialEq)]
pub struct InTransactions {
    /// `IN [n] CONCURRENT TRANSACTIONS`: `Some(None)` without a number. Batches run one after
    /// the other all the same (an order concurrent semantics allows).
    pub concurrency: Option<Option<Expr>>,
    /// `OF n ROW[S]` (1000 rows when absent): evaluated once, before the first batch.
    pub batch_size: Option<Expr>,
    /// Where `OF` and its expression are in the text (for errors).
    pub batch_span: Span,
    pub on_error: OnError,
    /// `ON ERROR` was written (`REPORT STATUS` needs an explicit CONTINUE or BREAK).
    pub on_error_given: bool,
    /// `REPORT STATUS AS s`: the variable bound to each row's status map.
    pub report_status: Option<String>,
    /// The whole clause, `CALL` to its last option.
    pub span: Span,
}

/// `ON ERROR` of `CALL { ... } IN TRANSACTIONS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Roll back the failed batch, bind its rows' subquery columns to null, go on.
    Continue,
    /// Roll back the failed batch and run no further batch; their rows keep null columns.
    Break,
    /// Fail the query; batches committed before stay committed.
    #[default]
    Fail,
}

/// `LOAD CSV`: rows of a CSV file from the server's import directory (`--import-dir`).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadCsv {
    /// `WITH HEADERS`: each row is a map keyed by the first line's fields; else a list.
    pub with_headers: bool,
    /// The file's URL (`file:///name.csv`), evaluated per incoming row.
    pub url: Expr,
    pub variable: String,
    /// `FIELDTERMINATOR`: the field separator (`,` unless given).
    pub field_terminator: Option<char>,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShortestKind {
    /// `shortestPath(...)`.
    Single,
    /// `allShortestPaths(...)`.
    All,
    /// GQL `SHORTEST k` / `ANY SHORTEST` (k = 1) / `ANY k`: per pair of end nodes, k paths,
    /// shortest first (ties broken arbitrarily).
    Paths(SelectorCount),
    /// GQL `SHORTEST k GROUPS` / `ALL SHORTEST` (k = 1): per pair of end nodes, every path
    /// whose length is one of the k smallest.
    Groups(SelectorCount),
}

/// The k of a path selector: written, or a parameter (`SHORTEST $k`) checked when the query
/// runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectorCount {
    Literal(u64),
    Parameter(String),
}

impl ShortestKind {
    /// A GQL path selector (as opposed to the `shortestPath` / `allShortestPaths` functions).
    pub fn is_selector(&self) -> bool {
        matches!(self, ShortestKind::Paths(_) | ShortestKind::Groups(_))
    }
}

/// `(a)-[r]->(b)<-[s]-(c)`: a start node and a chain of (relationship, node) steps.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternElement {
    pub start: NodePattern,
    pub chain: Vec<(RelationshipPattern, NodePattern)>,
    /// A parenthesized path pattern's `WHERE`: `((a)-->+(b) WHERE length(p) > 2)`, a predicate
    /// on the whole path (a pre-filter of a path selector).
    pub predicate: Option<Box<Expr>>,
    /// A subpath variable declared inside the parentheses: `(p = (a)-->+(b) WHERE ...)`.
    pub path_var: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodePattern {
    pub variable: Option<String>,
    pub labels: Vec<String>,
    /// A label expression that is not a plain conjunction (`:A|B`, `:!A`, `:%`); `labels` is
    /// then empty. `None` for `:A:B` / `:A&B` (in `labels`).
    pub label_expr: Option<LabelExpr>,
    /// A map literal or a parameter.
    pub properties: Option<Expr>,
    /// `(n:L WHERE n.age > 30)`: a predicate on the node (MATCH patterns only).
    pub predicate: Option<Box<Expr>>,
    /// Conjuncts of the MATCH's `WHERE` on this node's properties that an index can answer
    /// (`n.p IN list`, `n.p > v`, `n.p STARTS WITH s`), copied here by `seek_hints`: the
    /// matcher may take its candidates from such an index (`matcher::access_path`). Never
    /// evaluated here: the `WHERE` keeps them and decides.
    pub seek_hints: Vec<Expr>,
    pub span: Span,
}

impl NodePattern {
    /// A node pattern the parser supplied around a quantified path pattern where none was
    /// written (`((a)-->(b)){1,3}` alone, or between two groups): its span is empty, a written
    /// one spans at least `()`.
    pub fn is_implied(&self) -> bool {
        self.span.start == self.span.end
    }
}

/// A Neo4j 5 label expression: `A`, `%` (any label), `!e`, `e&f`, `e|f`.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelExpr {
    Label(String),
    Any,
    Not(Box<LabelExpr>),
    And(Vec<LabelExpr>),
    Or(Vec<LabelExpr>),
}

impl LabelExpr {
    /// Does a node with `labels` (or a relationship of type `labels[0]`) satisfy it?
    pub fn matches(&self, labels: &[String]) -> bool {
        match self {
            LabelExpr::Label(l) => labels.contains(l),
            LabelExpr::Any => !labels.is_empty(),
            LabelExpr::Not(e) => !e.matches(labels),
            LabelExpr::And(v) => v.iter().all(|e| e.matches(labels)),
            LabelExpr::Or(v) => v.iter().any(|e| e.matches(labels)),
        }
    }

    /// The labels of a plain conjunction (`A`, `A&B`), or `None`.
    pub fn as_conjunction(&self) -> Option<Vec<String>> {
        match self {
            LabelExpr::Label(l) => Some(vec![l.clone()]),
            LabelExpr::And(v) => {
                let mut out = Vec::new();
                for e in v {
                    out.extend(e.as_conjunction()?);
                }
                Some(out)
            }
            _ => None,
        }
    }
}

/// `COUNT { ... }` or `COLLECT { ... }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubqueryKind {
    Count,
    Collect,
}

/// A type in a type predicate (`x IS :: INTEGER NOT NULL`) or from `valueType()`.
#[derive(Debug, Clone, PartialEq)]
pub struct CypherType {
    pub base: BaseType,
    /// `NOT NULL`: null does not belong to the type.
    pub not_null: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BaseType {
    Any,
    Nothing,
    Null,
    Boolean,
    String,
    Integer,
    Float,
    Date,
    LocalTime,
    ZonedTime,
    LocalDateTime,
    ZonedDateTime,
    Duration,
    Point,
    Node,
    Relationship,
    Map,
    Path,
    /// `LIST<T>`.
    List(Box<CypherType>),
    /// `A | B` (closed dynamic union).
    Union(Vec<CypherType>),
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
    /// A type expression that is not a plain disjunction (`[:!A]`, `[:%]`, `[:(A|B)&!C]`);
    /// `types` is then empty.
    pub type_expr: Option<LabelExpr>,
    pub direction: Direction,
    /// Variable length `*min..max`; `Some((None, None))` for a bare `*`.
    pub length: Option<(Option<u64>, Option<u64>)>,
    pub properties: Option<Expr>,
    /// `-[r:R WHERE r.w > 1]->`: a predicate on the relationship (MATCH patterns only).
    pub predicate: Option<Box<Expr>>,
    /// Conjuncts of the MATCH's `WHERE` a relationship index can answer (`r.p IN list`),
    /// copied here by `seek_hints`, as for a node pattern: never evaluated here.
    pub seek_hints: Vec<Expr>,
    /// The quantified path pattern (or quantified relationship, `-[:R]->+`) this
    /// variable-length relationship stands for; `None` for `-[*]->`.
    pub group: Option<Box<QuantGroup>>,
    pub span: Span,
}

/// The inside of a quantified path pattern, `((x:A)-[r]->(y)<-[s]-(z) WHERE p){1,3}`, kept on
/// the variable-length relationship it amounts to (that relationship pattern is the group's
/// first one, its `length` the quantifier). Every iteration must match the group's node
/// patterns (`left`, the nodes of `more`, `right`) and relationship patterns (the first, then
/// those of `more`) in pattern order and satisfy `predicate`, with the iteration's variables
/// as singletons; outside the group they are lists (group variables).
#[derive(Debug, Clone, PartialEq)]
pub struct QuantGroup {
    pub left: NodePattern,
    pub right: NodePattern,
    pub predicate: Option<Box<Expr>>,
    /// A group of several relationships: each relationship after the first, with the inner
    /// node pattern before it (`(y)` and `<-[s]-` above). Empty for one relationship.
    pub more: Vec<(NodePattern, RelationshipPattern)>,
}

impl QuantGroup {
    /// Relationships per iteration.
    pub fn size(&self) -> usize {
        1 + self.more.len()
    }

    /// Node pattern `j` of an iteration (0 = `left`, `size()` = `right`).
    pub fn node(&self, j: usize) -> &NodePattern {
        if j == 0 {
            &self.left
        } else if let Some((n, _)) = self.more.get(j - 1) {
            n
        } else {
            &self.right
        }
    }

    /// Relationship pattern `j` of an iteration; `first` is the relationship pattern the
    /// group is kept on.
    pub fn rel<'a>(&'a self, first: &'a RelationshipPattern, j: usize) -> &'a RelationshipPattern {
        match j.checked_sub(1).and_then(|i| self.more.get(i)) {
            Some((_, r)) => r,
            None => first,
        }
    }

    /// The node patterns of an iteration, in pattern order.
    pub fn nodes(&self) -> impl Iterator<Item = &NodePattern> {
        (0..=self.size()).map(|j| self.node(j))
    }

    /// Does an iteration need checking beyond the relationship's own type and properties?
    pub fn checks_nodes(&self) -> bool {
        let busy = |n: &NodePattern| {
            n.variable.is_some()
                || !n.labels.is_empty()
                || n.label_expr.is_some()
                || n.properties.is_some()
                || n.predicate.is_some()
        };
        self.predicate.is_some() || !self.more.is_empty() || self.nodes().any(busy)
    }
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
    /// `||`: string or list concatenation.
    Concat,
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
    /// `COUNT { ... }` (number of rows) and `COLLECT { ... }` (list of the single column).
    ValueSubquery(SubqueryKind, Box<Query>),
    /// `n:A|B`, `n:!A`, `n:%` as a predicate (a plain `n:A:B` is `HasLabels`).
    LabelCheck(Box<Expr>, LabelExpr),
    /// `x IS :: T` / `x :: T` (`negated`: `x IS NOT :: T`).
    IsType(Box<Expr>, CypherType, bool),
    /// `n {.name, .*, k: expr, v}`
    MapProjection(Box<Expr>, Vec<MapProjectionItem>),
    /// An expression whose value is the same for every row of a statement (made of
    /// literals, parameters, operators and calls of functions of their arguments alone, see
    /// `seek_hints::once_constants`): evaluated at its first use in a query and kept for the
    /// rows after, by its id (unique in the process; a copy shares it). Never parsed: the
    /// planner wraps such parts of a WHERE in it.
    Once(Box<Expr>, u64),
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
    /// `SHOW DATABASES`, `SHOW DATABASE name`, `SHOW DEFAULT DATABASE`, `SHOW HOME DATABASE`.
    ShowDatabases {
        which: DatabaseFilter,
        /// The databases the principal may see (`None`: all). `None` as parsed; the front
        /// door sets it from the principal's rights before the engine runs the command, so
        /// rows are filtered before any `WHERE` of the statement sees them.
        visible: Option<Vec<String>>,
    },
    /// `CREATE [RANGE] INDEX [name] [IF NOT EXISTS] FOR (n:Label) ON (n.p1, n.p2)`, or on
    /// relationships `FOR ()-[r:TYPE]-() ON (r.p1, r.p2)`.
    CreateIndex {
        name: Option<String>,
        if_not_exists: bool,
        entity: SchemaEntity,
        /// The label, or the relationship type.
        label: String,
        properties: Vec<String>,
    },
    DropIndex {
        name: String,
        if_exists: bool,
    },
    /// `SHOW [ALL | RANGE | LOOKUP | TEXT | POINT | FULLTEXT | VECTOR] INDEXES`.
    ShowIndexes {
        kind: IndexFilter,
    },
    /// `CREATE CONSTRAINT [name] [IF NOT EXISTS] FOR (n:Label) REQUIRE n.p IS UNIQUE`
    /// (and the older `ON (n:Label) ASSERT n.p IS UNIQUE`), or on relationships
    /// `FOR ()-[r:TYPE]-() REQUIRE r.p IS [REL[ATIONSHIP]] UNIQUE` (Neo4j 5.7).
    CreateUniqueConstraint {
        name: Option<String>,
        if_not_exists: bool,
        entity: SchemaEntity,
        /// The label, or the relationship type.
        label: String,
        properties: Vec<String>,
    },
    /// `CREATE CONSTRAINT [name] [IF NOT EXISTS] FOR (n:Label) REQUIRE n.p IS NOT NULL` (and
    /// the older `ON (n:Label) ASSERT n.p IS NOT NULL`), or on relationships
    /// `FOR ()-[r:TYPE]-() REQUIRE r.p IS NOT NULL`: a property existence constraint.
    CreateExistenceConstraint {
        name: Option<String>,
        if_not_exists: bool,
        entity: SchemaEntity,
        /// The label, or the relationship type.
        label: String,
        property: String,
    },
    /// `CREATE CONSTRAINT [name] [IF NOT EXISTS] FOR (n:Label) REQUIRE (n.a, n.b) IS [NODE] KEY`
    /// (and the older `ON (n:Label) ASSERT (n.a) IS NODE KEY`), or on relationships
    /// `FOR ()-[r:TYPE]-() REQUIRE r.p IS [REL[ATIONSHIP]] KEY`: unique, and every key
    /// property exists.
    CreateKeyConstraint {
        name: Option<String>,
        if_not_exists: bool,
        entity: SchemaEntity,
        /// The label, or the relationship type.
        label: String,
        properties: Vec<String>,
    },
    DropConstraint {
        name: String,
        if_exists: bool,
    },
    /// `SHOW [ALL | NODE | REL[ATIONSHIP] | [NODE | REL[ATIONSHIP]] UNIQUE | ... KEY |
    /// ... [PROPERTY] EXISTENCE] CONSTRAINTS`.
    ShowConstraints {
        kind: ConstraintFilter,
    },
    /// Memgraph's schema syntax.
    Memgraph(MemgraphCommand),
    /// `SHOW [ALL | BUILT IN | USER DEFINED] PROCEDURES`.
    ShowProcedures {
        kind: RoutineFilter,
    },
    /// `SHOW [ALL | BUILT IN | USER DEFINED] FUNCTIONS`.
    ShowFunctions {
        kind: RoutineFilter,
    },
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
    /// `COMPACT DATABASE name`: gives the database file's free pages back to the file
    /// system (refused while transactions are open on it).
    CompactDatabase {
        name: String,
    },
}

/// Which databases `SHOW DATABASE[S]` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseFilter {
    All,
    /// `SHOW DATABASE name`.
    Named(String),
    /// `SHOW DEFAULT DATABASE` / `SHOW HOME DATABASE` (graphward has no per-user home).
    Default,
}

/// Which indexes `SHOW ... INDEXES` lists. graphward's property indexes are range indexes;
/// a kind it does not have lists nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexFilter {
    All,
    Range,
    Lookup,
    Text,
    Point,
    Fulltext,
    Vector,
}

/// Which constraints `SHOW ... CONSTRAINTS` lists: by rule (any, uniqueness, existence, key)
/// and by entity (`None`: nodes and relationships).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConstraintFilter {
    pub rule: ConstraintRule,
    pub entity: Option<SchemaEntity>,
}

impl ConstraintFilter {
    pub const ALL: ConstraintFilter = ConstraintFilter {
        rule: ConstraintRule::Any,
        entity: None,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintRule {
    Any,
    Unique,
    Existence,
    Key,
}

/// `SHOW [ALL | BUILT IN | USER DEFINED] FUNCTIONS | PROCEDURES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutineFilter {
    All,
    BuiltIn,
    UserDefined,
}

/// What the pattern of a schema command names: nodes with a label, or relationships of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaEntity {
    Node,
    Relationship,
}

/// Memgraph's schema commands (`CREATE INDEX ON :L(p)` is `AdminCommand::CreateIndex`).
#[derive(Debug, Clone, PartialEq)]
pub enum MemgraphCommand {
    /// `DROP INDEX ON :L(p1, p2)`.
    DropIndexOn {
        label: String,
        properties: Vec<String>,
    },
    /// `CREATE INDEX ON :L` / `DROP INDEX ON :L`: a label index.
    LabelIndex { label: String, create: bool },
    /// `DROP CONSTRAINT ON (n:L) ASSERT n.p1, n.p2 IS UNIQUE`.
    DropUniqueOn {
        label: String,
        properties: Vec<String>,
    },
    /// `CREATE/DROP CONSTRAINT ON (n:L) ASSERT EXISTS (n.p)`.
    Existence {
        label: String,
        property: String,
        create: bool,
    },
    /// `SHOW INDEX INFO`.
    ShowIndexInfo,
    /// `SHOW CONSTRAINT INFO`.
    ShowConstraintInfo,
    /// `SHOW STORAGE INFO`.
    ShowStorageInfo,
}
