//! A small Gherkin reader for the openCypher TCK feature files: features, scenarios,
//! scenario outlines with examples, steps with doc strings and tables.

#[derive(Debug, Clone)]
pub struct Step {
    pub keyword: String,
    pub text: String,
    pub doc: Option<String>,
    pub table: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub feature: String,
    pub name: String,
    pub line: usize,
    pub steps: Vec<Step>,
}

fn split_row(line: &str) -> Vec<String> {
    // Cells are separated by unescaped '|'; as in Gherkin, `\|` stands for a literal bar and
    // `\\` for a backslash.
    let t = line.trim();
    let inner = t.strip_prefix('|').unwrap_or(t);
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && matches!(chars.peek(), Some('|') | Some('\\')) {
            if let Some(e) = chars.next() {
                cur.push(e);
            }
        } else if c == '|' {
            cells.push(cur.trim().to_string());
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    cells.push(cur.trim().to_string());
    cells
}

/// A scenario being read: name, line, is-outline, steps, example tables.
type Pending = Option<(String, usize, bool, Vec<Step>, Vec<Vec<Vec<String>>>)>;

/// Parse one feature file into scenarios (outlines expanded).
pub fn parse(feature_name: &str, text: &str) -> Result<Vec<Scenario>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut background: Vec<Step> = Vec::new();
    let mut i = 0;
    // (name, line, is_outline, steps, examples)
    let mut cur: Pending = None;
    let mut in_background = false;
    let flush = |cur: &mut Pending, out: &mut Vec<Scenario>, background: &Vec<Step>| {
        if let Some((name, line, outline, steps, examples)) = cur.take() {
            let mut all = background.clone();
            all.extend(steps);
            if !outline {
                out.push(Scenario {
                    feature: feature_name.to_string(),
                    name,
                    line,
                    steps: all,
                });
            } else {
                for table in examples {
                    let Some(header) = table.first() else {
                        continue;
                    };
                    for row in table.iter().skip(1) {
                        let sub = |s: &str| {
                            let mut r = s.to_string();
                            for (h, v) in header.iter().zip(row) {
                                r = r.replace(&format!("<{h}>"), v);
                            }
                            r
                        };
                        let steps = all
                            .iter()
                            .map(|st| Step {
                                keyword: st.keyword.clone(),
                                text: sub(&st.text),
                                doc: st.doc.as_deref().map(sub),
                                table: st
                                    .table
                                    .iter()
                                    .map(|r| r.iter().map(|c| sub(c)).collect())
                                    .collect(),
                            })
                            .collect();
                        out.push(Scenario {
                            feature: feature_name.to_string(),
                            name: format!("{} [{}]", name, row.join(", ")),
                            line,
                            steps,
                        });
                    }
                }
            }
        }
    };
    while i < lines.len() {
        let raw = lines[i];
        let t = raw.trim();
        i += 1;
        if t.is_empty() || t.starts_with('#') || t.starts_with('@') {
            continue;
        }
        if t.starts_with("Feature:") {
            continue;
        }
        if t.starts_with("Background:") {
            flush(&mut cur, &mut out, &background);
            in_background = true;
            continue;
        }
        if let Some(rest) = t
            .strip_prefix("Scenario Outline:")
            .or_else(|| t.strip_prefix("Scenario Template:"))
        {
            flush(&mut cur, &mut out, &background);
            in_background = false;
            cur = Some((rest.trim().to_string(), i, true, Vec::new(), Vec::new()));
            continue;
        }
        if let Some(rest) = t.strip_prefix("Scenario:") {
            flush(&mut cur, &mut out, &background);
            in_background = false;
            cur = Some((rest.trim().to_string(), i, false, Vec::new(), Vec::new()));
            continue;
        }
        if t.starts_with("Examples:") || t.starts_with("Scenarios:") {
            let mut table = Vec::new();
            while i < lines.len() {
                let l = lines[i].trim();
                if l.starts_with('|') {
                    table.push(split_row(l));
                    i += 1;
                } else if l.is_empty() || l.starts_with('#') {
                    i += 1;
                    if table.is_empty() {
                        continue;
                    }
                    // A blank or comment line may sit inside a table; peek further.
                    if i < lines.len() && lines[i].trim().starts_with('|') {
                        continue;
                    }
                    break;
                } else {
                    break;
                }
            }
            if let Some(c) = cur.as_mut() {
                c.4.push(table);
            }
            continue;
        }
        let kw = ["Given ", "When ", "Then ", "And ", "But "]
            .iter()
            .find(|k| t.starts_with(*k));
        if let Some(kw) = kw {
            let mut step = Step {
                keyword: kw.trim().to_string(),
                text: t[kw.len()..].trim().to_string(),
                doc: None,
                table: Vec::new(),
            };
            // Doc string or table follows.
            while i < lines.len() {
                let l = lines[i].trim();
                if l.starts_with("\"\"\"") {
                    let indent = lines[i].len() - lines[i].trim_start().len();
                    i += 1;
                    let mut doc = Vec::new();
                    while i < lines.len() && !lines[i].trim().starts_with("\"\"\"") {
                        let line = lines[i];
                        let cut = line
                            .char_indices()
                            .take_while(|(p, c)| *p < indent && c.is_whitespace())
                            .count();
                        doc.push(&line[cut.min(line.len())..]);
                        i += 1;
                    }
                    i += 1;
                    step.doc = Some(doc.join("\n"));
                } else if l.starts_with('|') {
                    step.table.push(split_row(l));
                    i += 1;
                } else if l.starts_with('#') && !step.table.is_empty() {
                    i += 1;
                } else {
                    break;
                }
            }
            if in_background {
                background.push(step);
            } else if let Some(c) = cur.as_mut() {
                c.3.push(step);
            }
            continue;
        }
    }
    flush(&mut cur, &mut out, &background);
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_steps_docstrings_and_outlines() {
        let text = "Feature: F\n\n  Scenario: [1] one\n    Given an empty graph\n    When executing query:\n      \"\"\"\n      RETURN 1 AS x\n      \"\"\"\n    Then the result should be, in any order:\n      | x |\n      | 1 |\n    And no side effects\n\n  Scenario Outline: [2] two\n    When executing query:\n      \"\"\"\n      RETURN <v> AS x\n      \"\"\"\n    Then the result should be, in any order:\n      | x |\n      | <v> |\n\n    Examples:\n      | v |\n      | 1 |\n      | 2 |\n";
        let sc = super::parse("F", text).unwrap();
        assert_eq!(sc.len(), 3);
        assert_eq!(sc[0].steps.len(), 4);
        assert_eq!(sc[0].steps[1].doc.as_deref(), Some("RETURN 1 AS x"));
        assert_eq!(
            sc[0].steps[2].table,
            vec![vec!["x".to_string()], vec!["1".to_string()]]
        );
        assert_eq!(sc[2].steps[0].doc.as_deref(), Some("RETURN 2 AS x"));
    }
}
