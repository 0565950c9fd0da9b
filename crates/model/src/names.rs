//! Stable names for every building, hall, rack, tray and GPU.
//!
//! The dense ids of [`crate::ids`] are positions in build order: adding racks
//! to one hall shifts the id of every rack, tray and GPU built after it,
//! campus-wide. Whatever leaves the process (the scheduler's and the API
//! server's edges, logs, tickets, a technician at the rack) uses names:
//!
//! | level    | name                 | the last part                                  |
//! |----------|----------------------|------------------------------------------------|
//! | building | `B3`                 | the building's `id` in the campus file         |
//! | hall     | `B3/H2`              | the hall's `id` in the campus file             |
//! | rack     | `B3/H2/R0417`        | `R`, from 1 in the hall's order, 4 digits      |
//! | tray     | `B3/H2/R0417/T05`    | `T`, from 1 within the rack, 2 digits          |
//! | gpu      | `B3/H2/R0417/T05/G2` | `G`, from 0 within the tray                    |
//!
//! Why this shape:
//! - Every part counts within its parent, so racks added to another hall or
//!   building rename nothing here. Racks appended to the end of a hall's
//!   `scalable_units` leave the names of the racks already there alone too;
//!   a group inserted before others renumbers the racks after it, as it
//!   would on the floor plan.
//! - Racks and trays count from 1, like the labels on a floor plan and the
//!   slots of a rack; GPUs count from 0, as nvidia-smi and DCGM number them
//!   on the tray, so `G2` is the GPU that `nvidia-smi -i 2` shows there.
//! - Fixed widths sort rack and tray names in floor-plan order as plain
//!   text. A rack number is wider than 4 digits only in a hall of more than
//!   9999 racks, a tray number wider than 2 only in a rack of more than 99
//!   trays. GPU numbers are never padded, to read as nvidia-smi writes them.
//! - Building and hall ids use only `[A-Za-z0-9_.-]` (see
//!   [`crate::validate`]), so `/` always separates parts.
//! - Each location has exactly one spelling, so a name can key a map:
//!   resolving refuses `R417` where the hall writes `R0417`, and says so.
//!
//! Resolving walks down the levels: the building by a scan of the campus's
//! few dozen ids, the hall by a scan of its building's, then racks, trays and
//! GPUs by arithmetic on their parent's range. No table of names is kept.

use std::fmt;

use crate::campus::Campus;
use crate::ids::*;

/// How one level numbers its locations within their parent.
struct Numbering {
    level: Level,
    letter: char,
    /// The number of the parent's first child.
    first: u32,
    /// Numbers are zero-padded to this many digits, or to the digits of the
    /// parent's child count if more; 0 for no padding.
    min_digits: usize,
}

const RACKS: Numbering = Numbering {
    level: Level::Rack,
    letter: 'R',
    first: 1,
    min_digits: 4,
};
const TRAYS: Numbering = Numbering {
    level: Level::Tray,
    letter: 'T',
    first: 1,
    min_digits: 2,
};
const GPUS: Numbering = Numbering {
    level: Level::Gpu,
    letter: 'G',
    first: 0,
    // As nvidia-smi and CUDA_VISIBLE_DEVICES write them.
    min_digits: 0,
};

