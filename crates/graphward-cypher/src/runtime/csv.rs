//! `LOAD CSV [WITH HEADERS] FROM 'file:///name.csv' AS row [FIELDTERMINATOR ';']`.
//!
//! * Files come only from the server's import directory (`--import-dir`, off by default: then
//!   every LOAD CSV is refused with an error naming the flag). `file:///a/b.csv` names
//!   `<import dir>/a/b.csv`; the path is canonicalized (symbolic links resolved) and must stay
//!   under the canonical import directory, so `..` and links pointing out are refused.
//! * No URLs: `http`, `https`, `ftp` and any other scheme are refused (FeatureNotSupported).
//! * Bounded: the file's size (`MAX_FILE_BYTES`), one record's length (`MAX_RECORD_BYTES`)
//!   and fields per record (`MAX_FIELDS`); every row is charged to the query's memory budget
//!   and row limit as it is made.
//! * Values are strings (as Neo4j reads them); an unquoted empty field is null, a quoted one
//!   (`""`) the empty string. `WITH HEADERS`: each row a map keyed by the first record's
//!   fields (missing trailing fields are null); without: a list of the fields.

use std::io::{BufRead, BufReader, Read};
use std::path::{Component, Path, PathBuf};

use graphward_core::value::Map;
use graphward_core::{Error, ErrorCode, Result, Value};

use super::eval::{Ev, Row};
use crate::ast::LoadCsv;

/// Largest file LOAD CSV reads.
pub const MAX_FILE_BYTES: u64 = 1 << 30;
/// Longest record (one line, or several lines inside quotes).
pub const MAX_RECORD_BYTES: usize = 1 << 20;
/// Most fields in one record.
pub const MAX_FIELDS: usize = 10_000;

fn not_supported(what: String) -> Error {
    Error::new(ErrorCode::NotSupported, format!("Not supported: {what}"))
        .with_detail("FeatureNotSupported")
}

fn load_error(msg: String) -> Error {
    // Neo4j reports a file LOAD CSV cannot read as a client error on the statement.
    Error::new(ErrorCode::ArgumentError, msg)
}

/// The file `url` names inside `import_dir` (canonical), or why not.
pub fn resolve(import_dir: Option<&Path>, url: &str) -> Result<PathBuf> {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => {
            return Err(load_error(format!(
                "LOAD CSV needs a file URL like 'file:///name.csv', got '{url}'"
            )))
        }
    };
    if scheme != "file" {
        return Err(not_supported(format!(
            "LOAD CSV from a '{scheme}' URL: graphward loads files only from its import \
             directory (--import-dir), never over the network"
        )));
    }
    let Some(dir) = import_dir else {
        return Err(not_supported(
            "LOAD CSV is off on this server: start it with --import-dir <directory> \
             (setting `import_dir`) to load files from that directory"
                .to_string(),
        ));
    };
    // `file:///a.csv` and `file://a.csv` both name `a.csv` under the import directory.
    let rel = percent_decode(rest.trim_start_matches('/'))?;
    let rel = Path::new(&rel);
    if rel.as_os_str().is_empty()
        || rel
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(Error::new(
            ErrorCode::Forbidden,
            format!(
                "LOAD CSV: '{url}' is not a file inside the import directory ('..' and absolute \
                 paths are refused)"
            ),
        ));
    }
    let root = dir.canonicalize().map_err(|e| {
        load_error(format!(
            "LOAD CSV: the import directory cannot be opened: {e}"
        ))
    })?;
    let path = root.join(rel).canonicalize().map_err(|e| {
        load_error(format!(
            "Couldn't load the external resource at: {url} ({e})"
        ))
    })?;
    if !path.starts_with(&root) {
        return Err(Error::new(
            ErrorCode::Forbidden,
            format!("LOAD CSV: '{url}' leads outside the import directory (a symbolic link)"),
        ));
    }
    Ok(path)
}

fn percent_decode(s: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| load_error(format!("LOAD CSV: bad %-escape in '{s}'")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| load_error(format!("LOAD CSV: '{s}' is not UTF-8")))
}

/// Reads records one at a time from a CSV source.
pub struct Records<R: Read> {
    input: BufReader<R>,
    sep: char,
    line: String,
    /// Bytes read so far (the file-size bound, for inputs that grow while read).
    read: u64,
}

