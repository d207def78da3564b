//! The calls the client makes, and how each becomes an HTTP request
//! (`docs/catalogue-api.md`). Only this file knows the catalogue's paths.

use serde_json::Value;

use crate::domain::publication::{ListingChange, RemoteState};

/// A page of the listing change feed.
#[derive(Debug, Clone)]
pub struct FeedPage {
    pub changes: Vec<ListingChange>,
    /// Entries whose state this version does not know: skipped, counted.
    pub unknown_states: u64,
    pub cursor: String,
    pub has_more: bool,
}

/// The catalogue's name of a listing state.
pub fn remote_state(name: &str) -> Option<RemoteState> {
    Some(match name {
        "submitted" => RemoteState::Submitted,
        "under_curation" => RemoteState::UnderCuration,
        "live" => RemoteState::Live,
        "rejected" => RemoteState::Rejected,
        "revision_requested" => RemoteState::RevisionRequested,
        "taken_down" => RemoteState::TakenDown,
        "withdrawn" => RemoteState::Withdrawn,
        _ => return None,
    })
}

/// A listing's reasons: its text items only, at most 20 of 500 characters.
pub fn reasons(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().take(20).filter_map(|r| r.as_str().map(|s| s.chars().take(500).collect())).collect()).unwrap_or_default()
}

/// A listing's state and reasons, as a listing answer (a read, or the answer
/// to a write) gives them; `None` when it names no state this version knows.
pub fn listing_state(body: &Value) -> Option<(RemoteState, Vec<String>)> {
    let state = body["state"].as_str().and_then(remote_state)?;
    Some((state, reasons(&body["reasons"])))
}

/// Reads a `GET /listings` page; `Err` says what is missing.
pub fn feed_page(body: &Value) -> Result<FeedPage, String> {
    let data = body["data"].as_array().ok_or("the page has no data list")?;
    let cursor = match &body["meta"]["cursor"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err("the page has no meta.cursor".into()),
    };
    let has_more = body["meta"]["has_more"].as_bool().ok_or("the page has no meta.has_more")?;
    let mut changes = Vec::with_capacity(data.len());
    let mut unknown_states = 0;
    for item in data {
        let text = |k: &str| item[k].as_str().map(|s| s.chars().take(200).collect::<String>());
        let change = match &item["change"] {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.chars().take(100).collect(),
            _ => return Err("an entry has no change id".into()),
        };
        let remote_id = text("listing_id").ok_or("an entry has no listing_id")?;
        let Some(state) = item["state"].as_str().and_then(remote_state) else {
            unknown_states += 1;
            continue;
        };
        let reasons = reasons(&item["reasons"]);
        changes.push(ListingChange { remote_id, state, reasons, change, sku: text("sku"), member: text("kode_anggota") });
    }
    Ok(FeedPage { changes, unknown_states, cursor, has_more })
}

/// One call to the catalogue. Writes carry the idempotency key their caller
/// derived from what is written.
#[derive(Debug, Clone)]
pub enum Call {
    CreateListing {
        body: Value,
        key: String,
    },
    UpdateListing {
        id: String,
        body: Value,
        key: String,
    },
    WithdrawListing {
        id: String,
        key: String,
    },
    GetListing {
        id: String,
    },
    /// Listings changed after `cursor` (from the start when `None`).
    ListingChanges {
        cursor: Option<String>,
        limit: u32,
    },
    /// A PEPPOL Catalogue document.
    UploadCatalogue {
        xml: Vec<u8>,
        key: String,
    },
    GetUpload {
        id: String,
    },
    /// A page of a buyer's e-purchasing packages of a fiscal year, after `cursor`.
    ListOrders {
        klpd: String,
        year: i32,
        cursor: Option<String>,
        limit: u32,
    },
    GetOrder {
        id: String,
    },
    /// The seller's answer to an order: JSON, or a UBL OrderResponse.
    RespondOrder {
        id: String,
        body: ResponseBody,
        key: String,
    },
}

/// An order answer's body.
#[derive(Debug, Clone)]
pub enum ResponseBody {
    Json(Value),
    Ubl(Vec<u8>),
}

