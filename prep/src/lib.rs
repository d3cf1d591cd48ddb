//! Preparer core: turns AllClients exports into a confirmed, hashed mapping bundle for the
//! Freshsales loader.
//!
//! Plain Rust with no browser, network, file system or clock: the native CLI and the
//! browser page (through `prep-wasm`) call the same [`prepare`] and the same bundle writer,
//! so the page's bundle is byte-identical to the CLI's. See `docs/bundle.md` for the format.

#![warn(missing_docs)]

pub mod activities;
pub mod archive;
pub mod bundle;
pub mod checks;
pub mod contacts;
pub mod corrections;
pub mod dates;
pub mod decode;
pub mod error;
pub mod extras;
pub mod fields;
pub mod ids;
pub mod kind;
pub mod labels;
pub mod ledger;
pub mod limits;
pub mod mapping;
pub mod model;
pub mod notes;
pub mod owners;
pub mod prepare;
pub mod preview;
pub mod read;
pub mod report;
pub mod review;
pub mod samples;
pub mod sheet;
pub mod table;
pub mod templates;
pub mod values;

pub use error::{PrepError, Result};
pub use mapping::Mapping;
pub use prepare::{Confirmation, InputFile, Options, Prepared, Settings, prepare};

/// The hash maps and sets of the preparation's joins and counts. Their keys are the
/// customer's own data read on the customer's own machine, so SipHash's resistance to
/// chosen collisions buys nothing, and foldhash (hashbrown's default) hashes keys several
/// times faster; iteration order is never relied on (bundles come out sorted).
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// See [`FastMap`].
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// This tool's version, recorded in every bundle.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
/// This tool's name, recorded in every bundle.
pub const TOOL_NAME: &str = "allclients-to-freshsales";
