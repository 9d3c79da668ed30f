//! The credentials half of the PostgreSQL store: API tokens and SSH keys,
//! each statement on a reader connection (one statement, so no transaction).

use super::PgStore;
use crate::domain::command::Access;
use crate::store::{KeyRecord, StoreError, TokenRecord, TokenStore};
use chrono::{DateTime, Utc};

fn to_token(row: &tokio_postgres::Row) -> Result<TokenRecord, StoreError> {
    let name: String = row.get(0);
    let role: String = row.get(1);
    let created_at: String = row.get(3);
    let role = Access::parse(&role)
        .ok_or_else(|| StoreError::Corrupt(format!("token {name:?} has unknown role {role:?}")))?;
    let created_at = DateTime::parse_from_rfc3339(&created_at)
        .map_err(|e| StoreError::Corrupt(format!("token {name:?}: bad created_at: {e}")))?
        .with_timezone(&Utc);
    Ok(TokenRecord {
        name,
        role,
        hash: row.get(2),
        created_at,
        revoked: row.get(4),
    })
}

const TOKEN_COLUMNS: &str = "SELECT name, role, hash, created_at, revoked FROM tokens";
const KEY_COLUMNS: &str =
    "SELECT name, role, fingerprint, public_key, created_at, revoked FROM ssh_keys";

fn to_key(row: &tokio_postgres::Row) -> Result<KeyRecord, StoreError> {
    let name: String = row.get(0);
    let role: String = row.get(1);
    let created_at: String = row.get(4);
    let role = Access::parse(&role)
        .ok_or_else(|| StoreError::Corrupt(format!("key {name:?} has unknown role {role:?}")))?;
    let created_at = DateTime::parse_from_rfc3339(&created_at)
        .map_err(|e| StoreError::Corrupt(format!("key {name:?}: bad created_at: {e}")))?
        .with_timezone(&Utc);
    Ok(KeyRecord {
        name,
        role,
        fingerprint: row.get(2),
        public_key: row.get(3),
        created_at,
        revoked: row.get(5),
    })
}

type Map<T> = fn(&tokio_postgres::Row) -> Result<T, StoreError>;

/// The statements tokens and keys share, one table or column apart.
impl PgStore {
    /// The row `sql` (which takes one text parameter) finds, if any.
    fn one<T: Send + 'static>(
        &self,
        sql: String,
        param: &str,
        map: Map<T>,
    ) -> Result<Option<T>, StoreError> {
        let inner = self.inner.clone();
        let param = param.to_string();
        self.block(async move {
            let c = inner.reader().await?;
            c.query_opt(&sql, &[&param])
                .await?
                .as_ref()
                .map(map)
                .transpose()
        })
    }

    /// Every row of `sql` (which takes no parameter).
    fn all<T: Send + 'static>(&self, sql: String, map: Map<T>) -> Result<Vec<T>, StoreError> {
        let inner = self.inner.clone();
        self.block(async move {
            let c = inner.reader().await?;
            c.query(&sql, &[]).await?.iter().map(map).collect()
        })
    }

    /// Marks the live credential `name` of `table` revoked; false if none was.
    fn revoke(&self, table: &'static str, name: &str) -> Result<bool, StoreError> {
        let inner = self.inner.clone();
        let name = name.to_string();
        self.block(async move {
            let c = inner.reader().await?;
            let sql = format!("UPDATE {table} SET revoked = TRUE WHERE name = $1 AND NOT revoked");
            Ok(c.execute(&sql, &[&name]).await? > 0)
        })
    }
}

impl TokenStore for PgStore {
    fn create_token(
        &self,
        name: &str,
        role: Access,
        hash: &str,
    ) -> Result<TokenRecord, StoreError> {
        let inner = self.inner.clone();
        let (name, hash) = (name.to_string(), hash.to_string());
        let created_at = Utc::now();
        self.block(async move {
            let c = inner.reader().await?;
            let n = c
                .execute(
                    "INSERT INTO tokens (name, role, hash, created_at, revoked)
                     VALUES ($1, $2, $3, $4, FALSE) ON CONFLICT DO NOTHING",
                    &[&name, &role.as_str(), &hash, &created_at.to_rfc3339()],
                )
                .await?;
            if n == 0 {
                return Err(StoreError::NameTaken(name));
            }
            Ok(live_token(name, role, hash, created_at))
        })
    }

