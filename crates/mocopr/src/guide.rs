//! The MoCoPr guide, chapter by chapter: the Markdown files of `docs/guide/`, included here so
//! that every Rust block in them is a doctest and docs.rs shows them.

#[doc = include_str!("../../../docs/guide/README.md")]
pub mod contents {}

#[doc = include_str!("../../../docs/guide/01-getting-started.md")]
pub mod getting_started {}

#[doc = include_str!("../../../docs/guide/02-primitives.md")]
pub mod primitives {}

#[doc = include_str!("../../../docs/guide/03-protocol-revisions.md")]
pub mod protocol_revisions {}

#[doc = include_str!("../../../docs/guide/04-http-deployment.md")]
pub mod http_deployment {}

#[doc = include_str!("../../../docs/guide/05-scale-out.md")]
pub mod scale_out {}

#[doc = include_str!("../../../docs/guide/06-client.md")]
pub mod client {}

#[doc = include_str!("../../../docs/guide/07-operations.md")]
pub mod operations {}

#[doc = include_str!("../../../docs/guide/08-performance.md")]
pub mod performance {}

#[doc = include_str!("../../../docs/guide/09-testing.md")]
pub mod testing {}

#[doc = include_str!("../../../docs/guide/10-configuration.md")]
pub mod configuration {}

#[doc = include_str!("../../../docs/guide/11-limits-and-security.md")]
pub mod limits_and_security {}

#[cfg(feature = "auth")]
#[doc = include_str!("../../../docs/guide/13-authorization.md")]
pub mod authorization {}

#[doc = include_str!("../../../docs/guide/14-reliability.md")]
pub mod reliability {}

#[doc = include_str!("../../../docs/guide/12-status.md")]
pub mod status {}
