//! Dependency stub (Cargo.toml): no code.
