//! Layer-version policy statements (aws-wire.md §5.2–§5.3): their exact JSON, the policy
//! document, and the size limit.

use super::arn::partition;
use crate::tenancy::{AccountId, OrganizationId};
use serde::Serialize;

pub const ACTION: &str = "lambda:GetLayerVersion";
/// Lambda's resource-based policy quota, applied to the serialized policy document.
pub const POLICY_LIMIT_BYTES: usize = 20_480;

/// Who a statement grants: everyone, or one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grantee {
    Everyone,
    Account(AccountId),
}

impl Grantee {
    /// From a model-valid `Principal`: `*`, 12 digits, or `arn:<p>:iam::<id>:root`.
    pub fn from_principal(principal: &str) -> Option<Grantee> {
        if principal == "*" {
            return Some(Grantee::Everyone);
        }
        let id = principal
            .strip_prefix("arn:")
            .and_then(|r| r.split_once(":iam::"))
            .and_then(|(_, r)| r.strip_suffix(":root"))
            .unwrap_or(principal);
        id.parse().ok().map(Grantee::Account)
    }

    /// How the grantee is stored: `*` or the account id.
    pub fn stored(&self) -> &str {
        match self {
            Grantee::Everyone => "*",
            Grantee::Account(id) => id.as_str(),
        }
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum PrincipalJson {
    Everyone(&'static str),
    Account {
        #[serde(rename = "AWS")]
        aws: String,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StatementJson<'a> {
    sid: &'a str,
    effect: &'static str,
    principal: PrincipalJson,
    action: &'static str,
    resource: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<ConditionJson<'a>>,
}

#[derive(Serialize)]
struct ConditionJson<'a> {
    #[serde(rename = "StringEquals")]
    string_equals: OrgCondition<'a>,
}

#[derive(Serialize)]
struct OrgCondition<'a> {
    #[serde(rename = "aws:PrincipalOrgID")]
    org: &'a str,
}

/// The compact statement string, keys in the order Sid, Effect, Principal, Action,
/// Resource, Condition.
pub fn statement_json(
    sid: &str,
    grantee: &Grantee,
    organization: Option<&OrganizationId>,
    version_arn: &str,
    region: &str,
) -> String {
    let principal = match grantee {
        Grantee::Everyone => PrincipalJson::Everyone("*"),
        Grantee::Account(id) => PrincipalJson::Account {
            aws: format!("arn:{}:iam::{id}:root", partition(region)),
        },
    };
    let statement = StatementJson {
        sid,
        effect: "Allow",
        principal,
        action: ACTION,
        resource: version_arn,
        condition: organization.map(|o| ConditionJson {
            string_equals: OrgCondition { org: o.as_str() },
        }),
    };
    serde_json::to_string(&statement).expect("a statement always serializes")
}

const DOCUMENT_HEAD: &str = r#"{"Version":"2012-10-17","Id":"default","Statement":["#;
const DOCUMENT_TAIL: &str = "]}";

/// The length of the policy document holding only `statement`.
pub fn document_len_alone(statement: &str) -> usize {
    DOCUMENT_HEAD.len() + statement.len() + DOCUMENT_TAIL.len()
}

/// The policy document around statements already serialized, in their order.
pub fn policy_document<'a>(statements: impl IntoIterator<Item = &'a str>) -> String {
    let mut doc = String::from(DOCUMENT_HEAD);
    for (i, s) in statements.into_iter().enumerate() {
        if i > 0 {
            doc.push(',');
        }
        doc.push_str(s);
    }
    doc.push_str(DOCUMENT_TAIL);
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:lambda:us-east-2:123456789012:layer:my-layer:1";

    #[test]
    fn account_principal_statement_matches_aws_bytes() {
        let g = Grantee::from_principal("223456789012").unwrap();
        assert_eq!(
            statement_json("xaccount", &g, None, ARN, "us-east-2"),
            r#"{"Sid":"xaccount","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::223456789012:root"},"Action":"lambda:GetLayerVersion","Resource":"arn:aws:lambda:us-east-2:123456789012:layer:my-layer:1"}"#
        );
        assert_eq!(
            Grantee::from_principal("arn:aws:iam::223456789012:root"),
            Some(g)
        );
    }

    #[test]
    fn organization_statement_matches_aws_bytes() {
        let org: OrganizationId = "o-t194hfs8cz".parse().unwrap();
        assert_eq!(
            statement_json(
                "engineering-org",
                &Grantee::Everyone,
                Some(&org),
                "arn:aws:lambda:us-east-2:123456789012:layer:my-layer:3",
                "us-east-2"
            ),
            r#"{"Sid":"engineering-org","Effect":"Allow","Principal":"*","Action":"lambda:GetLayerVersion","Resource":"arn:aws:lambda:us-east-2:123456789012:layer:my-layer:3","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-t194hfs8cz"}}}"#
        );
    }

    #[test]
    fn document_len_alone_is_the_one_statement_documents_length() {
        let s = r#"{"Sid":"x"}"#;
        assert_eq!(document_len_alone(s), policy_document([s]).len());
    }

    #[test]
    fn policy_document_wraps_statements_in_order() {
        assert_eq!(
            policy_document(["{\"a\":1}", "{\"b\":2}"]),
            r#"{"Version":"2012-10-17","Id":"default","Statement":[{"a":1},{"b":2}]}"#
        );
    }
}
