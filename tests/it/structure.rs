//! The shape of the code, held by a test rather than by review: every part
//! (top-level module) has a rank in one list, [`LAYERS`], and imports only parts of a
//! lower rank (never up, never sideways) — ARCHITECTURE.md renders the same list; no
//! two source files import each other; and no file holds more than 800 lines of
//! non-test code. (Functions over 100
//! lines are clippy's `too_many_lines`, run by the test command.)
//!
//! Imports are read from the paths in the code (`crate::a::b`, `super::x`,
//! `self::x`, and `use` groups), leaving out every `#[cfg(test)]` item.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_NON_TEST_LINES: usize = 800;

/// The parts, lowest first, and what each rank holds. A part imports only parts of a
/// lower rank: the core never reaches up into a front end, and two parts of one rank
/// never lean on each other.
const LAYERS: &[(&[&str], &str)] = &[
    (
        &["cancel", "clock", "diagnosis", "folders", "printable", "secret", "sysexits", "tls"],
        "shared bits: cancelling, time, diagnoses, the app's folders, safe text, the redacting secret, exit codes, TLS",
    ),
    (&["logging", "model"], "plain data, validation, guards, the provider catalogue; where logs go"),
    (&["store"], "the config file, secrets, the Workspace every change goes through, audit, history"),
    (&["probe"], "sockets, deadlines, SMTP and IMAP sessions, staged reports"),
    (&["oauth"], "sign-in flows, tokens, refresh"),
    (&["mailapi"], "mail through the providers' HTTP APIs: Microsoft Graph, the Gmail API"),
    (&["checks"], "the one way from a setting to a working connection"),
    (
        &["bridge", "health", "migration", "readiness", "schedule", "send"],
        "what is built on a working connection: the bridge, health, the migration, readiness, the schedule, sendmail",
    ),
    (&["alerts", "fuzz"], "telling a change of health; the fuzzing entry points"),
    (&["cli", "ui"], "the two front ends (the UI opens no socket)"),
    (&["start"], "what both binaries run: the window or the CLI"),
];

type Module = Vec<String>;

struct SourceFile {
    path: PathBuf,
    /// The module path; `mod.rs`/`lib.rs`/`main.rs` name their folder.
    module: Module,
    is_folder_module: bool,
    code: String,
}

fn source_files(dir: &Path, root: &Path, found: &mut Vec<SourceFile>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, root, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).unwrap().with_extension("");
            let mut module: Module = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            let is_folder_module = matches!(module.last().map(String::as_str), Some("mod" | "lib" | "main"));
            if is_folder_module {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = without_test_items(&text);
            found.push(SourceFile { path, module, is_folder_module, code });
        }
    }
}

/// `text` without its `#[cfg(test)]` items — a `mod tests { … }` or a single
/// test-only function or import — wherever they are in the file (non-test code after a
/// test item still counts).
fn without_test_items(text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        kept.push_str(&rest[..at]);
        let item = &rest[at + "#[cfg(test)]".len()..];
        let end = match (item.find('{'), item.find(';')) {
            (Some(open), Some(semi)) if semi < open => semi + 1,
            (Some(open), _) => {
                let mut depth = 0usize;
                let mut close = item.len();
                for (i, c) in item[open..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                close = open + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                close
            }
            (None, Some(semi)) => semi + 1,
            (None, None) => item.len(),
        };
        rest = &item[end..];
    }
    kept.push_str(rest);
    kept
}

fn without_comments(code: &str) -> String {
    code.lines().map(|line| line.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// Every path the code names from `crate`, `super` or `self`, with `use` groups expanded.
fn named_paths(code: &str) -> Vec<Vec<String>> {
    let code = without_comments(code);
    let bytes = code.as_bytes();
    let mut paths = Vec::new();
    for head in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(head) {
            let start = from + at;
            from = start + head.len();
            let before = start.checked_sub(1).map(|i| bytes[i]);
            if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':') {
                continue;
            }
            expand(&code[start..], Vec::new(), &mut paths);
        }
    }
    paths
}

/// Reads `a::b::{c, d::e}` at the start of `text` into full paths.
fn expand(text: &str, prefix: Vec<String>, paths: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    let mut rest = text;
    loop {
        let word_len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
        if word_len == 0 {
            break;
        }
        path.push(rest[..word_len].to_owned());
        rest = &rest[word_len..];
        if let Some(after) = rest.strip_prefix("::") {
            rest = after;
            if let Some(group) = rest.strip_prefix('{') {
                let mut depth = 0;
                let mut item_start = 0;
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            expand(group[item_start..i].trim_start(), path.clone(), paths);
                            return;
                        }
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            expand(group[item_start..i].trim_start(), path.clone(), paths);
                            item_start = i + 1;
                        }
                        _ => {}
                    }
                }
                return;
            }
        } else {
            break;
        }
    }
    paths.push(path);
}

