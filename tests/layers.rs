//! The layering rule (docs/architecture.md, "Layers"), checked on the
//! crates' manifests: every dependency between tickwire crates points to a
//! lower layer (or, inside the stage layer, only where listed), no
//! appliance crate depends on a development tool, and the venue simulator
//! depends on no tickwire crate at all.

use std::collections::BTreeMap;
use std::path::Path;

/// Layer of each workspace crate, bottom (0) to top.
const LAYERS: &[(&str, u8)] = &[
    ("tickwire-core", 0),
    ("tickwire-strategy", 1),
    ("tickwire-md", 1),
    ("tickwire-book", 1),
    ("tickwire-risk", 1),
    ("tickwire-router", 1),
    ("tickwire-capture", 1),
    ("tickwire-config", 2),
    ("tickwire-runtime", 3),
    ("tickwire-telemetry", 3),
    ("tickwire-hostcheck", 3),
    ("tickwire", 4),
];

/// The only dependencies allowed between crates of one layer.
const SAME_LAYER: &[(&str, &str)] = &[
    // The book stage runs the strategy on its own executor.
    ("tickwire-book", "tickwire-strategy"),
    // Reports are built from the pipeline's output.
    ("tickwire-telemetry", "tickwire-runtime"),
];

/// Development tools: workspace members that are not the product.
const TOOLS: &[&str] = &["tickwire-venue-sim"];

fn manifest(dir: &Path) -> toml::Table {
    let text = std::fs::read_to_string(dir.join("Cargo.toml"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    text.parse().expect("manifest parses")
}

/// Every workspace crate's name and its tickwire dependencies.
fn graph() -> BTreeMap<String, Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ws = manifest(root);
    let members = ws["workspace"]["members"].as_array().expect("members");
    let mut g = BTreeMap::new();
    for m in members {
        let dir = root.join(m.as_str().expect("member path"));
        let man = manifest(&dir);
        let name = man["package"]["name"].as_str().expect("name").to_string();
        let deps = man
            .get("dependencies")
            .and_then(|d| d.as_table())
            .map(|d| {
                d.keys()
                    .filter(|k| k.starts_with("tickwire"))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        g.insert(name, deps);
    }
    g
}

fn layer(name: &str) -> Option<u8> {
    LAYERS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
}

#[test]
fn every_dependency_points_down_the_layers() {
    let g = graph();
    for (name, deps) in &g {
        if TOOLS.contains(&name.as_str()) {
            continue;
        }
        let l = layer(name).unwrap_or_else(|| panic!("{name} has no layer in this test"));
        for d in deps {
            if TOOLS.contains(&d.as_str()) {
                assert_eq!(name, "tickwire", "{name} depends on the tool {d}");
                continue;
            }
            let dl = layer(d).unwrap_or_else(|| panic!("{d} has no layer"));
            let allowed = dl < l || SAME_LAYER.contains(&(name.as_str(), d.as_str()));
            assert!(
                allowed,
                "{name} (layer {l}) must not depend on {d} (layer {dl})"
            );
        }
    }
    assert!(g.len() >= LAYERS.len(), "a crate is missing: {g:?}");
}

#[test]
fn the_venue_simulator_shares_no_code_with_the_appliance() {
    let g = graph();
    let sim = g.get("tickwire-venue-sim").expect("simulator is a member");
    assert!(sim.is_empty(), "the simulator depends on {sim:?}");
}

#[test]
fn the_vocabulary_crate_has_no_io_dependencies() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let man = manifest(&root.join("src/core"));
    let deps: Vec<&String> = man["dependencies"]
        .as_table()
        .expect("deps")
        .keys()
        .collect();
    for io in [
        "glommio",
        "ureq",
        "tiny_http",
        "memmap2",
        "flate2",
        "rustls",
        "core_affinity",
    ] {
        assert!(
            !deps.iter().any(|d| d.as_str() == io),
            "tickwire-core must not depend on {io}"
        );
    }
}
