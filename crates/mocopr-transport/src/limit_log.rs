//! One log line per bound reached, not one per refusal: a flood of refused requests must not
//! become a flood of log lines (which would cost the disk and bury everything else).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How often a bound that keeps being reached is logged again, with the count since.
const REPEAT_EVERY: Duration = Duration::from_secs(60);

/// When each bound was last logged and how many refusals went unlogged since. Keyed by the
/// bounds' fixed names, so it holds one entry per bound in the code.
static REACHED: Mutex<Option<HashMap<&'static str, (Instant, u64)>>> = Mutex::new(None);

/// Records that `bound` refused something: logged at `warn` the first time, then at most once
/// a minute with how many refusals there were since.
///
/// ```
/// mocopr_transport::limit_reached("max_sessions");
/// mocopr_transport::limit_reached("max_sessions"); // counted, not logged again this minute
/// ```
pub fn limit_reached(bound: &'static str) {
    let now = Instant::now();
    let suppressed = {
        let mut reached = REACHED.lock().unwrap_or_else(PoisonError::into_inner);
        let reached = reached.get_or_insert_with(HashMap::new);
        match reached.get_mut(bound) {
            Some((logged, skipped)) if now.duration_since(*logged) < REPEAT_EVERY => {
                *skipped += 1;
                return;
            }
            Some((logged, skipped)) => {
                *logged = now;
                std::mem::take(skipped)
            }
            None => {
                reached.insert(bound, (now, 0));
                0
            }
        }
    };
    tracing::warn!(bound, refused_since_last_log = suppressed, "a limit was reached; requests over it are refused");
}
