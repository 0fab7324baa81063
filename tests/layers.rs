//! The layer rule of `src/` (README, "Layout"): every folder is a layer, and
//! a file imports only from its own folder and from the layers below it in
//! [`LAYERS`]; within a folder the files' imports form no cycle.
//!
//! Imports are the `crate::<name>` and `super::<name>` paths in the code
//! (comments and docs are skipped). `crate::<layer>` names a layer and
//! `crate::error` the error type, which every layer may use; any other
//! `crate::<name>` is the API that `lib.rs` re-exports ([`ROOT`]). `lib.rs`
//! itself declares the layers and may name any of them.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// The layers, top first. A file may import from its own layer and the
/// layers after it.
const LAYERS: [&str; 9] = [
    "xla", "ffi", ROOT, "ops", "rows", "runtime", "rng", "math", "error",
];

/// The layer of the items `lib.rs` re-exports (`crate::gumbel_softmax`,
/// `crate::Float`, ...): the safe Rust API, which only the C layer calls.
const ROOT: &str = "lib.rs re-exports";

/// One `.rs` file of `src/`: its layer, its name within the layer, and the
/// paths it imports as `(layer, name)`: the layer a `crate::` path points
/// to, and the file of that layer it names (or `""`).
struct Source {
    layer: String,
    name: String,
    imports: Vec<(String, String)>,
}

/// The identifier at the start of `s`.
fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The code of `text` without comments (`//` to the end of a line).
fn code_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|line| line.split("//").next().unwrap_or(""))
}

/// The `crate::` and `super::` paths of a file in `layer` (`super::` stays in
/// the file's folder: it names a sibling file or the folder's `mod.rs`).
fn imports(layer: &str, text: &str, path: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for line in code_lines(text) {
        for (at, _) in line.match_indices("crate::") {
            let rest = &line[at + "crate::".len()..];
            let first = ident(rest);
            assert!(
                !first.is_empty(),
                "{}: write one `use crate::<layer>::...` per layer, not `{}`",
                path.display(),
                line.trim()
            );
            let target = if first == "error" || LAYERS.contains(&first) {
                first
            } else {
                ROOT
            };
            let name = rest[first.len()..].strip_prefix("::").map_or("", ident);
            found.push((target.to_string(), name.to_string()));
        }
        for (at, _) in line.match_indices("super::") {
            let name = ident(&line[at + "super::".len()..]);
            found.push((layer.to_string(), name.to_string()));
        }
    }
    found
}

/// Every `.rs` file of `src/`, except `lib.rs`.
fn sources() -> Vec<Source> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut sources = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let relative = path.strip_prefix(&src).expect("a path under src/");
            let parts: Vec<&str> = relative.iter().map(|p| p.to_str().unwrap()).collect();
            let (layer, name) = match parts[..] {
                ["lib.rs"] => continue,
                [file] => (file.trim_end_matches(".rs"), "".into()),
                [folder, file] => (folder, file.trim_end_matches(".rs").to_string()),
                _ => panic!(
                    "{}: src/ holds layer folders one level deep",
                    path.display()
                ),
            };
            assert!(
                LAYERS.contains(&layer),
                "{}: `{layer}` is not a layer; add it to LAYERS (and to the README)",
                path.display()
            );
            let text = fs::read_to_string(&path).expect("a source file");
            sources.push(Source {
                layer: layer.to_string(),
                imports: imports(layer, &text, &path),
                name,
            });
        }
    }
    sources
}

fn rank(layer: &str) -> usize {
    LAYERS.iter().position(|l| *l == layer).expect("a layer")
}

/// The imports that point up: `layer/name -> target` for each.
fn upward_imports(sources: &[Source]) -> Vec<String> {
    let mut up = Vec::new();
    for s in sources {
        for (target, _) in &s.imports {
            if rank(target) < rank(&s.layer) {
                up.push(format!("{}/{} -> {target}", s.layer, s.name));
            }
        }
    }
    up.sort();
    up.dedup();
    up
}

/// A cycle among the files of one folder, as `a -> b -> ... -> a`, if any.
fn cycle_in(folder: &str, sources: &[Source]) -> Option<String> {
    let files: Vec<&Source> = sources.iter().filter(|s| s.layer == folder).collect();
    let names: Vec<&str> = files.iter().map(|s| s.name.as_str()).collect();
    let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &files {
        for (target, name) in &s.imports {
            if target == folder && name != &s.name && names.contains(&name.as_str()) {
                edges
                    .entry(s.name.as_str())
                    .or_default()
                    .push(name.as_str());
            }
        }
    }
    /// Depth-first search from `node`, with `path` the files on the way.
    fn visit<'a>(
        node: &'a str,
        edges: &BTreeMap<&'a str, Vec<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut Vec<&'a str>,
    ) -> Option<String> {
        if let Some(at) = path.iter().position(|n| *n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node);
            return Some(cycle.join(" -> "));
        }
        if done.contains(&node) {
            return None;
        }
        path.push(node);
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.push(node);
        None
    }
    let mut done = Vec::new();
    names
        .iter()
        .find_map(|n| visit(n, &edges, &mut Vec::new(), &mut done))
        .map(|cycle| format!("{folder}: {cycle}"))
}

#[test]
fn every_import_points_down_the_layers() {
    let sources = sources();
    assert!(sources.len() > 30, "found only {} files", sources.len());
    let up = upward_imports(&sources);
    assert!(
        up.is_empty(),
        "imports that point up the layers {LAYERS:?}:\n{}",
        up.join("\n")
    );
}

#[test]
fn the_files_of_a_layer_import_each_other_without_a_cycle() {
    let sources = sources();
    let cycles: Vec<String> = LAYERS
        .iter()
        .filter_map(|folder| cycle_in(folder, &sources))
        .collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}