/// A level of the campus that has names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Building,
    Hall,
    Rack,
    Tray,
    Gpu,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Building => "building",
            Level::Hall => "hall",
            Level::Rack => "rack",
            Level::Tray => "tray",
            Level::Gpu => "gpu",
        }
    }

    /// The level of the `n`th part (0-based) of a name.
    fn of_part(n: usize) -> Level {
        match n {
            0 => Level::Building,
            1 => Level::Hall,
            2 => Level::Rack,
            3 => Level::Tray,
            _ => Level::Gpu,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a name resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    Building(BuildingId),
    Hall(HallId),
    Rack(RackId),
    Tray(TrayId),
    Gpu(GpuId),
}

impl Location {
    pub fn level(self) -> Level {
        match self {
            Location::Building(_) => Level::Building,
            Location::Hall(_) => Level::Hall,
            Location::Rack(_) => Level::Rack,
            Location::Tray(_) => Level::Tray,
            Location::Gpu(_) => Level::Gpu,
        }
    }
}

/// Why a name does not resolve. Each carries the whole name as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("empty name: expected a location such as `B3/H2/R0417/T05`")]
    Empty,
    #[error("`{name}` has an empty {level} part")]
    EmptyPart { name: String, level: Level },
    #[error("`{name}` has {parts} parts; a name has at most 5: building/hall/rack/tray/gpu")]
    TooManyParts { name: String, parts: usize },
    #[error("malformed {level} part `{part}` in `{name}`: expected {expected}")]
    Malformed {
        name: String,
        level: Level,
        part: String,
        expected: String,
    },
    #[error("unknown building `{building}` in `{name}`; known: {}", .known.join(", "))]
    UnknownBuilding {
        name: String,
        building: String,
        known: Vec<String>,
    },
    #[error("unknown hall `{hall}` in building {building} (`{name}`); {building} has: {}", .known.join(", "))]
    UnknownHall {
        name: String,
        building: String,
        hall: String,
        known: Vec<String>,
    },
    #[error("rack {number} out of range in `{name}`: hall {hall} has racks 1..={count}")]
    RackOutOfRange {
        name: String,
        hall: String,
        /// The digits as given.
        number: String,
        count: u32,
    },
    #[error("tray {number} out of range in `{name}`: rack {rack} has trays 1..={count}")]
    TrayOutOfRange {
        name: String,
        rack: String,
        number: String,
        count: u32,
    },
    #[error("gpu {number} out of range in `{name}`: tray {tray} has GPUs 0..={}", .count.saturating_sub(1))]
    GpuOutOfRange {
        name: String,
        tray: String,
        number: String,
        count: u32,
    },
    #[error("expected a {expected} name, got a {got} name: `{name}`")]
    WrongLevel {
        name: String,
        expected: Level,
        got: Level,
    },
}

/// Names. Each method panics on an id that is not of this campus, as
/// indexing its arrays does.
impl Campus {
    pub fn building_name(&self, id: BuildingId) -> &str {
        &self.buildings[id.index()].name
    }

    pub fn hall_name(&self, id: HallId) -> String {
        self.name(Location::Hall(id))
    }

    pub fn rack_name(&self, id: RackId) -> String {
        self.name(Location::Rack(id))
    }

    pub fn tray_name(&self, id: TrayId) -> String {
        self.name(Location::Tray(id))
    }

    pub fn gpu_name(&self, id: GpuId) -> String {
        self.name(Location::Gpu(id))
    }

    pub fn name(&self, location: Location) -> String {
        let mut out = String::new();
        self.write_name(location, &mut out);
        out
    }

    /// Appends the tray's name to `out`, allocating only if `out` must grow.
    pub fn write_tray_name(&self, id: TrayId, out: &mut String) {
        self.write_name(Location::Tray(id), out);
    }

    /// Appends the location's name to `out`, allocating only if `out` must
    /// grow.
    pub fn write_name(&self, location: Location, out: &mut String) {
        // Each level's name is its parent's, then its own part.
        let (hall, rack, tray, gpu) = match location {
            Location::Building(b) => {
                out.push_str(self.building_name(b));
                return;
            }
            Location::Hall(h) => (h, None, None, None),
            Location::Rack(r) => (self.racks[r.index()].hall, Some(r), None, None),
            Location::Tray(t) => {
                let tr = &self.trays[t.index()];
                (tr.hall, Some(tr.rack), Some(t), None)
            }
            Location::Gpu(g) => {
                let t = self.gpu_tray[g.index()];
                let tr = &self.trays[t.index()];
                (tr.hall, Some(tr.rack), Some(t), Some(g))
            }
        };
        let h = &self.halls[hall.index()];
        let building = self.building_name(h.building);
        out.reserve(building.len() + h.name.len() + 16);
        out.push_str(building);
        out.push('/');
        out.push_str(&h.name);
        let Some(rack) = rack else { return };
        out.push('/');
        RACKS.push(out, rack.0 - h.racks.start, h.racks.len());
        let Some(tray) = tray else { return };
        let r = &self.racks[rack.index()];
        out.push('/');
        TRAYS.push(out, tray.0 - r.trays.start, r.trays.len());
        let Some(gpu) = gpu else { return };
        let t = &self.trays[tray.index()];
        out.push('/');
        GPUS.push(out, gpu.0 - t.first_gpu.0, usize::from(t.gpus));
    }

