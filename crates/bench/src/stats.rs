//! Medians and formatting shared by the reports.

use std::time::Duration;

/// The median of `samples` (the mean of the middle two for an even count); zero when empty.
pub fn median(samples: &[f64]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) { (sorted[mid - 1] + sorted[mid]) / 2.0 } else { sorted[mid] }
}

pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// `measured / budget_base`, and whether it is within `limit`.
pub fn verdict(ratio: f64, limit: f64) -> &'static str {
    if ratio <= limit { "met" } else { "**missed**" }
}
