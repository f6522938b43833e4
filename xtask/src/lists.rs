//! The generated lists that link connectors into the host: the connector block of the root `Cargo.toml`'s
//! `[workspace.dependencies]`, the dependency block in `crates/host/Cargo.toml` and `LINKED` in
//! `crates/host/src/connectors.rs`. `new-connector` edits them and `tidy` checks them.

use anyhow::{Context as _, bail};

/// The root `Cargo.toml`, relative to the workspace root.
pub(crate) const WORKSPACE_MANIFEST: &str = "Cargo.toml";
/// `crates/host/Cargo.toml`, relative to the workspace root.
pub(crate) const HOST_MANIFEST: &str = "crates/host/Cargo.toml";
/// `crates/host/src/connectors.rs`, relative to the workspace root.
pub(crate) const HOST_LINKED: &str = "crates/host/src/connectors.rs";

/// The comment line that opens the connector dependency block of both manifests.
const DEPENDENCY_MARKER: &str = "# Connector crates";
/// The line that opens the `LINKED` list.
const LINKED_START: &str = "pub const LINKED: &[&str] = &[";

/// One of the two manifests with a generated connector dependency block.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Manifest {
    /// The root `[workspace.dependencies]`: where each connector crate is declared, by path.
    Workspace,
    /// The host's `[dependencies]`: where each connector is linked, from the workspace table.
    Host,
}

impl Manifest {
    pub(crate) fn path(self) -> &'static str {
        match self {
            Manifest::Workspace => WORKSPACE_MANIFEST,
            Manifest::Host => HOST_MANIFEST,
        }
    }

    /// The dependency line this manifest holds for connector `name`.
    pub(crate) fn dependency_line(self, name: &str) -> String {
        match self {
            Manifest::Workspace => {
                format!("connector-{name} = {{ path = \"connectors/{name}\", version = \"0.0.0\" }}")
            }
            Manifest::Host => format!("connector-{name}.workspace = true"),
        }
    }
}

/// The line `LINKED` holds for connector `name` when it is written one entry per line.
pub(crate) fn linked_line(name: &str) -> String {
    format!("    connector_{name}::NAME,")
}

/// Where the dependency block is: the lines right after the marker comment that declare `connector-*` packages.
fn dependency_block(lines: &[&str], which: Manifest) -> anyhow::Result<(usize, usize)> {
    let marker = lines.iter().position(|line| line.trim_start().starts_with(DEPENDENCY_MARKER)).with_context(|| {
        format!("{} has no `{DEPENDENCY_MARKER}` comment above the connector dependencies", which.path())
    })?;
    let start = marker + 1;
    let len = lines[start..].iter().take_while(|line| line.trim_start().starts_with("connector-")).count();
    Ok((start, start + len))
}

/// The connector names a manifest's block declares, in file order (`connector-acme = ...` gives `acme`).
pub(crate) fn dependencies(manifest: &str, which: Manifest) -> anyhow::Result<Vec<String>> {
    let lines: Vec<&str> = manifest.lines().collect();
    let (start, end) = dependency_block(&lines, which)?;
    Ok(lines[start..end].iter().map(|line| dependency_name(line).to_owned()).collect())
}

/// [`dependencies`] of the host manifest.
pub(crate) fn host_dependencies(manifest: &str) -> anyhow::Result<Vec<String>> {
    dependencies(manifest, Manifest::Host)
}

/// [`dependencies`] of the root manifest.
pub(crate) fn workspace_dependencies(manifest: &str) -> anyhow::Result<Vec<String>> {
    dependencies(manifest, Manifest::Workspace)
}

/// `acme` from `connector-acme = { path = ... }` or `connector-acme.workspace = true`.
fn dependency_name(line: &str) -> &str {
    let key = line.trim_start().split(['=', '.', ' ']).next().unwrap_or_default();
    key.strip_prefix("connector-").unwrap_or(key)
}

/// The manifest with connector `name` added to its block, which is kept sorted.
pub(crate) fn add_dependency(manifest: &str, which: Manifest, name: &str) -> anyhow::Result<String> {
    let lines: Vec<&str> = manifest.lines().collect();
    let (start, end) = dependency_block(&lines, which)?;
    if lines[start..end].iter().any(|line| dependency_name(line) == name) {
        bail!("{} already declares connector-{name}: the name `{name}` is taken", which.path());
    }
    let new_line = which.dependency_line(name);
    let mut block: Vec<&str> = lines[start..end].to_vec();
    block.push(&new_line);
    block.sort_by_key(|line| dependency_name(line).to_owned());
    Ok(rebuild(manifest, &lines[..start], &block, &lines[end..]))
}

/// The byte range of `LINKED`'s entries: between its opening `&[` and the closing `];`. rustfmt writes a short
/// list on one line and a long one over several, so both shapes are read.
fn linked_span(source: &str) -> anyhow::Result<(usize, usize)> {
    let start = source
        .find(LINKED_START)
        .map(|it| it + LINKED_START.len())
        .with_context(|| format!("{HOST_LINKED} has no `{LINKED_START}` line"))?;
    let len =
        source[start..].find("];").with_context(|| format!("{HOST_LINKED}: the `LINKED` list has no closing `];`"))?;
    Ok((start, start + len))
}

