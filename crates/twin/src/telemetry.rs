//! What the twin's GPUs would report to a monitoring agent (NVIDIA's
//! dcgm-exporter): temperature, power, utilisation, memory and the last
//! XID, derived from what the twin knows of a tray (its job, its hall's
//! coolant, its building's power cap, its failure). Pure functions; the
//! server asks them per scrape.

use crate::power::PowerSettings;

/// Coolant flow is sized at ~1.4 L/min per kW of CDU capacity for a rise of
/// at most 10 C (domain.md §2: "~1.35-1.5 L/min per kW for a <=10 C rise"):
/// at full CDU load the return is this much warmer than the supply.
pub const COOLANT_RISE_AT_FULL_LOAD_C: f64 = 10.0;

/// A GPU's die runs this much above the coolant leaving its cold plate at
/// full TDP (assumed: liquid-cooled B200s report ~60-70 C under load with
/// ~30-35 C coolant).
pub const DIE_RISE_AT_TDP_C: f64 = 30.0;

/// Share of HBM a running job holds (assumed: frameworks reserve ~90%).
pub const FB_SHARE_IN_USE: f64 = 0.9;

/// Liquid heat over what the CDUs carry at N (0 when they carry nothing).
pub fn cdu_load(liquid_heat_kw: f64, liquid_capacity_kw: f64) -> f64 {
    if liquid_capacity_kw > 0.0 && liquid_heat_kw > 0.0 {
        liquid_heat_kw / liquid_capacity_kw
    } else {
        0.0
    }
}

/// Coolant back from the racks: the supply plus the rise the load gives,
/// held at the design rise when the CDUs are overloaded (the racks are
/// throttled to what the loop carries).
pub fn coolant_return_c(supply_c: f64, cdu_load: f64) -> f64 {
    supply_c + COOLANT_RISE_AT_FULL_LOAD_C * cdu_load.clamp(0.0, 1.0)
}

/// The XID a failure of `cause` (the Llama 3 causes of `failure.rs`) leaves
/// in the driver's log, from NVIDIA's XID catalogue
/// (docs.nvidia.com/deploy/xid-errors): 79 "GPU has fallen off the bus",
/// 48 "double-bit ECC error", 95 "uncontained ECC error" (SRAM), 119 "GSP
/// RPC timeout", 13 "graphics engine exception" (an application fault).
/// Causes outside the GPU (NICs, switches, disks, power, host maintenance,
/// timeouts) and silent corruption leave none: 0, as DCGM reports a GPU
/// without one.
pub fn xid_for_cause(cause: &str) -> u32 {
    match cause {
        "faulty GPU" => 79,
        "GPU HBM3 memory" => 48,
        "GPU SRAM" => 95,
        "GPU system processor" => 119,
        "software bug" => 13,
        _ => 0,
    }
}

/// Which of a tray's `gpus` a failure struck: the twin models trays, not
/// GPUs, so the tray's name and the time choose one, the same way every
/// time.
pub fn failed_gpu(tray: &str, at: u64, gpus: u32) -> u32 {
    if gpus == 0 {
        return 0;
    }
    // FNV-1a: stable across runs and platforms, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in tray.bytes().chain(at.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % u64::from(gpus)) as u32
}

/// What a tray is doing, as the twin knows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrayLoad {
    /// GPUs of the tray a job holds.
    pub busy_gpus: u32,
    pub gpus: u32,
    /// The tray is down (failed, not yet repaired).
    pub down: bool,
    /// Share of its demand the building's power cap lets it draw (0-1].
    pub cap_share: f64,
}

/// One GPU's readings, in DCGM's units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpuReading {
    pub temp_c: f64,
    pub power_w: f64,
    /// DCGM_FI_DEV_GPU_UTIL, percent.
    pub util_pct: f64,
    /// DCGM_FI_PROF_GR_ENGINE_ACTIVE, a ratio 0-1.
    pub gr_engine_active: f64,
    /// DCGM_FI_DEV_FB_USED, MiB.
    pub fb_used_mib: f64,
}

