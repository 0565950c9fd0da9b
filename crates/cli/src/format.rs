//! Numbers with units and aligned tables for the terminal.

use abilene_twin::report::thousands;
use comfy_table::{Cell, CellAlignment, Table, presets::NOTHING};

/// An integer with thousands separators: 405504 -> "405,504".
pub fn count(n: u64) -> String {
    thousands(n as f64, 0)
}

/// A number with `decimals` places and thousands separators (the twin's
/// report writes numbers the same way).
pub fn number(x: f64, decimals: usize) -> String {
    thousands(x, decimals)
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