impl<R: Read> Records<R> {
    pub fn new(input: R, sep: char) -> Self {
        Records {
            input: BufReader::new(input),
            sep,
            line: String::new(),
            read: 0,
        }
    }

    /// Appends one line (with its newline) to `self.line`; false at end of input.
    fn read_line(&mut self) -> Result<bool> {
        let room = MAX_RECORD_BYTES.saturating_sub(self.line.len()) as u64 + 1;
        let n = (&mut self.input)
            .take(room)
            .read_line(&mut self.line)
            .map_err(|e| load_error(format!("LOAD CSV: cannot read the file: {e}")))?;
        self.read = self.read.saturating_add(n as u64);
        if self.line.len() > MAX_RECORD_BYTES {
            return Err(Error::new(
                ErrorCode::ResourceLimit,
                format!("LOAD CSV: a record is longer than {MAX_RECORD_BYTES} bytes"),
            ));
        }
        if self.read > MAX_FILE_BYTES {
            return Err(Error::new(
                ErrorCode::ResourceLimit,
                format!("LOAD CSV: the file is larger than {MAX_FILE_BYTES} bytes"),
            ));
        }
        Ok(n > 0)
    }

    /// The next record's fields (`None` for an unquoted empty field), or `None` at the end.
    pub fn next_record(&mut self) -> Result<Option<Vec<Option<String>>>> {
        self.line.clear();
        if !self.read_line()? {
            return Ok(None);
        }
        loop {
            match parse_record(&self.line, self.sep)? {
                Some(fields) => return Ok(Some(fields)),
                // An open quote: the record goes on on the next line.
                None => {
                    if !self.read_line()? {
                        return Err(load_error(
                            "LOAD CSV: the file ends inside a quoted field".to_string(),
                        ));
                    }
                }
            }
        }
    }
}