    fn put_token(&self, name: &str, role: Access, hash: &str) -> Result<TokenRecord, StoreError> {
        let inner = self.inner.clone();
        let (name, hash) = (name.to_string(), hash.to_string());
        let created_at = Utc::now();
        self.block(async move {
            let c = inner.reader().await?;
            c.execute(
                "INSERT INTO tokens (name, role, hash, created_at, revoked) VALUES ($1, $2, $3, $4, FALSE)
                 ON CONFLICT (name) DO UPDATE SET role = excluded.role, hash = excluded.hash,
                     created_at = excluded.created_at, revoked = FALSE",
                &[&name, &role.as_str(), &hash, &created_at.to_rfc3339()],
            )
            .await?;
            Ok(live_token(name, role, hash, created_at))
        })
    }

    fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.one(format!("{TOKEN_COLUMNS} WHERE hash = $1"), hash, to_token)
    }

    fn token_by_name(&self, name: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.one(format!("{TOKEN_COLUMNS} WHERE name = $1"), name, to_token)
    }

    fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.all(
            format!("{TOKEN_COLUMNS} ORDER BY created_at, name"),
            to_token,
        )
    }

    fn revoke_token(&self, name: &str) -> Result<bool, StoreError> {
        self.revoke("tokens", name)
    }

    fn create_key(
        &self,
        name: &str,
        role: Access,
        fingerprint: &str,
        public_key: &str,
    ) -> Result<KeyRecord, StoreError> {
        let inner = self.inner.clone();
        let (name, fingerprint, public_key) = (
            name.to_string(),
            fingerprint.to_string(),
            public_key.to_string(),
        );
        let created_at = Utc::now();
        self.block(async move {
            let c = inner.reader().await?;
            if let Some(row) = c
                .query_opt(
                    "SELECT name FROM ssh_keys WHERE fingerprint = $1",
                    &[&fingerprint],
                )
                .await?
            {
                return Err(StoreError::KeyTaken(row.get(0)));
            }
            let n = c
                .execute(
                    "INSERT INTO ssh_keys (name, role, fingerprint, public_key, created_at, revoked)
                     VALUES ($1, $2, $3, $4, $5, FALSE) ON CONFLICT DO NOTHING",
                    &[
                        &name,
                        &role.as_str(),
                        &fingerprint,
                        &public_key,
                        &created_at.to_rfc3339(),
                    ],
                )
                .await?;
            if n == 0 {
                // The name, or (raced) the fingerprint: say which.
                if let Some(row) = c
                    .query_opt(
                        "SELECT name FROM ssh_keys WHERE fingerprint = $1",
                        &[&fingerprint],
                    )
                    .await?
                {
                    return Err(StoreError::KeyTaken(row.get(0)));
                }
                return Err(StoreError::NameTaken(name));
            }
            Ok(KeyRecord {
                name,
                role,
                fingerprint,
                public_key,
                created_at,
                revoked: false,
            })
        })
    }

    fn key_by_fingerprint(&self, fingerprint: &str) -> Result<Option<KeyRecord>, StoreError> {
        self.one(
            format!("{KEY_COLUMNS} WHERE fingerprint = $1"),
            fingerprint,
            to_key,
        )
    }

    fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        self.all(format!("{KEY_COLUMNS} ORDER BY created_at, name"), to_key)
    }

    fn revoke_key(&self, name: &str) -> Result<bool, StoreError> {
        self.revoke("ssh_keys", name)
    }
}

fn live_token(name: String, role: Access, hash: String, created_at: DateTime<Utc>) -> TokenRecord {
    TokenRecord {
        name,
        role,
        hash,
        created_at,
        revoked: false,
    }
}
