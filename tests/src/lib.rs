//! Shared support for callbridge's end-to-end tests.
