//! Rebuilds the host when a migration changes: `sqlx::migrate!` embeds the SQL files but does not track them.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