impl Call {
    pub(super) fn request(&self, http: &reqwest::Client, base: &str) -> reqwest::RequestBuilder {
        let url = |path: &str| format!("{base}/api/v1{path}");
        let id_part = |id: &str| url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>();
        match self {
            Call::CreateListing { body, key } => http.post(url("/listings")).header("Idempotency-Key", key).json(body),
            Call::UpdateListing { id, body, key } => http.put(url(&format!("/listings/{}", id_part(id)))).header("Idempotency-Key", key).json(body),
            Call::WithdrawListing { id, key } => {
                http.post(url(&format!("/listings/{}/withdraw", id_part(id)))).header("Idempotency-Key", key).json(&serde_json::json!({}))
            }
            Call::GetListing { id } => http.get(url(&format!("/listings/{}", id_part(id)))),
            Call::ListingChanges { cursor, limit } => {
                let mut q: Vec<(&str, String)> = vec![("limit", limit.to_string())];
                if let Some(c) = cursor {
                    q.push(("cursor", c.clone()));
                }
                http.get(url("/listings")).query(&q)
            }
            Call::UploadCatalogue { xml, key } => {
                http.post(url("/catalogue")).header("Idempotency-Key", key).header("content-type", "application/xml").body(xml.clone())
            }
            Call::GetUpload { id } => http.get(url(&format!("/catalogue/{}", id_part(id)))),
            Call::ListOrders { klpd, year, cursor, limit } => {
                let mut q: Vec<(&str, String)> = vec![("kode_klpd", klpd.clone()), ("tahun", year.to_string()), ("limit", limit.to_string())];
                if let Some(c) = cursor {
                    q.push(("cursor", c.clone()));
                }
                http.get(url("/ekatalog/paket-e-purchasing")).query(&q)
            }
            Call::GetOrder { id } => http.get(url(&format!("/ekatalog/paket-e-purchasing/{}", id_part(id)))),
            Call::RespondOrder { id, body, key } => {
                let r = http.post(url(&format!("/ekatalog/paket-e-purchasing/{}/response", id_part(id)))).header("Idempotency-Key", key);
                match body {
                    ResponseBody::Json(v) => r.json(v),
                    ResponseBody::Ubl(xml) => r.header("content-type", "application/xml").body(xml.clone()),
                }
            }
        }
    }

    /// The call in words, for errors and logs (never a body).
    pub fn describe(&self) -> String {
        match self {
            Call::CreateListing { body, .. } => format!("creating listing {}", body["sku"].as_str().unwrap_or("?")),
            Call::UpdateListing { id, .. } => format!("updating listing {id}"),
            Call::WithdrawListing { id, .. } => format!("withdrawing listing {id}"),
            Call::GetListing { id } => format!("reading listing {id}"),
            Call::ListingChanges { cursor, .. } => format!("reading listing changes after {}", cursor.as_deref().unwrap_or("the start")),
            Call::UploadCatalogue { .. } => "uploading a catalogue".to_owned(),
            Call::GetUpload { id } => format!("reading upload {id}"),
            Call::ListOrders { klpd, year, cursor, .. } => {
                format!("reading the orders of {klpd} for {year} after {}", cursor.as_deref().unwrap_or("the start"))
            }
            Call::GetOrder { id } => format!("reading order {id}"),
            Call::RespondOrder { id, .. } => format!("answering order {id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn feed_pages_are_read_defensively() {
        let page = feed_page(&json!({
            "data": [
                {"listing_id": "L1", "state": "live", "reasons": [], "change": 7},
                {"listing_id": "L2", "state": "tayang", "change": 8},
                {"listing_id": "L3", "state": "rejected", "reasons": ["harga", 5, "x".repeat(2_000)], "change": "9"}
            ],
            "meta": {"cursor": 9, "has_more": false}
        }))
        .unwrap();
        assert_eq!(page.changes.len(), 2);
        assert_eq!(page.unknown_states, 1, "a state this version does not know is counted, not fatal");
        assert_eq!((page.cursor.as_str(), page.has_more), ("9", false));
        assert_eq!(page.changes[1].reasons.len(), 2, "only text reasons");
        assert_eq!(page.changes[1].reasons[1].chars().count(), 500, "a reason is bounded");
        for bad in [
            json!(null),
            json!({"data": {}}),
            json!({"data": [], "meta": {}}),
            json!({"data": [{"state": "live", "change": 1}], "meta": {"cursor": "1", "has_more": true}}),
        ] {
            assert!(feed_page(&bad).is_err(), "{bad}");
        }
    }
}
