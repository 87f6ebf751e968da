//! Expression parsing (precedence climbing).

use super::lexer::Tok;
use super::{Parser, UseCtx};
use crate::ast::*;
use graphward_core::{Result, Value};

const PREC_OR: u8 = 1;
const PREC_XOR: u8 = 2;
const PREC_AND: u8 = 3;
const PREC_NOT: u8 = 4;
const PREC_CMP: u8 = 5;
const PREC_PRED: u8 = 6;
const PREC_ADD: u8 = 7;
const PREC_MUL: u8 = 8;
const PREC_POW: u8 = 9;

#[derive(Clone, Copy)]
enum BinTok {
    Op(BinaryOp, usize),
    IsNull(usize),
    IsNotNull(usize),
    /// `IS [NOT] :: T`, `IS [NOT] TYPED T`, `:: T`: tokens to skip, negated.
    IsType(usize, bool),
}

fn prec_of(op: BinaryOp) -> u8 {
    use BinaryOp::*;
    match op {
        Or => PREC_OR,
        Xor => PREC_XOR,
        And => PREC_AND,
        Eq | Ne | Lt | Le | Gt | Ge => PREC_CMP,
        In | StartsWith | EndsWith | Contains | RegexMatch => PREC_PRED,
        Add | Sub | Concat => PREC_ADD,
        Mul | Div | Mod => PREC_MUL,
        Pow => PREC_POW,
    }
}

fn is_cmp(op: BinaryOp) -> bool {
    use BinaryOp::*;
    matches!(op, Eq | Ne | Lt | Le | Gt | Ge)
}

/// Build a balanced tree for an associative operator (keeps nesting logarithmic).
fn balance(op: BinaryOp, mut v: Vec<Expr>) -> Expr {
    if v.len() <= 1 {
        return v.pop().unwrap_or(Expr::Literal(Value::Null));
    }
    let right = v.split_off(v.len() / 2);
    Expr::Binary(op, Box::new(balance(op, v)), Box::new(balance(op, right)))
}

impl<'a> Parser<'a> {
    pub(crate) fn parse_expr(&mut self) -> Result<Expr> {
        self.enter()?;
        let e = self.parse_binary(0)?;
        self.leave();
        Ok(e)
    }

    fn peek_binop(&self) -> Option<BinTok> {
        use BinaryOp::*;
        let t = self.tok();
        let op = match t {
            Tok::Sym(s) => match *s {
                "=" => Eq,
                "<>" | "!=" => Ne,
                "<" => {
                    // `<-` starts a relationship in a pattern predicate, never `a < -b`? It
                    // may be either; patterns are handled before we get here, so treat as Lt.
                    Lt
                }
                "<=" => Le,
                ">" => Gt,
                ">=" => Ge,
                "=~" => RegexMatch,
                "+" => Add,
                "-" => Sub,
                "*" => Mul,
                "/" => Div,
                "%" => Mod,
                "^" => Pow,
                "||" => Concat,
                "::" => return Some(BinTok::IsType(1, false)),
                _ => return None,
            },
            Tok::Ident(w) => {
                let w = w.to_ascii_uppercase();
                match w.as_str() {
                    "OR" => Or,
                    "XOR" => Xor,
                    "AND" => And,
                    "IN" => In,
                    "CONTAINS" => Contains,
                    "STARTS" if self.is_kw_at(1, "WITH") => return Some(BinTok::Op(StartsWith, 2)),
                    "ENDS" if self.is_kw_at(1, "WITH") => return Some(BinTok::Op(EndsWith, 2)),
                    "IS" if self.is_kw_at(1, "NULL") => return Some(BinTok::IsNull(2)),
                    "IS" if self.is_kw_at(1, "NOT") && self.is_kw_at(2, "NULL") => {
                        return Some(BinTok::IsNotNull(3))
                    }
                    "IS" if self.is_sym_at(1, "::") || self.is_kw_at(1, "TYPED") => {
                        return Some(BinTok::IsType(2, false))
                    }
                    "IS" if self.is_kw_at(1, "NOT")
                        && (self.is_sym_at(2, "::") || self.is_kw_at(2, "TYPED")) =>
                    {
                        return Some(BinTok::IsType(3, true))
                    }

                    _ => return None,
                }
            }
            _ => return None,
        };
        Some(BinTok::Op(op, 1))
    }

