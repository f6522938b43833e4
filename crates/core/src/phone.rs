//! Phone-number helpers: E.164 parts, App Connect's "overriding format" templates, and the `+` that arrives as a space.
