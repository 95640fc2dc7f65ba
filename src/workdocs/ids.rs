//! WorkDocs identifiers (aws-wire.md §6.2): user and group ids `<SID>&<directory>`,
//! 64-hex folder and document ids, and the model patterns that validate them.

use crate::aws::validation::Pattern;
use rand::Rng;
use std::sync::LazyLock;

/// `IdType`: user, group and principal ids (may contain `&`).
pub static ID: LazyLock<Pattern> = LazyLock::new(|| Pattern::new(r"[&\w+-.@]+"));
/// `ResourceIdType`: folder and document ids (never `&`).
pub static RESOURCE_ID: LazyLock<Pattern> = LazyLock::new(|| Pattern::new(r"[\w+-.@]+"));
/// Folder and document names: any BMP character from space up, except U+202E.
pub static RESOURCE_NAME: LazyLock<Pattern> =
    LazyLock::new(|| Pattern::new(r"[\u{0020}-\u{202D}\u{202F}-\u{FFFF}\u{10000}-\u{10FFFF}]+"));
/// How the name pattern reads in messages (the model's text).
pub const RESOURCE_NAME_SOURCE: &str = r"[\u0020-\u202D\u202F-\uFFFF]+";

fn digits(n: usize) -> String {
    let mut rng = rand::rngs::OsRng;
    (0..n)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

/// A Windows-SID-shaped id in `directory`, as WorkDocs users and groups have.
pub fn new_principal_id(directory_id: &str) -> String {
    format!(
        "S-1-1-11-{}-{}-{}-{}&{directory_id}",
        digits(10),
        digits(10),
        digits(10),
        digits(4)
    )
}

/// 64 lower-case hex characters.
pub fn new_resource_id() -> String {
    let bytes: [u8; 32] = rand::rngs::OsRng.gen();
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_match_the_model_patterns() {
        let user = new_principal_id("d-926726012c");
        assert!(ID.full_match(&user) && user.ends_with("&d-926726012c"));
        assert!(!RESOURCE_ID.full_match(&user));
        let r = new_resource_id();
        assert_eq!(r.len(), 64);
        assert!(RESOURCE_ID.full_match(&r));
    }

    #[test]
    fn names_refuse_controls_and_the_rtl_override() {
        assert!(RESOURCE_NAME.full_match("résumé 📁"));
        assert!(!RESOURCE_NAME.full_match("a\u{202E}b"));
        assert!(!RESOURCE_NAME.full_match("a\nb"));
    }
}