    fn skip(&mut self, n: usize) {
        for _ in 0..n {
            self.advance();
        }
    }

    fn parse_binary(&mut self, min: u8) -> Result<Expr> {
        let mut lhs = if min <= PREC_NOT && self.is_kw("NOT") {
            self.advance();
            self.enter()?;
            let operand = self.parse_binary(PREC_NOT)?;
            self.leave();
            Expr::Unary(UnaryOp::Not, Box::new(operand))
        } else {
            self.parse_unary()?
        };
        let mut chain = 0usize;
        while let Some(bt) = self.peek_binop() {
            let (op, n) = match bt {
                BinTok::Op(op, n) => (Some(op), n),
                BinTok::IsNull(n) | BinTok::IsNotNull(n) | BinTok::IsType(n, _) => (None, n),
            };
            let prec = op.map(prec_of).unwrap_or(PREC_PRED);
            if prec < min {
                break;
            }
            chain += 1;
            self.check_chain(chain)?;
            match (bt, op) {
                (BinTok::IsNull(_), _) => {
                    self.skip(n);
                    lhs = Expr::IsNull(Box::new(lhs));
                }
                (BinTok::IsNotNull(_), _) => {
                    self.skip(n);
                    lhs = Expr::IsNotNull(Box::new(lhs));
                }
                (BinTok::IsType(_, negated), _) => {
                    self.skip(n);
                    let ty = self.parse_type()?;
                    lhs = Expr::IsType(Box::new(lhs), ty, negated);
                }
                (_, Some(op @ (BinaryOp::Or | BinaryOp::Xor | BinaryOp::And))) => {
                    let mut operands = vec![lhs];
                    while matches!(self.peek_binop(), Some(BinTok::Op(o, _)) if o == op) {
                        self.advance();
                        operands.push(self.parse_binary(prec + 1)?);
                    }
                    lhs = balance(op, operands);
                }
                (_, Some(op)) if is_cmp(op) => {
                    let mut parts = Vec::new();
                    let mut left = lhs;
                    let mut cur = op;
                    loop {
                        self.skip(1);
                        let rhs = self.parse_binary(PREC_PRED)?;
                        parts.push(Expr::Binary(cur, Box::new(left), Box::new(rhs.clone())));
                        left = rhs;
                        match self.peek_binop() {
                            Some(BinTok::Op(o, _)) if is_cmp(o) => cur = o,
                            _ => break,
                        }
                    }
                    lhs = balance(BinaryOp::And, parts);
                }
                (_, Some(op)) => {
                    self.skip(n);
                    let rhs = self.parse_binary(prec + 1)?;
                    lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
                }
                (_, None) => break,
            }
        }
        Ok(lhs)
    }

    fn parse_unary(&mut self) -> Result<Expr> {
        if self.is_sym("-") || self.is_sym("+") {
            let minus = self.is_sym("-");
            self.advance();
            if minus {
                // Fold negative numeric literals so that -9223372036854775808 is valid.
                match self.tok().clone() {
                    Tok::Int(v) => {
                        let n = -(v as i128);
                        if n < i64::MIN as i128 {
                            return Err(self.integer_overflow());
                        }
                        self.advance();
                        return self.parse_postfix_ops(Expr::Literal(Value::Int(n as i64)));
                    }
                    Tok::Float(f) => {
                        self.advance();
                        return self.parse_postfix_ops(Expr::Literal(Value::Float(-f)));
                    }
                    _ => {}
                }
            }
            self.enter()?;
            let operand = self.parse_unary()?;
            self.leave();
            let op = if minus { UnaryOp::Minus } else { UnaryOp::Plus };
            return Ok(Expr::Unary(op, Box::new(operand)));
        }
        let atom = self.parse_atom()?;
        self.parse_postfix_ops(atom)
    }

    fn integer_overflow(&self) -> graphward_core::Error {
        self.error_at(
            self.cur_start(),
            "integer literal is too large",
            "IntegerOverflow",
        )
    }

