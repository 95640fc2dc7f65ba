//! Identifiers of the tenancy model, valid by construction (PRODUCT.md "Identities").

use rand::distributions::{Alphanumeric, Distribution, Uniform};
use rand::Rng;
use std::fmt;
use std::str::FromStr;

macro_rules! string_id {
    ($name:ident, $what:literal, $check:expr) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, sqlx::Type, serde::Serialize)]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let check: fn(&str) -> bool = $check;
                if check(s) {
                    Ok($name(s.to_owned()))
                } else {
                    Err(format!("'{s}' is not a valid {}", $what))
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

fn all(s: &str, f: impl Fn(u8) -> bool) -> bool {
    s.bytes().all(f)
}

string_id!(AccountId, "account id (12 digits)", |s| s.len() == 12
    && all(s, |b| b.is_ascii_digit()));
string_id!(
    OrganizationId,
    "organization id (o- and 10 to 32 lower-case letters or digits)",
    |s| s
        .strip_prefix("o-")
        .is_some_and(|r| (10..=32).contains(&r.len())
            && all(r, |b| b.is_ascii_lowercase() || b.is_ascii_digit()))
);
string_id!(
    AccessKeyId,
    "access key id (AKIA and 16 upper-case letters or digits)",
    |s| s
        .strip_prefix("AKIA")
        .is_some_and(|r| r.len() == 16 && all(r, |b| b.is_ascii_uppercase() || b.is_ascii_digit()))
);
string_id!(
    DirectoryId,
    "directory id (d- and 10 lower-case letters or digits)",
    |s| s
        .strip_prefix("d-")
        .is_some_and(|r| r.len() == 10 && all(r, |b| b.is_ascii_lowercase() || b.is_ascii_digit()))
);

fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rngs::OsRng;
    let pick = Uniform::from(0..alphabet.len());
    (0..len)
        .map(|_| alphabet[pick.sample(&mut rng)] as char)
        .collect()
}

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const LOWER_DIGITS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

impl AccountId {
    pub fn random() -> Self {
        let first = rand::rngs::OsRng.gen_range(1..=9u8);
        AccountId(format!("{first}{}", random_from(b"0123456789", 11)))
    }
}

impl AccessKeyId {
    pub fn random() -> Self {
        AccessKeyId(format!("AKIA{}", random_from(UPPER_DIGITS, 16)))
    }
}

impl DirectoryId {
    pub fn random() -> Self {
        DirectoryId(format!("d-{}", random_from(LOWER_DIGITS, 10)))
    }
}

/// A 40-character secret access key (about 238 bits).
pub fn random_secret() -> String {
    let mut rng = rand::rngs::OsRng;
    Alphanumeric
        .sample_iter(&mut rng)
        .take(40)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_only_their_shape() {
        assert!("111111111111".parse::<AccountId>().is_ok());
        assert!("11111111111".parse::<AccountId>().is_err());
        assert!("11111111111a".parse::<AccountId>().is_err());
        assert!("o-abcdefghij".parse::<OrganizationId>().is_ok());
        assert!("o-abc".parse::<OrganizationId>().is_err());
        assert!("o-ABCDEFGHIJ".parse::<OrganizationId>().is_err());
        assert!("d-926726012c".parse::<DirectoryId>().is_ok());
        assert!("AKIAIOSFODNN7EXAMPLE".parse::<AccessKeyId>().is_ok());
    }

    #[test]
    fn random_ids_have_their_shape() {
        for _ in 0..100 {
            AccountId::random().as_str().parse::<AccountId>().unwrap();
            AccessKeyId::random()
                .as_str()
                .parse::<AccessKeyId>()
                .unwrap();
            DirectoryId::random()
                .as_str()
                .parse::<DirectoryId>()
                .unwrap();
            assert_eq!(random_secret().len(), 40);
        }
    }
}
