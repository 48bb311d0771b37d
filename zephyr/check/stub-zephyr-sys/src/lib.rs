//! Dependency stub (Cargo.toml): no code.
#![no_std]
