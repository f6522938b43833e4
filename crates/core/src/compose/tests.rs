//! Unit tests of the composer.
