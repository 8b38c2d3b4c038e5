//! Number and date formatting the way HPL's C `printf` calls print them.

/// C's `%.{prec}e`: mantissa with `prec` decimals, exponent with a sign and at least two
/// digits (`1.6710e+02`).
pub fn c_exp(x: f64, prec: usize) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "nan".into()
        } else if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let s = format!("{x:.prec$e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = exp.parse().unwrap_or(0);
    format!("{mant}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

/// The civil date (year, month 1-12, day 1-31) of a day count since 1970-01-01.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// C's `ctime()` without the trailing newline, in UTC: `Sat Nov 21 09:36:23 2026`.
pub fn ctime(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MO: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        WD[days.rem_euclid(7) as usize],
        MO[(m - 1) as usize],
        d,
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        y
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn exponent_format_matches_c() {
        assert_eq!(c_exp(167.1, 4), "1.6710e+02");
        assert_eq!(c_exp(0.0028582, 8), "2.85820000e-03");
        assert_eq!(c_exp(1.110223e-16, 6), "1.110223e-16");
        assert_eq!(c_exp(0.0, 3), "0.000e+00");
        assert_eq!(c_exp(-2.5e123, 2), "-2.50e+123");
    }

    #[test]
    fn ctime_matches_c_in_utc() {
        // 1795253783 is Sat Nov 21 09:36:23 2026 (UTC), as hpcc printed it.
        let t = UNIX_EPOCH + Duration::from_secs(1_795_253_783);
        assert_eq!(ctime(t), "Sat Nov 21 09:36:23 2026");
        assert_eq!(ctime(UNIX_EPOCH), "Thu Jan  1 00:00:00 1970");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(ctime(leap), "Tue Feb 29 00:00:00 2000");
    }
}
