//! command (being written)
