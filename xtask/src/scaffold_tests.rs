//! End-to-end test of `new-connector`: a connector generated into a copy of the workspace builds, passes its own
//! tests and is listed by `callbridge connectors`; refused names write nothing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::lists::{HOST_LINKED, HOST_MANIFEST, WORKSPACE_MANIFEST};
use crate::{new_connector, tidy};

/// The generated connector's name; the copy is thrown away afterwards.
const NAME: &str = "acme";

/// The version the copy's own packages get (see [`isolate_versions`]).
const COPY_VERSION: &str = "0.0.0-scaffold-test";

/// Copies the workspace's sources (not `target/`, not version control) to `to`.
fn copy_workspace(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let file_name = entry.file_name();
        if file_name == "target" || file_name == ".git" {
            continue;
        }
        let (source, destination) = (entry.path(), to.join(&file_name));
        if entry.file_type().unwrap().is_dir() {
            fs::create_dir_all(&destination).unwrap();
            copy_workspace(&source, &destination);
        } else if entry.file_type().unwrap().is_file() {
            fs::copy(&source, &destination).unwrap();
        }
    }
}

/// Gives every workspace package of the copy its own version.
///
/// Cargo names a workspace crate's build output after its package id, in which a path is relative to the workspace
/// root; so the copy's crates would otherwise overwrite the real workspace's in the shared target directory, with
/// the copy's paths (`env!("CARGO_MANIFEST_DIR")`) compiled in. Another version gives them other names, while
/// crates.io dependencies are still shared.
fn isolate_versions(dir: &Path) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            isolate_versions(&path);
        } else if path.file_name().is_some_and(|it| it == "Cargo.toml") {
            let manifest = fs::read_to_string(&path).unwrap();
            fs::write(&path, manifest.replace("version = \"0.0.0\"", &format!("version = \"{COPY_VERSION}\"")))
                .unwrap();
        }
    }
}

/// `cargo <args>` in `dir`. Intermediate artifacts go to the real workspace's build directory, so the build cache
/// is reused; final artifacts (binaries) go to `dir/target`, so the copy never replaces the real workspace's
/// `target/debug/callbridge` while other tests may run it.
fn cargo(dir: &Path, build_dir: &Path, args: &[&str]) -> std::process::Output {
    #[expect(clippy::disallowed_methods, reason = "build tooling finds cargo and its target folder")]
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(dir)
        .env("CARGO_BUILD_BUILD_DIR", build_dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo {} failed in the copy:\n{}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn host_lists(root: &Path) -> (String, String) {
    (fs::read_to_string(root.join(HOST_MANIFEST)).unwrap(), fs::read_to_string(root.join(HOST_LINKED)).unwrap())
}

#[test]
fn a_generated_connector_builds_passes_its_tests_and_is_listed() {
    let real_root = crate::workspace_root();
    let copy = tempfile::tempdir().unwrap();
    copy_workspace(&real_root, copy.path());
    let root = copy.path();

    let written = new_connector::run(root, NAME).unwrap();
    isolate_versions(root);
    assert!(written.contains(&PathBuf::from("connectors/acme/src/lib.rs")), "{written:?}");
    let (manifest, linked) = host_lists(root);
    assert!(manifest.contains("connector-acme.workspace = true"));
    let workspace = fs::read_to_string(root.join(WORKSPACE_MANIFEST)).unwrap();
    assert!(workspace.contains("connector-acme = { path = \"connectors/acme\", version = \"0.0.0-scaffold-test\" }"));
    assert!(linked.contains("connector_acme::NAME,"));
    // The scaffold itself follows every tidy rule.
    let problems: Vec<String> = tidy::check(root).into_iter().filter(|it| it.contains(NAME)).collect();
    assert!(problems.is_empty(), "the generated connector is not tidy:\n{}", problems.join("\n"));

    // The same name again is refused, and nothing changes.
    let error = new_connector::run(root, NAME).unwrap_err().to_string();
    assert!(error.contains("taken"), "{error}");
    assert_eq!(host_lists(root), (manifest, linked));

    let build_dir = real_root.join("target");
    cargo(root, &build_dir, &["build"]);
    cargo(root, &build_dir, &["test", "-p", "connector-acme"]);
    // The scaffold is formatted as the workspace formats.
    cargo(root, &build_dir, &["fmt", "-p", "connector-acme", "--check"]);

    let listed = cargo(
        root,
        &build_dir,
        &["run", "--quiet", "-p", "callbridge-host", "--bin", "callbridge", "--", "connectors", "--json"],
    );
    let json = String::from_utf8(listed.stdout).unwrap();
    assert!(json.contains("\"name\": \"acme\""), "callbridge connectors does not list acme:\n{json}");
    assert!(json.contains("\"displayName\": \"Acme\""), "{json}");
}

/// A tree with just what `new-connector` reads: the three lists and one connector folder.
fn small_tree() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("crates/host/src")).unwrap();
    fs::create_dir_all(root.path().join("connectors/sandbox/src")).unwrap();
    fs::write(
        root.path().join(WORKSPACE_MANIFEST),
        "[workspace.dependencies]\n# Connector crates: sorted.\nconnector-sandbox = { path = \"connectors/sandbox\", version = \"0.0.0\" }\n",
    )
    .unwrap();
    fs::write(
        root.path().join(HOST_MANIFEST),
        "[dependencies]\n# Connector crates: sorted.\nconnector-sandbox.workspace = true\n",
    )
    .unwrap();
    fs::write(root.path().join(HOST_LINKED), "//! Links.\npub const LINKED: &[&str] = &[connector_sandbox::NAME];\n")
        .unwrap();
    root
}