    /// The location a name stands for.
    pub fn resolve(&self, name: &str) -> Result<Location, NameError> {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        let parts = name.split('/').count();
        if parts > 5 {
            return Err(NameError::TooManyParts {
                name: name.to_string(),
                parts,
            });
        }
        if let Some(n) = name.split('/').position(str::is_empty) {
            return Err(NameError::EmptyPart {
                name: name.to_string(),
                level: Level::of_part(n),
            });
        }
        let mut parts = name.split('/');
        let building = self.find_building(name, parts.next().unwrap_or_default())?;
        let Some(part) = parts.next() else {
            return Ok(Location::Building(building));
        };
        let hall = self.find_hall(name, building, part)?;
        let Some(part) = parts.next() else {
            return Ok(Location::Hall(hall));
        };
        let h = &self.halls[hall.index()];
        let n = RACKS.read(name, part, h.racks.len(), |number| {
            NameError::RackOutOfRange {
                name: name.to_string(),
                hall: self.hall_name(hall),
                number,
                count: h.racks.len() as u32,
            }
        })?;
        let rack = RackId(h.racks.start + n);
        let Some(part) = parts.next() else {
            return Ok(Location::Rack(rack));
        };
        let r = &self.racks[rack.index()];
        let n = TRAYS.read(name, part, r.trays.len(), |number| {
            NameError::TrayOutOfRange {
                name: name.to_string(),
                rack: self.rack_name(rack),
                number,
                count: r.trays.len() as u32,
            }
        })?;
        let tray = TrayId(r.trays.start + n);
        let Some(part) = parts.next() else {
            return Ok(Location::Tray(tray));
        };
        let gpus = self.tray_gpus(tray);
        let n = GPUS.read(name, part, gpus.len(), |number| NameError::GpuOutOfRange {
            name: name.to_string(),
            tray: self.tray_name(tray),
            number,
            count: gpus.len() as u32,
        })?;
        Ok(Location::Gpu(GpuId(gpus.start + n)))
    }

    pub fn resolve_building(&self, name: &str) -> Result<BuildingId, NameError> {
        match self.resolve_level(name, Level::Building)? {
            Location::Building(id) => Ok(id),
            _ => unreachable!("resolve_level checked the level"),
        }
    }

    pub fn resolve_hall(&self, name: &str) -> Result<HallId, NameError> {
        match self.resolve_level(name, Level::Hall)? {
            Location::Hall(id) => Ok(id),
            _ => unreachable!("resolve_level checked the level"),
        }
    }

    pub fn resolve_rack(&self, name: &str) -> Result<RackId, NameError> {
        match self.resolve_level(name, Level::Rack)? {
            Location::Rack(id) => Ok(id),
            _ => unreachable!("resolve_level checked the level"),
        }
    }

    pub fn resolve_tray(&self, name: &str) -> Result<TrayId, NameError> {
        match self.resolve_level(name, Level::Tray)? {
            Location::Tray(id) => Ok(id),
            _ => unreachable!("resolve_level checked the level"),
        }
    }

    pub fn resolve_gpu(&self, name: &str) -> Result<GpuId, NameError> {
        match self.resolve_level(name, Level::Gpu)? {
            Location::Gpu(id) => Ok(id),
            _ => unreachable!("resolve_level checked the level"),
        }
    }

    fn resolve_level(&self, name: &str, expected: Level) -> Result<Location, NameError> {
        let location = self.resolve(name)?;
        if location.level() == expected {
            Ok(location)
        } else {
            Err(NameError::WrongLevel {
                name: name.to_string(),
                expected,
                got: location.level(),
            })
        }
    }

    fn find_building(&self, name: &str, part: &str) -> Result<BuildingId, NameError> {
        self.buildings
            .iter()
            .position(|b| b.name == part)
            .map(|b| BuildingId(b as u16))
            .ok_or_else(|| NameError::UnknownBuilding {
                name: name.to_string(),
                building: part.to_string(),
                known: self.buildings.iter().map(|b| b.name.clone()).collect(),
            })
    }

    fn find_hall(&self, name: &str, building: BuildingId, part: &str) -> Result<HallId, NameError> {
        let b = &self.buildings[building.index()];
        let halls = &self.halls[usize::from(b.halls.start)..usize::from(b.halls.end)];
        halls
            .iter()
            .position(|h| h.name == part)
            .map(|i| HallId(b.halls.start + i as u16))
            .ok_or_else(|| NameError::UnknownHall {
                name: name.to_string(),
                building: b.name.clone(),
                hall: part.to_string(),
                known: halls.iter().map(|h| h.name.clone()).collect(),
            })
    }
}

impl Numbering {
    /// Digits of the numbers of a parent with `count` children.
    fn width(&self, count: usize) -> usize {
        if self.min_digits == 0 {
            return 1;
        }
        digit_count(count as u64).max(self.min_digits)
    }

