//! `cargo xtask tidy`: the workspace rules that reviews would otherwise have to remember, checked on every
//! `cargo test` by the test at the end of this file.
//!
//! Every check takes the workspace root, so the tests below run each rule on a small synthetic tree. Each problem
//! is one line that starts with the file to fix.

use std::fs;
use std::path::{Path, PathBuf};

use crate::lists::{self, HOST_LINKED, HOST_MANIFEST, WORKSPACE_MANIFEST};

/// Every problem in the workspace at `root`; empty when it is tidy.
pub(crate) fn check(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    check_connector_crates(root, &mut problems);
    check_host_lists(root, &mut problems);
    check_connector_dependencies(root, &mut problems);
    check_rust_files(root, &mut problems);
    check_workspace_crates(root, &mut problems);
    problems
}

/// The marker that lets one test line sleep; the reason follows it (`// sleep-ok: the mock CRM must be slow`).
const SLEEP_MARKER: &str = "sleep-ok:";

/// The workspace's member crates (`crates/*`, `connectors/*`, `xtask`, `tests`) as folders relative to `root`.
fn member_crates(root: &Path) -> Vec<String> {
    let mut crates = Vec::new();
    for group in ["crates", "connectors"] {
        let Ok(entries) = fs::read_dir(root.join(group)) else { continue };
        crates.extend(
            entries
                .filter_map(Result::ok)
                .filter(|it| it.path().join("Cargo.toml").is_file())
                .map(|it| format!("{group}/{}", it.file_name().to_string_lossy())),
        );
    }
    crates.extend(
        ["xtask", "tests"].into_iter().filter(|it| root.join(it).join("Cargo.toml").is_file()).map(str::to_owned),
    );
    crates.sort();
    crates
}

/// Every member crate takes the workspace's lint table, and each of its `[dependencies]` is used in its sources.
///
/// The unused-dependency rule lives here rather than in `cargo machete` because CI installs nothing beyond the
/// toolchain: a tidy rule runs wherever `cargo test` does. It is textual, as machete is: a dependency counts as used
/// when `<name>::` or `<name>!` appears in the crate's `src/` (or `build.rs`), with `-` read as `_`.
fn check_workspace_crates(root: &Path, problems: &mut Vec<String>) {
    for member in member_crates(root) {
        let path = format!("{member}/Cargo.toml");
        let Ok(manifest) = fs::read_to_string(root.join(&path)) else { continue };
        if !manifest
            .lines()
            .map(str::trim)
            .collect::<Vec<_>>()
            .windows(2)
            .any(|it| it == ["[lints]", "workspace = true"])
        {
            problems.push(format!("{path}: must take the workspace's lints (`[lints]` then `workspace = true`)"));
        }
        let mut sources = String::new();
        let mut files = rust_files(&root.join(&member));
        files.retain(|it| {
            it.strip_prefix(root.join(&member)).is_ok_and(|it| it.starts_with("src") || it == Path::new("build.rs"))
        });
        for file in files {
            sources.push_str(&fs::read_to_string(file).unwrap_or_default());
        }
        for dependency in normal_dependency_names(&manifest) {
            let ident = dependency.replace('-', "_");
            let used = [format!("{ident}::"), format!("{ident}!")].iter().any(|needle| {
                sources
                    .match_indices(needle.as_str())
                    .any(|(at, _)| !sources[..at].ends_with(|it: char| it.is_alphanumeric() || it == '_'))
            });
            if !used {
                problems.push(format!("{path}: `{dependency}` is never used in {member}/src: remove it"));
            }
        }
    }
}

/// The packages of the plain `[dependencies]` table (not dev, build or target-specific ones).
fn normal_dependency_names(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_table = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == "[dependencies]";
        } else if in_table && !line.is_empty() && !line.starts_with('#') {
            names.push(line.split(['=', '.']).next().unwrap_or_default().trim().trim_matches('"').to_owned());
        }
    }
    names
}

