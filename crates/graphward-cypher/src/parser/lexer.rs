//! Tokenizer for Cypher text.
//!
//! The lexer never fails on odd characters or malformed numbers: it produces `Tok::Unknown` /
//! `Tok::BadNumber` tokens so the parser can report them with the right error detail in
//! context. It does fail on unterminated strings/comments and invalid escapes.

use graphward_core::{Error, Result};

use super::position_of;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A bare word (identifier or keyword), original case.
    Ident(String),
    /// A backtick-quoted identifier, unescaped.
    Quoted(String),
    /// An integer literal's magnitude (sign is handled by the parser).
    Int(u64),
    /// An integer literal that does not fit in u64.
    IntOverflow,
    Float(f64),
    /// A float literal too large to represent.
    FloatOverflow,
    /// Digits running into letters, `0x` without digits, etc.
    BadNumber,
    Str(String),
    /// `$name` / `$0`.
    Param(String),
    /// Punctuation / operator.
    Sym(&'static str),
    /// A character that starts no token.
    Unknown(char),
    Eof,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

const MULTI_SYMS: [&str; 9] = ["..", "<=", ">=", "<>", "!=", "=~", "+=", "::", "||"];

fn single_sym(c: char) -> Option<&'static str> {
    Some(match c {
        '(' => "(",
        ')' => ")",
        '[' => "[",
        ']' => "]",
        '{' => "{",
        '}' => "}",
        ',' => ",",
        '.' => ".",
        ';' => ";",
        ':' => ":",
        '|' => "|",
        '+' => "+",
        '-' => "-",
        '*' => "*",
        '/' => "/",
        '%' => "%",
        '^' => "^",
        '=' => "=",
        '<' => "<",
        '>' => ">",
        '&' => "&",
        '!' => "!",
        _ => return None,
    })
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn peek_char(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }

    fn byte(&self, i: usize) -> Option<u8> {
        self.bytes.get(i).copied()
    }

    fn err(&self, offset: usize, msg: &str, detail: &str) -> Error {
        let p = position_of(self.src, offset);
        Error::syntax(format!("{msg} (line {}, column {})", p.line, p.column))
            .with_detail(detail)
            .at(p)
    }

    fn skip_ws_and_comments(&mut self) -> Result<()> {
        loop {
            match self.peek_char() {
                Some(c) if c.is_whitespace() => self.pos += c.len_utf8(),
                Some('/') if self.byte(self.pos + 1) == Some(b'/') => {
                    while let Some(c) = self.peek_char() {
                        if c == '\n' {
                            break;
                        }
                        self.pos += c.len_utf8();
                    }
                }
                Some('/') if self.byte(self.pos + 1) == Some(b'*') => {
                    let start = self.pos;
                    match self.src.get(self.pos + 2..).and_then(|s| s.find("*/")) {
                        Some(i) => self.pos += 2 + i + 2,
                        None => {
                            return Err(self.err(
                                start,
                                "Failed to parse comment: missing '*/'",
                                "UnexpectedSyntax",
                            ))
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn lex_number(&mut self) -> Tok {
        let start = self.pos;
        let b = self.bytes;
        // Hex / octal.
        if b.get(start) == Some(&b'0') {
            let radix = match b.get(start + 1) {
                Some(b'x') | Some(b'X') => Some(16u32),
                Some(b'o') | Some(b'O') => Some(8u32),
                _ => None,
            };
            if let Some(radix) = radix {
                self.pos = start + 2;
                let mut value: Option<u64> = Some(0);
                let mut ndigits = 0;
                while let Some(c) = self.peek_char() {
                    if let Some(d) = c.to_digit(radix) {
                        value = value
                            .and_then(|v| v.checked_mul(radix as u64))
                            .and_then(|v| v.checked_add(d as u64));
                        ndigits += 1;
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                if ndigits == 0 || self.peek_char().is_some_and(is_ident_continue) {
                    self.eat_ident_tail();
                    return Tok::BadNumber;
                }
                return match value {
                    Some(v) => Tok::Int(v),
                    None => Tok::IntOverflow,
                };
            }
        }
        let mut is_float = false;
        while self.byte(self.pos).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.byte(self.pos) == Some(b'.')
            && self.byte(self.pos + 1).is_some_and(|c| c.is_ascii_digit())
        {
            is_float = true;
            self.pos += 1;
            while self.byte(self.pos).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        if matches!(self.byte(self.pos), Some(b'e') | Some(b'E')) {
            let mut p = self.pos + 1;
            if matches!(self.byte(p), Some(b'+') | Some(b'-')) {
                p += 1;
            }
            if self.byte(p).is_some_and(|c| c.is_ascii_digit()) {
                is_float = true;
                self.pos = p;
                while self.byte(self.pos).is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
            }
        }
        if self.peek_char().is_some_and(is_ident_continue) {
            self.eat_ident_tail();
            return Tok::BadNumber;
        }
        let text = self.src.get(start..self.pos).unwrap_or("");
        if is_float {
            match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Tok::Float(f),
                Ok(_) => Tok::FloatOverflow,
                Err(_) => Tok::BadNumber,
            }
        } else {
            // Leading-zero integers are decimal in openCypher 9 (`0123` is 123? Neo4j treats
            // `0`-prefixed as octal in old versions); we follow decimal.
            match text.parse::<u64>() {
                Ok(v) => Tok::Int(v),
                Err(_) => Tok::IntOverflow,
            }
        }
    }

    fn eat_ident_tail(&mut self) {
        while let Some(c) = self.peek_char() {
            if is_ident_continue(c) {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
    }

    fn lex_string(&mut self, quote: char) -> Result<Tok> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let c = match self.peek_char() {
                Some(c) => c,
                None => {
                    return Err(self.err(
                        start,
                        "Failed to parse string literal: missing closing quote",
                        "UnexpectedSyntax",
                    ))
                }
            };
            self.pos += c.len_utf8();
            if c == quote {
                return Ok(Tok::Str(out));
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let esc_pos = self.pos - 1;
            let e = match self.peek_char() {
                Some(e) => e,
                None => {
                    return Err(self.err(
                        start,
                        "Failed to parse string literal: missing closing quote",
                        "UnexpectedSyntax",
                    ))
                }
            };
            self.pos += e.len_utf8();
            match e {
                '\\' => out.push('\\'),
                '\'' => out.push('\''),
                '"' => out.push('"'),
                'n' | 'N' => out.push('\n'),
                't' | 'T' => out.push('\t'),
                'r' | 'R' => out.push('\r'),
                'b' | 'B' => out.push('\u{8}'),
                'f' | 'F' => out.push('\u{c}'),
                'u' | 'U' => {
                    let n = if e == 'u' { 4 } else { 8 };
                    let hex = self.src.get(self.pos..self.pos + n);
                    let cp = hex
                        .filter(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
                        .and_then(|h| u32::from_str_radix(h, 16).ok());
                    let ch = cp.and_then(char::from_u32);
                    match ch {
                        Some(ch) => {
                            out.push(ch);
                            self.pos += n;
                        }
                        None => {
                            return Err(self.err(
                                esc_pos,
                                "Invalid input: invalid unicode escape sequence in string literal",
                                "InvalidUnicodeLiteral",
                            ))
                        }
                    }
                }
                other => {
                    return Err(self.err(
                        esc_pos,
                        &format!(
                            "Invalid input '\\{other}': invalid escape sequence in string literal"
                        ),
                        "UnexpectedSyntax",
                    ))
                }
            }
        }
    }

    fn next_token(&mut self) -> Result<Token> {
        self.skip_ws_and_comments()?;
        let start = self.pos;
        let c = match self.peek_char() {
            Some(c) => c,
            None => {
                return Ok(Token {
                    tok: Tok::Eof,
                    start,
                    end: start,
                })
            }
        };
        let tok = if c.is_ascii_digit()
            || (c == '.'
                && self.byte(self.pos + 1).is_some_and(|b| b.is_ascii_digit())
                && !self.prev_is_value())
        {
            self.lex_number()
        } else if is_ident_start(c) {
            self.eat_ident_tail();
            Tok::Ident(self.src.get(start..self.pos).unwrap_or("").to_string())
        } else if c == '`' {
            self.pos += 1;
            let mut name = String::new();
            loop {
                match self.peek_char() {
                    None => {
                        return Err(self.err(
                            start,
                            "Failed to parse quoted identifier: missing closing '`'",
                            "UnexpectedSyntax",
                        ))
                    }
                    Some('`') => {
                        if self.byte(self.pos + 1) == Some(b'`') {
                            name.push('`');
                            self.pos += 2;
                        } else {
                            self.pos += 1;
                            break;
                        }
                    }
                    Some(ch) => {
                        name.push(ch);
                        self.pos += ch.len_utf8();
                    }
                }
            }
            Tok::Quoted(name)
        } else if c == '\'' || c == '"' {
            self.lex_string(c)?
        } else if c == '$' {
            self.pos += 1;
            match self.peek_char() {
                Some(ch) if is_ident_continue(ch) => {
                    let s = self.pos;
                    self.eat_ident_tail();
                    Tok::Param(self.src.get(s..self.pos).unwrap_or("").to_string())
                }
                Some('`') => match self.next_token()?.tok {
                    Tok::Quoted(name) => Tok::Param(name),
                    _ => Tok::Unknown('$'),
                },
                _ => Tok::Unknown('$'),
            }
        } else {
            let mut found = None;
            for m in MULTI_SYMS {
                if self.src.get(self.pos..).is_some_and(|s| s.starts_with(m)) {
                    found = Some(m);
                    break;
                }
            }
            match found {
                Some(m) => {
                    self.pos += m.len();
                    Tok::Sym(m)
                }
                None => match single_sym(c) {
                    Some(s) => {
                        self.pos += 1;
                        Tok::Sym(s)
                    }
                    None => {
                        self.pos += c.len_utf8();
                        Tok::Unknown(c)
                    }
                },
            }
        };
        Ok(Token {
            tok,
            start,
            end: self.pos,
        })
    }

    /// Whether the previous non-space character ends a value (so `.5` after it is a property
    /// access / range, not a float).
    fn prev_is_value(&self) -> bool {
        let before = self.src.get(..self.pos).unwrap_or("");
        match before.chars().next_back() {
            Some(c) => {
                is_ident_continue(c) || c == ')' || c == ']' || c == '}' || c == '`' || c == '.'
            }
            None => false,
        }
    }
}

/// Tokenize the whole query. The last token is always `Tok::Eof`.
pub fn tokenize(src: &str) -> Result<Vec<Token>> {
    let mut lx = Lexer {
        src,
        bytes: src.as_bytes(),
        pos: 0,
    };
    let mut out = Vec::new();
    loop {
        let t = lx.next_token()?;
        let eof = t.tok == Tok::Eof;
        out.push(t);
        if eof {
            return Ok(out);
        }
    }
}
