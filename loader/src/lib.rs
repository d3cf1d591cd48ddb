//! The loader: takes a confirmed bundle into a Freshsales account (or the local sandbox).
//! Pure parts (`plan`, `ratelimit`, `journal` replay, payload building) are tested without
//! HTTP; `api` is the only module that talks to the network.

pub mod api;
pub mod journal;
pub mod plan;
pub mod ratelimit;
