//! The allowed range of a number setting, and the one message every
//! refusal uses: the range and the value given. The field path (and from it
//! the file and line) comes from where the check is called.

use abilene_model::diagnostic::{Diagnostic, FieldPath};

/// A range of finite numbers; NaN and infinities are always outside.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    pub lo: f64,
    pub hi: f64,
    /// `lo` itself is outside.
    pub lo_open: bool,
    /// `hi` itself is outside.
    pub hi_open: bool,
    /// Shown after the range, e.g. " days".
    pub unit: &'static str,
}

impl Bound {
    /// `lo` to `hi`, both included.
    pub const fn closed(lo: f64, hi: f64) -> Bound {
        Bound {
            lo,
            hi,
            lo_open: false,
            hi_open: false,
            unit: "",
        }
    }

    /// Above `lo`, up to `hi` included.
    pub const fn above(lo: f64, hi: f64) -> Bound {
        Bound {
            lo_open: true,
            ..Bound::closed(lo, hi)
        }
    }

    /// From `lo` included to below `hi`.
    pub const fn below(lo: f64, hi: f64) -> Bound {
        Bound {
            hi_open: true,
            ..Bound::closed(lo, hi)
        }
    }

    pub const fn unit(self, unit: &'static str) -> Bound {
        Bound { unit, ..self }
    }

    pub fn holds(&self, v: f64) -> bool {
        let low = if self.lo_open {
            v > self.lo
        } else {
            v >= self.lo
        };
        let high = if self.hi_open {
            v < self.hi
        } else {
            v <= self.hi
        };
        v.is_finite() && low && high
    }

    /// The range in words, e.g. "above 0 and at most 3660 days".
    pub fn describe(&self) -> String {
        let (lo, hi, unit) = (self.lo, self.hi, self.unit);
        match (self.lo_open, self.hi_open) {
            (false, false) => format!("from {lo} to {hi}{unit}"),
            (true, false) => format!("above {lo} and at most {hi}{unit}"),
            (false, true) => format!("from {lo} to below {hi}{unit}"),
            (true, true) => format!("above {lo} and below {hi}{unit}"),
        }
    }

    /// A problem at `at.field` unless `v` is in range.
    pub fn check(&self, d: &mut Vec<Diagnostic>, at: &FieldPath, field: &str, v: f64) {
        if !self.holds(v) {
            d.push(Diagnostic::new(
                at.key(field),
                format!("must be {}, got {v}", self.describe()),
            ));
        }
    }

    /// As [`Bound::check`] for a whole number.
    pub fn check_int(&self, d: &mut Vec<Diagnostic>, at: &FieldPath, field: &str, v: u64) {
        // Every whole number a setting takes is exact in an f64 (< 2^53),
        // and one past the bound is still above it.
        self.check(d, at, field, v as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_are_in_or_out_as_declared() {
        assert!(Bound::closed(0.0, 1.0).holds(0.0));
        assert!(Bound::closed(0.0, 1.0).holds(1.0));
        assert!(!Bound::above(0.0, 1.0).holds(0.0));
        assert!(!Bound::below(0.0, 1.0).holds(1.0));
        for b in [Bound::closed(-1e300, 1e300), Bound::above(0.0, 1.0)] {
            assert!(!b.holds(f64::NAN));
            assert!(!b.holds(f64::INFINITY));
            assert!(!b.holds(f64::NEG_INFINITY));
        }
    }

    #[test]
    fn the_message_names_the_range_and_the_value() {
        let mut d = Vec::new();
        let at = FieldPath::root().key("power");
        Bound::closed(0.0, 1.0).check(&mut d, &at, "idle", -5.0);
        Bound::above(0.0, 3660.0)
            .unit(" days")
            .check(&mut d, &at, "days", f64::NAN);
        Bound::closed(1.0, 1024.0).check_int(&mut d, &at, "n", u64::from(u32::MAX));
        assert_eq!(d[0].path.to_string(), "power.idle");
        assert_eq!(d[0].message, "must be from 0 to 1, got -5");
        assert_eq!(
            d[1].message,
            "must be above 0 and at most 3660 days, got NaN"
        );
        assert_eq!(d[2].message, "must be from 1 to 1024, got 4294967295");
    }
}
