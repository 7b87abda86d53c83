//! The workspace layout of `docs/architecture.md`, checked: which workspace crates each
//! crate may depend on, that the pure crates pull in no I/O, and that no crate's modules
//! import each other in a circle.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Each crate folder, and the workspace crates it may depend on (normal dependencies).
const ALLOWED: &[(&str, &[&str])] = &[
    ("spec", &[]),
    ("light-clients", &["junction-spec"]),
    ("packets", &["junction-spec"]),
    ("governance", &["junction-spec", "junction-packets"]),
    ("state-tree", &[]),
    ("telemetry", &[]),
    ("keys", &["junction-spec", "junction-light-clients"]),
    // The external signer reads key files; the node is its only client in the workspace.
    ("signer", &["junction-keys"]),
    (
        "rpc",
        &["junction-spec", "junction-governance", "junction-hub-app"],
    ),
    (
        "hub-app",
        &[
            "junction-spec",
            "junction-light-clients",
            "junction-packets",
            "junction-governance",
            "junction-state-tree",
        ],
    ),
    (
        "hub",
        &[
            "junction-spec",
            "junction-light-clients",
            "junction-packets",
            "junction-governance",
            "junction-state-tree",
            "junction-hub-app",
            "junction-rpc",
            "junction-keys",
            "junction-signer",
            "junction-telemetry",
        ],
    ),
    ("adapters", &["junction-spec", "junction-light-clients"]),
    // A member's attester, like the relayer, reaches the hub only through the RPC client.
    (
        "attester",
        &[
            "junction-spec",
            "junction-light-clients",
            "junction-rpc",
            "junction-keys",
            "junction-adapters",
        ],
    ),
    // The relayer talks to the hub only through the typed RPC client: never the node crate.
    (
        "relayer",
        &[
            "junction-spec",
            "junction-light-clients",
            "junction-hub-app",
            "junction-rpc",
            "junction-keys",
            "junction-telemetry",
            "junction-adapters",
        ],
    ),
    // The conformance kit judges an adapter with the hub's own light clients, in process.
    (
        "conformance",
        &[
            "junction-spec",
            "junction-light-clients",
            "junction-hub-app",
            "junction-adapters",
        ],
    ),
    (
        "devtools",
        &[
            "junction-spec",
            "junction-light-clients",
            "junction-governance",
            "junction-state-tree",
            "junction-hub",
            "junction-hub-app",
            "junction-rpc",
            "junction-keys",
            "junction-relayer",
            "junction-attester",
            "junction-adapters",
        ],
    ),
    (
        "cli",
        &[
            "junction-spec",
            "junction-light-clients",
            "junction-adapters",
            "junction-hub",
            "junction-rpc",
            "junction-keys",
            "junction-relayer",
            "junction-attester",
            "junction-signer",
            "junction-conformance",
            "junction-devtools",
        ],
    ),
];

/// The pure crates: no I/O, no clock, no async runtime.
const PURE: &[&str] = &[
    "spec",
    "light-clients",
    "packets",
    "governance",
    "state-tree",
    "hub-app",
];
const IO_CRATES: &[&str] = &[
    "tokio", "redb", "axum", "reqwest", "hyper", "nix", "alloy", "libp2p",
];

