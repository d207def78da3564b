//! The calls the client makes, and how each becomes an HTTP request
//! (`docs/catalogue-api.md`). Only this file knows the catalogue's paths.

use serde_json::Value;

/// One call to the catalogue. Writes carry the idempotency key their caller
/// derived from what is written.
#[derive(Debug, Clone)]
pub enum Call {
    CreateListing { body: Value, key: String },
    UpdateListing { id: String, body: Value, key: String },
    WithdrawListing { id: String, key: String },
    GetListing { id: String },
    /// Listings changed after `cursor` (from the start when `None`).
    ListingChanges { cursor: Option<String>, limit: u32 },
    /// A PEPPOL Catalogue document.
    UploadCatalogue { xml: Vec<u8>, key: String },
    GetUpload { id: String },
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
            Call::UploadCatalogue { xml, key } => http
                .post(url("/catalogue"))
                .header("Idempotency-Key", key)
                .header("content-type", "application/xml")
                .body(xml.clone()),
            Call::GetUpload { id } => http.get(url(&format!("/catalogue/{}", id_part(id)))),
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
        }
    }
}
