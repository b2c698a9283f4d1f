//! Score CSVs (`video,label,attack_type,score`): reading with errors that name the file
//! and line, and writing.

use std::io::{BufRead, Write};
use std::path::Path;

use super::{CSV_COLUMNS, MetricsError, ScoreSet};

/// The positions of [`CSV_COLUMNS`] in a header row: each named exactly once.
fn header_columns(fields: &[String]) -> Result<[usize; 4], String> {
    let mut found = [usize::MAX; 4];
    for (c, wanted) in CSV_COLUMNS.iter().enumerate() {
        let mut hits = fields.iter().enumerate().filter(|(_, f)| f == wanted);
        match (hits.next(), hits.next()) {
            (Some((j, _)), None) => found[c] = j,
            (None, _) => {
                return Err(format!(
                    "the header has no column {wanted:?} (expected a header naming {}; found {:?})",
                    CSV_COLUMNS.join(","),
                    fields.join(",")
                ));
            }
            (Some(_), Some(_)) => return Err(format!("the header names column {wanted:?} twice")),
        }
    }
    Ok(found)
}

impl ScoreSet {
    /// Reads a score CSV (`video,label,attack_type,score`, header required; label 1 live,
    /// 0 attack). The split must hold live and attack rows.
    pub fn read_csv(path: &Path) -> Result<Self, MetricsError> {
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|error| MetricsError::Io {
            file: name.clone(),
            error,
        })?;
        Self::from_csv_reader(std::io::BufReader::new(file), &name)
    }

    /// [`ScoreSet::read_csv`] from any reader; `name` appears in error messages.
    pub fn from_csv_reader(reader: impl BufRead, name: &str) -> Result<Self, MetricsError> {
        let row_error = |line: usize, message: String| MetricsError::Row {
            file: name.to_owned(),
            line,
            message,
        };
        let mut set = ScoreSet::new(name);
        let mut columns: Option<[usize; 4]> = None;
        let mut width = 0;
        for (i, line) in reader.lines().enumerate() {
            let line_no = i + 1;
            let line = line.map_err(|error| MetricsError::Io {
                file: name.to_owned(),
                error,
            })?;
            let line = if i == 0 {
                line.strip_prefix('\u{feff}').unwrap_or(&line).to_owned()
            } else {
                line
            };
            if line.trim().is_empty() {
                continue;
            }
            let fields = split_csv_line(&line).map_err(|m| row_error(line_no, m))?;
            let Some(cols) = columns else {
                columns = Some(header_columns(&fields).map_err(|m| row_error(line_no, m))?);
                width = fields.len();
                continue;
            };
            if fields.len() != width {
                return Err(row_error(
                    line_no,
                    format!("{} fields where the header has {width}", fields.len()),
                ));
            }
            let [video, label, attack_type, score] = cols.map(|c| fields[c].as_str());
            let live = match label {
                "1" => true,
                "0" => false,
                other => {
                    return Err(row_error(
                        line_no,
                        format!("label {other:?} is neither 1 (live) nor 0 (attack)"),
                    ));
                }
            };
            let score: f64 = score
                .parse()
                .map_err(|_| row_error(line_no, format!("score {score:?} is not a number")))?;
            set.push(video, live, Some(attack_type), score)
                .map_err(|m| row_error(line_no, m))?;
        }
        if columns.is_none() {
            return Err(MetricsError::Split {
                file: name.to_owned(),
                message: format!(
                    "empty file (expected a header {} and rows)",
                    CSV_COLUMNS.join(",")
                ),
            });
        }
        set.check_both_classes()?;
        Ok(set)
    }

    /// Writes the set as a score CSV (frames in the order they were added).
    pub fn write_csv(&self, mut out: impl Write) -> std::io::Result<()> {
        writeln!(out, "{}", CSV_COLUMNS.join(","))?;
        for i in 0..self.len() {
            writeln!(
                out,
                "{},{},{},{}",
                csv_field(self.video(i)),
                u8::from(self.is_live(i)),
                csv_field(self.attack_type(i).unwrap_or("")),
                self.scores[i]
            )?;
        }
        Ok(())
    }
}

/// Splits one CSV line (RFC 4180 quoting: `"a,b"`, `""` for a quote; no line breaks
/// inside fields). Unquoted fields are trimmed.
fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("unterminated quoted field".into()),
                }
            }
            while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                chars.next();
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(c) => return Err(format!("{c:?} after a closing quote")),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field.trim().to_owned());
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field.trim().to_owned());
        }
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.trim() != s {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}