/// The file a path names: the longest prefix that is a module of the crate.
fn resolve(file: &SourceFile, path: &[String], modules: &BTreeSet<Module>) -> Option<Module> {
    let base: Module = if file.is_folder_module {
        file.module.clone()
    } else {
        file.module[..file.module.len().saturating_sub(1)].to_vec()
    };
    let mut full: Module = match path.first().map(String::as_str) {
        Some("crate") => Vec::new(),
        Some("self") if file.is_folder_module => base.clone(),
        Some("self") => file.module.clone(),
        Some("super") if file.is_folder_module => base[..base.len().saturating_sub(1)].to_vec(),
        Some("super") => base.clone(),
        _ => return None,
    };
    let mut rest = &path[1..];
    while rest.first().is_some_and(|s| s == "super") {
        full.pop();
        rest = &rest[1..];
    }
    full.extend(rest.iter().cloned());
    (1..=full.len()).rev().map(|n| full[..n].to_vec()).find(|m| modules.contains(m))
}

fn import_graph() -> (Vec<SourceFile>, BTreeMap<Module, BTreeSet<Module>>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&root, &root, &mut files);
    let modules: BTreeSet<Module> = files.iter().map(|f| f.module.clone()).collect();
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for file in &files {
        let targets = edges.entry(file.module.clone()).or_default();
        for path in named_paths(&file.code) {
            if let Some(target) = resolve(file, &path, &modules)
                && target != file.module
                && !target.is_empty()
            {
                targets.insert(target);
            }
        }
    }
    (files, edges)
}

#[test]
fn no_two_files_and_no_two_parts_import_each_other() {
    let (_, edges) = import_graph();
    let mut both_ways = Vec::new();
    for (from, targets) in &edges {
        for to in targets {
            if from < to && !from.is_empty() && edges.get(to).is_some_and(|back| back.contains(from)) {
                both_ways.push(format!("{} <-> {}", from.join("::"), to.join("::")));
            }
        }
    }
    let mut parts: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, targets) in &edges {
        for to in targets {
            if let (Some(a), Some(b)) = (from.first(), to.first())
                && a != b
            {
                parts.entry(a).or_default().insert(b);
            }
        }
    }
    for (a, targets) in &parts {
        for b in targets {
            if a < b && parts.get(b).is_some_and(|back| back.contains(a)) {
                both_ways.push(format!("part {a} <-> part {b}"));
            }
        }
    }
    // The check itself must see imports: the CLI's dispatcher reaches its handlers' shared parts.
    assert!(
        edges[&vec!["cli".to_owned(), "settings".to_owned()]].contains(&vec!["cli".to_owned(), "failure".to_owned()])
    );
    assert!(both_ways.is_empty(), "files or parts that import each other:\n{}", both_ways.join("\n"));
}

fn rank_of(part: &str) -> Option<usize> {
    LAYERS.iter().position(|(parts, _)| parts.contains(&part))
}

/// The layers as ARCHITECTURE.md shows them (and must: the test reads it).
fn rendered_layers() -> String {
    LAYERS
        .iter()
        .enumerate()
        .map(|(rank, (parts, what))| format!("{rank}  {}\n     {what}\n", parts.join(" · ")))
        .collect()
}

#[test]
fn every_part_imports_only_parts_ranked_below_it() {
    let (files, edges) = import_graph();
    let mut problems = Vec::new();
    let parts: BTreeSet<&str> =
        files.iter().filter_map(|f| f.module.first().map(String::as_str)).filter(|p| *p != "bin").collect();
    for part in &parts {
        if rank_of(part).is_none() {
            problems.push(format!(
                "part {part} has no rank: place it in LAYERS (tests/it/structure.rs) and ARCHITECTURE.md"
            ));
        }
    }
    let mut seen = BTreeSet::new();
    for (from, targets) in &edges {
        for to in targets {
            let (Some(a), Some(b)) = (from.first(), to.first()) else { continue };
            if a == b || !seen.insert((a.clone(), b.clone())) {
                continue;
            }
            if let (Some(rank_a), Some(rank_b)) = (rank_of(a), rank_of(b))
                && rank_b >= rank_a
            {
                let way = if rank_b == rank_a { "sideways" } else { "up" };
                problems.push(format!(
                    "{} imports {} ({way}: rank {rank_a} → {rank_b})",
                    from.join("::"),
                    to.join("::")
                ));
            }
        }
    }
    assert!(parts.len() > 15, "the parts were found: {parts:?}");
    assert!(problems.is_empty(), "imports against the layers:\n{}", problems.join("\n"));
    let architecture = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md")).unwrap();
    let trimmed = |text: &str| text.lines().map(str::trim).collect::<Vec<_>>().join("\n");
    assert!(
        trimmed(&architecture).contains(&trimmed(&rendered_layers())),
        "ARCHITECTURE.md does not show the layers as they are; put this in it:\n{}",
        rendered_layers()
    );
}

