//! The Dockerfile's build stage must copy every file Cargo.toml needs to load: a target whose
//! file is missing fails `cargo build` in the image even for `--bin shoal`. No registry is
//! reachable on the test machines, so the image itself is not built here; this catches the
//! drift that broke it once (bench targets added, `benches/` not copied).

use std::collections::BTreeSet;

/// Top-level files and folders the manifest refers to.
fn needed_by_manifest(manifest: &str) -> BTreeSet<String> {
    let mut needed: BTreeSet<String> = ["Cargo.toml", "Cargo.lock", "src"]
        .into_iter()
        .map(String::from)
        .collect();
    for line in manifest.lines().map(str::trim) {
        if line == "[[bench]]" {
            needed.insert("benches".into());
        }
        if let Some(path) = line.strip_prefix("path = \"") {
            if let Some(top) = path.trim_end_matches('"').split('/').next() {
                needed.insert(top.to_string());
            }
        }
    }
    needed
}

/// What the build stage's `COPY` lines bring in (their sources, top-level names).
fn copied_by_dockerfile(dockerfile: &str) -> BTreeSet<String> {
    let mut stage = 0;
    dockerfile
        .lines()
        .filter(|line| {
            if line.starts_with("FROM ") {
                stage += 1;
            }
            stage == 1
        })
        .filter_map(|line| line.strip_prefix("COPY "))
        .filter(|args| !args.starts_with("--from"))
        .flat_map(|args| {
            let words: Vec<&str> = args.split_whitespace().collect();
            // The last word is the destination.
            words[..words.len().saturating_sub(1)]
                .iter()
                .map(|source| source.trim_start_matches("./").trim_end_matches('/'))
                .map(|source| source.split('/').next().unwrap_or_default().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn build_stage_copies_what_the_manifest_needs() {
    let root = env!("CARGO_MANIFEST_DIR");
    let manifest = std::fs::read_to_string(format!("{root}/Cargo.toml")).expect("Cargo.toml");
    let dockerfile = std::fs::read_to_string(format!("{root}/Dockerfile")).expect("Dockerfile");
    let missing: Vec<String> = needed_by_manifest(&manifest)
        .difference(&copied_by_dockerfile(&dockerfile))
        .cloned()
        .collect();
    assert!(
        missing.is_empty(),
        "the Dockerfile's build stage does not copy {missing:?}"
    );
}

#[test]
fn a_missing_bench_folder_is_reported() {
    let manifest = "[[bench]]\nname = \"writes\"\n[[test]]\npath = \"compat-tests/a.rs\"\n";
    let dockerfile = "FROM rust AS build\nCOPY Cargo.toml Cargo.lock ./\nCOPY src ./src\nCOPY compat-tests ./compat-tests\nRUN cargo build\n\nFROM debian\nCOPY --from=build /x /y\n";
    let missing: Vec<String> = needed_by_manifest(manifest)
        .difference(&copied_by_dockerfile(dockerfile))
        .cloned()
        .collect();
    assert_eq!(missing, vec!["benches".to_string()]);
}
