//! `key.expiring`: seven days before a key stops working, its endpoints that want it hear so,
//! once (`api_keys.expiring_notice_at` remembers). The worker looks once a minute.

use chrono::{DateTime, Duration, Utc};
use partlogic_entity::api_key;
use partlogic_types::EventType;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use super::outbox::{self, Audience};
use crate::db::begin_write;

/// How long before its expiry a key's endpoints hear of it.
pub const NOTICE: Duration = Duration::days(7);

/// Records `key.expiring` for every working key that expires within [`NOTICE`] of `now` and
/// has not had it yet, once one of its endpoints wants it (an endpoint added later in the week
/// still hears). Each key is marked in the transaction that records its event, so instances
/// racing here record it once.
pub async fn record(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<(), DbErr> {
    let due = api_key::Entity::find()
        .filter(api_key::Column::ExpiresAt.gt(now))
        .filter(api_key::Column::ExpiresAt.lte(now + NOTICE))
        .filter(api_key::Column::ExpiringNoticeAt.is_null())
        .filter(api_key::Column::RetiredAt.is_null())
        .all(db)
        .await?;
    for key in due {
        let audience = Audience::Key {
            account_id: key.account_id,
            key_id: key.id,
        };
        // Most keys have no endpoint for it: no write lock for them.
        if outbox::targets(db, audience, EventType::KeyExpiring)
            .await?
            .is_empty()
        {
            continue;
        }
        let txn = begin_write(db).await?;
        let marked = api_key::Entity::update_many()
            .col_expr(api_key::Column::ExpiringNoticeAt, Expr::value(now))
            .filter(api_key::Column::Id.eq(key.id))
            .filter(api_key::Column::ExpiringNoticeAt.is_null())
            .exec(&txn)
            .await?;
        if marked.rows_affected == 1 {
            let targets = outbox::targets(&txn, audience, EventType::KeyExpiring).await?;
            if !targets.is_empty() {
                let data = serde_json::json!({
                    "id": key.id,
                    "name": key.name,
                    "prefix": key.prefix,
                    "expires_on": key.expires_on,
                    "expires_at": key.expires_at,
                })
                .to_string();
                outbox::write(
                    &txn,
                    targets,
                    key.account_id,
                    None,
                    EventType::KeyExpiring,
                    &data,
                    now,
                )
                .await?;
            }
        }
        txn.commit().await?;
    }
    Ok(())
}
