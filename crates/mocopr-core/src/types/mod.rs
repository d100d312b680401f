//! The protocol model: every object of every supported revision.
//!
//! One type per concept, covering all revisions at once: members that only some revisions
//! have are `Option`s documented with the revision that introduced or removed them, and
//! [`ProtocolVersion`](crate::ProtocolVersion) answers which revision has what.

mod capabilities;
mod common;
mod completion;
mod content;
mod elicitation;
mod lifecycle;
mod mrtr;
mod notifications;
mod prompts;
mod resources;
mod roots;
mod sampling;
mod subscriptions;
mod tasks;
mod tools;

pub use capabilities::*;
pub use common::*;
pub use completion::*;
pub use content::*;
pub use elicitation::*;
pub use lifecycle::*;
pub use mrtr::*;
pub use notifications::*;
pub use prompts::*;
pub use resources::*;
pub use roots::*;
pub use sampling::*;
pub use subscriptions::*;
pub use tasks::*;
pub use tools::*;
