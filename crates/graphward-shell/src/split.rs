//! Splitting input into statements with the project's Cypher lexer
//! (`graphward_cypher::parser::lexer`): a `;` token ends a statement, so a `;` inside a string
//! (`'...'`, `"..."`, with backslash escapes), a quoted name (`` `...` ``) or a comment
//! (`// ...`, `/* ... */`) never does: the shell splits exactly as the server parses.
//! Statements may span lines; input ending inside a string, quoted name or block comment is
//! pending until it is closed. A line starting with `:` while no statement is pending is a
//! shell command (`:begin`, `:use db`, ...).

use graphward_cypher::parser::lexer::{tokenize, Tok, Token};

/// One unit of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A Cypher statement, without its terminating `;`.
    Statement(String),
    /// A shell command line, e.g. `:use other`.
    Command(String),
}

/// Incremental splitter: feed it lines, take complete items out.
#[derive(Debug, Default)]
pub struct Splitter {
    /// Input not yet sent (starts after the last `;` that ended a statement).
    buf: String,
    /// `buf` holds part of a statement: a token, or an unterminated string or comment.
    pending: bool,
}

/// What the lexer makes of `text`.
enum Scan {
    /// Every token; the last is `Eof`.
    Tokens(Vec<Token>),
    /// `text` ends inside a string, quoted name or block comment that starts at this offset.
    Unterminated(usize),
    /// A lexical error more input cannot mend (e.g. an invalid escape): the server reports it.
    Invalid,
}

fn scan(text: &str) -> Scan {
    match tokenize(text) {
        Ok(tokens) => Scan::Tokens(tokens),
        // The lexer fails only on a string, quoted name or block comment left open (its error
        // points at the opening quote or `/*`: more input can close it) or on an invalid
        // escape (it points at the backslash).
        Err(e) => match e.position.map(|p| (p.offset, text.get(p.offset..))) {
            Some((at, Some(rest))) if rest.starts_with(['\'', '"', '`', '/']) => {
                Scan::Unterminated(at)
            }
            _ => Scan::Invalid,
        },
    }
}

/// The statements `tokens` (of `text`) complete, and where the unfinished rest starts.
fn statements(text: &str, tokens: &[Token]) -> (Vec<Item>, usize) {
    let mut items = Vec::new();
    let mut first: Option<usize> = None;
    let mut rest = 0;
    for t in tokens {
        match &t.tok {
            Tok::Eof => break,
            Tok::Sym(";") => {
                if let Some(start) = first.take() {
                    let stmt = text.get(start..t.start).unwrap_or("").trim();
                    if !stmt.is_empty() {
                        items.push(Item::Statement(stmt.to_string()));
                    }
                }
                rest = t.end;
            }
            _ => {
                first.get_or_insert(t.start);
            }
        }
    }
    (items, rest)
}

impl Splitter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether part of a statement has been typed (the prompt shows a continuation then).
    pub fn is_pending(&self) -> bool {
        self.pending
    }

    /// Forgets the pending input (Ctrl-C at the prompt).
    pub fn clear(&mut self) {
        *self = Splitter::default();
    }

    /// Adds one line (without its line break) and returns the items it completed.
    pub fn push_line(&mut self, line: &str) -> Vec<Item> {
        if !self.is_pending() && line.trim_start().starts_with(':') {
            self.clear();
            return vec![Item::Command(line.trim().to_string())];
        }
        self.buf.push_str(line);
        self.buf.push('\n');
        let (items, rest, pending) = match scan(&self.buf) {
            Scan::Tokens(tokens) => {
                let (items, rest) = statements(&self.buf, &tokens);
                let more = tokens
                    .iter()
                    .any(|t| t.start >= rest && !matches!(t.tok, Tok::Eof));
                (items, rest, more)
            }
            Scan::Unterminated(at) => {
                // Statements completed before the unterminated part go now.
                let head = self.buf.get(..at).unwrap_or("");
                match scan(head) {
                    Scan::Tokens(tokens) => {
                        let (items, rest) = statements(head, &tokens);
                        (items, rest, true)
                    }
                    _ => (Vec::new(), 0, true),
                }
            }
            Scan::Invalid => {
                // Sent as it is; the server reports the error with its position.
                let text = self.buf.trim();
                let text = text.strip_suffix(';').unwrap_or(text).trim_end();
                let items = vec![Item::Statement(text.to_string())];
                (items, self.buf.len(), false)
            }
        };
        self.buf.drain(..rest.min(self.buf.len()));
        self.pending = pending;
        if !pending {
            self.buf.clear();
        }
        items
    }

    /// The rest at the end of input (a last statement without `;`), if it has content.
    pub fn finish(&mut self) -> Option<Item> {
        let rest = std::mem::take(&mut self.buf);
        let pending = self.pending;
        self.clear();
        let text = rest.trim();
        // Leading comments are not sent.
        let text = match scan(text) {
            Scan::Tokens(tokens) => tokens
                .iter()
                .find(|t| !matches!(t.tok, Tok::Eof))
                .and_then(|t| text.get(t.start..))
                .unwrap_or(""),
            _ => text,
        };
        (pending && !text.is_empty()).then(|| Item::Statement(text.to_string()))
    }
}

