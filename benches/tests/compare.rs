//! `bench-compare` end to end, briefly: against the bare limits and a debug echo-server, every
//! path, payload and era gets a figure and a share of its limit, and both reports are written.
//! (The figures themselves come from `cargo xtask bench --compare`, release and longer.)

use std::process::Command;

use serde_json::Value;

#[test]
fn every_cell_is_measured_and_reported() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let built = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "mocopr-examples", "--example", "echo-server"])
        .current_dir(&root)
        .status();
    assert!(built.is_ok_and(|s| s.success()), "could not build echo-server");
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-compare");
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new(env!("CARGO_BIN_EXE_bench-compare"))
        .args(["--limit-stdio", env!("CARGO_BIN_EXE_bare-stdio-echo")])
        .args(["--limit-http", env!("CARGO_BIN_EXE_bare-http-echo")])
        .arg("--mocopr")
        .arg(mocopr_testing::example_path("echo-server"))
        .args(["--rounds", "1", "--seconds", "0.3"])
        .arg("--out")
        .arg(&out)
        .status()
        .expect("bench-compare runs");
    assert!(status.success(), "bench-compare failed: {status}");

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).expect("compare.json")).expect("JSON");
    let cells = report["cells"].as_array().expect("cells");
    // 4 paths × 2 payloads × (the limit, MoCoPr legacy, MoCoPr 2026-07-28).
    assert_eq!(cells.len(), 24, "{cells:#?}");
    for cell in cells {
        assert!(cell["median_per_second"].as_f64().is_some_and(|r| r > 0.0), "{cell}");
        let serial = cell["path"].as_str().is_some_and(|p| p.ends_with("serial"));
        assert_eq!(cell["median_p50_us"].is_number(), serial, "{cell}");
        assert!(cell["cpu_us_per_request"].is_number(), "{cell}");
        if cell["subject"] != "limit" {
            assert!(cell["share_of_limit"].as_f64().is_some_and(|s| s > 0.0), "{cell}");
        }
    }
    assert_eq!(report["peak_rss"].as_array().map(Vec::len), Some(5), "{report}");
    let markdown = std::fs::read_to_string(out.join("compare.md")).expect("compare.md");
    assert!(markdown.contains("| HTTP 32 connections | 10 KB |"), "{markdown}");
}
