//! The real GPU-cluster traces of `data/` (see `data/README.md`), embedded
//! in the binary, parsed, and turned into the views the twin replays.
//!
//! - Alibaba openb 2023 ([`parse_openb_pods`], [`parse_openb_nodes`]): the
//!   tasks and nodes of a 6,212-GPU production cluster over ~149 days. The
//!   tasks become research and fine-tuning jobs ([`openb_jobs`],
//!   [`scale_arrivals`], [`map_to_blackwell`]); the nodes become a campus of
//!   their own for replaying the trace on its own hardware
//!   ([`openb_campus_spec`]).
//! - Microsoft Philly 2017 ([`parse_philly_runtimes`]): job run times, as an
//!   empirical distribution to draw from ([`RuntimeDistribution`]).
//! - Alibaba DLRM 2025 ([`parse_dlrm_instances`]): long-running inference
//!   instances, summarised as services ([`dlrm_apps`]) and as the number of
//!   live GPU instances by hour of day ([`dlrm_daily_cycle`]).
//!
//! The files are never edited: every conversion happens here, at load time.
//! Parsers find columns by header name and report a bad value as a
//! [`Problem`] naming the file, the 1-based line, the column (as `field`)
//! and what is wrong; they never panic on input.

mod dlrm;
mod openb;
mod philly;

pub use dlrm::*;
pub use openb::*;
pub use philly::*;

use crate::datafile::{csv_problem, problem};
use abilene_model::Problem;
use csv::StringRecord;

pub const OPENB_PODS_FILE: &str = "data/alibaba-openb-2023/openb_pod_list_default.csv";
pub const OPENB_NODES_FILE: &str = "data/alibaba-openb-2023/openb_node_list_gpu_node.csv";
pub const PHILLY_RUNTIMES_FILE: &str = "data/philly/philly_runtime.csv";
pub const DLRM_INSTANCES_FILE: &str = "data/alibaba-dlrm-2025/disaggregated_DLRM_trace.csv";

/// Alibaba cluster-trace-gpu-v2023 tasks ("Beware of Fragmentation", USENIX
/// ATC 2023), for research or study.
pub const OPENB_PODS: &str =
    include_str!("../../../../data/alibaba-openb-2023/openb_pod_list_default.csv");
/// The GPU nodes of the same cluster.
pub const OPENB_NODES: &str =
    include_str!("../../../../data/alibaba-openb-2023/openb_node_list_gpu_node.csv");
/// Philly run times (Microsoft, USENIX ATC 2019, CC BY 4.0, as derived by
/// Alibaba).
pub const PHILLY_RUNTIMES: &str = include_str!("../../../../data/philly/philly_runtime.csv");
/// Alibaba cluster-trace-gpu-v2025 DLRM inference instances (NSDI 2025), for
/// research or study.
pub const DLRM_INSTANCES: &str =
    include_str!("../../../../data/alibaba-dlrm-2025/disaggregated_DLRM_trace.csv");

/// One data row, with the columns a parser asked for found by name.
struct Row<'a> {
    file: &'a str,
    line: usize,
    record: &'a StringRecord,
    columns: &'a [&'a str],
    index: &'a [usize],
}

impl Row<'_> {
    fn position(&self, name: &str) -> usize {
        // Parsers only ask for columns they listed, so the fallback to the
        // first column never happens on any input.
        let k = self.columns.iter().position(|c| *c == name).unwrap_or(0);
        self.index.get(k).copied().unwrap_or(0)
    }

    /// The trimmed text of a column.
    fn str(&self, name: &str) -> &str {
        self.record.get(self.position(name)).unwrap_or("").trim()
    }

    /// A problem with this row's value of `name`. The column is exact for
    /// unquoted fields (all of the shipped files).
    fn err(&self, name: &str, message: String) -> Problem {
        let i = self.position(name);
        let column = self.record.range(i).map_or(1, |r| r.start + i + 1);
        problem(self.file, self.line, column, name, message)
    }

    fn u32(&self, name: &str) -> Result<u32, Problem> {
        let v = self.str(name);
        v.parse::<u32>().map_err(|_| {
            self.err(
                name,
                format!("`{v}` is not a whole number between 0 and {}", u32::MAX),
            )
        })
    }

    /// A finite number of 0 or more.
    fn f64(&self, name: &str) -> Result<f64, Problem> {
        let v = self.str(name);
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
            _ => Err(self.err(name, format!("`{v}` is not a number of 0 or more"))),
        }
    }

    /// Seconds from trace start, rounded to the nearest second (the DLRM
    /// trace writes them as floats such as `475.00000000000006`); an empty
    /// field is `None`.
    fn opt_seconds(&self, name: &str) -> Result<Option<u64>, Problem> {
        let v = self.str(name);
        if v.is_empty() {
            return Ok(None);
        }
        if let Ok(s) = v.parse::<u64>() {
            return Ok(Some(s));
        }
        match v.parse::<f64>() {
            // Below 2^63 so that the rounded value fits a u64 exactly.
            Ok(x) if x.is_finite() && (0.0..9.2e18).contains(&x) => Ok(Some(x.round() as u64)),
            _ => Err(self.err(
                name,
                format!("`{v}` is not a time in seconds (a number of 0 or more)"),
            )),
        }
    }

    fn seconds(&self, name: &str) -> Result<u64, Problem> {
        self.opt_seconds(name)?
            .ok_or_else(|| self.err(name, "is empty; a time in seconds is required".to_string()))
    }
}

/// Reads every data row of a CSV file whose header has `columns` (in any
/// order, among others), handing each to `parse`.
fn read_rows<T>(
    file: &str,
    text: &str,
    columns: &[&str],
    mut parse: impl FnMut(&Row<'_>) -> Result<T, Problem>,
) -> Result<Vec<T>, Problem> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| csv_problem(file, text, &e))?
        .clone();
    let mut index = Vec::with_capacity(columns.len());
    for &name in columns {
        match header.iter().position(|h| h.trim() == name) {
            Some(i) => index.push(i),
            None => {
                let have: Vec<&str> = header.iter().collect();
                return Err(problem(
                    file,
                    1,
                    1,
                    name,
                    format!(
                        "missing column `{name}`; the header has: {}",
                        if have.iter().all(|h| h.is_empty()) {
                            "nothing".to_string()
                        } else {
                            have.join(", ")
                        }
                    ),
                ));
            }
        }
    }
    let mut out = Vec::new();
    let mut record = StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_problem(file, text, &e)),
        }
        let line = record.position().map_or(1, |p| p.line() as usize);
        out.push(parse(&Row {
            file,
            line,
            record: &record,
            columns,
            index: &index,
        })?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_columns_and_ragged_rows_are_problems() {
        let e = parse_philly_runtimes("p.csv", "seconds\n1.0\n").unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (1, "runtime"));
        assert!(e.message.contains("missing column"), "{}", e.message);
        let e = parse_philly_runtimes("p.csv", "").unwrap_err();
        assert_eq!(e.field, "runtime");
        let e = parse_openb_nodes("n.csv", "sn,gpu,model\na,1,T4\nb,2\n").unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("n.csv", 3));
        assert!(e.message.contains("2 fields"), "{}", e.message);
    }

    #[test]
    fn problems_point_at_the_column() {
        let e = parse_openb_nodes("n.csv", "sn,gpu,model\nnode-1,x,T4\n").unwrap_err();
        assert_eq!((e.line, e.column, e.field.as_str()), (2, 8, "gpu"));
        assert_eq!(
            e.to_string(),
            "n.csv:2:8: gpu: `x` is not a whole number between 0 and 4294967295"
        );
    }
}
