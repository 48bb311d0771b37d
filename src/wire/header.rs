//! header (being written)