/// The names in the `[dependencies]` table of a crate's manifest.
fn normal_dependencies(dir: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join(dir).join("Cargo.toml")).unwrap();
    let manifest: toml::Table = toml::from_str(&text).unwrap();
    manifest
        .get("dependencies")
        .and_then(|d| d.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

/// The workspace members, as the root manifest lists them.
fn workspace_members() -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let manifest: toml::Table = toml::from_str(&text).unwrap();
    manifest["workspace"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect()
}

/// A new crate cannot slip past the dependency rules: every member has an entry.
#[test]
fn every_workspace_crate_has_dependency_rules() {
    let listed: BTreeSet<String> = ALLOWED.iter().map(|(d, _)| d.to_string()).collect();
    for member in workspace_members() {
        assert!(
            member == "tests" || listed.contains(&member),
            "workspace crate {member} has no entry in ALLOWED (and docs/architecture.md)"
        );
    }
}

#[test]
fn crates_depend_only_downward_and_pure_crates_do_no_io() {
    for (dir, allowed) in ALLOWED {
        let deps = normal_dependencies(dir);
        for dep in deps.iter().filter(|d| d.starts_with("junction-")) {
            assert!(
                allowed.contains(&dep.as_str()),
                "{dir} depends on {dep}, which docs/architecture.md does not allow"
            );
        }
        if PURE.contains(dir) {
            for dep in &deps {
                assert!(
                    !IO_CRATES.contains(&dep.as_str()),
                    "the pure crate {dir} depends on {dep}"
                );
            }
        }
    }
}

/// What a pure crate must not use outside its tests and test kits: a clock, the file
/// system, the environment, floats, or hash maps (whose iteration order is random).
const IMPURE: &[&str] = &[
    "SystemTime",
    "Instant::now",
    "std::fs",
    "std::env",
    "std::net",
    "f32",
    "f64",
    "HashMap",
    "HashSet",
];

#[test]
fn pure_crates_read_no_clock_files_or_environment_and_use_no_floats() {
    for dir in PURE {
        let mut files = Vec::new();
        rust_files(&root().join(dir).join("src"), &mut files);
        assert!(!files.is_empty(), "{dir}: no sources found");
        for f in files
            .iter()
            .filter(|f| f.file_name().is_some_and(|n| n != "testkit.rs"))
        {
            let text = std::fs::read_to_string(f).unwrap();
            let code = without_tests_and_comments(&text);
            for word in IMPURE {
                let used = code.match_indices(word).any(|(i, _)| {
                    let before = code[..i].chars().next_back();
                    let after = code[i + word.len()..].chars().next();
                    let ident =
                        |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                    !ident(before) && !ident(after)
                });
                assert!(!used, "{}: the pure crate {dir} uses {word}", f.display());
            }
        }
    }
}

/// A source text without its test modules (everything from the first `#[cfg(test)]`) and
/// without comment lines.
fn without_tests_and_comments(text: &str) -> String {
    let before_tests = text.split("#[cfg(test)]").next().unwrap_or("");
    before_tests
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `crate::<module>` names a source text refers to, outside comments and test modules.
fn crate_refs(text: &str) -> BTreeSet<String> {
    let code = without_tests_and_comments(text);
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        if code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let name: String = code[i + "crate::".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The import graph between a crate's top-level modules.
fn module_graph(dir: &str) -> BTreeMap<String, BTreeSet<String>> {
    let src = root().join(dir).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        let refs = crate_refs(&text);
        graph
            .entry(top.clone())
            .or_default()
            .extend(refs.into_iter().filter(|r| *r != top));
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| modules.contains(d));
    }
    graph
}

/// A cycle through `graph`, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, done, path) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(c) = visit(node, graph, &mut done, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_crate_imports_its_own_modules_in_a_circle() {
    // `spec`'s protocol types (encoding, types, gov, relay) still refer to each other; they
    // are the one exception until they are split.
    assert!(
        module_graph("hub").len() > 10,
        "the scan finds the node's modules"
    );
    for (dir, _) in ALLOWED.iter().filter(|(d, _)| *d != "spec") {
        let graph = module_graph(dir);
        if let Some(cycle) = find_cycle(&graph) {
            panic!("{dir}: modules import in a circle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    g.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&g),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    g.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&g), None);
    assert_eq!(
        crate_refs(
            "use crate::node::x; fn f() { crate::sync::lock(); }\n#[cfg(test)]\nuse crate::t;"
        ),
        ["node", "sync"].into_iter().map(String::from).collect()
    );
}