    fn parse_postfix_ops(&mut self, mut e: Expr) -> Result<Expr> {
        let mut chain = 0usize;
        loop {
            if self.is_sym(".") {
                self.advance();
                let key = self.symbolic_name("a property key name")?;
                e = Expr::Property(Box::new(e), key);
            } else if self.is_sym("[") {
                self.advance();
                self.enter()?;
                if self.eat_sym("..") {
                    let to = if self.is_sym("]") {
                        None
                    } else {
                        Some(Box::new(self.parse_expr()?))
                    };
                    self.expect_sym("]")?;
                    e = Expr::Slice(Box::new(e), None, to);
                } else {
                    let idx = self.parse_expr()?;
                    if self.eat_sym("..") {
                        let to = if self.is_sym("]") {
                            None
                        } else {
                            Some(Box::new(self.parse_expr()?))
                        };
                        self.expect_sym("]")?;
                        e = Expr::Slice(Box::new(e), Some(Box::new(idx)), to);
                    } else {
                        self.expect_sym("]")?;
                        e = Expr::Index(Box::new(e), Box::new(idx));
                    }
                }
                self.leave();
            } else if self.is_sym(":")
                && (matches!(self.tok_at(1), Tok::Ident(_) | Tok::Quoted(_))
                    || self.is_sym_at(1, "!")
                    || self.is_sym_at(1, "%"))
            {
                let (labels, label_expr) = self.parse_node_labels(true)?;
                e = match label_expr {
                    Some(le) => Expr::LabelCheck(Box::new(e), le),
                    None => Expr::HasLabels(Box::new(e), labels),
                };
            } else if self.is_sym("{") && matches!(e, Expr::Variable(_)) {
                e = self.parse_map_projection(e)?;
            } else {
                return Ok(e);
            }
            chain += 1;
            self.check_chain(chain)?;
        }
    }

