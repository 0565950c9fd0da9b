//! Problems found in a campus file, each tied to a field path and, through
//! the source text, to a line and column.

use std::fmt;
use std::ops::Range;

/// One step of a path into the TOML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Where a value sits in the document, e.g. `building[2].hall[0].cooling`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }

    pub fn key(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Key(key.to_string()));
        p
    }

    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Index(i));
        p
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Key(k) if i == 0 => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A problem with the campus as data, before it is placed in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: FieldPath,
    pub message: String,
}

impl Diagnostic {
    pub fn new(path: FieldPath, message: impl Into<String>) -> Self {
        Diagnostic {
            path,
            message: message.into(),
        }
    }
}

/// A problem placed in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Field path as text; empty for a syntax error outside any field.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        write!(f, "{}", self.message)
    }
}

/// Everything wrong with one campus file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        let n = self.problems.len();
        write!(f, "\n{n} problem{} found", if n == 1 { "" } else { "s" })
    }
}

/// The text of a campus file, kept to turn paths and byte offsets into
/// lines and columns.
pub struct Source<'a> {
    pub name: &'a str,
    pub text: &'a str,
    /// Parsed with spans only when a problem has to be placed.
    doc: std::cell::OnceCell<Option<toml_edit::Document<std::borrow::Cow<'a, str>>>>,
    /// Byte offset of the start of each line, built on first use so that
    /// placing many problems costs a binary search each, not a rescan of
    /// the text (65,535 problems in a large file took minutes that way).
    line_starts: std::cell::OnceCell<Vec<usize>>,
}

impl<'a> Source<'a> {
    pub fn new(name: &'a str, text: &'a str) -> Self {
        Source {
            name,
            text,
            doc: std::cell::OnceCell::new(),
            line_starts: std::cell::OnceCell::new(),
        }
    }

    fn doc(&self) -> Option<&toml_edit::Document<std::borrow::Cow<'a, str>>> {
        self.doc.get_or_init(|| spanned_doc(self.text)).as_ref()
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        })
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        // An offset inside a multi-byte character counts as that character.
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let starts = self.line_starts();
        // The first line start is 0, so the line is at least 1.
        let line = starts.partition_point(|&s| s <= offset);
        let line_start = starts[line - 1];
        (line, self.text[line_start..offset].chars().count() + 1)
    }

    /// The span of the deepest part of `path` that the document has.
    pub fn span_of(&self, path: &FieldPath) -> Option<Range<usize>> {
        let doc = self.doc()?;
        let mut item = doc.as_item();
        let mut best = None;
        for seg in &path.0 {
            let next = match seg {
                Segment::Key(k) => {
                    if let Some(key_span) = item
                        .as_table_like()
                        .and_then(|t| t.get_key_value(k))
                        .and_then(|(key, _)| key.span())
                    {
                        best = Some(key_span);
                    }
                    item.get(k.as_str())
                }
                Segment::Index(i) => item.get(*i),
            };
            match next {
                Some(n) => {
                    item = n;
                    if let Some(span) = item.span() {
                        best = Some(span);
                    }
                }
                None => break,
            }
        }
        best
    }

    /// The field path of the deepest key or value whose span holds `offset`.
    pub fn path_at(&self, offset: usize) -> FieldPath {
        self.doc()
            .and_then(|doc| find_in_item(doc.as_item(), offset, FieldPath::root()))
            .unwrap_or_default()
    }

    pub fn place(&self, d: &Diagnostic) -> Problem {
        let (line, column) = self
            .span_of(&d.path)
            .map_or((1, 1), |s| self.line_column(s.start));
        Problem {
            file: self.name.to_string(),
            line,
            column,
            field: d.path.to_string(),
            message: d.message.clone(),
        }
    }

    /// A deserialisation error from the `toml` crate, placed and given the
    /// path of the field it points at.
    pub fn place_toml_error(&self, e: &toml::de::Error) -> Problem {
        let start = e.span().map_or(0, |s| s.start);
        let (line, column) = self.line_column(start);
        Problem {
            file: self.name.to_string(),
            line,
            column,
            field: self.toml_error_path(e).to_string(),
            message: e.message().trim().to_string(),
        }
    }

    /// The field a `toml` error is about. A field missing from a table is
    /// the table's problem; one missing from the whole document (an empty
    /// span) is named, so that every problem has a field.
    fn toml_error_path(&self, e: &toml::de::Error) -> FieldPath {
        match e.span() {
            Some(span) if !span.is_empty() => self.path_at(span.start),
            _ => match missing_field(e.message()) {
                Some(name) => FieldPath::root().key(name),
                None => FieldPath::root(),
            },
        }
    }
}

/// Most integers too large for the span-keeping parser that
/// [`spanned_doc`] steps over.
const MAX_BIG_INTEGERS: usize = 100;

