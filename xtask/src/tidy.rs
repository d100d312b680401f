//! Repository hygiene, checked as ordinary tests so `cargo test` / nextest enforce it.
//!
//! Every Rust file opens with a `//!` doc saying what it is; shipped code has no placeholder markers
//! or placeholder macros; files stay small enough to have one purpose.

use std::path::{Path, PathBuf};

use crate::root;

/// Files allowed past the size limit, each with the reason.
const LONG_FILES: &[(&str, &str)] = &[];

const MAX_LINES: usize = 800;

fn rust_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for top in ["crates", "xtask", "benches", "examples"] {
        collect(&root().join(top), &mut files);
    }
    files.sort();
    files
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target" || n == "node_modules") {
                continue;
            }
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

#[test]
fn the_walk_finds_the_sources() {
    let files = rust_files();
    assert!(files.iter().any(|f| f.ends_with("crates/mocopr-core/src/lib.rs")), "tidy found no sources");
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let missing: Vec<String> = rust_files()
        .into_iter()
        .filter(|f| !std::fs::read_to_string(f).unwrap_or_default().trim_start().starts_with("//!"))
        .map(|f| relative(&f))
        .collect();
    assert!(missing.is_empty(), "files without a leading `//!` doc:\n{}", missing.join("\n"));
}

#[test]
fn no_placeholders_in_shipped_code() {
    // Built from pieces so this file does not match itself.
    let markers = [["TO", "DO"].concat(), ["todo", "!("].concat(), ["unimplemented", "!("].concat()];
    let mut found = Vec::new();
    for file in rust_files() {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            if markers.iter().any(|m| line.contains(m.as_str())) {
                found.push(format!("{}:{}: {}", relative(&file), n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "placeholders:\n{}", found.join("\n"));
}

#[test]
fn files_stay_under_the_size_limit() {
    let mut long = Vec::new();
    for file in rust_files() {
        let rel = relative(&file);
        let lines = std::fs::read_to_string(&file).unwrap_or_default().lines().count();
        if lines > MAX_LINES && !LONG_FILES.iter().any(|(f, _)| *f == rel) {
            long.push(format!("{rel}: {lines} lines"));
        }
    }
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines (split them, or list them with a reason):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_readme_shows_the_hello_examples_as_they_are() {
    // The README's Rust blocks, in order, are the bodies of the three hello examples (which the
    // suite runs against each other in `examples/tests/hello.rs`).
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap_or_default();
    let blocks: Vec<&str> = readme
        .split("```rust")
        .skip(1)
        .filter_map(|rest| rest.split_once('\n').and_then(|(_, code)| code.split_once("```")).map(|(code, _)| code))
        .collect();
    let names = ["hello-stdio", "hello-http", "hello-client"];
    assert_eq!(blocks.len(), names.len(), "the README has one Rust program per hello example");
    for (block, name) in blocks.iter().zip(names) {
        let example = std::fs::read_to_string(root().join("examples").join(format!("{name}.rs"))).unwrap_or_default();
        let body: String =
            example.lines().skip_while(|l| l.starts_with("//!") || l.is_empty()).map(|l| format!("{l}\n")).collect();
        assert_eq!(body, *block, "examples/{name}.rs differs from its README block");
    }
}

#[test]
fn architecture_names_only_what_exists() {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap_or_default();
    let mut missing = Vec::new();
    let mut checked = 0usize;
    let mut check = |path: std::path::PathBuf, named: &str| {
        checked += 1;
        if !path.exists() {
            missing.push(named.to_owned());
        }
    };
    // The code map: the first word of each line of the block is a path from the root.
    let code_map = text.split("## Code map").nth(1).and_then(|rest| rest.split("```").nth(1)).unwrap_or_default();
    for line in code_map.lines().filter(|l| !l.trim().is_empty()) {
        let path = line.split_whitespace().next().unwrap_or_default();
        check(root().join(path), path);
    }
    // Each crate's table: the first column names files under the crate's `src/`.
    let mut crate_dir = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("### `crates/").and_then(|rest| rest.strip_suffix('`')) {
            crate_dir = Some(root().join("crates").join(name));
            check(root().join("crates").join(name), name);
        } else if line.starts_with("## ") {
            crate_dir = None;
        } else if let (Some(dir), Some(cell)) = (&crate_dir, line.strip_prefix("| `")) {
            let first = cell.split(" |").next().unwrap_or_default();
            for file in first.split(", ").map(|f| f.trim_matches('`')) {
                check(dir.join("src").join(file), file);
            }
        }
    }
    // Anywhere: a backticked path into the repository.
    for quoted in text.split('`').skip(1).step_by(2) {
        let top = ["crates/", "examples/", "xtask/", "benches/", "docs/", "conformance/"];
        if top.iter().any(|t| quoted.starts_with(t)) && !quoted.contains(' ') && !quoted.contains('*') {
            check(root().join(quoted), quoted);
        }
    }
    // The map and the tables were found at all (a renamed heading would check nothing).
    assert!(checked > 50, "only {checked} names checked: has ARCHITECTURE.md's layout changed?");
    assert!(missing.is_empty(), "ARCHITECTURE.md names what does not exist:\n{}", missing.join("\n"));
}
