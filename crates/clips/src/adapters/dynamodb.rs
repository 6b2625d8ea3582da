//! The clips table on DynamoDB: HASH `competition`, RANGE `clip` (the clip id).
//!
//! Items map to the domain through `ClipItem` (serde_dynamo) and `TryFrom`, so nothing outside
//! this module knows the attribute names. Writes are conditional: inserts on absence, updates on
//! the `version` read, which is what keeps late or repeated events from moving a clip backwards.
//! No transactions or TTL: the local DynamoDB has neither.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Clip, ClipId, ClipKey, ClipStatus, ClipWindow, CompetitionId, Playback, format_instant};
use crate::error::StoreError;
use crate::ports::{
    ClipPage, ClipQuery, FindStaleClips, Idempotency, IdempotencyRecord, ReadClips, StoredClip, WriteClips, Written,
};

#[derive(Debug, Clone)]
pub struct DynamoClips {
    client: Client,
    table: String,
}

impl DynamoClips {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClipItem {
    competition: String,
    clip: String,
    title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    description: String,
    start: String,
    end: String,
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    playback: Vec<Playback>,
    created_at: String,
    updated_at: String,
    version: u64,
    /// Present only while the clip is not final, so the sparse `PENDING_INDEX` holds exactly the
    /// clips that may still be waiting for an event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending: Option<String>,
}

/// The sparse global secondary index of unfinished clips: HASH `pending`, RANGE `updatedAt`.
pub const PENDING_INDEX: &str = "pending-by-age";
const PENDING: &str = "PENDING";

impl ClipItem {
    fn new(clip: &Clip, version: u64) -> Self {
        Self {
            competition: clip.competition.to_string(),
            clip: clip.id.to_string(),
            title: clip.title.clone(),
            description: clip.description.clone(),
            start: format_instant(clip.window.start),
            end: format_instant(clip.window.end),
            status: clip.status.as_str().to_owned(),
            error: clip.error.clone(),
            playback: clip.playback.clone(),
            created_at: format_instant(clip.created_at),
            updated_at: format_instant(clip.updated_at),
            version,
            pending: (!clip.status.is_final()).then(|| PENDING.to_owned()),
        }
    }
}

fn instant(field: &str, value: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("{field} {value:?}: {e}")))
}

impl TryFrom<ClipItem> for StoredClip {
    type Error = StoreError;
    fn try_from(item: ClipItem) -> Result<Self, StoreError> {
        let corrupt = |what: String| StoreError::Corrupt(what);
        Ok(Self {
            clip: Clip {
                competition: CompetitionId::parse(&item.competition)
                    .map_err(|e| corrupt(format!("competition: {e}")))?,
                id: ClipId::parse(&item.clip).map_err(|e| corrupt(format!("clip: {e}")))?,
                window: ClipWindow { start: instant("start", &item.start)?, end: instant("end", &item.end)? },
                status: ClipStatus::parse(&item.status).ok_or_else(|| corrupt(format!("status {:?}", item.status)))?,
                title: item.title,
                description: item.description,
                error: item.error,
                playback: item.playback,
                created_at: instant("createdAt", &item.created_at)?,
                updated_at: instant("updatedAt", &item.updated_at)?,
            },
            version: item.version,
        })
    }
}

type Item = HashMap<String, AttributeValue>;

fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn key(competition: &str, clip: &str) -> Item {
    HashMap::from([
        ("competition".to_owned(), AttributeValue::S(competition.to_owned())),
        ("clip".to_owned(), AttributeValue::S(clip.to_owned())),
    ])
}

fn unavailable<E: std::error::Error + Send + Sync + 'static>(err: E) -> StoreError {
    StoreError::Unavailable(Box::new(err))
}

/// A failed conditional write is an answer, not an outage.
fn conditional<E, R>(
    result: Result<(), SdkError<E, R>>,
    is_conflict: impl Fn(&E) -> bool,
) -> Result<Written, StoreError>
where
    SdkError<E, R>: std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(()) => Ok(Written::Written),
        Err(err) if err.as_service_error().is_some_and(&is_conflict) => Ok(Written::Conflict),
        Err(err) => Err(unavailable(err)),
    }
}

