//! The catalogue's answers read into typed values. Outside `catalog/`, no
//! code reads a field of an answer: it asks the [`Answer`] for what it means.

use serde_json::Value;

use super::Answer;
use super::request::{FeedPage, feed_page, listing_state};
use crate::domain::order::RemoteOrder;
use crate::domain::publication::{LineResult, RemoteState};

/// An answer that does not say what it must, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the catalogue's answer is unreadable at {path}: {problem}")]
pub struct AnswerError {
    /// The JSON path of what is missing or wrong: `lines[3].accepted`.
    pub path: String,
    pub problem: String,
}

impl AnswerError {
    fn new(path: impl Into<String>, problem: impl Into<String>) -> Self {
        Self { path: path.into(), problem: problem.into() }
    }
}

/// What the answer to a listing write says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListingWritten {
    /// The catalogue's id of the listing, when it names one.
    pub listing_id: Option<String>,
    /// Where its review stands and why, when it says (a state this version knows).
    pub review: Option<(RemoteState, Vec<String>)>,
}

/// Lines one upload answer reports at most.
const MAX_LINES: usize = 10_000;

fn bounded(v: &Value, max: usize) -> Option<String> {
    v.as_str().map(|s| s.chars().take(max).collect())
}

impl Answer {
    /// The answer to a listing create, update or withdrawal.
    pub fn listing_written(&self) -> ListingWritten {
        ListingWritten { listing_id: bounded(&self.body["listing_id"], 200), review: listing_state(&self.body) }
    }

    /// The id the catalogue gave a document it took for processing.
    pub fn upload_id(&self) -> Result<String, AnswerError> {
        match self.body["upload_id"].as_str() {
            Some(id) if !id.is_empty() && id.len() <= 100 => Ok(id.to_owned()),
            Some(_) => Err(AnswerError::new("upload_id", "empty or longer than 100 characters")),
            None => Err(AnswerError::new("upload_id", "missing: the catalogue took the document but named no upload id")),
        }
    }

    /// The line results of a processed upload, or `None` while it waits.
    pub fn upload_results(&self) -> Result<Option<Vec<LineResult>>, AnswerError> {
        let state = self.body["state"].as_str().ok_or_else(|| AnswerError::new("state", "missing"))?;
        if state != "processed" {
            return Ok(None);
        }
        let lines = self.body["lines"].as_array().ok_or_else(|| AnswerError::new("lines", "missing or not a list"))?;
        let mut results = Vec::with_capacity(lines.len().min(MAX_LINES));
        for (i, line) in lines.iter().take(MAX_LINES).enumerate() {
            let line_id = match &line["line_id"] {
                Value::Number(n) => n.to_string(),
                v => bounded(v, 100).ok_or_else(|| AnswerError::new(format!("lines[{i}].line_id"), "missing"))?,
            };
            let accepted = line["accepted"].as_bool().ok_or_else(|| AnswerError::new(format!("lines[{i}].accepted"), "missing or not true/false"))?;
            results.push(LineResult { line_id, accepted, reason: bounded(&line["reason"], 500), listing_id: bounded(&line["listing_id"], 100) });
        }
        Ok(Some(results))
    }

    /// The order's status after the catalogue took an answer to it, as it says it.
    pub fn order_answer_status(&self) -> Option<String> {
        bounded(&self.body["status"], 60)
    }

    /// A page of the listing change feed.
    pub fn feed_page(&self) -> Result<FeedPage, AnswerError> {
        feed_page(&self.body).map_err(|why| AnswerError::new("", why))
    }

    /// A page of the e-purchasing order feed.
    pub fn order_page(&self) -> Result<crate::catalog::orders::OrderPage, AnswerError> {
        crate::catalog::orders::order_page(&self.body).map_err(|why| AnswerError::new("", why))
    }

    /// One order's detail.
    pub fn order(&self) -> Result<RemoteOrder, AnswerError> {
        crate::catalog::orders::order(&self.body).map_err(|why| AnswerError::new("", why))
    }
}

/// The JSON body of a cooperative's answer to an order (the catalogue's order API).
pub fn order_decision(accept: bool, reason: Option<&str>) -> Value {
    if accept { serde_json::json!({"decision": "accept"}) } else { serde_json::json!({"decision": "reject", "reason": reason}) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(body: Value) -> Answer {
        Answer { status: 200, body, bytes: 0, attempts: 1, _budget: None }
    }

    #[test]
    fn an_upload_answer_names_what_is_wrong_and_where() {
        assert_eq!(answer(json!({"state": "received"})).upload_results(), Ok(None));
        let done = answer(
            json!({"state": "processed", "lines": [{"line_id": 1, "accepted": true, "listing_id": "L1"}, {"line_id": "2", "accepted": false, "reason": "foto"}]}),
        );
        let lines = done.upload_results().unwrap().unwrap();
        assert_eq!((lines[0].line_id.as_str(), lines[0].accepted, lines[1].reason.as_deref()), ("1", true, Some("foto")));
        let bad = answer(json!({"state": "processed", "lines": [{"line_id": 1, "accepted": true}, {"line_id": 2}]})).upload_results().unwrap_err();
        assert_eq!(bad.path, "lines[1].accepted");
        assert_eq!(answer(json!({})).upload_id().unwrap_err().path, "upload_id");
        assert_eq!(answer(json!({"upload_id": "U-1"})).upload_id().unwrap(), "U-1");
    }
}