/// The connector names `LINKED` refers to, in file order (`connector_acme::NAME` gives `acme`).
pub(crate) fn linked_entries(source: &str) -> anyhow::Result<Vec<String>> {
    let (start, end) = linked_span(source)?;
    source[start..end]
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            linked_name(entry)
                .map(str::to_owned)
                .with_context(|| format!("{HOST_LINKED}: `{entry}` is not a `connector_<name>::NAME` entry"))
        })
        .collect()
}

fn linked_name(entry: &str) -> Option<&str> {
    entry.trim().strip_prefix("connector_")?.strip_suffix("::NAME")
}

/// `LINKED` with connector `name` added, sorted, one entry per line.
pub(crate) fn add_linked(source: &str, name: &str) -> anyhow::Result<String> {
    let mut entries = linked_entries(source)?;
    if entries.iter().any(|it| it == name) {
        bail!("{HOST_LINKED} already lists connector_{name}: the name `{name}` is taken");
    }
    entries.push(name.to_owned());
    entries.sort();
    let (start, end) = linked_span(source)?;
    let lines: String = entries.iter().map(|it| format!("{}\n", linked_line(it))).collect();
    Ok(format!("{}\n{lines}{}", &source[..start], &source[end..]))
}

fn rebuild(original: &str, head: &[&str], block: &[&str], tail: &[&str]) -> String {
    let mut text = [head, block, tail].concat().join("\n");
    if original.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "[dependencies]\nanyhow.workspace = true\n# Connector crates: every folder.\nconnector-clio = { path = \"../../connectors/clio\" }\nconnector-sandbox = { path = \"../../connectors/sandbox\" }\n\n[dev-dependencies]\nwiremock.workspace = true\n";

    const LINKED: &str =
        "//! Links.\n\npub const LINKED: &[&str] = &[\n    connector_clio::NAME,\n    connector_sandbox::NAME,\n];\n";

    #[test]
    fn reads_the_dependency_block() {
        assert_eq!(host_dependencies(MANIFEST).unwrap(), ["clio", "sandbox"]);
        assert!(host_dependencies("[dependencies]\n").is_err());
    }

    #[test]
    fn adds_a_dependency_in_sorted_place() {
        let edited = add_dependency(MANIFEST, Manifest::Host, "pipedrive").unwrap();
        assert_eq!(host_dependencies(&edited).unwrap(), ["clio", "pipedrive", "sandbox"]);
        assert!(edited.contains("connector-pipedrive.workspace = true\nconnector-sandbox"));
        assert!(edited.ends_with("[dev-dependencies]\nwiremock.workspace = true\n"));
        let root = add_dependency(MANIFEST, Manifest::Workspace, "pipedrive").unwrap();
        assert!(root.contains("connector-pipedrive = { path = \"connectors/pipedrive\", version = \"0.0.0\" }\n"));
        assert_eq!(workspace_dependencies(&root).unwrap(), ["clio", "pipedrive", "sandbox"]);
        let first = add_dependency(MANIFEST, Manifest::Host, "aaa").unwrap();
        assert_eq!(host_dependencies(&first).unwrap(), ["aaa", "clio", "sandbox"]);
    }

    #[test]
    fn refuses_a_dependency_that_is_there() {
        let error = add_dependency(MANIFEST, Manifest::Host, "clio").unwrap_err().to_string();
        assert!(error.contains("taken"), "{error}");
    }

    #[test]
    fn reads_and_extends_linked() {
        assert_eq!(linked_entries(LINKED).unwrap(), ["clio", "sandbox"]);
        let edited = add_linked(LINKED, "pipedrive").unwrap();
        assert_eq!(linked_entries(&edited).unwrap(), ["clio", "pipedrive", "sandbox"]);
        assert!(edited.contains("    connector_pipedrive::NAME,\n    connector_sandbox::NAME,\n];\n"));
        assert!(add_linked(LINKED, "sandbox").unwrap_err().to_string().contains("taken"));
    }

    #[test]
    fn extends_an_empty_linked() {
        let empty = "pub const LINKED: &[&str] = &[];\n";
        assert_eq!(linked_entries(empty).unwrap(), Vec::<String>::new());
        assert_eq!(
            add_linked(empty, "acme").unwrap(),
            "pub const LINKED: &[&str] = &[\n    connector_acme::NAME,\n];\n"
        );
    }

    #[test]
    fn reads_and_extends_linked_as_rustfmt_writes_a_short_list() {
        let one_line = "pub const LINKED: &[&str] = &[connector_sandbox::NAME];\n";
        assert_eq!(linked_entries(one_line).unwrap(), ["sandbox"]);
        let two = "pub const LINKED: &[&str] = &[connector_b::NAME, connector_a::NAME]; // trailing\n";
        assert_eq!(linked_entries(two).unwrap(), ["b", "a"]);
        assert_eq!(
            add_linked(one_line, "acme").unwrap(),
            "pub const LINKED: &[&str] = &[\n    connector_acme::NAME,\n    connector_sandbox::NAME,\n];\n"
        );
    }

    #[test]
    fn comments_inside_linked_are_not_entries() {
        let source = "pub const LINKED: &[&str] = &[\n    // Kept sorted.\n    connector_a::NAME, // the first\n];\n";
        assert_eq!(linked_entries(source).unwrap(), ["a"]);
    }

    #[test]
    fn a_malformed_linked_entry_is_an_error() {
        let source = "pub const LINKED: &[&str] = &[\n    \"acme\",\n];\n";
        assert!(linked_entries(source).unwrap_err().to_string().contains("\"acme\""));
    }
}
