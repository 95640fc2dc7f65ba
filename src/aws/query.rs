//! The raw query string, decoded once. Query names are case-sensitive; a repeated name
//! keeps its first value (AWS's front end does the same for scalar members [INFER]).

use percent_encoding::percent_decode_str;

#[derive(Debug, Default)]
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub fn parse(raw: &str) -> Self {
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        QueryParams(
            raw.split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_but_not_plus_and_keeps_the_first_duplicate() {
        let q = QueryParams::parse("Marker=abc%2B%2F%3D&a=1&a=2&find=LayerVersion&x=a+b");
        assert_eq!(q.get("Marker"), Some("abc+/="));
        assert_eq!(q.get("a"), Some("1"));
        assert_eq!(q.get("find"), Some("LayerVersion"));
        assert_eq!(q.get("x"), Some("a+b"));
        assert_eq!(q.get("missing"), None);
    }
}