    fn parse_map_projection(&mut self, base: Expr) -> Result<Expr> {
        self.expect_sym("{")?;
        self.enter()?;
        let mut items = Vec::new();
        if !self.is_sym("}") {
            loop {
                if self.eat_sym(".") {
                    if self.eat_sym("*") {
                        items.push(MapProjectionItem::AllProperties);
                    } else {
                        items.push(MapProjectionItem::Property(
                            self.symbolic_name("a property key name")?,
                        ));
                    }
                } else if self.is_name() && self.is_sym_at(1, ":") {
                    let k = self.symbolic_name("a key")?;
                    self.advance();
                    items.push(MapProjectionItem::Literal(k, self.parse_expr()?));
                } else {
                    items.push(MapProjectionItem::Variable(self.variable_name()?));
                }
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        self.expect_sym("}")?;
        self.leave();
        Ok(Expr::MapProjection(Box::new(base), items))
    }

    pub(crate) fn parse_map_literal(&mut self) -> Result<Expr> {
        self.expect_sym("{")?;
        self.enter()?;
        let mut entries = Vec::new();
        if !self.is_sym("}") {
            loop {
                let k = self.symbolic_name("a property key name")?;
                self.expect_sym(":")?;
                let v = self.parse_expr()?;
                entries.push((k, v));
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        self.expect_sym("}")?;
        self.leave();
        Ok(Expr::Map(entries))
    }

    /// Try `f` and roll back (position and depth) if it fails.
    fn attempt<T>(&mut self, kind: u8, f: impl FnOnce(&mut Self) -> Result<T>) -> Option<T> {
        let (pos, depth) = (self.pos, self.depth);
        if self.failed.contains(&(pos, kind)) {
            return None;
        }
        match f(self) {
            Ok(v) => Some(v),
            Err(_) => {
                self.failed.insert((pos, kind));
                self.pos = pos;
                self.depth = depth;
                None
            }
        }
    }

    /// Whether the `(` at token offset `n` is closed and followed by a relationship pattern.
    fn paren_then_rel(&self, n: usize) -> bool {
        let Some(&close) = self.matching.get(self.pos + n) else {
            return false;
        };
        if close == usize::MAX || close < self.pos {
            return false;
        }
        let k = close - self.pos + 1;
        (self.is_sym_at(k, "-") && (self.is_sym_at(k + 1, "-") || self.is_sym_at(k + 1, "[")))
            || (self.is_sym_at(k, "<") && self.is_sym_at(k + 1, "-"))
    }

    fn is_function_call(&self) -> Option<usize> {
        // name ( . name )* (
        let mut i = 0;
        loop {
            if !matches!(self.tok_at(i), Tok::Ident(_) | Tok::Quoted(_)) {
                return None;
            }
            if self.is_sym_at(i + 1, "(") {
                return Some(i + 1);
            }
            if self.is_sym_at(i + 1, ".") {
                i += 2;
            } else {
                return None;
            }
        }
    }

    fn parse_atom(&mut self) -> Result<Expr> {
        let tok = self.tok().clone();
        match tok {
            Tok::Int(v) => {
                if v > i64::MAX as u64 {
                    return Err(self.integer_overflow());
                }
                self.advance();
                Ok(Expr::Literal(Value::Int(v as i64)))
            }
            Tok::IntOverflow => Err(self.integer_overflow()),
            Tok::FloatOverflow => Err(self.error_at(
                self.cur_start(),
                "floating point literal is too large",
                "FloatingPointOverflow",
            )),
            Tok::BadNumber => Err(self.error_at(
                self.cur_start(),
                "invalid number literal",
                "InvalidNumberLiteral",
            )),
            Tok::Float(f) => {
                self.advance();
                Ok(Expr::Literal(Value::Float(f)))
            }
            Tok::Str(s) => {
                self.advance();
                Ok(Expr::Literal(Value::String(s)))
            }
            Tok::Param(p) => {
                self.advance();
                Ok(Expr::Parameter(p))
            }
            Tok::Sym("[") => self.parse_bracket(),
            Tok::Sym("{") => self.parse_map_literal(),
            Tok::Sym("(") => self.parse_paren(),
            Tok::Ident(w) => self.parse_word_atom(&w),
            Tok::Quoted(name) => {
                if self.is_function_call().is_some() {
                    return self.parse_function_call();
                }
                self.advance();
                Ok(Expr::Variable(name))
            }
            _ => Err(self.unexpected("an expression")),
        }
    }

    fn parse_paren(&mut self) -> Result<Expr> {
        if !self.paren_then_rel(0) {
            self.expect_sym("(")?;
            let e = self.parse_expr()?;
            self.expect_sym(")")?;
            return Ok(e);
        }
        if let Some(el) = self.attempt(0, |p| {
            let el = p.parse_pattern_element()?;
            if el.chain.is_empty() {
                return Err(p.unexpected("a relationship pattern"));
            }
            Ok(el)
        }) {
            return Ok(Expr::PatternPredicate(Box::new(el)));
        }
        self.expect_sym("(")?;
        let e = self.parse_expr()?;
        self.expect_sym(")")?;
        Ok(e)
    }

    fn parse_bracket(&mut self) -> Result<Expr> {
        self.expect_sym("[")?;
        self.enter()?;
        let e = self.parse_bracket_inner()?;
        self.expect_sym("]")?;
        self.leave();
        Ok(e)
    }

    fn parse_bracket_inner(&mut self) -> Result<Expr> {
        if self.is_sym("]") {
            return Ok(Expr::List(Vec::new()));
        }
        // List comprehension.
        if self.is_name() && self.is_kw_at(1, "IN") {
            let variable = self.variable_name()?;
            self.advance();
            let list = self.parse_expr()?;
            let predicate = if self.eat_kw("WHERE") {
                Some(Box::new(self.parse_expr()?))
            } else {
                None
            };
            let projection = if self.eat_sym("|") {
                Some(Box::new(self.parse_expr()?))
            } else {
                None
            };
            return Ok(Expr::ListComprehension {
                variable,
                list: Box::new(list),
                predicate,
                projection,
            });
        }
        // Pattern comprehension.
        if (self.is_sym("(") && self.paren_then_rel(0))
            || (self.is_name() && self.is_sym_at(1, "=") && self.paren_then_rel(2))
        {
            let head = self.attempt(1, |p| {
                let variable = if p.is_name() && p.is_sym_at(1, "=") {
                    let v = p.variable_name()?;
                    p.advance();
                    Some(v)
                } else {
                    None
                };
                let el = p.parse_pattern_element()?;
                if el.chain.is_empty() {
                    return Err(p.unexpected("a relationship pattern"));
                }
                let predicate = if p.eat_kw("WHERE") {
                    Some(Box::new(p.parse_expr()?))
                } else {
                    None
                };
                p.expect_sym("|")?;
                Ok((variable, el, predicate))
            });
            if let Some((variable, el, predicate)) = head {
                let projection = self.parse_expr()?;
                return Ok(Expr::PatternComprehension {
                    variable,
                    pattern: Box::new(el),
                    predicate,
                    projection: Box::new(projection),
                });
            }
        }
        let mut items = vec![self.parse_expr()?];
        while self.eat_sym(",") {
            items.push(self.parse_expr()?);
        }
        Ok(Expr::List(items))
    }

    fn parse_word_atom(&mut self, w: &str) -> Result<Expr> {
        let upper = w.to_ascii_uppercase();
        let next_paren = self.is_sym_at(1, "(");
        match upper.as_str() {
            "TRUE" if !next_paren => {
                self.advance();
                return Ok(Expr::Literal(Value::Bool(true)));
            }
            "FALSE" if !next_paren => {
                self.advance();
                return Ok(Expr::Literal(Value::Bool(false)));
            }
            "NULL" if !next_paren => {
                self.advance();
                return Ok(Expr::Literal(Value::Null));
            }
            "CASE" => return self.parse_case(),
            "COUNT" if next_paren && self.is_sym_at(2, "*") && self.is_sym_at(3, ")") => {
                self.skip(4);
                return Ok(Expr::CountStar);
            }
            "EXISTS" if self.is_sym_at(1, "{") => return self.parse_exists_subquery(),
            "COUNT" if self.is_sym_at(1, "{") => {
                let q = self.parse_subquery_body()?;
                return Ok(Expr::ValueSubquery(SubqueryKind::Count, Box::new(q)));
            }
            "COLLECT" if self.is_sym_at(1, "{") => {
                let q = self.parse_subquery_body()?;
                return Ok(Expr::ValueSubquery(SubqueryKind::Collect, Box::new(q)));
            }
            "ALL" | "ANY" | "NONE" | "SINGLE"
                if next_paren
                    && matches!(self.tok_at(2), Tok::Ident(_) | Tok::Quoted(_))
                    && self.is_kw_at(3, "IN") =>
            {
                let kind = match upper.as_str() {
                    "ALL" => QuantifierKind::All,
                    "ANY" => QuantifierKind::Any,
                    "NONE" => QuantifierKind::None,
                    _ => QuantifierKind::Single,
                };
                self.skip(2);
                self.enter()?;
                let variable = self.variable_name()?;
                self.expect_kw("IN")?;
                let list = self.parse_expr()?;
                let predicate = if self.eat_kw("WHERE") {
                    Some(Box::new(self.parse_expr()?))
                } else {
                    None
                };
                self.expect_sym(")")?;
                self.leave();
                return Ok(Expr::Quantifier {
                    kind,
                    variable,
                    list: Box::new(list),
                    predicate,
                });
            }
            "REDUCE" if next_paren && self.is_sym_at(3, "=") => {
                self.skip(2);
                self.enter()?;
                let accumulator = self.variable_name()?;
                self.expect_sym("=")?;
                let init = self.parse_expr()?;
                self.expect_sym(",")?;
                let variable = self.variable_name()?;
                self.expect_kw("IN")?;
                let list = self.parse_expr()?;
                self.expect_sym("|")?;
                let expr = self.parse_expr()?;
                self.expect_sym(")")?;
                self.leave();
                return Ok(Expr::Reduce {
                    accumulator,
                    init: Box::new(init),
                    variable,
                    list: Box::new(list),
                    expr: Box::new(expr),
                });
            }
            _ => {}
        }
        if self.is_function_call().is_some() {
            return self.parse_function_call();
        }
        if self.is_clause_word() {
            return Err(self.unexpected("an expression"));
        }
        self.advance();
        Ok(Expr::Variable(w.to_string()))
    }

    fn parse_function_call(&mut self) -> Result<Expr> {
        let mut name = self.symbolic_name("a function name")?;
        while self.eat_sym(".") {
            name.push('.');
            name.push_str(&self.symbolic_name("a function name")?);
        }
        self.expect_sym("(")?;
        self.enter()?;
        if name.eq_ignore_ascii_case("trim") {
            if let Some(e) = self.parse_trim_from()? {
                self.expect_sym(")")?;
                self.leave();
                return Ok(e);
            }
        }
        let distinct = self.eat_kw("DISTINCT");
        let mut args = Vec::new();
        if !self.is_sym(")") {
            args.push(self.parse_expr()?);
            while self.eat_sym(",") {
                args.push(self.parse_expr()?);
            }
        }
        self.expect_sym(")")?;
        self.leave();
        Ok(Expr::FunctionCall {
            name,
            distinct,
            args,
        })
    }

    /// `trim([BOTH | LEADING | TRAILING] [chars] FROM s)` as `btrim`/`ltrim`/`rtrim(s[, chars])`;
    /// `None` (nothing consumed) for the plain `trim(s)`.
    fn parse_trim_from(&mut self) -> Result<Option<Expr>> {
        let func = if self.eat_kw("BOTH") {
            "btrim"
        } else if self.eat_kw("LEADING") {
            "ltrim"
        } else if self.eat_kw("TRAILING") {
            "rtrim"
        } else {
            // `trim(chars FROM s)`: look for FROM after one expression.
            let saved = (self.pos, self.depth);
            let chars = self.parse_expr()?;
            if !self.eat_kw("FROM") {
                (self.pos, self.depth) = saved;
                return Ok(None);
            }
            let source = self.parse_expr()?;
            return Ok(Some(Expr::FunctionCall {
                name: "btrim".into(),
                distinct: false,
                args: vec![source, chars],
            }));
        };
        let mut args = Vec::new();
        if !self.eat_kw("FROM") {
            let chars = self.parse_expr()?;
            self.expect_kw("FROM")?;
            args.push(chars);
        }
        args.insert(0, self.parse_expr()?);
        Ok(Some(Expr::FunctionCall {
            name: func.into(),
            distinct: false,
            args,
        }))
    }

    fn parse_case(&mut self) -> Result<Expr> {
        self.advance();
        self.enter()?;
        let operand = if self.is_kw("WHEN") {
            None
        } else {
            Some(Box::new(self.parse_expr()?))
        };
        let mut whens = Vec::new();
        while self.eat_kw("WHEN") {
            let mut conds = vec![self.parse_expr()?];
            // `CASE x WHEN 1, 2 THEN ...` (simple form only).
            while operand.is_some() && self.eat_sym(",") {
                conds.push(self.parse_expr()?);
            }
            self.expect_kw("THEN")?;
            let val = self.parse_expr()?;
            for cond in conds {
                whens.push((cond, val.clone()));
            }
        }
        if whens.is_empty() {
            return Err(self.unexpected("WHEN"));
        }
        let else_ = if self.eat_kw("ELSE") {
            Some(Box::new(self.parse_expr()?))
        } else {
            None
        };
        self.expect_kw("END")?;
        self.leave();
        Ok(Expr::Case {
            operand,
            whens,
            else_,
        })
    }

    fn parse_exists_subquery(&mut self) -> Result<Expr> {
        Ok(Expr::ExistsSubquery(Box::new(self.parse_subquery_body()?)))
    }

    /// `WORD { pattern [WHERE ...] }` or `WORD { query }` (EXISTS, COUNT, COLLECT).
    fn parse_subquery_body(&mut self) -> Result<Query> {
        let start = self.cur_start();
        self.skip(2);
        self.enter()?;
        let q = if self.is_sym("(") || (self.is_name() && self.is_sym_at(1, "=")) {
            let pattern = self.parse_pattern()?;
            let where_ = if self.eat_kw("WHERE") {
                Some(self.parse_expr()?)
            } else {
                None
            };
            Query {
                first: SingleQuery {
                    use_graph: None,
                    clauses: vec![Clause::Match(Match {
                        optional: false,
                        pattern,
                        where_,
                        span: Span {
                            start,
                            end: self.prev_end(),
                        },
                    })],
                },
                unions: Vec::new(),
            }
        } else {
            // `USE` is not allowed in an expression subquery (Neo4j refuses it too).
            let outer = std::mem::replace(&mut self.use_ctx, UseCtx::Forbidden);
            let q = self.parse_query();
            self.use_ctx = outer;
            q?
        };
        self.expect_sym("}")?;
        self.leave();
        Ok(q)
    }

    /// A type after `IS ::`: `INTEGER`, `LIST<STRING NOT NULL>`, `INTEGER | FLOAT`, ...
    pub(crate) fn parse_type(&mut self) -> Result<CypherType> {
        self.enter()?;
        let mut v = vec![self.parse_single_type()?];
        while self.eat_sym("|") {
            v.push(self.parse_single_type()?);
        }
        self.leave();
        if v.len() == 1 {
            return Ok(v.pop().unwrap_or(CypherType {
                base: BaseType::Any,
                not_null: false,
            }));
        }
        // A union is nullable if any member is.
        let not_null = v.iter().all(|t| t.not_null);
        Ok(CypherType {
            base: BaseType::Union(v),
            not_null,
        })
    }

    fn parse_single_type(&mut self) -> Result<CypherType> {
        let Tok::Ident(w) = self.tok().clone() else {
            return Err(self.unexpected("a type name"));
        };
        let w = w.to_ascii_uppercase();
        self.advance();
        let time_zone = |p: &mut Self| -> Result<Option<bool>> {
            if p.eat_kw("WITH") {
                p.expect_kw("TIME")?;
                p.expect_kw("ZONE")?;
                Ok(Some(true))
            } else if p.eat_kw("WITHOUT") {
                p.expect_kw("TIME")?;
                p.expect_kw("ZONE")?;
                Ok(Some(false))
            } else {
                Ok(None)
            }
        };
        let base = match w.as_str() {
            "ANY" => {
                if self.eat_kw("NODE") || self.eat_kw("VERTEX") {
                    BaseType::Node
                } else if self.eat_kw("RELATIONSHIP") || self.eat_kw("EDGE") {
                    BaseType::Relationship
                } else if self.eat_kw("MAP") {
                    BaseType::Map
                } else if self.eat_kw("PROPERTY") {
                    self.expect_kw("VALUE")?;
                    return Err(self.not_supported("the type ANY PROPERTY VALUE"));
                } else if self.eat_kw("VALUE") {
                    BaseType::Any
                } else if self.is_sym("<") {
                    self.advance();
                    let inner = self.parse_type()?;
                    self.expect_sym(">")?;
                    inner.base
                } else {
                    BaseType::Any
                }
            }
            "NOTHING" => BaseType::Nothing,
            "NULL" => BaseType::Null,
            "BOOL" | "BOOLEAN" => BaseType::Boolean,
            "STRING" | "VARCHAR" => BaseType::String,
            "INT" | "INTEGER" | "INT64" | "INTEGER64" => BaseType::Integer,
            "SIGNED" => {
                self.expect_kw("INTEGER")?;
                BaseType::Integer
            }
            "FLOAT" | "FLOAT64" => BaseType::Float,
            "DATE" => BaseType::Date,
            "LOCAL" => {
                if self.eat_kw("TIME") {
                    BaseType::LocalTime
                } else {
                    self.expect_kw("DATETIME")?;
                    BaseType::LocalDateTime
                }
            }
            "ZONED" => {
                if self.eat_kw("TIME") {
                    BaseType::ZonedTime
                } else {
                    self.expect_kw("DATETIME")?;
                    BaseType::ZonedDateTime
                }
            }
            "TIME" => match time_zone(self)? {
                Some(true) => BaseType::ZonedTime,
                _ => BaseType::LocalTime,
            },
            "TIMESTAMP" => match time_zone(self)? {
                Some(true) => BaseType::ZonedDateTime,
                _ => BaseType::LocalDateTime,
            },
            "DURATION" => BaseType::Duration,
            "POINT" => BaseType::Point,
            "NODE" | "VERTEX" => BaseType::Node,
            "RELATIONSHIP" | "EDGE" => BaseType::Relationship,
            "MAP" => BaseType::Map,
            "PATH" | "PATHS" => BaseType::Path,
            "LIST" | "ARRAY" => {
                if self.eat_sym("<") {
                    let inner = self.parse_type()?;
                    self.expect_sym(">")?;
                    BaseType::List(Box::new(inner))
                } else {
                    BaseType::List(Box::new(CypherType {
                        base: BaseType::Any,
                        not_null: false,
                    }))
                }
            }
            _ => {
                return Err(self.error_at(
                    self.prev_end().saturating_sub(w.len()),
                    &format!("Invalid input '{w}': expected a type name"),
                    "UnexpectedSyntax",
                ))
            }
        };
        let not_null = if self.is_kw("NOT") && self.is_kw_at(1, "NULL") {
            self.skip(2);
            true
        } else {
            false
        };
        Ok(CypherType {
            base,
            not_null: not_null || matches!(w.as_str(), "NOTHING"),
        })
    }
}