/// Splits a whole text (a file, stdin) into items.
pub fn split_all(text: &str) -> Vec<Item> {
    let mut s = Splitter::new();
    let mut items = Vec::new();
    for line in text.lines() {
        items.extend(s.push_line(line));
    }
    items.extend(s.finish());
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmts(text: &str) -> Vec<String> {
        split_all(text)
            .into_iter()
            .map(|i| match i {
                Item::Statement(s) => s,
                Item::Command(c) => format!("CMD {c}"),
            })
            .collect()
    }

    #[test]
    fn splits_on_semicolons_outside_strings_and_comments() {
        assert_eq!(
            stmts("RETURN 1; RETURN ';' AS a;\nRETURN \"x;y\"; // c;\nRETURN 2 /* ; */;"),
            vec![
                "RETURN 1",
                "RETURN ';' AS a",
                "RETURN \"x;y\"",
                "RETURN 2 /* ; */"
            ]
        );
    }

    #[test]
    fn multi_line_and_escapes() {
        assert_eq!(
            stmts("MATCH (n)\nWHERE n.s = 'it\\'s;'\nRETURN n;\n`a;b`;"),
            vec!["MATCH (n)\nWHERE n.s = 'it\\'s;'\nRETURN n", "`a;b`"]
        );
        assert_eq!(stmts("RETURN 'a\nb;c';"), vec!["RETURN 'a\nb;c'"]);
    }

    #[test]
    fn comments_only_and_empty_statements_are_dropped() {
        assert_eq!(stmts("// nothing;\n;;\n/* x; */\n"), Vec::<String>::new());
        assert_eq!(stmts("RETURN 1 // trailing"), vec!["RETURN 1 // trailing"]);
    }

    #[test]
    fn division_is_content() {
        assert_eq!(stmts("RETURN 4/2;"), vec!["RETURN 4/2"]);
    }

    #[test]
    fn commands_only_between_statements() {
        assert_eq!(
            stmts(":begin\nCREATE (n)\n:not a command;\n:commit\n"),
            vec!["CMD :begin", "CREATE (n)\n:not a command", "CMD :commit"]
        );
    }

    #[test]
    fn incremental_pending() {
        let mut s = Splitter::new();
        assert!(s.push_line("MATCH (n)").is_empty());
        assert!(s.is_pending());
        let items = s.push_line("RETURN n; RETURN");
        assert_eq!(items, vec![Item::Statement("MATCH (n)\nRETURN n".into())]);
        assert!(s.is_pending());
        s.clear();
        assert!(!s.is_pending());
        assert!(s.push_line("// just a comment").is_empty());
        assert!(!s.is_pending());
        // an unterminated string or block comment keeps the statement open
        assert!(s.push_line("RETURN 1; RETURN 'a").len() == 1);
        assert!(s.is_pending());
        assert_eq!(
            s.push_line("b' AS x;"),
            vec![Item::Statement("RETURN 'a\nb' AS x".into())]
        );
        assert!(!s.is_pending());
        assert!(s.push_line("/* open").is_empty());
        assert!(s.is_pending());
        assert!(s.push_line("still */").is_empty());
        assert!(!s.is_pending());
    }

    #[test]
    fn an_invalid_escape_is_sent_for_the_server_to_report() {
        assert_eq!(stmts("RETURN '\\q';"), vec!["RETURN '\\q'"]);
    }

    #[test]
    fn garbage_never_panics() {
        for text in ["'", "\"\\", "/*", "`", "\\", "é;ü'", "/", "*/;"] {
            let _ = split_all(text);
        }
        // Random mixes of the characters the scanner cares about (xorshift, fixed seed).
        let alphabet: Vec<char> = "'\"`\\/*;:\n \té1aR".chars().collect();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..5000 {
            let mut text = String::new();
            for _ in 0..(seed % 40) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            for item in split_all(&text) {
                if let Item::Statement(s) = item {
                    assert!(!s.trim().is_empty());
                }
            }
        }
    }
}
