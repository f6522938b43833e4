//! `cargo xtask new-connector <name>`: writes `connectors/<name>` from the templates in `xtask/templates/connector/`
//! and links the crate into the host (its dependency and its `LINKED` entry, both lists kept sorted).
//!
//! Templates use three placeholders: `{{name}}` (`google_sheets`), `{{Name}}` (`GoogleSheets`) and `{{NAME}}`
//! (`GOOGLE_SHEETS`). Everything is checked before anything is written, so a refused name leaves the tree as it was.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::lists::{self, HOST_LINKED, Manifest};

/// Each generated file: its path inside `connectors/<name>/` and its template (the template file name plus `.tmpl`).
pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../templates/connector/Cargo.toml.tmpl")),
    ("README.md", include_str!("../templates/connector/README.md.tmpl")),
    ("src/lib.rs", include_str!("../templates/connector/src/lib.rs.tmpl")),
    ("src/api.rs", include_str!("../templates/connector/src/api.rs.tmpl")),
    ("src/connector.rs", include_str!("../templates/connector/src/connector.rs.tmpl")),
    ("src/tests.rs", include_str!("../templates/connector/src/tests.rs.tmpl")),
    ("tests/it/main.rs", include_str!("../templates/connector/tests/it/main.rs.tmpl")),
    ("tests/it/fixtures/me.json", include_str!("../templates/connector/tests/it/fixtures/me.json.tmpl")),
    (
        "tests/it/fixtures/contacts_search.json",
        include_str!("../templates/connector/tests/it/fixtures/contacts_search.json.tmpl"),
    ),
    (
        "tests/it/fixtures/activity_created.json",
        include_str!("../templates/connector/tests/it/fixtures/activity_created.json.tmpl"),
    ),
    ("tests/it/fixtures/activity.json", include_str!("../templates/connector/tests/it/fixtures/activity.json.tmpl")),
];

/// `^[a-z][a-z0-9_]*$`, the registry's rule for connector names.
pub(crate) fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|first| first.is_ascii_lowercase())
        && chars.all(|it| it.is_ascii_lowercase() || it.is_ascii_digit() || it == '_')
}

/// `google_sheets` as a type name: `GoogleSheets`.
pub(crate) fn camel_case(name: &str) -> String {
    name.split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

/// A template with its placeholders filled in for connector `name`.
pub(crate) fn render(template: &str, name: &str) -> String {
    template
        .replace("{{name}}", name)
        .replace("{{Name}}", &camel_case(name))
        .replace("{{NAME}}", &name.to_ascii_uppercase())
}

/// Refuses a name the scaffold cannot use, with the reason.
fn check_name(root: &Path, name: &str) -> anyhow::Result<()> {
    if !is_valid_name(name) {
        bail!(
            "`{name}` is not a valid connector name: it must match ^[a-z][a-z0-9_]*$ \
             (lower-case ASCII letters, digits and `_`, starting with a letter)"
        );
    }
    let folder = root.join("connectors").join(name);
    if folder.exists() {
        bail!("connectors/{name} already exists: the name `{name}` is taken");
    }
    // The connector's type is named after it; it must not shadow a type the generated code uses, nor be `Self`.
    let type_name = camel_case(name);
    let clashes = type_name == "Self"
        || TEMPLATES.iter().any(|(_, template)| {
            template.split(|it: char| !(it.is_ascii_alphanumeric() || it == '_')).any(|word| word == type_name)
        });
    if clashes {
        bail!("`{name}` would name the connector type `{type_name}`, which the generated code already uses");
    }
    Ok(())
}

/// Creates `connectors/<name>` and links it into the host; returns the files written, relative to `root`.
pub(crate) fn run(root: &Path, name: &str) -> anyhow::Result<Vec<PathBuf>> {
    check_name(root, name)?;
    // Every edit is computed (and may refuse) before the first file is written.
    let mut manifests = Vec::new();
    for which in [Manifest::Workspace, Manifest::Host] {
        let path = which.path();
        let text = fs::read_to_string(root.join(path)).with_context(|| format!("cannot read {path}"))?;
        manifests.push((path, lists::add_dependency(&text, which, name)?));
    }
    let linked_path = root.join(HOST_LINKED);
    let linked = fs::read_to_string(&linked_path).with_context(|| format!("cannot read {HOST_LINKED}"))?;
    let linked = lists::add_linked(&linked, name)?;

    let mut written = Vec::new();
    let folder = Path::new("connectors").join(name);
    for (relative, template) in TEMPLATES {
        let path = folder.join(relative);
        let absolute = root.join(&path);
        if let Some(parent) = absolute.parent() {
            fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::write(&absolute, render(template, name)).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    for (path, text) in manifests {
        fs::write(root.join(path), text).with_context(|| format!("cannot write {path}"))?;
        written.push(PathBuf::from(path));
    }
    fs::write(&linked_path, linked).with_context(|| format!("cannot write {HOST_LINKED}"))?;
    written.push(PathBuf::from(HOST_LINKED));
    Ok(written)
}

/// What to tell the author once the crate exists.
pub(crate) fn next_steps(name: &str, written: &[PathBuf]) -> String {
    let files: Vec<String> = written.iter().map(|it| format!("  {}", it.display())).collect();
    format!(
        "Created connector `{name}` (package connector-{name}):\n{}\n\nNext steps:\n  \
         cargo test -p connector-{name}           the generated tests pass as they are\n  \
         edit connectors/{name}/src/connector.rs and src/api.rs for the CRM's real API, then the fixtures and tests\n  \
         cargo run -p callbridge-host -- connectors   lists `{name}`\n  \
         docs/connector-guide.md                  walks through the rest",
        files.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_registry_rule() {
        for good in ["acme", "google_sheets", "x2", "a_1"] {
            assert!(is_valid_name(good), "{good}");
        }
        for bad in ["", "Acme", "1crm", "my-crm", "_acme", "acme crm", "ácme"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn camel_case_joins_the_parts() {
        assert_eq!(camel_case("acme"), "Acme");
        assert_eq!(camel_case("google_sheets"), "GoogleSheets");
        assert_eq!(camel_case("x2_crm"), "X2Crm");
        assert_eq!(camel_case("trailing_"), "Trailing");
    }

    #[test]
    fn render_fills_every_placeholder() {
        assert_eq!(
            render("{{name}} {{Name}} {{NAME}} {{name}}", "google_sheets"),
            "google_sheets GoogleSheets GOOGLE_SHEETS google_sheets"
        );
        for (path, template) in TEMPLATES {
            let rendered = render(template, "acme");
            assert!(
                !rendered.contains("{{name}}") && !rendered.contains("{{Name}}") && !rendered.contains("{{NAME}}"),
                "{path}"
            );
        }
    }

    #[test]
    fn every_template_file_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/connector");
        let mut on_disk = Vec::new();
        collect_files(&dir, &dir, &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = TEMPLATES.iter().map(|(path, _)| format!("{path}.tmpl")).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    fn collect_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                collect_files(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }

    #[test]
    fn a_name_that_shadows_a_type_of_the_scaffold_is_refused() {
        let root = tempfile::tempdir().unwrap();
        for name in ["connector", "secret", "self"] {
            let error = check_name(root.path(), name).unwrap_err().to_string();
            assert!(error.contains("already uses"), "{name}: {error}");
        }
        assert!(check_name(root.path(), "acme").is_ok());
    }
}
