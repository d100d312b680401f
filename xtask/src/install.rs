//! Installing what the test suite needs on a fresh machine.
//!
//! As root, missing tools are installed with the machine's package clients (apt-get, cargo, npm);
//! otherwise the exact command to run is printed and the step fails.

use std::process::Command;

use crate::{run, succeeds};

/// A tool the suite needs, and how to get it.
pub(crate) struct Tool {
    /// Shown to the user.
    pub(crate) name: &'static str,
    /// A command that succeeds when the tool is present.
    pub(crate) probe: (&'static str, &'static [&'static str]),
    /// How to install it.
    pub(crate) install: Install,
}

/// Installation routes.
pub(crate) enum Install {
    /// A rustup component of the pinned toolchain.
    RustupComponent(&'static str),
    /// Debian packages, installed with apt-get when running as root.
    Apt(&'static [&'static str]),
    /// A rustup toolchain beside the pinned one.
    RustupToolchain(&'static str),
    /// A crate's binaries, at a pinned version, with `cargo install --locked`.
    Cargo { krate: &'static str, version: &'static str },
}

/// Makes sure every tool is present, installing what is missing when allowed.
pub(crate) fn ensure(tools: &[Tool]) -> Result<(), String> {
    for tool in tools {
        let (program, args) = tool.probe;
        if succeeds(program, args) {
            continue;
        }
        match &tool.install {
            Install::RustupComponent(component) => {
                run(&format!("install {}", tool.name), Command::new("rustup").args(["component", "add", component]))
                    .map_err(|e| format!("{e}; install it with `rustup component add {component}`"))?
            }
            Install::RustupToolchain(toolchain) => run(
                &format!("install {}", tool.name),
                Command::new("rustup").args(["toolchain", "install", toolchain, "--profile", "minimal"]),
            )
            .map_err(|e| format!("{e}; install it with `rustup toolchain install {toolchain}`"))?,
            Install::Cargo { krate, version } => run(
                &format!("install {}", tool.name),
                Command::new("cargo").args(["install", "--locked", krate, "--version", version]),
            )
            .map_err(|e| format!("{e}; install it with `cargo install --locked {krate} --version {version}`"))?,
            Install::Apt(packages) => {
                let packages = packages.join(" ");
                if !is_root() {
                    return Err(format!(
                        "{} is missing; install it with `sudo apt-get install -y {packages}`",
                        tool.name
                    ));
                }
                run("apt-get update", Command::new("apt-get").arg("update"))?;
                run(
                    &format!("install {}", tool.name),
                    Command::new("apt-get")
                        .args(["install", "-y"])
                        .args(packages.split(' '))
                        .env("DEBIAN_FRONTEND", "noninteractive"),
                )?;
            }
        }
        if !succeeds(program, args) {
            return Err(format!("{} is still missing after installing it", tool.name));
        }
    }
    Ok(())
}

/// Whether this process runs as root (the only case where system packages are installed).
fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}