    /// Appends the part of the child at `offset` among `count`.
    fn push(&self, out: &mut String, offset: u32, count: usize) {
        push_number(out, self.letter, self.first + offset, self.width(count));
    }

    fn part(&self, offset: u32, count: usize) -> String {
        let mut s = String::new();
        self.push(&mut s, offset, count);
        s
    }

    fn digits_phrase(&self, count: usize) -> String {
        match self.width(count) {
            1 => "a number without leading zeros".to_string(),
            w => format!("{w} digits"),
        }
    }

    /// The offset among `count` children that `part` names. A number past
    /// the children is reported by `out_of_range`, given the digits.
    fn read(
        &self,
        name: &str,
        part: &str,
        count: usize,
        out_of_range: impl FnOnce(String) -> NameError,
    ) -> Result<u32, NameError> {
        let malformed = |expected: String| NameError::Malformed {
            name: name.to_string(),
            level: self.level,
            part: part.to_string(),
            expected,
        };
        let letter = self.letter;
        let digits = match part.strip_prefix(letter) {
            Some(d) if !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) => d,
            _ => {
                return Err(malformed(format!(
                    "`{letter}` and {}, like `{}`",
                    self.digits_phrase(count),
                    self.part(0, count)
                )));
            }
        };
        // More digits than a u64 holds is out of range all the same.
        let value = digits.bytes().try_fold(0u64, |n, b| {
            n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        });
        let first = u64::from(self.first);
        let offset = match value {
            Some(v) if v >= first && v - first < count as u64 => (v - first) as u32,
            _ => return Err(out_of_range(digits.to_string())),
        };
        // The digits are canonical if there are as many as `push` writes.
        let want = self
            .width(count)
            .max(digit_count(first + u64::from(offset)));
        if digits.len() != want {
            return Err(malformed(format!(
                "`{letter}` and {}: `{}`",
                self.digits_phrase(count),
                self.part(offset, count)
            )));
        }
        Ok(offset)
    }
}

/// Decimal digits of `n`.
fn digit_count(n: u64) -> usize {
    let mut digits = 1;
    let mut rest = n;
    while rest >= 10 {
        rest /= 10;
        digits += 1;
    }
    digits
}

