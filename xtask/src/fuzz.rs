//! `cargo xtask fuzz [TARGET…] [--time SECONDS]`: the fuzz targets of `fuzz/` (cargo fuzz,
//! libFuzzer, on the nightly toolchain), each for the time given, from the corpus
//! (`fuzz/corpus/<target>`), then a table of executions per target. A crash stops the run with
//! the input libFuzzer saved (`fuzz/artifacts/<target>/`): make it a regression test in the
//! normal suite, then fix it.
//!
//! New inputs the fuzzer finds go to `target/fuzz-corpus/<target>`, not into the committed
//! corpus: `cargo xtask fuzz --minimize` merges both into a minimized committed corpus.
//! `cargo xtask fuzz --seed` adds the official 2026-07-28 examples (`../shared/spec`, or
//! `$MOCOPR_SPEC_DIR`) to the corpora of the targets that read JSON-RPC or JSON.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::install::{Install, Tool, ensure};
use crate::{root, run, target_dir};

/// Every target, in `fuzz/Cargo.toml`'s order.
pub(crate) const TARGETS: &[&str] = &[
    "envelope",
    "stdio_framing",
    "header_value",
    "param_headers",
    "uri_template",
    "request_state",
    "cache_key",
    "dispatcher",
    "http_service",
];

/// The cargo-fuzz release the targets are built with.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

pub(crate) const TOOLS: &[Tool] = &[
    Tool {
        name: "nightly toolchain",
        probe: ("rustup", &["run", "nightly", "rustc", "--version"]),
        install: Install::RustupToolchain("nightly"),
    },
    Tool {
        name: "cargo-fuzz",
        probe: ("cargo", &["fuzz", "--version"]),
        install: Install::Cargo { krate: "cargo-fuzz", version: CARGO_FUZZ_VERSION },
    },
];

/// What to run.
struct Options {
    targets: Vec<String>,
    seconds: u64,
    minimize: bool,
    seed: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options { targets: Vec::new(), seconds: 60, minimize: false, seed: false };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--time" => {
                let value = args.next().ok_or("--time needs a number of seconds")?;
                options.seconds = value.parse().map_err(|_| format!("--time {value}: not a number of seconds"))?;
            }
            "--minimize" => options.minimize = true,
            "--seed" => options.seed = true,
            name if TARGETS.contains(&name) => options.targets.push(name.to_owned()),
            other => return Err(format!("unknown fuzz target or option `{other}` (targets: {})", TARGETS.join(", "))),
        }
    }
    if options.targets.is_empty() {
        options.targets = TARGETS.iter().map(|t| (*t).to_owned()).collect();
    }
    Ok(options)
}

pub(crate) fn run_all(args: &[String]) -> Result<(), String> {
    let options = parse(args)?;
    let fuzz = root().join("fuzz");
    if options.seed {
        return seed(&fuzz);
    }
    ensure(TOOLS)?;
    run("fuzz build", cargo_fuzz(&fuzz).arg("build"))?;
    if options.minimize {
        for target in &options.targets {
            minimize(&fuzz, target)?;
        }
        return Ok(());
    }
    let mut rows = Vec::new();
    for target in &options.targets {
        rows.push((target.clone(), fuzz_one(&fuzz, target, options.seconds)?));
    }
    eprintln!("\n{:<16} {:>14}", "target", "executions");
    for (target, executions) in rows {
        eprintln!("{target:<16} {executions:>14}");
    }
    Ok(())
}

fn cargo_fuzz(fuzz: &Path) -> Command {
    let mut command = Command::new("cargo");
    command.args(["+nightly", "fuzz"]).current_dir(fuzz);
    command
}

