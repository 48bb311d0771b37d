//! body (being written)
