//! Sandbox connector: an in-memory CRM with seeded contacts.

pub const NAME: &str = "sandbox";