/// Runs `target` for `seconds`; the number of inputs it ran.
fn fuzz_one(fuzz: &Path, target: &str, seconds: u64) -> Result<u64, String> {
    let scratch = target_dir().join("fuzz-corpus").join(target);
    let committed = fuzz.join("corpus").join(target);
    for dir in [&scratch, &committed] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let log_path = target_dir().join("fuzz-corpus").join(format!("{target}.log"));
    let log = std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut command = cargo_fuzz(fuzz);
    command
        .args(["run", target])
        .arg(&scratch)
        .arg(&committed)
        .args([
            "--",
            &format!("-max_total_time={seconds}"),
            "-timeout=30",
            "-rss_limit_mb=4096",
            "-print_final_stats=1",
        ])
        .stdout(Stdio::null())
        .stderr(log);
    eprintln!("\n==> fuzz {target} for {seconds} s (log: {})", log_path.display());
    let status = command.status().map_err(|e| format!("fuzz {target}: could not start cargo fuzz: {e}"))?;
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    if !status.success() {
        let tail: Vec<&str> = text.lines().rev().take(60).collect();
        for line in tail.into_iter().rev() {
            eprintln!("{line}");
        }
        return Err(format!("fuzz {target} found a failure ({status}): the input is in fuzz/artifacts/{target}/"));
    }
    Ok(executions(&text))
}

/// The inputs a run executed, from libFuzzer's final statistics.
fn executions(log: &str) -> u64 {
    log.lines()
        .filter_map(|line| line.strip_prefix("stat::number_of_executed_units:"))
        .filter_map(|n| n.trim().parse().ok())
        .next_back()
        .unwrap_or(0)
}

/// Merges the committed corpus and what runs found into a minimized committed corpus.
fn minimize(fuzz: &Path, target: &str) -> Result<(), String> {
    let committed = fuzz.join("corpus").join(target);
    let scratch = target_dir().join("fuzz-corpus").join(target);
    let merged = target_dir().join("fuzz-corpus").join(format!("{target}.merged"));
    let _ = std::fs::remove_dir_all(&merged);
    for dir in [&committed, &scratch, &merged] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    run(
        &format!("minimize {target}"),
        cargo_fuzz(fuzz).args(["run", target]).arg(&merged).arg(&committed).arg(&scratch).args(["--", "-merge=1"]),
    )?;
    std::fs::remove_dir_all(&committed).map_err(|e| format!("{}: {e}", committed.display()))?;
    std::fs::rename(&merged, &committed).map_err(|e| format!("{}: {e}", committed.display()))?;
    Ok(())
}

/// Where the official specification files are.
fn spec_dir() -> std::path::PathBuf {
    std::env::var_os("MOCOPR_SPEC_DIR").map_or_else(|| root().join("../shared/spec"), std::path::PathBuf::from)
}

/// Adds every official 2026-07-28 example to the corpora: as it is (envelope), compact after a
/// legacy `initialize` and as a modern request's frame (dispatcher), and its `params` (cache key).
fn seed(fuzz: &Path) -> Result<(), String> {
    let examples = spec_dir().join("2026-07-28/examples");
    let kinds = std::fs::read_dir(&examples).map_err(|e| format!("{}: {e}", examples.display()))?;
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = fuzz.join("corpus").join(target);
        std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join(format!("seed-{name}")), bytes))
    };
    let initialize = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"fuzz","version":"1"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
"#;
    let mut seeded = 0;
    for kind in kinds.flatten() {
        for file in std::fs::read_dir(kind.path()).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(file.path()).map_err(|e| format!("{}: {e}", file.path().display()))?;
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
            let name = file.path().file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let compact = value.to_string();
            let result = write("envelope", &name, text.as_bytes())
                .and_then(|()| write("dispatcher", &name, format!("{initialize}{compact}\n").as_bytes()))
                .and_then(|()| write("dispatcher", &format!("{name}-modern"), format!("{compact}\n").as_bytes()))
                .and_then(|()| write("cache_key", &name, value.get("params").unwrap_or(&value).to_string().as_bytes()));
            result.map_err(|e| format!("writing seeds: {e}"))?;
            seeded += 1;
        }
    }
    let table = seed_malformed_table(&write)?;
    eprintln!("seeded the corpora with {seeded} official examples and {table} rows of the malformed-input table");
    Ok(())
}