/// Splits one record; `None` if a quoted field is still open at its end.
fn parse_record(text: &str, sep: char) -> Result<Option<Vec<Option<String>>>> {
    let text = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(text);
    let mut fields = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        if fields.len() >= MAX_FIELDS {
            return Err(Error::new(
                ErrorCode::ResourceLimit,
                format!("LOAD CSV: a record has more than {MAX_FIELDS} fields"),
            ));
        }
        let mut field = String::new();
        let mut quoted = false;
        if chars.peek() == Some(&'"') {
            quoted = true;
            chars.next();
            loop {
                match chars.next() {
                    None => return Ok(None),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            // Anything between the closing quote and the separator is kept, as Neo4j does.
            while let Some(&c) = chars.peek() {
                if c == sep {
                    break;
                }
                field.push(c);
                chars.next();
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == sep {
                    break;
                }
                field.push(c);
                chars.next();
            }
        }
        fields.push(if field.is_empty() && !quoted {
            None
        } else {
            Some(field)
        });
        if chars.next().is_none() {
            return Ok(Some(fields));
        }
    }
}

/// The rows of one `LOAD CSV` file, read one record at a time: a list of fields, or with
/// `WITH HEADERS` a map keyed by the first record's fields.
pub struct CsvRows {
    records: Records<std::fs::File>,
    header: Option<Vec<String>>,
}

impl CsvRows {
    /// Opens the file `url` names in the import directory (`url` evaluated by the caller);
    /// `None` for a file without a header line when `WITH HEADERS` wants one.
    pub fn open(ev: &Ev<'_>, l: &LoadCsv, url: Value) -> Result<Option<CsvRows>> {
        let url = match url {
            Value::String(s) => s,
            other => {
                return Err(Error::new(
                    ErrorCode::TypeError,
                    format!("LOAD CSV needs a URL string, got {other:?}"),
                ))
            }
        };
        let path = resolve(ev.env.import_dir.as_deref(), &url)?;
        let file = std::fs::File::open(&path).map_err(|e| {
            load_error(format!(
                "Couldn't load the external resource at: {url} ({e})"
            ))
        })?;
        let meta = file
            .metadata()
            .map_err(|e| load_error(format!("LOAD CSV: cannot read '{url}': {e}")))?;
        if !meta.is_file() {
            return Err(load_error(format!("LOAD CSV: '{url}' is not a file")));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(Error::new(
                ErrorCode::ResourceLimit,
                format!("LOAD CSV: '{url}' is larger than {MAX_FILE_BYTES} bytes"),
            ));
        }
        let mut records = Records::new(file, l.field_terminator.unwrap_or(','));
        let header = if l.with_headers {
            match records.next_record()? {
                Some(h) => Some(h.into_iter().map(Option::unwrap_or_default).collect()),
                None => return Ok(None),
            }
        } else {
            None
        };
        Ok(Some(CsvRows { records, header }))
    }

    /// The next row's value, or `None` at the end of the file.
    pub fn next_value(&mut self) -> Result<Option<Value>> {
        let Some(fields) = self.records.next_record()? else {
            return Ok(None);
        };
        let value = |f: Option<String>| f.map_or(Value::Null, Value::String);
        Ok(Some(match &self.header {
            Some(h) => {
                let mut m = Map::new();
                let mut it = fields.into_iter();
                for k in h {
                    m.insert(k.clone(), it.next().map_or(Value::Null, value));
                }
                Value::Map(m)
            }
            None => Value::List(fields.into_iter().map(value).collect()),
        }))
    }
}

/// `LOAD CSV` on the clause runner: every row of every input row's file, held.
pub fn load_csv_clause(
    ev: &Ev<'_>,
    l: &LoadCsv,
    rows: Vec<Row>,
    scope: &mut Vec<String>,
) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    for row in rows {
        ev.env.check()?;
        let Some(mut csv) = CsvRows::open(ev, l, ev.eval(&l.url, &row)?)? else {
            continue;
        };
        while let Some(v) = csv.next_value()? {
            ev.env.check()?;
            let mut r = row.clone();
            r.insert(l.variable.clone(), v);
            ev.env.charge_row(&r)?;
            out.push(r);
            ev.env.check_rows(out.len())?;
        }
    }
    if !scope.contains(&l.variable) {
        scope.push(l.variable.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn all(text: &str, sep: char) -> Vec<Vec<Option<String>>> {
        let mut r = Records::new(text.as_bytes(), sep);
        let mut out = Vec::new();
        while let Some(f) = r.next_record().unwrap() {
            out.push(f);
        }
        out
    }

    fn s(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    #[test]
    fn records_quotes_and_empty_fields() {
        assert_eq!(
            all("a,b,c\n1,,\"x,\"\"y\"\"\"\r\n\"multi\nline\",\"\",z", ','),
            vec![
                vec![s("a"), s("b"), s("c")],
                vec![s("1"), None, s("x,\"y\"")],
                vec![s("multi\nline"), s(""), s("z")],
            ]
        );
        assert_eq!(all("a;b\n", ';'), vec![vec![s("a"), s("b")]]);
        let mut r = Records::new("\"open".as_bytes(), ',');
        assert!(r.next_record().is_err());
    }

    #[test]
    fn a_record_longer_than_the_bound_is_refused() {
        let long = "x".repeat(MAX_RECORD_BYTES + 10);
        let mut r = Records::new(long.as_bytes(), ',');
        assert_eq!(r.next_record().unwrap_err().code, ErrorCode::ResourceLimit);
    }

    #[test]
    fn urls_and_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.csv"), "1\n").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b c.csv"), "1\n").unwrap();
        let d = Some(dir.path());
        assert!(resolve(d, "file:///a.csv").is_ok());
        assert!(resolve(d, "file:///sub/b%20c.csv").is_ok());
        assert_eq!(
            resolve(None, "file:///a.csv").unwrap_err().code,
            ErrorCode::NotSupported
        );
        assert_eq!(
            resolve(d, "https://example.com/a.csv").unwrap_err().code,
            ErrorCode::NotSupported
        );
        assert_eq!(
            resolve(d, "file:///../a.csv").unwrap_err().code,
            ErrorCode::Forbidden
        );
        assert_eq!(
            resolve(d, "file:///sub/../../x").unwrap_err().code,
            ErrorCode::Forbidden
        );
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.csv"), "s\n").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.csv"), dir.path().join("l.csv"))
            .unwrap();
        assert_eq!(
            resolve(d, "file:///l.csv").unwrap_err().code,
            ErrorCode::Forbidden
        );
        assert!(resolve(d, "file:///missing.csv").is_err());
    }
}
