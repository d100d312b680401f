//! `cargo xtask bench [NAME…]`: the criterion suites (`benches/`), then one summary table of
//! what this run measured (median time and throughput per benchmark), read from criterion's
//! `target/criterion/**/new/` files.

use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use serde_json::Value;

/// Benches that measure something criterion does not (memory) and print it themselves.
const PRINTING: &[&str] = &["idle_sessions"];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let started = SystemTime::now();
    let mut command = Command::new("cargo");
    command.args(["bench", "-p", "mocopr-benches"]);
    for name in args {
        command.args(["--bench", name]);
    }
    crate::run("criterion", &mut command)?;
    let mut rows = Vec::new();
    collect(&crate::target_dir().join("criterion"), started, &mut rows);
    if rows.is_empty() {
        // A bench that prints its own figure (not criterion) writes no estimates.
        if !args.is_empty() && args.iter().all(|name| PRINTING.contains(&name.as_str())) {
            return Ok(());
        }
        return Err("no benchmark results were written".into());
    }
    rows.sort();
    let width = rows.iter().map(|(id, _, _)| id.chars().count()).max().unwrap_or(9).max(9);
    println!("\n{:<width$}  {:>12}  {:>16}", "benchmark", "median", "throughput");
    for (id, median, throughput) in rows {
        println!("{id:<width$}  {median:>12}  {throughput:>16}");
    }
    Ok(())
}

/// Every benchmark under `dir` whose estimates were written after `since`.
fn collect(dir: &Path, since: SystemTime, rows: &mut Vec<(String, String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let estimates = path.join("new").join("estimates.json");
        let fresh = std::fs::metadata(&estimates).and_then(|m| m.modified()).is_ok_and(|t| t >= since);
        if fresh && let Some(row) = row(&path.join("new")) {
            rows.push(row);
        }
        collect(&path, since, rows);
    }
}

fn read(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// `(id, median, throughput)` of one benchmark's `new/` directory.
fn row(dir: &Path) -> Option<(String, String, String)> {
    let estimates = read(&dir.join("estimates.json"))?;
    let benchmark = read(&dir.join("benchmark.json"))?;
    let id = benchmark["full_id"].as_str()?.to_owned();
    let nanos = estimates["median"]["point_estimate"].as_f64()?;
    let throughput = match &benchmark["throughput"] {
        Value::Object(map) => match map.iter().next() {
            Some((kind, n)) => per_second(kind, n.as_f64()? / (nanos / 1e9)),
            None => String::new(),
        },
        _ => String::new(),
    };
    Some((id, time(nanos), throughput))
}

fn time(nanos: f64) -> String {
    match nanos {
        n if n >= 1e9 => format!("{:.2} s", n / 1e9),
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.2} µs", n / 1e3),
        n => format!("{n:.0} ns"),
    }
}

fn per_second(kind: &str, rate: f64) -> String {
    let unit = if kind.contains("Bytes") { "B/s" } else { "/s" };
    match rate {
        r if r >= 1e9 => format!("{:.2} G{unit}", r / 1e9),
        r if r >= 1e6 => format!("{:.2} M{unit}", r / 1e6),
        r if r >= 1e3 => format!("{:.1} k{unit}", r / 1e3),
        r => format!("{r:.0} {unit}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{per_second, time};

    #[test]
    fn figures_are_readable() {
        assert_eq!(time(1_493.0), "1.49 µs");
        assert_eq!(time(27_500_000.0), "27.50 ms");
        assert_eq!(per_second("Elements", 162_000.0), "162.0 k/s");
        assert_eq!(per_second("Bytes", 1.12e9), "1.12 GB/s");
    }
}
