//! `cargo xtask bench --compare [--peers] [--baseline NAME=PATH]… [--rounds N] [--seconds S]`:
//! builds the echo-server, the bare limits and the comparison driver (release), with `--peers` also the peer SDKs' echo
//! servers of `benches/peers/` (a workspace of its own, built into `target/peers`), then runs
//! `bench-compare`: a markdown table and JSON in `target/bench/`.

use std::process::Command;

/// The peers' programs, as `benches/peers/` builds them.
/// rmcp's column says `stateless`: its echo server runs without sessions, its fastest mode.
const PEERS: [(&str, &str); 2] = [("rmcp-stateless", "rmcp-echo"), ("tower-mcp", "tower-mcp-echo")];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut peers = false;
    let mut passed = Vec::new();
    let target = crate::target_dir();
    let release = target.join("release");
    let measured = release.join("examples").join("echo-server");
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--peers" => peers = true,
            "--rounds" | "--seconds" => {
                let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
                passed.extend([arg.clone(), value.clone()]);
            }
            // Checked before anything is built. The driver runs in the workspace root: a
            // relative path is the caller's.
            "--baseline" => {
                let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
                let (name, path) = value.split_once('=').ok_or("--baseline takes NAME=PATH")?;
                let path = std::path::absolute(path).map_err(|e| format!("--baseline {path}: {e}"))?;
                if !path.is_file() {
                    return Err(format!("--baseline {name}: {} is not a file", path.display()));
                }
                if same_file(&path, &measured) {
                    return Err(format!(
                        "--baseline {name}: {} is the echo-server this run builds; copy it first",
                        path.display()
                    ));
                }
                passed.extend(["--baseline".to_owned(), format!("{name}={}", path.display())]);
            }
            other => return Err(format!("bench --compare: unknown argument {other}")),
        }
    }
    crate::run(
        "build the echo-server",
        Command::new("cargo").args(["build", "--release", "-p", "mocopr-examples", "--example", "echo-server"]),
    )?;
    crate::run(
        "build the limits and the driver",
        Command::new("cargo").args(["build", "--release", "-p", "mocopr-benches"]).args([
            "--bin",
            "bare-stdio-echo",
            "--bin",
            "bare-http-echo",
            "--bin",
            "bench-compare",
        ]),
    )?;
    let mut compare = Command::new(release.join("bench-compare"));
    compare
        .arg("--limit-stdio")
        .arg(release.join("bare-stdio-echo"))
        .arg("--limit-http")
        .arg(release.join("bare-http-echo"))
        .arg("--mocopr")
        .arg(&measured)
        .arg("--out")
        .arg(target.join("bench"))
        .args(&passed);
    if peers {
        let peers_target = target.join("peers");
        // One package at a time: built together, tower-mcp's dependency features (serde_json's
        // `preserve_order`, tokio's `full`) would leak into rmcp's build.
        for (_, package) in PEERS {
            crate::run(
                &format!("build {package}"),
                Command::new("cargo")
                    .args([
                        "build",
                        "--release",
                        "--locked",
                        "--manifest-path",
                        "benches/peers/Cargo.toml",
                        "-p",
                        package,
                    ])
                    .env("CARGO_TARGET_DIR", &peers_target),
            )?;
        }
        for (name, program) in PEERS {
            compare.arg("--peer").arg(format!("{name}={}", peers_target.join("release").join(program).display()));
        }
    }
    crate::run("compare", &mut compare)
}

/// Whether `a` is `b` or a link to the same file (cargo's `examples/echo-server` is a hard link
/// of a hashed name in `examples/`); a file not there yet is compared by path.
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    #[cfg(unix)]
    if let (Ok(a), Ok(b)) = (a.metadata(), b.metadata()) {
        use std::os::unix::fs::MetadataExt;
        return (a.dev(), a.ino()) == (b.dev(), b.ino());
    }
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