/// GPU `index` of a tray: busy GPUs are the first `busy_gpus` (the
/// scheduler hands out a tray's GPUs in order). A down tray's GPUs draw
/// nothing and sit at the coolant's temperature.
pub fn gpu_reading(
    power: &PowerSettings,
    tdp_w: f64,
    hbm_gb: f64,
    load: TrayLoad,
    index: u32,
    coolant_return_c: f64,
) -> GpuReading {
    if load.down {
        return GpuReading {
            temp_c: coolant_return_c,
            power_w: 0.0,
            util_pct: 0.0,
            gr_engine_active: 0.0,
            fb_used_mib: 0.0,
        };
    }
    let busy = index < load.busy_gpus;
    let share = if busy {
        power.compute * load.cap_share.clamp(0.0, 1.0)
    } else {
        power.idle
    };
    let power_w = tdp_w * share;
    let active = if busy { share } else { 0.0 };
    GpuReading {
        temp_c: coolant_return_c + DIE_RISE_AT_TDP_C * share,
        power_w,
        util_pct: if busy { 100.0 * share.min(1.0) } else { 0.0 },
        gr_engine_active: active.min(1.0),
        fb_used_mib: if busy {
            hbm_gb * 1e9 * FB_SHARE_IN_USE / (1024.0 * 1024.0)
        } else {
            0.0
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(busy: u32, down: bool, cap: f64) -> TrayLoad {
        TrayLoad {
            busy_gpus: busy,
            gpus: 4,
            down,
            cap_share: cap,
        }
    }

    #[test]
    fn a_busy_gpu_draws_and_heats_more_than_an_idle_one_and_a_cap_lowers_both() {
        let p = PowerSettings::default();
        let busy = gpu_reading(&p, 1200.0, 186.0, load(2, false, 1.0), 0, 35.0);
        let idle = gpu_reading(&p, 1200.0, 186.0, load(2, false, 1.0), 3, 35.0);
        let capped = gpu_reading(&p, 1200.0, 186.0, load(2, false, 0.5), 0, 35.0);
        assert!((busy.power_w - 1200.0 * 0.91).abs() < 1e-9);
        assert!((idle.power_w - 1200.0 * 0.2).abs() < 1e-9);
        assert!(busy.temp_c > capped.temp_c && capped.temp_c > 35.0);
        assert!(capped.power_w < busy.power_w);
        assert_eq!(idle.util_pct, 0.0);
        assert!(busy.fb_used_mib > 150_000.0, "{}", busy.fb_used_mib);
    }

    #[test]
    fn a_down_gpu_draws_nothing() {
        let p = PowerSettings::default();
        let r = gpu_reading(&p, 1200.0, 186.0, load(4, true, 1.0), 0, 30.0);
        assert_eq!(r.power_w, 0.0);
        assert_eq!(r.temp_c, 30.0);
    }

    #[test]
    fn gpu_causes_leave_their_xid_and_others_none() {
        assert_eq!(xid_for_cause("faulty GPU"), 79);
        assert_eq!(xid_for_cause("GPU HBM3 memory"), 48);
        assert_eq!(xid_for_cause("NIC"), 0);
        // Every Llama 3 cause maps to a known code or none.
        for c in &crate::failure::FailureSettings::default().causes {
            assert!([0, 13, 48, 79, 95, 119].contains(&xid_for_cause(&c.name)));
        }
    }

    #[test]
    fn the_failed_gpu_is_one_of_the_tray_and_stable() {
        let g = failed_gpu("B1/H1/R0001/T01", 3600, 4);
        assert!(g < 4);
        assert_eq!(g, failed_gpu("B1/H1/R0001/T01", 3600, 4));
        let spread: std::collections::BTreeSet<u32> = (0..64)
            .map(|t| failed_gpu("B1/H1/R0001/T01", t * 3600, 4))
            .collect();
        assert_eq!(spread.len(), 4, "all four GPUs get chosen");
    }

    #[test]
    fn the_return_is_warmer_with_load_up_to_the_design_rise() {
        assert_eq!(coolant_return_c(25.0, 0.0), 25.0);
        assert_eq!(coolant_return_c(25.0, 0.5), 30.0);
        assert_eq!(coolant_return_c(25.0, 3.0), 35.0);
        assert_eq!(cdu_load(10.0, 0.0), 0.0);
    }
}
