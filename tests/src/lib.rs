//! Shared support for callbridge's end-to-end tests.

pub mod load;
