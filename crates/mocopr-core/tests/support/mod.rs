//! Shared test helpers: where the official specification files are, and (for
//! `schema_conformance`) the schema validators, proptest strategies and samples.

#![allow(dead_code, unreachable_pub)]

pub mod input;
pub mod messages;
pub mod objects;
pub mod results;
pub mod sample;
pub mod schema;
pub mod strategies;

use std::path::PathBuf;

/// The `spec/` folder of the shared specification material: `$MOCOPR_SPEC_DIR`, or
/// `shared/spec` beside the repository checkout.
pub fn spec_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MOCOPR_SPEC_DIR") {
        return PathBuf::from(dir);
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec");
    assert!(
        dir.join("CHECKLIST.md").exists(),
        "the official specification files were not found at {}; set MOCOPR_SPEC_DIR",
        dir.display()
    );
    dir
}
