//! Rules of the house that the code itself can be checked against.

use std::path::{Path, PathBuf};

use crate::common;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The functions of a source text longer than `max` lines: (name, first
/// line, lines). A function runs from its `fn` line to the first line that
/// is its closing brace at the same indentation (rustfmt's layout).
fn long_functions(text: &str, max: usize) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        let signature = ["pub(crate) ", "pub(super) ", "pub ", "async ", "const ", "unsafe "].iter().fold(body, |s, p| s.strip_prefix(p).unwrap_or(s));
        let signature = signature.strip_prefix("async ").unwrap_or(signature);
        let Some(rest) = signature.strip_prefix("fn ") else { continue };
        if line.trim_end().ends_with(';') {
            continue;
        }
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let closing = format!("{indent}}}");
        if let Some(end) = lines[i + 1..].iter().position(|l| *l == closing) {
            let n = end + 2;
            if n > max {
                found.push((name, i + 1, n));
            }
        }
    }
    found
}

#[test]
fn no_function_of_the_adapter_is_over_100_lines() {
    let mut files = Vec::new();
    rust_files(&crate::common::repo().join("src"), &mut files);
    files.sort();
    let mut long = Vec::new();
    for file in &files {
        for (name, line, n) in long_functions(&std::fs::read_to_string(file).unwrap(), 100) {
            long.push(format!("{}:{line}: fn {name} is {n} lines", file.display()));
        }
    }
    assert!(files.len() > 50, "the sources are found: {}", files.len());
    assert!(long.is_empty(), "split these functions:\n{}", long.join("\n"));
}

#[test]
fn a_long_function_is_found_and_a_short_one_is_not() {
    let long = format!("pub async fn long() {{\n{}}}\n\nfn short() {{\n    1\n}}\n", "    let _ = 1;\n".repeat(120));
    assert_eq!(long_functions(&long, 100), [("long".to_owned(), 1, 122)]);
    // A declaration has no body; a method of three lines is three lines.
    assert!(long_functions("fn f();\nimpl X {\n    fn g() {\n        1\n    }\n}\n", 3).is_empty());
    assert_eq!(long_functions("impl X {\n    fn g() {\n        1\n    }\n}\n", 2), [("g".to_owned(), 2, 3)]);
}

/// The mock is a crate apart: it depends on nothing of the adapter's, so it
/// cannot reuse a rule it exists to check.
#[test]
fn the_mock_catalogue_depends_on_nothing_of_the_adapter() {
    let root = common::repo();
    let manifest: toml::Table = std::fs::read_to_string(root.join("mock-catalog/Cargo.toml")).unwrap().parse().unwrap();
    let deps = manifest["dependencies"].as_table().unwrap();
    assert!(!deps.contains_key("katalog-bridge"), "mock-catalog depends on the adapter");
    let mut files = Vec::new();
    rust_files(&root.join("mock-catalog/src"), &mut files);
    assert!(files.len() > 5, "the mock's sources are read: {files:?}");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(!text.contains("katalog_bridge"), "{} uses the adapter", f.display());
    }
}

/// Lines of `src/` outside the folders named that match `pattern`, as `file:line: text`.
fn lines_matching(outside: &[&str], pattern: impl Fn(&str) -> bool) -> Vec<String> {
    let src = common::repo().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
        if outside.iter().any(|o| rel.starts_with(o)) {
            continue;
        }
        for (i, line) in std::fs::read_to_string(&file).unwrap().lines().enumerate() {
            if !line.trim_start().starts_with("//") && pattern(line) {
                found.push(format!("src/{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    found
}

/// Only `catalog/` reads the catalogue's answers field by field: elsewhere
/// an answer is asked what it means.
#[test]
fn no_answer_of_the_catalogue_is_read_by_field_outside_catalog() {
    let found = lines_matching(&["catalog/"], |l| l.contains(".body[\"") || l.contains("answer.body"));
    assert!(found.is_empty(), "read these through catalog/:\n{}", found.join("\n"));
    // The check itself finds such a line.
    assert!(!lines_matching(&[], |l| l.contains(".body[\"")).is_empty(), "catalog/ reads answers this way, and the scan sees it");
}

/// No state is compared as a string outside `domain/` (and `catalog/`, which
/// reads the wire): states cross the store as the domain's enums.
#[test]
fn no_state_is_compared_as_a_string_outside_the_domain() {
    let compares_a_state = |l: &str| {
        ["status", "state", "kind", "channel", "source", "outcome"].iter().any(|w| {
            [" == \"", " != \"", ".as_str() == \"", ".as_str() != \"", ".as_deref() == Some(\"", ".as_deref() != Some(\""]
                .iter()
                .any(|op| l.contains(&format!("{w}{op}")))
        })
    };
    let found = lines_matching(&["domain/", "catalog/", "store/embedded.rs"], compares_a_state);
    assert!(found.is_empty(), "compare the domain's enums instead:\n{}", found.join("\n"));
    assert!(compares_a_state(r#"if status == "live" {"#) && !compares_a_state("if status == State::Live {"));
}
