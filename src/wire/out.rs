//! out (being written)
