//! Layer names, layer ARNs and layer-version ARNs.

use crate::aws::validation::Pattern;
use crate::tenancy::AccountId;
use std::sync::LazyLock;

/// The model's `LayerName` pattern (a name or a layer ARN).
pub const LAYER_NAME_PATTERN: &str =
    r"(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+";
/// What the real server applies to `GetLayerVersionByArn`'s `Arn` (stricter than the model).
pub const VERSION_ARN_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)";

pub static LAYER_NAME: LazyLock<Pattern> = LazyLock::new(|| Pattern::new(LAYER_NAME_PATTERN));
pub static VERSION_ARN: LazyLock<Pattern> = LazyLock::new(|| Pattern::new(VERSION_ARN_PATTERN));

/// The partition of a region, as it appears in ARNs.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// A layer, named by the path: the owner account, the region named, and the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRef {
    pub account_id: AccountId,
    /// The region of the ARN, or the server's own for a plain name.
    pub region: String,
    pub name: String,
}

impl LayerRef {
    /// A validated `LayerName` (name or layer ARN); a plain name is the caller's own layer.
    pub fn resolve(layer_name: &str, caller: &AccountId, region: &str) -> LayerRef {
        match parse_arn_fields(layer_name) {
            Some((region_part, account, name)) => LayerRef {
                account_id: account,
                region: region_part.to_owned(),
                name: name.to_owned(),
            },
            None => LayerRef {
                account_id: caller.clone(),
                region: region.to_owned(),
                name: layer_name.to_owned(),
            },
        }
    }

    pub fn arn(&self) -> String {
        format!(
            "arn:{}:lambda:{}:{}:layer:{}",
            partition(&self.region),
            self.region,
            self.account_id,
            self.name
        )
    }

    pub fn version_arn(&self, version: i64) -> String {
        format!("{}:{version}", self.arn())
    }
}

/// `arn:<p>:lambda:<region>:<account>:layer:<name>` → (region, account, name).
fn parse_arn_fields(arn: &str) -> Option<(&str, AccountId, &str)> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(6, ':');
    let _partition = parts.next()?;
    if parts.next()? != "lambda" {
        return None;
    }
    let region = parts.next()?;
    let account = parts.next()?.parse().ok()?;
    if parts.next()? != "layer" {
        return None;
    }
    let name = parts.next()?;
    Some((region, account, name))
}

/// A validated version ARN → the layer and the version number.
pub fn parse_version_arn(arn: &str) -> Option<(LayerRef, i64)> {
    let (layer, version) = arn.rsplit_once(':')?;
    let (region, account_id, name) = parse_arn_fields(layer)?;
    Some((
        LayerRef {
            account_id,
            region: region.to_owned(),
            name: name.to_owned(),
        },
        version.parse().ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arns_resolve_to_their_owner() {
        let me: AccountId = "111111111111".parse().unwrap();
        let own = LayerRef::resolve("my-layer", &me, "us-east-1");
        assert_eq!(own.account_id, me);
        assert_eq!(
            own.arn(),
            "arn:aws:lambda:us-east-1:111111111111:layer:my-layer"
        );
        let foreign = LayerRef::resolve(
            "arn:aws:lambda:us-east-1:222222222222:layer:x",
            &me,
            "us-east-1",
        );
        assert_eq!(foreign.account_id.as_str(), "222222222222");
        assert_eq!(
            foreign.version_arn(3),
            "arn:aws:lambda:us-east-1:222222222222:layer:x:3"
        );
    }

    #[test]
    fn version_arns_parse_and_patterns_apply() {
        let (layer, v) =
            parse_version_arn("arn:aws:lambda:us-east-1:123456789012:layer:my-layer:3").unwrap();
        assert_eq!((layer.name.as_str(), v), ("my-layer", 3));
        assert!(VERSION_ARN.full_match("arn:aws:lambda:us-east-1:123456789012:layer:my-layer:3"));
        assert!(!VERSION_ARN.full_match("arn:aws:lambda:us-east-1:123456789012:layer:my-layer"));
        assert!(LAYER_NAME.full_match("my-layer_1"));
        assert!(!LAYER_NAME.full_match("my layer"));
        assert_eq!(partition("cn-north-1"), "aws-cn");
    }
}