type WriteResult = std::io::Result<()>;

/// The malformed-input table (`crates/mocopr-core/tests/data/malformed_inputs.jsonl`): each
/// input read as a whole message goes to the targets that take raw bytes (envelope and
/// dispatcher; header values to header_value). Rows of the other stages are left to the
/// fuzzer, whose tuple inputs are not raw bytes. Returns the number of rows seeded.
fn seed_malformed_table(write: &dyn Fn(&str, &str, &[u8]) -> WriteResult) -> Result<usize, String> {
    let path = root().join("crates/mocopr-core/tests/data/malformed_inputs.jsonl");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut seeded = 0;
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#')) {
        let row: Vec<serde_json::Value> =
            serde_json::from_str(line).map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
        let (Some(stage), Some(input)) = (row.first().and_then(|v| v.as_str()), row.get(1).and_then(|v| v.as_str()))
        else {
            return Err(format!("{}:{}: not a [stage, input, ...] row", path.display(), n + 1));
        };
        let name = format!("malformed-{}", n + 1);
        let written = match stage {
            "header" => write("header_value", &name, input.as_bytes()),
            "frame-in" => write("dispatcher", &name, input.as_bytes()),
            s if s.starts_with("envelope") || s.starts_with("typed") => write("envelope", &name, input.as_bytes())
                .and_then(|()| write("dispatcher", &name, format!("{input}\n").as_bytes())),
            _ => continue,
        };
        written.map_err(|e| format!("writing seeds: {e}"))?;
        seeded += 1;
    }
    Ok(seeded)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seed written: target, name, bytes.
    type Seed = (String, String, Vec<u8>);

    #[test]
    fn the_malformed_table_seeds_the_raw_byte_targets() {
        let written: std::cell::RefCell<Vec<Seed>> = std::cell::RefCell::default();
        let write = |target: &str, name: &str, bytes: &[u8]| {
            written.borrow_mut().push((target.to_owned(), name.to_owned(), bytes.to_vec()));
            Ok(())
        };
        let rows = seed_malformed_table(&write).unwrap();
        let written = written.into_inner();
        assert!(rows >= 100, "only {rows} rows seeded");
        for target in ["envelope", "dispatcher", "header_value"] {
            assert!(written.iter().any(|(t, _, _)| t == target), "nothing seeded for {target}");
        }
        assert!(written.iter().any(|(t, _, b)| t == "envelope" && b.as_slice() == b"{'jsonrpc':'2.0'}"));
    }

    #[test]
    fn targets_and_times_are_read_and_unknown_names_refused() {
        let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let all = parse(&[]).unwrap();
        assert_eq!(all.targets.len(), TARGETS.len());
        assert_eq!(all.seconds, 60);
        let one = parse(&args(&["envelope", "--time", "5"])).unwrap();
        assert_eq!((one.targets, one.seconds), (vec!["envelope".to_owned()], 5));
        assert!(parse(&args(&["nonsense"])).is_err());
        assert!(parse(&args(&["--time", "soon"])).is_err());
    }

    #[test]
    fn every_target_is_a_binary_of_the_fuzz_crate() {
        let manifest = std::fs::read_to_string(root().join("fuzz/Cargo.toml")).unwrap();
        for target in TARGETS {
            assert!(manifest.contains(&format!("name = \"{target}\"")), "{target} is not in fuzz/Cargo.toml");
            assert!(root().join(format!("fuzz/fuzz_targets/{target}.rs")).exists());
        }
        assert_eq!(manifest.matches("[[bin]]").count(), TARGETS.len(), "a target xtask does not know");
    }

    #[test]
    fn executions_come_from_the_final_statistics() {
        assert_eq!(executions("#2\tINITED\nstat::number_of_executed_units: 642539\nstat::peak_rss_mb: 40\n"), 642539);
        assert_eq!(executions("nothing"), 0);
    }
}