/// Every file under `root`, relative, sorted.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push((path.strip_prefix(root).unwrap().to_path_buf(), fs::read(&path).unwrap()));
            }
        }
    }
    let mut files = Vec::new();
    walk(root, root, &mut files);
    files.sort();
    files
}

#[test]
fn refused_names_write_nothing() {
    let root = small_tree();
    let before = snapshot(root.path());
    for (name, reason) in [
        ("Acme", "^[a-z][a-z0-9_]*$"),
        ("my-crm", "^[a-z][a-z0-9_]*$"),
        ("1crm", "^[a-z][a-z0-9_]*$"),
        ("", "^[a-z][a-z0-9_]*$"),
        ("../evil", "^[a-z][a-z0-9_]*$"),
        ("sandbox", "taken"),
        ("connector", "already uses"),
    ] {
        let error = new_connector::run(root.path(), name).unwrap_err().to_string();
        assert!(error.contains(reason), "{name:?}: {error}");
        assert_eq!(snapshot(root.path()), before, "{name:?} changed the tree");
    }
}

#[test]
fn a_name_already_linked_without_a_folder_is_refused() {
    let root = small_tree();
    let linked = root.path().join(HOST_LINKED);
    fs::write(&linked, "pub const LINKED: &[&str] = &[connector_acme::NAME, connector_sandbox::NAME];\n").unwrap();
    let before = snapshot(root.path());
    let error = new_connector::run(root.path(), "acme").unwrap_err().to_string();
    assert!(error.contains("taken"), "{error}");
    assert_eq!(snapshot(root.path()), before);
}

#[test]
fn a_good_name_writes_the_crate_and_both_lists() {
    let root = small_tree();
    new_connector::run(root.path(), "zeta_crm").unwrap();
    let (manifest, linked) = host_lists(root.path());
    assert!(manifest.ends_with("connector-sandbox.workspace = true\nconnector-zeta_crm.workspace = true\n"));
    let workspace = fs::read_to_string(root.path().join(WORKSPACE_MANIFEST)).unwrap();
    assert!(workspace.ends_with(
        "connector-sandbox = { path = \"connectors/sandbox\", version = \"0.0.0\" }\nconnector-zeta_crm = { path = \"connectors/zeta_crm\", version = \"0.0.0\" }\n"
    ));
    assert_eq!(
        linked,
        "//! Links.\npub const LINKED: &[&str] = &[\n    connector_sandbox::NAME,\n    connector_zeta_crm::NAME,\n];\n"
    );
    let lib = fs::read_to_string(root.path().join("connectors/zeta_crm/src/lib.rs")).unwrap();
    assert!(lib.contains("pub const NAME: &str = \"zeta_crm\";"));
    assert!(lib.contains("display_name: \"ZetaCrm\""));
    let cargo_toml = fs::read_to_string(root.path().join("connectors/zeta_crm/Cargo.toml")).unwrap();
    assert!(cargo_toml.contains("name = \"connector-zeta_crm\""));
    for (relative, _) in new_connector::TEMPLATES {
        assert!(root.path().join("connectors/zeta_crm").join(relative).is_file(), "{relative}");
    }
}
