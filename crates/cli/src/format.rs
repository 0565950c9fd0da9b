//! Numbers with units and aligned tables for the terminal.

use comfy_table::{Cell, CellAlignment, Table, presets::NOTHING};

/// An integer with thousands separators: 405504 -> "405,504".
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A number with `decimals` places and thousands separators.
pub fn number(x: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, x.abs());
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(i, f)| (i, f));
    let int = count(int.parse().unwrap_or(0));
    let sign = if x < 0.0 && s.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// A table with a header row; numeric columns (all but the first `text_cols`)
/// are right-aligned.
pub fn table(header: &[&str], rows: Vec<Vec<String>>, text_cols: usize) -> String {
    let mut t = Table::new();
    t.load_preset(NOTHING);
    t.set_header(header.iter().map(Cell::new));
    for row in rows {
        t.add_row(row);
    }
    for i in text_cols..header.len() {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(405_504), "405,504");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(number(1199.6, 1), "1,199.6");
        assert_eq!(number(-2.5, 1), "-2.5");
    }
}
