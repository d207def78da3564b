//! The README and the documents under `docs/`: every link between them, and
//! to the files of the repository, resolves (a file that exists, and a
//! heading that exists where the link names one); the README stays short
//! enough for a newcomer to finish.

use std::path::{Path, PathBuf};

/// Markdown links `[text](target)` of a text: the targets.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        match after.find(')') {
            Some(end) => {
                out.push(after[..end].trim().to_owned());
                rest = &after[end..];
            }
            None => break,
        }
    }
    out
}

/// A heading's anchor as GitHub makes it: lower case, spaces to hyphens,
/// punctuation but hyphens and underscores dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> Vec<String> {
    let mut in_code = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            out.push(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

fn documents(repo: &Path) -> Vec<PathBuf> {
    let mut files = vec![repo.join("README.md"), repo.join("ARCHITECTURE.md")];
    let mut docs: Vec<PathBuf> =
        std::fs::read_dir(repo.join("docs")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "md")).collect();
    docs.sort();
    files.extend(docs);
    files
}

#[test]
fn every_link_of_the_readme_and_the_docs_resolves() {
    let repo = crate::common::repo();
    let mut broken = Vec::new();
    let mut checked = 0;
    for doc in documents(&repo) {
        let text = std::fs::read_to_string(&doc).unwrap();
        for target in links(&text) {
            if target.starts_with("http://") || target.starts_with("https://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (file, heading) = match target.split_once('#') {
                Some((file, heading)) => (file, Some(heading)),
                None => (target.as_str(), None),
            };
            let path = if file.is_empty() { doc.clone() } else { doc.parent().unwrap().join(file) };
            if !path.exists() {
                broken.push(format!("{}: {target}: no such file", doc.display()));
                continue;
            }
            if let Some(heading) = heading
                && !anchors(&std::fs::read_to_string(&path).unwrap_or_default()).iter().any(|a| a == heading)
            {
                broken.push(format!("{}: {target}: no such heading", doc.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(checked >= 10, "the README links to the documents under docs/: {checked} links checked");
}

#[test]
fn the_readme_is_short_and_links_every_document_under_docs() {
    let repo = crate::common::repo();
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(lines <= 300, "the README is {lines} lines: move the detail under docs/");
    let linked = links(&readme);
    for doc in documents(&repo).iter().filter(|p| p.parent().is_some_and(|d| d.ends_with("docs"))) {
        let name = format!("docs/{}", doc.file_name().unwrap().to_string_lossy());
        assert!(linked.iter().any(|l| l.split('#').next() == Some(name.as_str())), "the README does not link {name}");
    }
}

#[test]
fn anchors_are_made_as_github_makes_them() {
    assert_eq!(anchor(" Running it in production"), "running-it-in-production");
    assert_eq!(anchor("After the order: tax, hand-over, payment, reports"), "after-the-order-tax-hand-over-payment-reports");
    assert_eq!(links("see [a](docs/a.md) and [b](#b-c)."), ["docs/a.md", "#b-c"]);
}
