//! `Secret`: a string that never shows itself in logs or debug output.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A credential (access token, refresh token, API key, client secret).
///
/// `Debug` and `Display` print `**REDACTED**`, so a secret that ends up in a log line by accident
/// leaks nothing. Read the value with [`Secret::expose`], which is easy to grep for.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret's value; call it only where the value leaves the process (a request header, the store).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("**REDACTED**")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("**REDACTED**")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new("sk_live_123");
        assert_eq!(format!("{secret:?}"), "**REDACTED**");
        assert_eq!(secret.to_string(), "**REDACTED**");
        // Nor does the Debug output of a struct that holds one.
        #[derive(Debug)]
        #[expect(dead_code, reason = "Only read through Debug.")]
        struct Holder {
            token: Secret,
        }
        assert_eq!(format!("{:?}", Holder { token: secret.clone() }), "Holder { token: **REDACTED** }");
        assert_eq!(secret.expose(), "sk_live_123");
    }

    #[test]
    fn serialises_as_the_plain_string() {
        let secret: Secret = serde_json::from_str(r#""abc""#).unwrap();
        assert_eq!(secret, Secret::from("abc"));
        assert_eq!(serde_json::to_string(&secret).unwrap(), r#""abc""#);
        assert!(Secret::default().is_empty());
        assert!(!Secret::from(String::from("x")).is_empty());
    }
}
