//! Splitting input into statements: `;` ends a statement unless it is inside a string
//! (`'...'`, `"..."`, with backslash escapes), a quoted name (`` `...` ``) or a comment
//! (`// ...` to the end of the line, `/* ... */`). Statements may span lines. A line starting
//! with `:` while no statement is pending is a shell command (`:begin`, `:use db`, ...).

/// One unit of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A Cypher statement, without its terminating `;`.
    Statement(String),
    /// A shell command line, e.g. `:use other`.
    Command(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Normal,
    Quoted(char),
    Escape(char),
    LineComment,
    BlockComment,
}

/// Incremental splitter: feed it lines, take complete items out.
#[derive(Debug)]
pub struct Splitter {
    buf: String,
    /// Where scanning resumes in `buf`.
    scanned: usize,
    state: State,
    /// The current statement has something besides whitespace and comments.
    content: bool,
    /// Where that content starts in `buf` (leading comments are not sent).
    content_start: usize,
    /// Previous character (for `//`, `/*`, `*/`).
    prev: Option<char>,
}

impl Default for Splitter {
    fn default() -> Self {
        Splitter {
            buf: String::new(),
            scanned: 0,
            state: State::Normal,
            content: false,
            content_start: 0,
            prev: None,
        }
    }
}

impl Splitter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether part of a statement has been typed (the prompt shows a continuation then).
    pub fn is_pending(&self) -> bool {
        self.content || !matches!(self.state, State::Normal | State::LineComment)
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
        if self.state == State::LineComment {
            // The comment ended at the line break of the previous line.
            self.state = State::Normal;
        }
        self.scan()
    }

    /// The rest at the end of input (a last statement without `;`), if it has content.
    pub fn finish(&mut self) -> Option<Item> {
        let rest = std::mem::take(&mut self.buf);
        let pending = self.content;
        let from = self.content_start;
        self.clear();
        let text = rest.get(from..).unwrap_or("").trim();
        (pending && !text.is_empty()).then(|| Item::Statement(text.to_string()))
    }

    fn mark_content(&mut self, i: usize) {
        if !self.content {
            self.content = true;
            self.content_start = i;
        }
    }

    fn scan(&mut self) -> Vec<Item> {
        let mut items = Vec::new();
        let mut start = 0usize;
        let tail: Vec<(usize, char)> = self.buf[self.scanned..]
            .char_indices()
            .map(|(i, c)| (i + self.scanned, c))
            .collect();
        for (i, c) in tail {
            let prev = self.prev;
            self.prev = Some(c);
            match self.state {
                State::Normal => match c {
                    '\'' | '"' | '`' => {
                        self.state = State::Quoted(c);
                        self.mark_content(i);
                    }
                    '/' if prev == Some('/') => {
                        self.state = State::LineComment;
                        self.prev = None;
                    }
                    '*' if prev == Some('/') => {
                        self.state = State::BlockComment;
                        self.prev = None;
                    }
                    ';' => {
                        let from = if self.content {
                            self.content_start
                        } else {
                            start
                        };
                        let text = self.buf.get(from..i).unwrap_or("").trim();
                        if self.content && !text.is_empty() {
                            items.push(Item::Statement(text.to_string()));
                        }
                        start = i + 1;
                        self.content = false;
                        self.prev = None;
                    }
                    '/' => {}
                    c if c.is_whitespace() => {}
                    _ => self.mark_content(i),
                },
                State::Quoted(q) => {
                    if c == '\\' && q != '`' {
                        self.state = State::Escape(q);
                    } else if c == q {
                        self.state = State::Normal;
                        self.prev = None;
                    }
                }
                State::Escape(q) => self.state = State::Quoted(q),
                State::LineComment => {
                    if c == '\n' {
                        self.state = State::Normal;
                    }
                }
                State::BlockComment => {
                    if c == '/' && prev == Some('*') {
                        self.state = State::Normal;
                        self.prev = None;
                    }
                }
            }
        }
        // A lone '/' counted as nothing so far; if it turns out not to start a comment it is
        // content (e.g. division), which the next character decides. Keep it simple: a
        // statement of only '/' is not worth sending, anything else has content already.
        if start > 0 {
            self.buf.drain(..start);
            self.content_start = self.content_start.saturating_sub(start);
        }
        self.scanned = self.buf.len();
        items
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