/// True when the line is test code that sleeps and neither it nor the line above carries [`SLEEP_MARKER`] with a
/// reason. Waiting must be on a condition with a deadline; a sleep is allowed where time itself is under test.
fn is_unmarked_sleep(line: &str, previous: &str) -> bool {
    // Spelt in halves so that this file does not trip its own check.
    let sleeps = [concat!("time::", "sleep("), concat!("thread::", "sleep(")].iter().any(|it| line.contains(it));
    let marked = [line, previous].iter().any(|it| {
        it.split_once(SLEEP_MARKER).is_some_and(|(before, reason)| before.contains("//") && !reason.trim().is_empty())
    });
    sleeps && !marked
}

/// Test code: a crate's `tests/` folder (or the `tests` crate), a `tests.rs` module.
fn is_test_file(relative: &str) -> bool {
    let parts: Vec<&str> = relative.split(['/', '\\']).collect();
    parts.contains(&"tests") || parts.last() == Some(&"tests.rs")
}

/// The folder names under `connectors/`, sorted.
pub(crate) fn connector_folders(root: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(root.join("connectors")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_dir())
        .filter_map(|entry| entry.file_name().to_str().map(str::to_owned))
        .filter(|name| !name.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// Each `connectors/<x>` holds package `connector-<x>`, whose `lib.rs` registers it under the name `<x>`.
fn check_connector_crates(root: &Path, problems: &mut Vec<String>) {
    for name in connector_folders(root) {
        let manifest_path = format!("connectors/{name}/Cargo.toml");
        match fs::read_to_string(root.join(&manifest_path)) {
            Ok(manifest) => {
                if package_name(&manifest).as_deref() != Some(&format!("connector-{name}")) {
                    problems.push(format!("{manifest_path}: the package must be named `connector-{name}`"));
                }
            }
            Err(_) => problems.push(format!("{manifest_path}: missing")),
        }
        let lib_path = format!("connectors/{name}/src/lib.rs");
        let Ok(lib) = fs::read_to_string(root.join(&lib_path)) else {
            problems.push(format!("{lib_path}: missing"));
            continue;
        };
        let name_const = format!("pub const NAME: &str = \"{name}\";");
        if !lib.contains(&name_const) {
            problems.push(format!("{lib_path}: must declare `{name_const}` (the folder's name)"));
        }
        let registers_by_const = lib.contains("name: NAME") && lib.contains(&name_const);
        if !lib.contains("register_connector!") || !(registers_by_const || lib.contains(&format!("name: \"{name}\""))) {
            problems.push(format!(
                "{lib_path}: must register the connector with `callbridge_core::register_connector!` and `name: NAME`"
            ));
        }
    }
}

/// `name = "..."` of the `[package]` table.
fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package && let Some(value) = line.strip_prefix("name") {
            return Some(value.trim_start().strip_prefix('=')?.trim().trim_matches('"').to_owned());
        }
    }
    None
}

/// Reads the connector names out of one of the host's generated lists.
type ListReader = fn(&str) -> anyhow::Result<Vec<String>>;

/// The workspace's and the host's connector dependencies and `LINKED` are sorted, without duplicates, and list
/// exactly the folders.
fn check_host_lists(root: &Path, problems: &mut Vec<String>) {
    let folders = connector_folders(root);
    let lists: [(&str, ListReader, &str); 3] = [
        (
            WORKSPACE_MANIFEST,
            lists::workspace_dependencies,
            "a `connector-<name> = { path = ... }` workspace dependency",
        ),
        (HOST_MANIFEST, lists::host_dependencies, "a `connector-<name>.workspace = true` dependency"),
        (HOST_LINKED, lists::linked_entries, "a `connector_<name>::NAME,` entry in LINKED"),
    ];
    for (path, read, what) in lists {
        let entries = match fs::read_to_string(root.join(path)).map_err(anyhow::Error::from).and_then(|it| read(&it)) {
            Ok(entries) => entries,
            Err(error) => {
                problems.push(format!("{path}: {error:#}"));
                continue;
            }
        };
        if !entries.is_sorted_by(|a, b| a < b) {
            problems
                .push(format!("{path}: the connector list is not sorted or has duplicates: {}", entries.join(", ")));
        }
        for missing in folders.iter().filter(|name| !entries.contains(name)) {
            problems.push(format!(
                "{path}: connectors/{missing} is not linked: add {what} (`cargo xtask new-connector` does)"
            ));
        }
        for extra in entries.iter().filter(|name| !folders.contains(name)) {
            problems.push(format!("{path}: lists connector `{extra}`, but connectors/{extra} does not exist"));
        }
    }
}