/// The text parsed with spans. The span-keeping parser takes integers only
/// up to `i64::MAX`, where the deserialiser takes `u64` too: so that a
/// problem in a file with such a number is still placed, each one is
/// blanked to `0` and spaces (same length, so spans stay true) and the text
/// parsed again.
fn spanned_doc(text: &str) -> Option<toml_edit::Document<std::borrow::Cow<'_, str>>> {
    let mut text = std::borrow::Cow::Borrowed(text);
    for _ in 0..=MAX_BIG_INTEGERS {
        let span = match toml_edit::Document::parse(text.clone()) {
            Ok(doc) => return Some(doc),
            Err(e) if e.message().contains("overflowed") => e.span()?,
            Err(_) => return None,
        };
        let owned = text.to_mut();
        let blank = format!("0{}", " ".repeat(span.len().saturating_sub(1)));
        owned.replace_range(span, &blank);
    }
    None
}

/// Most type errors reported for one file: each costs a parse of the file.
pub const MAX_TYPE_ERRORS: usize = 20;

/// Deserialises `source` into `T`, reporting every type error the parser
/// lets it find (up to [`MAX_TYPE_ERRORS`]), not just the first: after each
/// one the bad value is replaced by a stand-in of the expected type (or an
/// unknown field dropped) and the file is read again. Stops at a syntax
/// error, a missing field, or an error it cannot step over.
pub fn deserialize_all<T: serde::de::DeserializeOwned>(
    source: &Source<'_>,
) -> Result<T, Vec<Problem>> {
    let first = match toml::from_str::<T>(source.text) {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let mut problems = vec![source.place_toml_error(&first)];
    let Ok(mut doc) = source.text.parse::<toml_edit::DocumentMut>() else {
        return Err(problems); // a syntax error: nothing more can be read
    };
    let mut error = first;
    let mut text = source.text.to_string();
    while problems.len() < MAX_TYPE_ERRORS {
        let path = Source::new(source.name, &text).toml_error_path(&error);
        if !step_over(&mut doc, &path, error.message()) {
            break;
        }
        text = doc.to_string();
        error = match toml::from_str::<T>(&text) {
            Ok(_) => break,
            Err(e) => e,
        };
        let again = Source::new(source.name, &text).toml_error_path(&error);
        let p = source.place(&Diagnostic::new(again, error.message().trim()));
        if problems.contains(&p) {
            break; // no progress
        }
        problems.push(p);
    }
    problems.sort_by_key(|p| (p.line, p.column));
    Err(problems)
}

/// Edits `doc` so that the error `message` at `path` goes away: drops an
/// unknown field, or puts a stand-in of the expected type in place of a bad
/// value. False when it cannot.
fn step_over(doc: &mut toml_edit::DocumentMut, path: &FieldPath, message: &str) -> bool {
    let Some((last, parent)) = path.0.split_last() else {
        return false;
    };
    if message.starts_with("unknown field") {
        let Segment::Key(key) = last else {
            return false;
        };
        return item_at(doc.as_item_mut(), parent)
            .and_then(toml_edit::Item::as_table_like_mut)
            .and_then(|t| t.remove(key))
            .is_some();
    }
    let Some(stand_in) = stand_in(message) else {
        return false;
    };
    match item_at(doc.as_item_mut(), &path.0) {
        Some(item) if item.is_value() => {
            *item = toml_edit::Item::Value(stand_in);
            true
        }
        _ => false,
    }
}

fn item_at<'d>(
    mut item: &'d mut toml_edit::Item,
    path: &[Segment],
) -> Option<&'d mut toml_edit::Item> {
    for seg in path {
        item = match seg {
            Segment::Key(k) => item.get_mut(k.as_str())?,
            Segment::Index(i) => item.get_mut(*i)?,
        };
    }
    Some(item)
}

/// A value of the type a serde message says it expected.
fn stand_in(message: &str) -> Option<toml_edit::Value> {
    if message.starts_with("unknown variant") {
        // "unknown variant `x`, expected one of `a`, `b`" or "expected `a`".
        let expected = &message[message.find("expected")?..];
        let name = expected.split('`').nth(1)?;
        return Some(name.into());
    }
    if !(message.starts_with("invalid type") || message.starts_with("invalid value")) {
        return None;
    }
    let expected = message[message.rfind("expected ")? + "expected ".len()..].trim();
    let integer = [
        "u8", "u16", "u32", "u64", "usize", "i8", "i16", "i32", "i64", "isize",
    ];
    Some(match expected {
        e if integer.contains(&e) || e.contains("integer") => 0i64.into(),
        "f32" | "f64" | "a float" => 0.0.into(),
        "a boolean" => false.into(),
        "a string" | "a borrowed string" | "a character" => "".into(),
        e if e.starts_with("a sequence") || e.starts_with("an array") => {
            toml_edit::Array::new().into()
        }
        _ => return None,
    })
}

/// The name in serde's "missing field `name`".
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

fn holds(span: Option<Range<usize>>, offset: usize) -> bool {
    span.is_some_and(|s| s.contains(&offset))
}

