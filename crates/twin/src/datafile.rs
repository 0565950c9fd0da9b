//! Placing problems in data files: the line and column of a CSV record or
//! field, for every parser of the twin (weather, grid, traces).

use abilene_model::Problem;

pub(crate) fn problem(
    file: &str,
    line: usize,
    column: usize,
    field: &str,
    message: impl Into<String>,
) -> Problem {
    Problem {
        file: file.to_string(),
        line,
        column,
        field: field.to_string(),
        message: message.into(),
    }
}

pub(crate) fn csv_problem(file: &str, text: &str, e: &csv::Error) -> Problem {
    let (line, column) = e.position().map_or((1, 1), |p| {
        let (line, start) = locate(text, p.byte() as usize);
        (line, field_column(text, start, 0))
    });
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("row has {len} fields but the header has {expected_len}"),
        _ => format!("not valid CSV: {e}"),
    };
    problem(file, line, column, "", message)
}

/// The 1-based line and the byte offset of a record the csv crate places at
/// byte `at`. With CRLF line ends the crate reports a record's position at
/// the `\n` that ends the line before it (and a line number one short), so
/// line ends at `at` are skipped and the line is counted here.
pub(crate) fn locate(text: &str, at: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let mut start = at.min(bytes.len());
    while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
        start += 1;
    }
    let line = bytes[..start].iter().filter(|&&b| b == b'\n').count() + 1;
    (line, start)
}

/// 1-based character column of field `index` of the record starting at byte
/// `start` of `text`, counting commas outside double quotes.
pub(crate) fn field_column(text: &str, start: usize, index: usize) -> usize {
    let Some(rest) = text.get(start..) else {
        return 1;
    };
    let mut field = 0;
    let mut quoted = false;
    for (col, c) in rest.chars().enumerate() {
        if field == index {
            return col + 1;
        }
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => field += 1,
            '\n' | '\r' if !quoted => break,
            _ => {}
        }
    }
    1
}

/// Problems in one record read by the csv crate: give it the field's column
/// index, the field name and why. The record is placed (its line counted)
/// only when a problem is made.
pub(crate) fn record_problem<'a>(
    file: &'a str,
    text: &'a str,
    record: &csv::StringRecord,
) -> impl Fn(usize, &str, String) -> Problem + 'a {
    let byte = record.position().map_or(0, |p| p.byte() as usize);
    move |col, field, why| {
        let (line, start) = locate(text, byte);
        problem(file, line, field_column(text, start, col), field, why)
    }
}
