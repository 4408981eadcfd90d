//! The wide layout: one row per prompt, `{"id", "prompt", "responses": [...], "rewards": [...]}`.

use std::collections::HashSet;

use super::row::{parse_line, ParsedRow, Role, RowSpec};
use super::PromptRecord;
use crate::error::Error;

/// Field names of the wide layout (all configurable from the CLI).
#[derive(Clone, Debug)]
pub struct WideFields {
    pub id: String,
    pub prompt: String,
    pub responses: String,
    pub rewards: String,
}

impl Default for WideFields {
    fn default() -> Self {
        Self { id: "id".into(), prompt: "prompt".into(), responses: "responses".into(), rewards: "rewards".into() }
    }
}

impl WideFields {
    pub fn spec(&self) -> RowSpec {
        RowSpec {
            fields: vec![
                (self.id.clone(), Role::Id),
                (self.prompt.clone(), Role::Prompt),
                (self.responses.clone(), Role::Responses),
                (self.rewards.clone(), Role::Rewards),
            ],
        }
    }
}

/// Parses line `line_no` (at byte `at` of its block) into a validated pool.
pub fn parse_wide(
    text: &[u8],
    line_no: u64,
    at: u32,
    spec: &RowSpec,
    dedup: bool,
) -> Result<PromptRecord, Error> {
    let (row, text) = parse_line(text, line_no, spec)?;
    record_from_row(row, text.as_bytes(), line_no, at, spec, dedup)
}

fn record_from_row(
    row: ParsedRow,
    line: &[u8],
    line_no: u64,
    at: u32,
    spec: &RowSpec,
    dedup: bool,
) -> Result<PromptRecord, Error> {
    let missing = |role| Error::input(line_no, spec.name_of(role), "missing");
    let prompt = row.prompt.ok_or_else(|| missing(Role::Prompt))?;
    let responses = row.responses.ok_or_else(|| missing(Role::Responses))?;
    let rewards = row.rewards.ok_or_else(|| missing(Role::Rewards))?;
    check_pool(line_no, spec.name_of(Role::Responses), spec.name_of(Role::Rewards), responses.len(), &rewards)?;
    let mut record = PromptRecord {
        line: line_no,
        id: row.id.map(|mut id| {
            id.raw = id.raw.shifted(at);
            id
        }),
        prompt: prompt.shifted(at),
        responses,
        rewards,
        positions: None,
        duplicates_dropped: 0,
        extra: row.extra.into_iter().map(|(k, v)| (k, v.shifted(at))).collect(),
    };
    if dedup {
        dedup_responses(&mut record, line, line_no, spec.name_of(Role::Responses))?;
    }
    for span in &mut record.responses {
        *span = span.shifted(at);
    }
    Ok(record)
}

/// The checks every pool passes, whatever its layout: same lengths, not empty, rewards
/// finite in f32.
pub fn check_pool(
    line: u64,
    responses_field: &str,
    rewards_field: &str,
    responses: usize,
    rewards: &[f64],
) -> Result<(), Error> {
    if responses != rewards.len() {
        return Err(Error::input(
            line,
            rewards_field,
            format!("has {} values but `{responses_field}` has {responses}", rewards.len()),
        ));
    }
    if responses == 0 {
        return Err(Error::input(line, responses_field, "empty pool: no candidates"));
    }
    for (i, &r) in rewards.iter().enumerate() {
        if !r.is_finite() || !(r as f32).is_finite() {
            return Err(Error::input(line, rewards_field, format!("element {i}: {r} is not a finite f32 number")));
        }
    }
    Ok(())
}

/// Keeps the first occurrence of each response text (compared decoded, so `"\u00e9"` equals
/// `"é"`), with its input position and reward.
fn dedup_responses(record: &mut PromptRecord, line: &[u8], line_no: u64, field: &str) -> Result<(), Error> {
    let mut seen = HashSet::with_capacity(record.responses.len());
    let mut positions = Vec::with_capacity(record.responses.len());
    let mut responses = Vec::with_capacity(record.responses.len());
    let mut rewards = Vec::with_capacity(record.responses.len());
    for (i, span) in record.responses.iter().enumerate() {
        let text: String = serde_json::from_slice(span.get(line))
            .map_err(|e| Error::input(line_no, field, format!("element {i}: {e}")))?;
        if seen.insert(text) {
            positions.push(i as u32);
            responses.push(*span);
            rewards.push(record.rewards[i]);
        }
    }
    if responses.len() < record.responses.len() {
        record.duplicates_dropped = (record.responses.len() - responses.len()) as u32;
        record.responses = responses;
        record.rewards = rewards;
        record.positions = Some(positions);
    }
    Ok(())
}