// Table spans in toml_edit cover only their header, so tables are searched
// through their children rather than by their own span.
fn find_in_item(item: &toml_edit::Item, offset: usize, path: FieldPath) -> Option<FieldPath> {
    match item {
        // A header's span is the table's own: an error there (a missing
        // field, say) belongs to the whole table.
        toml_edit::Item::Table(t) if holds(t.span(), offset) => Some(path),
        toml_edit::Item::Table(t) => find_in_table(t, offset, path),
        toml_edit::Item::ArrayOfTables(aot) => aot.iter().enumerate().find_map(|(i, t)| {
            if holds(t.span(), offset) {
                Some(path.index(i))
            } else {
                find_in_table(t, offset, path.index(i))
            }
        }),
        toml_edit::Item::Value(v) => find_in_value(v, offset, path),
        toml_edit::Item::None => None,
    }
}

fn find_in_table(
    t: &dyn toml_edit::TableLike,
    offset: usize,
    path: FieldPath,
) -> Option<FieldPath> {
    for (key, child) in t.iter() {
        let key_span = t.get_key_value(key).and_then(|(k, _)| k.span());
        if holds(key_span, offset) {
            return Some(path.key(key));
        }
        if let Some(found) = find_in_item(child, offset, path.key(key)) {
            return Some(found);
        }
    }
    None
}

fn find_in_value(v: &toml_edit::Value, offset: usize, path: FieldPath) -> Option<FieldPath> {
    if !holds(v.span(), offset) {
        return None;
    }
    let inner = match v {
        toml_edit::Value::InlineTable(t) => find_in_table(t, offset, path.clone()),
        toml_edit::Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, e)| find_in_value(e, offset, path.index(i))),
        _ => None,
    };
    Some(inner.unwrap_or(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "[site]\nname = \"x\"\n\n[[building]]\nid = \"B1\"\n[[building]]\nid = \"B2\"\nphase = 1\n";

    #[test]
    fn paths_display_like_the_file() {
        let p = FieldPath::root().key("building").index(2).key("hall");
        assert_eq!(p.to_string(), "building[2].hall");
    }

    #[test]
    fn span_of_finds_the_line_of_a_field() {
        let src = Source::new("c.toml", TEXT);
        let p = FieldPath::root().key("building").index(1).key("phase");
        let (line, _) = src.line_column(src.span_of(&p).unwrap().start);
        assert_eq!(line, 8);
        // A field that is missing points at its nearest existing parent.
        let missing = FieldPath::root().key("building").index(1).key("hall");
        let (line, _) = src.line_column(src.span_of(&missing).unwrap().start);
        assert!((6..=8).contains(&line), "line {line}");
    }

    #[test]
    fn line_column_counts_lines_and_characters() {
        let src = Source::new("c.toml", "a = 1\nb = \"é\"x\n\nc");
        assert_eq!(src.line_column(0), (1, 1));
        assert_eq!(src.line_column(5), (1, 6));
        assert_eq!(src.line_column(6), (2, 1));
        // After the two-byte `é`: column counts characters, not bytes.
        assert_eq!(src.line_column(13), (2, 7));
        // Inside `é`: that character's column.
        assert_eq!(src.line_column(12), (2, 6));
        assert_eq!(src.line_column(15), (2, 9));
        assert_eq!(src.line_column(16), (3, 1));
        assert_eq!(src.line_column(17), (4, 1));
        assert_eq!(src.line_column(1_000), (4, 2));
    }

    /// Placing a problem must not rescan the text before it: that made
    /// 65,535 problems take minutes. 60,000 problems in a 60,000-line file
    /// take milliseconds when each is a lookup.
    #[test]
    fn placing_many_problems_is_not_quadratic() {
        let n = 60_000;
        let text: String = (0..n).map(|i| format!("key{i} = {i}\n")).collect();
        let src = Source::new("big.toml", &text);
        let started = std::time::Instant::now();
        for i in (0..n).rev() {
            let d = Diagnostic::new(FieldPath::root().key(&format!("key{i}")), "bad");
            assert_eq!(src.place(&d).line, i + 1);
        }
        let secs = started.elapsed().as_secs_f64();
        assert!(secs < 3.0, "placing {n} problems took {secs:.1} s");
    }

    #[test]
    fn fields_after_integers_past_i64_are_still_placed() {
        let text = "a = 18446744073709551615\n[t]\nb = 18446744073709551614\nc = 1\n";
        let src = Source::new("big.toml", text);
        let d = Diagnostic::new(FieldPath::root().key("t").key("c"), "bad");
        assert_eq!(src.place(&d).line, 4);
        let d = Diagnostic::new(FieldPath::root().key("t").key("b"), "bad");
        assert_eq!(src.place(&d).line, 3);
    }

    #[test]
    fn path_at_inverts_span_of() {
        let src = Source::new("c.toml", TEXT);
        let offset = TEXT.find("phase").unwrap() + 8;
        assert_eq!(src.path_at(offset).to_string(), "building[1].phase");
        let key = TEXT.find("phase").unwrap() + 1;
        assert_eq!(src.path_at(key).to_string(), "building[1].phase");
    }
}