/// Appends `letter` and `n` in decimal, zero-padded to `width` digits.
fn push_number(out: &mut String, letter: char, n: u32, width: usize) {
    let mut buf = [0u8; 10];
    let mut start = buf.len();
    let mut rest = n;
    loop {
        start -= 1;
        buf[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.push(letter);
    for _ in buf.len() - start..width {
        out.push('0');
    }
    for &d in &buf[start..] {
        out.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset;

    fn tiny() -> Campus {
        let p = preset::preset("tiny").expect("tiny preset");
        Campus::load(p.file, p.toml).expect("tiny loads")
    }

    #[test]
    fn numbers_are_padded_to_their_width() {
        let cases = [
            ('R', 417, 4, "R0417"),
            ('R', 1, 4, "R0001"),
            ('R', 12345, 4, "R12345"),
            ('T', 5, 2, "T05"),
            ('T', 118, 3, "T118"),
            ('G', 0, 1, "G0"),
            ('G', 63, 1, "G63"),
            ('R', u32::MAX, 4, "R4294967295"),
        ];
        for (letter, n, width, want) in cases {
            let mut s = String::from("x/");
            push_number(&mut s, letter, n, width);
            assert_eq!(s, format!("x/{want}"));
        }
    }

    #[test]
    fn digit_counts() {
        for (n, want) in [(0, 1), (9, 1), (10, 2), (176, 3), (9999, 4), (10_000, 5)] {
            assert_eq!(digit_count(n), want, "{n}");
        }
        assert_eq!(digit_count(u64::MAX), 20);
    }

    #[test]
    fn widths_grow_past_the_minimum_only_when_needed() {
        assert_eq!(RACKS.width(1), 4);
        assert_eq!(RACKS.width(9999), 4);
        assert_eq!(RACKS.width(10_000), 5);
        assert_eq!(TRAYS.width(18), 2);
        assert_eq!(TRAYS.width(99), 2);
        assert_eq!(TRAYS.width(100), 3);
        assert_eq!(GPUS.width(4), 1);
        assert_eq!(GPUS.width(64), 1);
        assert_eq!(RACKS.part(0, 176), "R0001");
        assert_eq!(RACKS.part(10_000, 10_001), "R10001");
        assert_eq!(RACKS.part(41, 10_001), "R00042");
        assert_eq!(GPUS.part(0, 8), "G0");
        assert_eq!(GPUS.part(9, 64), "G9");
    }

    fn out_of_range(number: String) -> NameError {
        NameError::RackOutOfRange {
            name: "N".into(),
            hall: "H".into(),
            number,
            count: 0,
        }
    }

    #[track_caller]
    fn read(n: &Numbering, part: &str, count: usize) -> Result<u32, String> {
        n.read("N", part, count, out_of_range).map_err(|e| match e {
            NameError::RackOutOfRange { number, .. } => format!("out of range: {number}"),
            NameError::Malformed { expected, .. } => format!("malformed: {expected}"),
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn read_accepts_only_the_canonical_spelling() {
        assert_eq!(read(&RACKS, "R0001", 176), Ok(0));
        assert_eq!(read(&RACKS, "R0176", 176), Ok(175));
        assert_eq!(read(&RACKS, "R0177", 176), Err("out of range: 0177".into()));
        assert_eq!(read(&RACKS, "R0000", 176), Err("out of range: 0000".into()));
        let huge = "R99999999999999999999999";
        assert_eq!(
            read(&RACKS, huge, 176),
            Err(format!("out of range: {}", &huge[1..]))
        );
        assert_eq!(
            read(&RACKS, "R17", 176),
            Err("malformed: `R` and 4 digits: `R0017`".into())
        );
        assert_eq!(
            read(&RACKS, "R00017", 176),
            Err("malformed: `R` and 4 digits: `R0017`".into())
        );
        for bad in [
            "R", "R+1", "R-1", "r0001", "R0001 ", " R0001", "R１", "X0001", "RR01",
        ] {
            assert_eq!(
                read(&RACKS, bad, 176),
                Err("malformed: `R` and 4 digits, like `R0001`".into()),
                "{bad:?}"
            );
        }
        assert_eq!(read(&GPUS, "G0", 4), Ok(0));
        assert_eq!(read(&GPUS, "G3", 4), Ok(3));
        assert_eq!(read(&GPUS, "G4", 4), Err("out of range: 4".into()));
        assert_eq!(
            read(&GPUS, "G03", 4),
            Err("malformed: `G` and a number without leading zeros: `G3`".into())
        );
        assert_eq!(
            read(&GPUS, "G", 4),
            Err("malformed: `G` and a number without leading zeros, like `G0`".into())
        );
        assert_eq!(read(&TRAYS, "T05", 18), Ok(4));
        assert_eq!(
            read(&TRAYS, "T5", 18),
            Err("malformed: `T` and 2 digits: `T05`".into())
        );
    }

    #[test]
    fn tiny_names_its_first_and_last_of_each_level() {
        let c = tiny();
        assert_eq!(c.building_name(BuildingId(0)), "B1");
        assert_eq!(c.hall_name(HallId(2)), "B2/H2");
        assert_eq!(c.rack_name(RackId(0)), "B1/H1/R0001");
        // B1/H1 has 8 racks; B2/H1 starts again at R0001.
        assert_eq!(c.rack_name(RackId(7)), "B1/H1/R0008");
        assert_eq!(c.rack_name(RackId(8)), "B2/H1/R0001");
        assert_eq!(c.tray_name(TrayId(0)), "B1/H1/R0001/T01");
        assert_eq!(c.tray_name(TrayId(17)), "B1/H1/R0001/T18");
        assert_eq!(c.tray_name(TrayId(18)), "B1/H1/R0002/T01");
        assert_eq!(c.gpu_name(GpuId(0)), "B1/H1/R0001/T01/G0");
        assert_eq!(c.gpu_name(GpuId(5)), "B1/H1/R0001/T02/G1");
        let last = GpuId(c.gpu_count() - 1);
        // 4 HGX H100 racks of 4 trays of 8 GPUs.
        assert_eq!(c.gpu_name(last), "B2/H2/R0004/T04/G7");
        assert_eq!(c.resolve("B2/H2/R0004/T04/G7"), Ok(Location::Gpu(last)));
    }

    #[test]
    fn write_tray_name_appends() {
        let c = tiny();
        let mut s = String::with_capacity(64);
        c.write_tray_name(TrayId(0), &mut s);
        s.push(',');
        c.write_tray_name(TrayId(18), &mut s);
        assert_eq!(s, "B1/H1/R0001/T01,B1/H1/R0002/T01");
    }
}