/// No connector depends on the host, on another connector, or on reqwest directly (DESIGN.md invariant 2).
fn check_connector_dependencies(root: &Path, problems: &mut Vec<String>) {
    for name in connector_folders(root) {
        let path = format!("connectors/{name}/Cargo.toml");
        let Ok(manifest) = fs::read_to_string(root.join(&path)) else {
            continue; // Reported by check_connector_crates.
        };
        for dependency in dependency_names(&manifest) {
            let reason = if dependency == "callbridge-host" {
                "a connector must not depend on the host"
            } else if dependency.starts_with("connector-") {
                "a connector must not depend on another connector"
            } else if dependency == "reqwest" {
                "a connector uses callbridge_core::http::HttpClient, never reqwest directly"
            } else {
                continue;
            };
            problems.push(format!("{path}: depends on `{dependency}`: {reason}"));
        }
    }
}

/// Every package named in a `[dependencies]`, `[dev-dependencies]`, `[build-dependencies]` or target-specific
/// dependency table, and in `[dependencies.<name>]` headers.
fn dependency_names(manifest: &str) -> Vec<String> {
    let is_dependency_table = |table: &str| {
        let last = table.rsplit('.').next().unwrap_or(table);
        matches!(last, "dependencies" | "dev-dependencies" | "build-dependencies")
    };
    let mut names = Vec::new();
    let mut in_table = false;
    for line in manifest.lines().map(str::trim) {
        if let Some(header) = line.strip_prefix('[') {
            let table = header.trim_end_matches(']').trim();
            in_table = is_dependency_table(table);
            // `[dependencies.reqwest]` declares one dependency in a table of its own.
            let parts: Vec<&str> = table.split('.').collect();
            if let Some(position) = parts.iter().position(|it| is_dependency_table(it))
                && let Some(dependency) = parts.get(position + 1)
            {
                names.push(dependency.trim_matches('"').to_owned());
            }
        } else if in_table && !line.is_empty() && !line.starts_with('#') {
            let key = line.split(['=', '.']).next().unwrap_or_default().trim().trim_matches('"');
            if !key.is_empty() {
                names.push(key.to_owned());
            }
        }
    }
    names
}

/// Every `.rs` file opens with a `//!` line, and no test is ignored or expected to panic.
fn check_rust_files(root: &Path, problems: &mut Vec<String>) {
    // Spelt in two halves so that this file does not trip its own check.
    let banned = [
        (concat!("#[", "ignore"), "tests are never ignored"),
        (concat!("#[", "should_panic"), "assert on a Result instead of expecting a panic"),
    ];
    for path in rust_files(root) {
        let relative = path.strip_prefix(root).unwrap_or(&path).display().to_string();
        let Ok(text) = fs::read_to_string(&path) else {
            problems.push(format!("{relative}: not readable as UTF-8"));
            continue;
        };
        if !text.lines().next().is_some_and(|first| first.starts_with("//!")) {
            problems.push(format!("{relative}: must open with a `//!` line saying what the file is for"));
        }
        for (needle, reason) in banned {
            if let Some(line_idx) = text.lines().position(|line| line.contains(needle)) {
                problems.push(format!("{relative}:{}: `{needle}]`: {reason}", line_idx + 1));
            }
        }
        let lines: Vec<&str> = text.lines().collect();
        let tests_from = if is_test_file(&relative) {
            0
        } else {
            lines.iter().position(|line| line.trim() == "#[cfg(test)]").unwrap_or(lines.len())
        };
        for index in tests_from..lines.len() {
            let previous = if index == 0 { "" } else { lines[index - 1] };
            if is_unmarked_sleep(lines[index], previous) {
                problems.push(format!(
                    "{relative}:{}: a test sleeps: wait on a condition with a deadline, or mark a sleep that must be \
                     with `// {SLEEP_MARKER} <reason>` on the line or the one above",
                    index + 1
                ));
            }
        }
        if is_connector_source(&relative) {
            for needle in ["std::env", "std::fs"] {
                if let Some(line_idx) = text.lines().position(|line| line.contains(needle)) {
                    problems.push(format!(
                        "{relative}:{}: `{needle}`: a connector gets its settings in ConnectorConfig and does no I/O \
                         but through HttpClient",
                        line_idx + 1
                    ));
                }
            }
        }
    }
}

