//! Philly run times: an empirical distribution to draw job lengths from.

use abilene_model::Problem;

use super::{PHILLY_RUNTIMES, PHILLY_RUNTIMES_FILE, read_rows};

/// Parses `philly_runtime.csv`: one run time in seconds per row, column
/// `runtime`, each a finite number of 0 or more.
pub fn parse_philly_runtimes(file: &str, text: &str) -> Result<Vec<f64>, Problem> {
    read_rows(file, text, &["runtime"], |row| row.f64("runtime"))
}

/// The embedded Philly run times, parsed.
pub fn philly_runtimes() -> Result<Vec<f64>, Problem> {
    parse_philly_runtimes(PHILLY_RUNTIMES_FILE, PHILLY_RUNTIMES)
}

/// An empirical distribution of run times: the sorted samples, each with
/// probability 1/n.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeDistribution {
    sorted: Vec<f64>,
}

impl RuntimeDistribution {
    /// The distribution of `samples`, dropping any that are not finite
    /// numbers of 0 or more; `None` when none are left.
    pub fn new(samples: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut sorted: Vec<f64> = samples
            .into_iter()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        Some(RuntimeDistribution { sorted })
    }

    /// The distribution of the embedded Philly run times.
    pub fn philly() -> Result<Self, Problem> {
        let runtimes = philly_runtimes()?;
        RuntimeDistribution::new(runtimes).ok_or_else(|| Problem {
            file: PHILLY_RUNTIMES_FILE.to_string(),
            line: 1,
            column: 1,
            field: "runtime".to_string(),
            message: "no run times".to_string(),
        })
    }

    /// The inverse CDF at `u` in [0, 1): the smallest sample whose
    /// cumulative share exceeds `u`. `u` outside [0, 1) is clamped; NaN
    /// gives the smallest sample.
    pub fn sample(&self, u: f64) -> f64 {
        let n = self.sorted.len();
        // `as` maps NaN to 0 and saturates, so any u gives a valid index.
        let i = ((u.clamp(0.0, 1.0) * n as f64) as usize).min(n - 1);
        self.sorted[i]
    }

    /// The middle sample, or the mean of the two middle ones.
    pub fn median(&self) -> f64 {
        let n = self.sorted.len();
        if n % 2 == 1 {
            self.sorted[n / 2]
        } else {
            (self.sorted[n / 2 - 1] + self.sorted[n / 2]) / 2.0
        }
    }

    pub fn mean(&self) -> f64 {
        self.sorted.iter().sum::<f64>() / self.sorted.len() as f64
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Always false: an empty distribution cannot be made.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    pub fn max(&self) -> f64 {
        self.sorted[self.sorted.len() - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn philly_matches_the_readme() {
        assert_eq!(philly_runtimes().unwrap().len(), 83_154);
        let d = RuntimeDistribution::philly().unwrap();
        assert!((d.median() / 1186.0 - 1.0).abs() < 0.02, "{}", d.median());
        assert!((d.mean() / 14_600.0 - 1.0).abs() < 0.02, "{}", d.mean());
        assert!((d.max() / 4.6e6 - 1.0).abs() < 0.02, "{}", d.max());
    }

    #[test]
    fn sample_is_the_inverse_cdf() {
        let d = RuntimeDistribution::new([30.0, 10.0, 20.0, 40.0]).unwrap();
        assert_eq!(d.sample(0.0), 10.0);
        assert_eq!(d.sample(0.24), 10.0);
        assert_eq!(d.sample(0.25), 20.0);
        assert_eq!(d.sample(0.999), 40.0);
        assert_eq!(d.sample(1.0), 40.0);
        assert_eq!(d.sample(-3.0), 10.0);
        assert_eq!(d.sample(f64::NAN), 10.0);
        assert_eq!((d.median(), d.mean()), (25.0, 25.0));
        assert!(RuntimeDistribution::new([f64::NAN, -1.0]).is_none());
        // Drawing many uniform u gives back the sample mean.
        let philly = RuntimeDistribution::philly().unwrap();
        let n = 100_000;
        let drawn: f64 = (0..n)
            .map(|i| philly.sample((i as f64 + 0.5) / n as f64))
            .sum();
        assert!((drawn / n as f64 / philly.mean() - 1.0).abs() < 0.02);
    }

    #[test]
    fn bad_runtimes_name_line_and_field() {
        let e = parse_philly_runtimes("p.csv", "runtime\n1.0\n2.5\n-3\n").unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.line, e.field.as_str()),
            ("p.csv", 4, "runtime")
        );
        assert!(e.message.contains("`-3`"), "{}", e.message);
        let e = parse_philly_runtimes("p.csv", "runtime\nNaN\n").unwrap_err();
        assert_eq!(e.line, 2);
    }
}