impl ReadClips for DynamoClips {
    async fn get(&self, clip: &ClipKey) -> Result<Option<StoredClip>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(clip.competition.as_str(), clip.id.as_str())))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output.item.map(|item| from_item::<ClipItem>(item)?.try_into()).transpose()
    }

    async fn query(&self, query: &ClipQuery) -> Result<ClipPage, StoreError> {
        let mut condition = "competition = :competition".to_owned();
        let mut values = HashMap::from([(":competition".to_owned(), AttributeValue::S(query.competition.to_string()))]);
        let mut names = HashMap::new();
        match (query.from, query.to) {
            (Some(from), Some(to)) => {
                condition.push_str(" AND clip BETWEEN :from AND :to");
                values.insert(":from".into(), AttributeValue::S(ClipId::lower_bound(from)));
                values.insert(":to".into(), AttributeValue::S(ClipId::upper_bound(to)));
            }
            (Some(from), None) => {
                condition.push_str(" AND clip >= :from");
                values.insert(":from".into(), AttributeValue::S(ClipId::lower_bound(from)));
            }
            (None, Some(to)) => {
                condition.push_str(" AND clip <= :to");
                values.insert(":to".into(), AttributeValue::S(ClipId::upper_bound(to)));
            }
            (None, None) => {}
        }
        let filter = query.status.map(|status| {
            names.insert("#status".to_owned(), "status".to_owned());
            values.insert(":status".into(), AttributeValue::S(status.as_str().to_owned()));
            "#status = :status"
        });
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(condition)
            .set_filter_expression(filter.map(str::to_owned))
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values(Some(values))
            .set_exclusive_start_key(query.after.as_ref().map(|id| key(query.competition.as_str(), id.as_str())))
            .scan_index_forward(!query.newest_first)
            .limit(i32::from(query.limit))
            .send()
            .await
            .map_err(unavailable)?;
        let clips = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| Ok(StoredClip::try_from(from_item::<ClipItem>(item)?)?.clip))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let last_evaluated = match output.last_evaluated_key.as_ref().and_then(|k| k.get("clip")) {
            Some(AttributeValue::S(id)) => {
                Some(ClipId::parse(id).map_err(|e| StoreError::Corrupt(format!("LastEvaluatedKey: {e}")))?)
            }
            _ => None,
        };
        Ok(ClipPage { clips, last_evaluated })
    }
}

impl FindStaleClips for DynamoClips {
    async fn stale(&self, updated_before: DateTime<Utc>, limit: u16) -> Result<Vec<StoredClip>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(PENDING_INDEX)
            .key_condition_expression("pending = :pending AND updatedAt < :before")
            .expression_attribute_values(":pending", AttributeValue::S(PENDING.to_owned()))
            .expression_attribute_values(":before", AttributeValue::S(format_instant(updated_before)))
            .limit(i32::from(limit))
            .send()
            .await
            .map_err(unavailable)?;
        output.items.unwrap_or_default().into_iter().map(|item| from_item::<ClipItem>(item)?.try_into()).collect()
    }
}

impl WriteClips for DynamoClips {
    async fn insert(&self, clip: &Clip) -> Result<Written, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&ClipItem::new(clip, 1))?))
            .condition_expression("attribute_not_exists(clip)")
            .send()
            .await
            .map(drop);
        conditional(result, |e| e.is_conditional_check_failed_exception())
    }

    async fn replace(&self, clip: &Clip, expected_version: u64) -> Result<Written, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&ClipItem::new(clip, expected_version + 1))?))
            .condition_expression("version = :expected")
            .expression_attribute_values(":expected", AttributeValue::N(expected_version.to_string()))
            .send()
            .await
            .map(drop);
        conditional(result, |e| e.is_conditional_check_failed_exception())
    }
}

/// An idempotency key lives in the clips table under a partition no competition can have
/// (`#` is not allowed in competition ids), so it needs no table of its own.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdempotencyItem {
    competition: String,
    clip: String,
    fingerprint: String,
    clip_competition: String,
    clip_id: String,
    start: String,
    end: String,
}

const IDEMPOTENCY_PARTITION: &str = "idempotency#";
const IDEMPOTENCY_SORT_KEY: &str = "#";

impl TryFrom<IdempotencyItem> for IdempotencyRecord {
    type Error = StoreError;
    fn try_from(item: IdempotencyItem) -> Result<Self, StoreError> {
        let corrupt = |what: String| StoreError::Corrupt(format!("idempotency record: {what}"));
        Ok(Self {
            key: item.competition.strip_prefix(IDEMPOTENCY_PARTITION).unwrap_or_default().to_owned(),
            fingerprint: item.fingerprint,
            clip: ClipKey {
                competition: CompetitionId::parse(&item.clip_competition).map_err(|e| corrupt(e.to_string()))?,
                id: ClipId::parse(&item.clip_id).map_err(|e| corrupt(e.to_string()))?,
            },
            window: ClipWindow { start: instant("start", &item.start)?, end: instant("end", &item.end)? },
        })
    }
}

impl Idempotency for DynamoClips {
    async fn claim(&self, record: &IdempotencyRecord) -> Result<IdempotencyRecord, StoreError> {
        let partition = format!("{IDEMPOTENCY_PARTITION}{}", record.key);
        let item = IdempotencyItem {
            competition: partition.clone(),
            clip: IDEMPOTENCY_SORT_KEY.to_owned(),
            fingerprint: record.fingerprint.clone(),
            clip_competition: record.clip.competition.to_string(),
            clip_id: record.clip.id.to_string(),
            start: format_instant(record.window.start),
            end: format_instant(record.window.end),
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(clip)")
            .send()
            .await
            .map(drop);
        if conditional(result, |e| e.is_conditional_check_failed_exception())? == Written::Written {
            return Ok(record.clone());
        }
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(&partition, IDEMPOTENCY_SORT_KEY)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let item =
            output.item.ok_or_else(|| StoreError::Corrupt(format!("idempotency key {} vanished", record.key)))?;
        from_item::<IdempotencyItem>(item)?.try_into()
    }
}
