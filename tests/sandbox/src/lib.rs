//! Local Freshsales-compatible sandbox server (see ARCHITECTURE.md).
