//! std transport (being written)
