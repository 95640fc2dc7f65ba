//! Helpers for the WorkDocs tests: users with tokens, groups, and requests in both modes.

use crate::helpers::{parts, TestAccount, TestApp};
use grantd::tenancy::AccountId;
use grantd::workdocs::store::{create_token, create_user, NewUser};
use serde_json::Value;
use std::str::FromStr;

/// A WorkDocs user of an account, with a bearer token.
#[derive(Debug, Clone)]
pub struct WdUser {
    pub id: String,
    pub username: String,
    pub root: String,
    pub recycle_bin: String,
    pub token: String,
    pub account: TestAccount,
}

/// How a request authenticates.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    /// `Authentication: Bearer <token>`, unsigned.
    Token(&'a str),
    /// SigV4 (service `workdocs`) with the account's access key: the administrator.
    Admin(&'a TestAccount),
    None,
}

impl TestApp {
    /// Creates an ACTIVE user (with root folder and recycle bin) and a one-hour token.
    pub async fn wd_user(&self, account: &TestAccount, username: &str) -> WdUser {
        let account_id = AccountId::from_str(&account.account_id).unwrap();
        let mut tx = self.pool.begin().await.unwrap();
        let user = create_user(
            &mut tx,
            &account_id,
            &NewUser {
                username,
                email_address: Some(&format!("{username}@example.com")),
                given_name: username,
                surname: "Test",
                user_type: "USER",
                status: "ACTIVE",
                password_hash: None,
                time_zone_id: None,
                storage_allocated: None,
                storage_type: "UNLIMITED",
            },
        )
        .await
        .unwrap();
        let token = create_token(
            &mut tx,
            &account_id,
            &user.user_id,
            chrono::Utc::now() + chrono::Duration::hours(1),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        WdUser {
            id: user.user_id,
            username: username.to_owned(),
            root: user.root_folder_id.unwrap(),
            recycle_bin: user.recycle_bin_folder_id.unwrap(),
            token,
            account: account.clone(),
        }
    }

    /// A group of the account with these members, created directly in the database.
    pub async fn wd_group(&self, account: &TestAccount, name: &str, members: &[&WdUser]) -> String {
        let id = grantd::workdocs::ids::new_principal_id(&account.directory_id);
        sqlx::query("INSERT INTO wd_groups (account_id, group_id, directory_id, name) VALUES ($1, $2, $3, $4)")
            .bind(&account.account_id)
            .bind(&id)
            .bind(&account.directory_id)
            .bind(name)
            .execute(&self.pool)
            .await
            .unwrap();
        for m in members {
            sqlx::query(
                "INSERT INTO wd_group_members (account_id, group_id, user_id) VALUES ($1, $2, $3)",
            )
            .bind(&account.account_id)
            .bind(&id)
            .bind(&m.id)
            .execute(&self.pool)
            .await
            .unwrap();
        }
        id
    }

    /// A WorkDocs request; `path_and_query` must already be percent-encoded (`&` → `%26`).
    pub async fn wd(
        &self,
        auth: Auth<'_>,
        method: &str,
        path_and_query: &str,
        body: Option<Value>,
    ) -> (u16, Option<String>, Value) {
        match auth {
            Auth::Admin(account) => {
                let mut b = self
                    .signed(account, method, path_and_query)
                    .service("workdocs");
                if let Some(body) = &body {
                    b = b.json(body);
                }
                parts(b.send().await).await
            }
            Auth::Token(_) | Auth::None => {
                let mut req = self.http.request(
                    method.parse().unwrap(),
                    format!("{}{path_and_query}", self.address),
                );
                if let Auth::Token(token) = auth {
                    req = req.header("Authentication", format!("Bearer {token}"));
                }
                if let Some(body) = &body {
                    req = req.json(body);
                }
                parts(req.send().await.unwrap()).await
            }
        }
    }
}

/// Percent-encodes an id for a path segment or query value (`&` → `%26`).
pub fn enc(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC).to_string()
}
