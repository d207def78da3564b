//! Which local categories a plan package speaks of: words per category, and
//! words that exclude it, as data (`mappings/rup-keywords.csv`: `category`,
//! `words`, `exclude`, the words separated by `|`). A package is of a
//! category when its name or description has one of the category's words
//! and none of its excluding words, each as whole words, in any case: "minyak
//! goreng" is, "bahan bakar minyak" is not.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::{MappingError, MappingSource};

/// The words of every category, ready to search a text in one pass.
#[derive(Debug, Clone)]
pub struct Keywords {
    /// The categories, in the file's order.
    categories: Vec<String>,
    /// Per pattern: its category's index, and whether it excludes.
    patterns: Vec<(usize, bool)>,
    searcher: AhoCorasick,
    /// What the words read as (a digest of the file): the packages' categories
    /// are read again when it changes.
    pub fingerprint: String,
}

/// The longest word or phrase, and the most of them, a file may have.
const MAX_WORD: usize = 100;
const MAX_PATTERNS: usize = 10_000;

impl Keywords {
    pub fn load(source: &MappingSource) -> Result<Self, MappingError> {
        let (path, text) = source.read("rup-keywords.csv")?;
        Self::parse(&text).map_err(|(line, reason)| MappingError::Invalid { path, line, reason })
    }

    /// Reads the file; the error names the line at fault.
    pub fn parse(text: &str) -> Result<Self, (u64, String)> {
        let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).trim(csv::Trim::All).from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| (1, e.to_string()))?.clone();
        let want = ["category", "words", "exclude"];
        if headers.iter().collect::<Vec<_>>() != want {
            return Err((1, format!("the header must be {}, not {}", want.join(","), headers.iter().collect::<Vec<_>>().join(","))));
        }
        let (mut categories, mut words, mut patterns) = (Vec::new(), Vec::new(), Vec::new());
        for record in reader.records() {
            let record = record.map_err(|e| (e.position().map_or(0, |p| p.line()), e.to_string()))?;
            let line = record.position().map_or(0, |p| p.line());
            let category = record[0].to_lowercase();
            if category.is_empty() {
                return Err((line, "the category is empty".into()));
            }
            if category.chars().any(char::is_control) {
                return Err((line, format!("the category {:?} has a control character", category.chars().take(40).collect::<String>())));
            }
            let index = match categories.iter().position(|c| *c == category) {
                Some(i) => i,
                None => {
                    categories.push(category.clone());
                    categories.len() - 1
                }
            };
            let mut any = false;
            for (column, excludes) in [(1, false), (2, true)] {
                for w in record[column].split('|').map(|w| w.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()).filter(|w| !w.is_empty()) {
                    if w.chars().count() > MAX_WORD {
                        return Err((line, format!("the word {:?}... is longer than {MAX_WORD} characters", w.chars().take(20).collect::<String>())));
                    }
                    any |= !excludes;
                    words.push(w);
                    patterns.push((index, excludes));
                }
            }
            if !any {
                return Err((line, format!("category {category:?} has no words")));
            }
            if patterns.len() > MAX_PATTERNS {
                return Err((line, format!("more than {MAX_PATTERNS} words")));
            }
        }
        let searcher = AhoCorasickBuilder::new().match_kind(MatchKind::Standard).build(&words).map_err(|e| (0, e.to_string()))?;
        use sha2::Digest;
        let fingerprint = sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self { categories, patterns, searcher, fingerprint })
    }

    /// The categories a package's name and description speak of.
    pub fn of_package(&self, name: &str, description: &str) -> Vec<String> {
        self.categories_of(&format!("{name}\n{description}")).into_iter().map(str::to_owned).collect()
    }

    /// The categories `text` speaks of, in the file's order.
    pub fn categories_of(&self, text: &str) -> Vec<&str> {
        let text = text.to_lowercase();
        let bytes = text.as_bytes();
        let boundary = |at: usize| at == 0 || at >= bytes.len() || !text[..at].chars().next_back().is_some_and(char::is_alphanumeric);
        let after = |end: usize| end >= bytes.len() || !text[end..].chars().next().is_some_and(char::is_alphanumeric);
        let mut found = vec![0u8; self.categories.len()];
        for m in self.searcher.find_overlapping_iter(&text) {
            if !(boundary(m.start()) && after(m.end())) {
                continue;
            }
            let (category, excludes) = self.patterns[m.pattern().as_usize()];
            found[category] |= if excludes { 2 } else { 1 };
        }
        found.iter().enumerate().filter(|(_, f)| **f == 1).map(|(i, _)| self.categories[i].as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_of_a_category_match_and_its_excluding_words_win() {
        let k = Keywords::parse("category,words,exclude\nminyak goreng,minyak goreng|minyakita,bahan bakar\nberas,beras|padi,\ngula pasir,gula,gula darah\n")
            .unwrap();
        assert_eq!(k.categories_of("Belanja Minyak Goreng kemasan 2 liter"), vec!["minyak goreng"]);
        assert_eq!(k.categories_of("Belanja bahan bakar minyak goreng?"), Vec::<&str>::new());
        assert_eq!(k.categories_of("Belanja BERAS dan gula pasir"), vec!["beras", "gula pasir"]);
        // Not inside another word.
        assert_eq!(k.categories_of("Pemberasan lahan; gulali"), Vec::<&str>::new());
        assert_eq!(k.categories_of("Pemeriksaan gula darah"), Vec::<&str>::new());
        assert_eq!(k.categories_of("minyakita"), vec!["minyak goreng"]);
    }

    #[test]
    fn a_bad_file_names_its_line() {
        assert_eq!(Keywords::parse("kategori,kata\n").unwrap_err().0, 1);
        let (line, why) = Keywords::parse("category,words,exclude\nberas,beras,\ngula,,gula darah\n").unwrap_err();
        assert_eq!(line, 3, "{why}");
        assert!(why.contains("no words"));
        assert_eq!(Keywords::parse("category,words,exclude\nberas,beras\n").unwrap_err().0, 2);
        let (line, why) = Keywords::parse("category,words,exclude\nberas,beras,\ngu\u{1f}la,gula,\n").unwrap_err();
        assert_eq!(line, 3, "a category with a control character (it would split where categories are joined): {why}");
    }

    #[test]
    fn the_shipped_file_reads_and_speaks_of_the_staples() {
        let k = Keywords::load(&MappingSource::BuiltIn).unwrap();
        assert_eq!(k.categories_of("Belanja telur ayam ras untuk PMT"), vec!["telur"]);
        assert_eq!(k.categories_of("Belanja bahan bakar minyak kendaraan dinas"), Vec::<&str>::new());
    }
}