#[test]
fn no_file_holds_more_than_800_lines_of_non_test_code() {
    let (files, _) = import_graph();
    let long: Vec<String> = files
        .iter()
        .map(|f| (f.code.lines().count(), &f.path))
        .filter(|(lines, _)| *lines > MAX_NON_TEST_LINES)
        .map(|(lines, path)| format!("{}: {lines} lines", path.display()))
        .collect();
    assert!(files.len() > 50, "the source files were found");
    assert!(long.is_empty(), "files over {MAX_NON_TEST_LINES} lines of non-test code:\n{}", long.join("\n"));
}

/// Provider knowledge lives in the catalogue: its ids appear as literals nowhere
/// else in non-test code.
#[test]
fn provider_ids_are_written_only_in_the_catalogue() {
    let (files, _) = import_graph();
    let catalogue = files.iter().find(|f| f.module == ["model", "providers"]).expect("model/providers.rs");
    let ids: Vec<String> = catalogue
        .code
        .lines()
        .filter_map(|line| line.trim().strip_prefix("id: \""))
        .filter_map(|rest| rest.split('"').next())
        .map(|id| format!("\"{id}\""))
        .collect();
    assert!(ids.len() >= 4, "the catalogue's ids were read: {ids:?}");
    let mut found = Vec::new();
    for file in files.iter().filter(|f| f.module != catalogue.module) {
        for (number, line) in without_comments(&file.code).lines().enumerate() {
            for id in ids.iter().filter(|id| line.contains(id.as_str())) {
                found.push(format!("{}:{}: {id}", file.path.display(), number + 1));
            }
        }
    }
    assert!(found.is_empty(), "provider ids outside the catalogue:\n{}", found.join("\n"));
}

/// What the crate shows the world is what the world uses: a `pub fn` is named in the
/// tests, benches, examples or binaries, or re-exported; everything else is
/// `pub(crate)`, so the compiler finds a function nobody calls any more.
#[test]
fn a_public_function_is_used_outside_the_crate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut outside = Vec::new();
    for dir in ["tests", "benches", "examples", "src/bin"] {
        source_files(&root.join(dir), &root.join(dir), &mut outside);
    }
    let mut words: BTreeSet<String> = BTreeSet::new();
    let mut add_words = |text: &str| {
        words.extend(text.split(|c: char| !(c.is_alphanumeric() || c == '_')).map(str::to_owned));
    };
    for file in &outside {
        add_words(&std::fs::read_to_string(&file.path).unwrap());
    }
    add_words(&std::fs::read_to_string(root.join("src/main.rs")).unwrap());
    let (files, _) = import_graph();
    for file in &files {
        for export in file.code.split("pub use ").skip(1) {
            add_words(export.split(';').next().unwrap_or_default());
        }
    }
    assert!(words.contains("MailSettingsApp") && words.len() > 1000, "the outside code was read");
    let mut unused = Vec::new();
    for file in files.iter().filter(|f| !f.path.ends_with("main.rs") && !f.path.to_string_lossy().contains("/bin/")) {
        for (number, line) in without_comments(&file.code).lines().enumerate() {
            let Some(rest) =
                line.trim_start().strip_prefix("pub fn ").or_else(|| line.trim_start().strip_prefix("pub const fn "))
            else {
                continue;
            };
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !words.contains(&name) {
                unused.push(format!("{}:{}: {name}", file.path.display(), number + 1));
            }
        }
    }
    assert!(unused.is_empty(), "make these pub(crate) (nothing outside the crate uses them):\n{}", unused.join("\n"));
}

#[test]
fn the_import_reader_expands_groups_and_climbs_super() {
    let paths =
        named_paths("use super::{a::B, c::{d, e::F}};\nlet x = crate::model::Config::default(); // crate::nope");
    let shown: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(shown, ["crate::model::Config::default", "super::a::B", "super::c::d", "super::c::e::F"]);
}

#[test]
fn test_items_are_left_out_wherever_they_are_and_code_after_them_counts() {
    let text = "fn a() {}\n#[cfg(test)]\nuse x::y;\n#[cfg(test)]\nfn only_in_tests() { if true { } }\nfn b() {}\n\
                #[cfg(test)]\nmod tests {\n    fn t() { let _ = { 1 }; }\n}\nfn c() {}\n";
    let code = without_test_items(text);
    assert!(code.contains("fn a()") && code.contains("fn b()") && code.contains("fn c()"), "{code}");
    assert!(!code.contains("only_in_tests") && !code.contains("fn t()") && !code.contains("x::y"), "{code}");
}