/// A connector's library source (`connectors/<name>/src/...`), path separators either way.
fn is_connector_source(relative: &str) -> bool {
    let parts: Vec<&str> = relative.split(['/', '\\']).collect();
    parts.len() > 3 && parts[0] == "connectors" && parts[2] == "src"
}

/// The workspace's `.rs` files, without build output, version control and templates.
fn rust_files(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let file_name = entry.file_name();
            let file_name = file_name.to_string_lossy();
            if path.is_dir() {
                let skipped = file_name == "target"
                    || file_name.starts_with('.')
                    || path.strip_prefix(root).is_ok_and(|it| it == Path::new("xtask/templates"));
                if !skipped {
                    walk(root, &path, out);
                }
            } else if file_name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(root, root, &mut files);
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The workspace this crate lives in follows every rule.
    #[test]
    fn tidy() {
        let problems = check(&crate::workspace_root());
        assert!(problems.is_empty(), "cargo xtask tidy found problems:\n{}", problems.join("\n"));
    }

    /// A small workspace with two connectors that follows every rule.
    fn tidy_tree() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let files = [
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"crates/host\", \"connectors/*\"]\n\n[workspace.dependencies]\n# Connector crates: kept sorted.\nconnector-acme = { path = \"connectors/acme\", version = \"0.0.0\" }\nconnector-beta = { path = \"connectors/beta\", version = \"0.0.0\" }\n".to_owned(),
            ),
            (
                HOST_MANIFEST,
                "[package]\nname = \"callbridge-host\"\n\n[dependencies]\nanyhow.workspace = true\n# Connector crates: kept sorted.\nconnector-acme.workspace = true\nconnector-beta.workspace = true\n\n[lints]\nworkspace = true\n".to_owned(),
            ),
            (HOST_LINKED, "//! Links.\n\npub const LINKED: &[&str] = &[\n    connector_acme::NAME,\n    connector_beta::NAME,\n];\n".to_owned()),
            ("crates/host/src/lib.rs", "//! The host.\n\npub mod connectors;\n".to_owned()),
            // Each `[dependencies]` entry is used, apart from the files the tests below edit.
            ("crates/host/src/uses.rs", "//! Uses.\n\nfn f() -> anyhow::Result<[&str; 2]> { Ok([connector_acme::NAME, connector_beta::NAME]) }\n".to_owned()),
            ("xtask/templates/connector/src/lib.rs.tmpl", "no header, and not Rust\n".to_owned()),
            ("xtask/templates/connector/src/odd.rs", "fn main() {}\n".to_owned()),
            ("target/debug/build/out.rs", "generated, no header\n".to_owned()),
        ];
        for (path, text) in files {
            write(root.path(), path, &text);
        }
        for name in ["acme", "beta"] {
            add_connector(root.path(), name);
        }
        root
    }

    fn add_connector(root: &Path, name: &str) {
        let uses = "//! Uses.\n\n#[derive(serde::Deserialize)]\nstruct Settings(callbridge_core::Secret);\n";
        write(root, &format!("connectors/{name}/src/uses.rs"), uses);
        write(
            root,
            &format!("connectors/{name}/Cargo.toml"),
            &format!(
                "[package]\nname = \"connector-{name}\"\n\n[dependencies]\ncallbridge-core.workspace = true\nserde = {{ workspace = true }}\n\n[dev-dependencies]\nwiremock.workspace = true\n\n[lints]\nworkspace = true\n"
            ),
        );
        write(
            root,
            &format!("connectors/{name}/src/lib.rs"),
            &format!(
                "//! The {name} connector.\n\npub const NAME: &str = \"{name}\";\n\ncallbridge_core::register_connector! {{\n    callbridge_core::ConnectorDescriptor {{ name: NAME, display_name: \"X\", build: connector::build }}\n}}\n"
            ),
        );
    }

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn edit(root: &Path, path: &str, from: &str, to: &str) {
        let text = fs::read_to_string(root.join(path)).unwrap();
        assert!(text.contains(from), "{path} does not contain {from:?}");
        fs::write(root.join(path), text.replacen(from, to, 1)).unwrap();
    }

    /// Exactly one problem, which starts with `file` and mentions `fragment`.
    #[track_caller]
    fn assert_one_problem(root: &Path, file: &str, fragment: &str) {
        let problems = check(root);
        assert_eq!(problems.len(), 1, "expected one problem, got:\n{}", problems.join("\n"));
        assert!(problems[0].starts_with(file), "{:?} does not name {file}", problems[0]);
        assert!(problems[0].contains(fragment), "{:?} does not mention {fragment:?}", problems[0]);
    }

    #[test]
    fn the_synthetic_tree_is_tidy() {
        let root = tidy_tree();
        assert_eq!(check(root.path()), Vec::<String>::new());
        assert_eq!(connector_folders(root.path()), ["acme", "beta"]);
    }

    #[test]
    fn a_connector_missing_from_the_host_manifest() {
        let root = tidy_tree();
        edit(root.path(), HOST_MANIFEST, "connector-beta.workspace = true\n", "");
        assert_one_problem(root.path(), HOST_MANIFEST, "connectors/beta is not linked");
    }

    #[test]
    fn a_connector_missing_from_linked() {
        let root = tidy_tree();
        edit(root.path(), HOST_LINKED, "    connector_acme::NAME,\n", "");
        assert_one_problem(root.path(), HOST_LINKED, "connectors/acme is not linked");
    }

    #[test]
    fn a_linked_connector_without_a_folder() {
        let root = tidy_tree();
        edit(
            root.path(),
            HOST_LINKED,
            "    connector_beta::NAME,\n",
            "    connector_beta::NAME,\n    connector_gone::NAME,\n",
        );
        assert_one_problem(root.path(), HOST_LINKED, "connectors/gone does not exist");
    }

    #[test]
    fn unsorted_lists() {
        let root = tidy_tree();
        edit(
            root.path(),
            HOST_LINKED,
            "    connector_acme::NAME,\n    connector_beta::NAME,\n",
            "    connector_beta::NAME,\n    connector_acme::NAME,\n",
        );
        assert_one_problem(root.path(), HOST_LINKED, "not sorted");

        let root = tidy_tree();
        edit(
            root.path(),
            HOST_MANIFEST,
            "connector-acme.workspace = true\nconnector-beta.workspace = true\n",
            "connector-beta.workspace = true\nconnector-acme.workspace = true\n",
        );
        assert_one_problem(root.path(), HOST_MANIFEST, "not sorted");
    }

    #[test]
    fn duplicate_entries() {
        let root = tidy_tree();
        edit(
            root.path(),
            HOST_LINKED,
            "    connector_beta::NAME,\n",
            "    connector_beta::NAME,\n    connector_beta::NAME,\n",
        );
        assert_one_problem(root.path(), HOST_LINKED, "duplicates");
    }

    #[test]
    fn a_package_not_named_after_its_folder() {
        let root = tidy_tree();
        edit(root.path(), "connectors/beta/Cargo.toml", "connector-beta", "connector-bravo");
        assert_one_problem(root.path(), "connectors/beta/Cargo.toml", "connector-beta");
    }

    #[test]
    fn a_connector_registered_under_another_name() {
        let root = tidy_tree();
        edit(root.path(), "connectors/beta/src/lib.rs", "\"beta\"", "\"bravo\"");
        let problems = check(root.path());
        assert!(!problems.is_empty());
        assert!(problems.iter().all(|it| it.starts_with("connectors/beta/src/lib.rs")), "{problems:?}");
        assert!(problems[0].contains("pub const NAME: &str = \"beta\";"), "{problems:?}");
    }

    #[test]
    fn a_connector_that_does_not_register() {
        let root = tidy_tree();
        edit(root.path(), "connectors/acme/src/lib.rs", "callbridge_core::register_connector!", "some_macro!");
        assert_one_problem(root.path(), "connectors/acme/src/lib.rs", "register_connector!");
    }

    #[test]
    fn a_connector_without_lib_rs() {
        let root = tidy_tree();
        fs::remove_file(root.path().join("connectors/acme/src/lib.rs")).unwrap();
        assert_one_problem(root.path(), "connectors/acme/src/lib.rs", "missing");
    }

    #[test]
    fn forbidden_dependencies() {
        let cases = [
            ("callbridge-host.workspace = true\n", "callbridge-host"),
            ("connector-acme = { path = \"../acme\" }\n", "connector-acme"),
            ("reqwest = \"0.12\"\n", "reqwest"),
        ];
        for (line, dependency) in cases {
            let root = tidy_tree();
            edit(
                root.path(),
                "connectors/beta/Cargo.toml",
                "[dev-dependencies]\n",
                &format!("[dev-dependencies]\n{line}"),
            );
            assert_one_problem(root.path(), "connectors/beta/Cargo.toml", &format!("depends on `{dependency}`"));
        }
        // A dependency table of its own counts too.
        let root = tidy_tree();
        edit(
            root.path(),
            "connectors/acme/Cargo.toml",
            "[dev-dependencies]\n",
            "[dependencies.reqwest]\nversion = \"0.12\"\n\n[dev-dependencies]\n",
        );
        assert_one_problem(root.path(), "connectors/acme/Cargo.toml", "depends on `reqwest`");
    }

    #[test]
    fn dependency_names_reads_every_dependency_table() {
        let manifest = "[package]\nname = \"x\"\nversion = \"1\"\n\n[dependencies]\na.workspace = true\nb = \"1\"\n# c = \"1\"\n\n[target.'cfg(unix)'.dependencies]\nd = \"1\"\n\n[build-dependencies.e]\nversion = \"1\"\n\n[lints]\nworkspace = true\n";
        assert_eq!(dependency_names(manifest), ["a", "b", "d", "e"]);
    }

    #[test]
    fn a_rust_file_without_a_doc_header() {
        let root = tidy_tree();
        write(root.path(), "connectors/acme/src/client.rs", "use std::fmt;\n");
        assert_one_problem(root.path(), "connectors/acme/src/client.rs", "//!");

        let root = tidy_tree();
        write(root.path(), "crates/host/tests/it.rs", "\n//! A blank line first does not count.\n");
        assert_one_problem(root.path(), "crates/host/tests/it.rs", "//!");
    }

    #[test]
    fn ignored_and_should_panic_tests() {
        let root = tidy_tree();
        let ignored = format!("//! Tests.\n\n#[test]\n#[{}]\nfn slow() {{}}\n", "ignore");
        write(root.path(), "connectors/beta/tests/it/main.rs", &ignored);
        assert_one_problem(root.path(), "connectors/beta/tests/it/main.rs:4", "never ignored");

        let root = tidy_tree();
        let panics = format!("//! Tests.\n\n#[test]\n#[{}(expected = \"x\")]\nfn boom() {{}}\n", "should_panic");
        write(root.path(), "crates/host/src/lib.rs", &panics);
        assert_one_problem(root.path(), "crates/host/src/lib.rs:4", "Result");
    }

    #[test]
    fn a_connector_reading_the_environment_or_files() {
        for needle in ["std::env::var(\"X\")", "std::fs::read(\"x\")"] {
            let root = tidy_tree();
            write(root.path(), "connectors/acme/src/client.rs", &format!("//! Client.\n\nfn f() {{ {needle}; }}\n"));
            assert_one_problem(root.path(), "connectors/acme/src/client.rs:3", "ConnectorConfig");
        }
        let root = tidy_tree();
        write(root.path(), "crates/host/src/config.rs", "//! Config.\n\nfn f() { std::env::var(\"X\"); }\n");
        assert!(super::check(root.path()).is_empty(), "the host may read the environment");
    }

    #[test]
    fn a_host_without_its_lists_is_reported() {
        let root = tidy_tree();
        edit(root.path(), HOST_MANIFEST, "# Connector crates: kept sorted.\n", "");
        assert_one_problem(root.path(), HOST_MANIFEST, "Connector crates");
    }

    #[test]
    fn a_crate_without_the_workspace_lints() {
        let root = tidy_tree();
        edit(root.path(), "connectors/beta/Cargo.toml", "[lints]\nworkspace = true\n", "");
        assert_one_problem(root.path(), "connectors/beta/Cargo.toml", "workspace's lints");
    }

    #[test]
    fn an_unused_dependency() {
        let root = tidy_tree();
        edit(root.path(), "connectors/acme/Cargo.toml", "serde = ", "serde_json.workspace = true\nserde = ");
        assert_one_problem(root.path(), "connectors/acme/Cargo.toml", "`serde_json` is never used");
        // Used only in a test is not used: that is a dev-dependency.
        write(root.path(), "connectors/acme/tests/it.rs", "//! Tests.\n\nfn x() { serde_json::json!({}); }\n");
        assert_one_problem(root.path(), "connectors/acme/Cargo.toml", "`serde_json` is never used");
        // A name that merely ends like the dependency does not count.
        write(root.path(), "connectors/acme/src/x.rs", "//! X.\n\nfn x() { my_serde_json::f(); }\n");
        assert_one_problem(root.path(), "connectors/acme/Cargo.toml", "`serde_json` is never used");
        write(root.path(), "connectors/acme/src/x.rs", "//! X.\n\nfn x() { serde_json::json!({}); }\n");
        assert_eq!(check(root.path()), Vec::<String>::new());
    }

    #[test]
    fn a_test_that_sleeps_unmarked() {
        let sleep = concat!("tokio::time::", "sleep(d).await;");
        let root = tidy_tree();
        write(root.path(), "connectors/acme/tests/it.rs", &format!("//! Tests.\n\nasync fn t() {{\n    {sleep}\n}}\n"));
        assert_one_problem(root.path(), "connectors/acme/tests/it.rs:4", "a test sleeps");
        let marked = format!(
            "//! Tests.\n\nasync fn t() {{\n    // {SLEEP_MARKER} the mock CRM must be slow\n    {sleep}\n}}\n"
        );
        write(root.path(), "connectors/acme/tests/it.rs", &marked);
        assert_eq!(check(root.path()), Vec::<String>::new());
        // A marker without a reason does not count.
        write(root.path(), "connectors/acme/tests/it.rs", &marked.replace("the mock CRM must be slow", ""));
        assert_one_problem(root.path(), "connectors/acme/tests/it.rs:5", "a test sleeps");
        // Library code may sleep (a retry back-off); its #[cfg(test)] module may not.
        write(root.path(), "connectors/acme/tests/it.rs", "//! Tests.\n");
        let library = format!(
            "//! Retries.\n\nasync fn back_off() {{\n    {sleep}\n}}\n\n#[cfg(test)]\nmod tests {{\n    {sleep}\n}}\n"
        );
        write(root.path(), "connectors/acme/src/retry.rs", &library);
        assert_one_problem(root.path(), "connectors/acme/src/retry.rs:9", "a test sleeps");
    }
}
