//! Unggah produk and Unduhan: a cooperative's staff upload their product
//! spreadsheet (the same importer and limits as `import products`) and see
//! at once which rows went in and which were refused, with row, column and
//! reason; the templates, the orders (CSV, XLSX) and the bulk-upload
//! workbook are downloaded here.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::io::AsyncWriteExt;

use super::{Auth, Choice, Layout, WebError, WebState, render};
use crate::app::imports::ImportFileError;
use crate::intake::ImportOptions;
use crate::store::dashboard;

pub struct Refusal {
    pub row: u64,
    pub column: String,
    pub reason: String,
}

pub struct Outcome {
    pub file: String,
    pub cooperative: String,
    pub rows: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub refusals: Vec<Refusal>,
    pub more: u64,
}

#[derive(Template)]
#[template(path = "upload.html")]
struct UploadPage {
    l: Layout,
    coops: Vec<Choice>,
    outcome: Option<Outcome>,
}

async fn upload_page(state: &WebState, auth: &Auth, outcome: Option<Outcome>, alert: Option<String>) -> Result<Response, WebError> {
    let (coops, _) = super::cooperative_choices(state, auth.user.scope(), None).await?;
    let mut l = auth.layout("upload", auth.t().upload, "/unggah");
    l.alert = alert;
    render(&UploadPage { l, coops, outcome })
}

pub async fn page(State(state): State<WebState>, auth: Auth) -> Result<Response, WebError> {
    upload_page(&state, &auth, None, None).await
}

/// What an upload's form brought.
pub(super) enum Received {
    /// The text fields asked for (64 characters each at most), and the file saved with its own name.
    File { texts: Vec<(&'static str, String)>, saved: Option<(std::path::PathBuf, String)> },
    /// A file refused before it is saved, with why, in the page's language.
    Refused(String),
}

/// Reads an upload's form: the CSRF field first (nothing is written for a
/// forged request), then the text fields named in `texts` and the file
/// (`berkas`), streamed into `dir` and capped at `[import] max_file_bytes`.
pub(super) async fn receive(
    state: &WebState,
    auth: &Auth,
    mut multipart: Multipart,
    dir: &std::path::Path,
    texts: &[&'static str],
) -> Result<Received, WebError> {
    let t = auth.t();
    let mut csrf_ok = false;
    let mut named: Vec<(&'static str, String)> = Vec::new();
    let mut saved: Option<(std::path::PathBuf, String)> = None;
    let bad = |e: axum::extract::multipart::MultipartError| WebError::BadRequest(format!("{}: {e}", t.upload_failed));
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "csrf" => {
                let value = field.text().await.map_err(bad)?;
                auth.check(&value)?;
                csrf_ok = true;
            }
            name if csrf_ok && texts.contains(&name) => {
                let key = texts.iter().copied().find(|t| *t == name).unwrap_or_default();
                let value: String = field.text().await.map_err(bad)?.chars().take(64).collect();
                named.retain(|(k, _)| *k != key);
                named.push((key, value));
            }
            "berkas" if csrf_ok => {
                let original: String = field.file_name().unwrap_or_default().chars().filter(|c| !c.is_control()).take(200).collect();
                if original.is_empty() {
                    continue;
                }
                let ext = std::path::Path::new(&original).extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
                if !matches!(ext.as_str(), "csv" | "xlsx" | "txt") {
                    return Ok(Received::Refused(match auth.lang {
                        super::i18n::Lang::Id => format!("{}: {original}: hanya CSV atau XLSX", t.upload_failed),
                        super::i18n::Lang::En => format!("{}: {original}: only CSV or XLSX", t.upload_failed),
                    }));
                }
                let path = dir.join(format!("unggahan.{ext}"));
                let mut file = tokio::fs::File::create(&path).await.map_err(|e| WebError::Internal(format!("saving an upload: {e}")))?;
                let mut size: u64 = 0;
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    size += chunk.len() as u64;
                    if size > state.import.max_file_bytes {
                        return Err(WebError::BadRequest(format!("{}: > {} bytes", t.upload_failed, state.import.max_file_bytes)));
                    }
                    file.write_all(&chunk).await.map_err(|e| WebError::Internal(format!("saving an upload: {e}")))?;
                }
                file.flush().await.map_err(|e| WebError::Internal(format!("saving an upload: {e}")))?;
                saved = Some((path, original));
            }
            _ if !csrf_ok => return Err(WebError::Csrf),
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(WebError::Csrf);
    }
    Ok(Received::File { texts: named, saved })
}

/// The upload: the CSRF field must come before the file, so nothing is
/// written for a forged request. The file goes to a private temporary
/// folder (its own name is only shown, never used as a path), streamed and
/// capped at `[import] max_file_bytes`, then imported for the cooperative.
pub async fn upload(State(state): State<WebState>, auth: Auth, multipart: Multipart) -> Result<Response, WebError> {
    let t = auth.t();
    let dir = tempfile::Builder::new().prefix("kb-unggah-").tempdir().map_err(|e| WebError::Internal(format!("a temporary folder: {e}")))?;
    let (named, saved) = match receive(&state, &auth, multipart, dir.path(), &["koperasi"]).await? {
        Received::File { texts, saved } => (texts.into_iter().next().map(|(_, v)| v), saved),
        Received::Refused(why) => return upload_page(&state, &auth, None, Some(why)).await,
    };
    let Some((path, original)) = saved else { return upload_page(&state, &auth, None, Some(t.no_file.to_owned())).await };
    // On the page a cooperative is always the one the rows go to: the staff's own, or the liaison's choice.
    let named = named.filter(|n| !n.is_empty());
    if named.is_none() && auth.user.cooperative.is_none() {
        return Err(WebError::NotFound);
    }
    let actor = crate::app::Actor::user(&auth.user);
    let imported = crate::app::imports::import_products(
        &state.store,
        &state.units,
        &state.import,
        &actor,
        (&path, &original),
        named.as_deref(),
        &ImportOptions::default(),
    )
    .await;
    let (report, code) = match imported {
        Ok(i) => (i.report, i.cooperative.unwrap_or_default()),
        Err(ImportFileError::NotFound(_)) => return Err(WebError::NotFound),
        Err(ImportFileError::Store(e)) => return Err(e.into()),
        Err(ImportFileError::Import(e)) => {
            // The error names the temporary path: say the user's file instead.
            let why = match auth.lang {
                super::i18n::Lang::Id => e.in_indonesian(&original),
                super::i18n::Lang::En => e.to_string().replace(&path.display().to_string(), &original),
            };
            return upload_page(&state, &auth, None, Some(format!("{}: {why}", t.upload_failed))).await;
        }
    };
    let refusals: Vec<Refusal> = report
        .shown_rejects
        .iter()
        .flat_map(|r| {
            r.issues.iter().map(move |i| Refusal {
                row: r.row,
                column: i.column.clone(),
                reason: i.problem.in_language(auth.lang == super::i18n::Lang::Id).to_owned(),
            })
        })
        .collect();
    let outcome = Outcome {
        file: original,
        cooperative: code,
        rows: report.rows,
        accepted: report.accepted,
        rejected: report.rejected,
        more: report.rejected.saturating_sub(report.shown_rejects.len() as u64),
        refusals,
    };
    upload_page(&state, &auth, Some(outcome), None).await
}

/// The product template, as the command writes it.
pub async fn template(State(state): State<WebState>, _auth: Auth, Path(file): Path<String>) -> Result<Response, WebError> {
    let (name, mime) = match file.as_str() {
        "produk.xlsx" => ("templat-produk.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        "produk.csv" => ("templat-produk.csv", "text/csv; charset=utf-8"),
        _ => return Err(WebError::NotFound),
    };
    let dir = tempfile::tempdir().map_err(|e| WebError::Internal(e.to_string()))?;
    let path = dir.path().join(name);
    crate::intake::template::write(&path, crate::intake::products::PRODUCT_COLUMNS, crate::intake::template::PRODUCT_EXAMPLE, &state.units, true)
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let bytes = tokio::fs::read(&path).await.map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(attachment(name, mime, bytes))
}

fn attachment(name: &str, mime: &'static str, bytes: Vec<u8>) -> Response {
    // The name is ours (a cooperative's code and a fixed word), ASCII only.
    let name: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
    ([(header::CONTENT_TYPE, mime.to_owned()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))], bytes).into_response()
}

#[derive(Template)]
#[template(path = "downloads.html")]
struct DownloadsPage {
    l: Layout,
    coops: Vec<(String, String)>,
    outcome: Option<NumbersOutcome>,
}

/// What reading Coretax's list did, as the page shows it.
struct NumbersOutcome {
    file: String,
    cooperative: String,
    rows: usize,
    recorded: usize,
    already: usize,
    not_issued: Vec<(u64, String, String)>,
    problems: Vec<(u64, String, String)>,
}

async fn downloads_page(state: &WebState, auth: &Auth, alert: Option<String>) -> Result<Response, WebError> {
    with_outcome(state, auth, alert, None).await
}

async fn with_outcome(state: &WebState, auth: &Auth, alert: Option<String>, outcome: Option<NumbersOutcome>) -> Result<Response, WebError> {
    let coops = dashboard::cooperative_choices(&state.store, auth.user.scope()).await?.into_iter().map(|c| (c.1, c.2)).collect();
    let mut l = auth.layout("downloads", auth.t().downloads, "/unduhan");
    l.alert = alert;
    render(&DownloadsPage { l, coops, outcome })
}

pub async fn downloads(State(state): State<WebState>, auth: Auth) -> Result<Response, WebError> {
    downloads_page(&state, &auth, None).await
}

/// Coretax's list of a cooperative's output invoices, uploaded as any file
/// (the CSRF field first, streamed to a private folder and capped): each
/// issued invoice's number recorded on its order, as `orders
/// faktur-numbers` does; what was not recorded is shown with its row.
pub async fn faktur_numbers(State(state): State<WebState>, auth: Auth, Path(code): Path<String>, multipart: Multipart) -> Result<Response, WebError> {
    use crate::app::faktur::InvoiceError;
    let t = auth.t();
    let Some((_, code)) = dashboard::cooperative_by_code(&state.store, auth.user.scope(), &code).await? else { return Err(WebError::NotFound) };
    let dir = tempfile::Builder::new().prefix("kb-faktur-").tempdir().map_err(|e| WebError::Internal(format!("a temporary folder: {e}")))?;
    let saved = match receive(&state, &auth, multipart, dir.path(), &[]).await? {
        Received::File { saved, .. } => saved,
        Received::Refused(why) => return downloads_page(&state, &auth, Some(why)).await,
    };
    let Some((path, original)) = saved else { return downloads_page(&state, &auth, Some(t.no_file.to_owned())).await };
    let coretax = crate::mapping::coretax::Coretax::load(&state.mappings).map_err(|e| WebError::Internal(e.to_string()))?;
    let ctx = invoicing(&state, &coretax);
    let actor = crate::app::Actor::user(&auth.user);
    match crate::app::faktur::numbers(&ctx, &actor, Some(&code), (&path, &state.import), &auth.user.username).await {
        Ok(n) => {
            let outcome = NumbersOutcome {
                file: original,
                cooperative: n.cooperative,
                rows: n.rows,
                recorded: n.recorded.len(),
                already: n.already,
                not_issued: n.not_issued,
                problems: n.problems.into_iter().map(|p| (p.line, p.column, p.why)).collect(),
            };
            with_outcome(&state, &auth, None, Some(outcome)).await
        }
        Err(InvoiceError::List(e)) => {
            // The error names the temporary path: say the user's file instead.
            let why = match auth.lang {
                super::i18n::Lang::Id => e.in_indonesian(&original),
                super::i18n::Lang::En => e.to_string().replace(&path.display().to_string(), &original),
            };
            downloads_page(&state, &auth, Some(format!("{}: {why}", t.faktur_numbers_refused))).await
        }
        Err(InvoiceError::Store(e)) => Err(e.into()),
        Err(e) => downloads_page(&state, &auth, Some(format!("{}: {e}", t.faktur_numbers_refused))).await,
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct FakturForm {
    #[serde(default)]
    csrf: String,
    bulan: Option<String>,
}

/// The tax invoices' use cases as the dashboard calls them: Jakarta's day now.
fn invoicing<'a>(state: &'a WebState, coretax: &'a crate::mapping::coretax::Coretax) -> crate::app::faktur::Invoicing<'a> {
    crate::app::faktur::Invoicing { store: &state.store, tax: &state.tax, coretax, fulfilment: &state.fulfilment, today: crate::domain::time::today() }
}

/// A cooperative's month of tax invoices for Coretax, written as `orders
/// faktur` writes it (the orders recorded as held by it) and downloaded; the
/// problems that stop it are said on the page.
pub async fn faktur(
    State(state): State<WebState>,
    auth: Auth,
    Path(code): Path<String>,
    axum::Form(form): axum::Form<FakturForm>,
) -> Result<Response, WebError> {
    use crate::app::faktur::InvoiceError;
    auth.check(&form.csrf)?;
    let t = auth.t();
    let Some((_, code)) = dashboard::cooperative_by_code(&state.store, auth.user.scope(), &code).await? else { return Err(WebError::NotFound) };
    let Some(month) = form.bulan.as_deref().and_then(|m| m.parse::<crate::orders::report::Month>().ok()) else {
        return downloads_page(&state, &auth, Some(format!("{}: {}", t.faktur_refused, t.record_day_bad))).await;
    };
    let coretax = crate::mapping::coretax::Coretax::load(&state.mappings).map_err(|e| WebError::Internal(e.to_string()))?;
    let ctx = invoicing(&state, &coretax);
    let dir = tempfile::tempdir().map_err(|e| WebError::Internal(e.to_string()))?;
    let name = format!("faktur-{code}-{}.xml", month.label());
    let out = dir.path().join(&name);
    let actor = crate::app::Actor::user(&auth.user);
    match crate::app::faktur::write(&ctx, &actor, Some(&code), month, &out, &auth.user.username).await {
        Ok(w) if w.file.is_some() => {
            let bytes = tokio::fs::read(&out).await.map_err(|e| WebError::Internal(e.to_string()))?;
            Ok(attachment(&name, "application/xml", bytes))
        }
        Ok(_) => downloads_page(&state, &auth, Some(t.faktur_none.to_owned())).await,
        Err(InvoiceError::Store(e)) => Err(e.into()),
        Err(InvoiceError::Faktur(e)) if auth.lang == super::i18n::Lang::Id => {
            downloads_page(&state, &auth, Some(format!("{}: {}", t.faktur_refused, e.in_indonesian()))).await
        }
        Err(e) => downloads_page(&state, &auth, Some(format!("{}: {e}", t.faktur_refused))).await,
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Since {
    sejak: Option<chrono::NaiveDate>,
}

/// A cooperative's orders, one row per line with the money, as `orders export` writes them.
pub async fn orders_file(
    State(state): State<WebState>,
    auth: Auth,
    Path((code, file)): Path<(String, String)>,
    Query(q): Query<Since>,
) -> Result<Response, WebError> {
    let Some((coop_id, code)) = dashboard::cooperative_by_code(&state.store, auth.user.scope(), &code).await? else { return Err(WebError::NotFound) };
    let rows = crate::orders::export::rows(&state.store, &state.tax, &state.fulfilment, &code, q.sejak).await?;
    let (bytes, name, mime) = match file.as_str() {
        "pesanan.csv" => {
            let mut out = Vec::new();
            crate::orders::export::write_csv(&mut out, &rows).map_err(|e| WebError::Internal(e.to_string()))?;
            (out, format!("pesanan-{code}.csv"), "text/csv; charset=utf-8")
        }
        "pesanan.xlsx" => {
            let dir = tempfile::tempdir().map_err(|e| WebError::Internal(e.to_string()))?;
            let path = dir.path().join("pesanan.xlsx");
            crate::orders::export::write_xlsx(&path, &rows).map_err(|e| WebError::Internal(e.to_string()))?;
            (
                tokio::fs::read(&path).await.map_err(|e| WebError::Internal(e.to_string()))?,
                format!("pesanan-{code}.xlsx"),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        }
        _ => return Err(WebError::NotFound),
    };
    crate::store::users::audit(&state.store, &auth.user, Some(coop_id), "download.orders", Some(&name), serde_json::json!({"rows": rows.len()})).await?;
    Ok(attachment(&name, mime, bytes))
}

/// A cooperative's bulk-upload workbook (katalog-v6-xlsx), mapped now as
/// `map --format katalog-v6-xlsx --cooperative CODE` maps it.
pub async fn workbook(State(state): State<WebState>, auth: Auth, Path(code): Path<String>) -> Result<Response, WebError> {
    let Some((coop_id, code)) = dashboard::cooperative_by_code(&state.store, auth.user.scope(), &code).await? else { return Err(WebError::NotFound) };
    let format = crate::catalog::Format::KatalogV6Xlsx;
    let tables = crate::mapping::plan::Tables::load(&state.mappings).map_err(|e| WebError::Internal(e.to_string()))?;
    let plan = format.plan(&state.mappings, &tables).map_err(|e| WebError::Internal(e.to_string()))?;
    let dir = tempfile::tempdir().map_err(|e| WebError::Internal(e.to_string()))?;
    let options = crate::listings::MapOptions {
        cooperative: Some(code.clone()),
        out: crate::listings::Output::Path(dir.path().to_owned()),
        issue_date: crate::domain::time::today(),
        photo_base: state.photo_base.clone(),
        products: None,
    };
    // A GET reads: the products are mapped for the files only, their drafts left as they are.
    let report = crate::listings::map_products_read_only(&state.store, &plan, format, &options).await.map_err(|e| WebError::Internal(e.to_string()))?;
    let mut books: Vec<std::path::PathBuf> = report.outputs.iter().map(std::path::PathBuf::from).collect();
    books.sort();
    let (name, mime, bytes) = match books.as_slice() {
        [] => return Err(WebError::NotFound),
        [one] => {
            let bytes = tokio::fs::read(one).await.map_err(|e| WebError::Internal(e.to_string()))?;
            (format!("unggah-massal-{code}-{}", file_name(one)), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", bytes)
        }
        several => {
            let several = several.to_vec();
            let bytes = tokio::task::spawn_blocking(move || zip_books(&several)).await.map_err(|e| WebError::Internal(e.to_string()))??;
            (format!("unggah-massal-{code}.zip"), "application/zip", bytes)
        }
    };
    crate::store::users::audit(
        &state.store,
        &auth.user,
        Some(coop_id),
        "download.workbook",
        Some(&name),
        serde_json::json!({"listings": report.written, "workbooks": books.len()}),
    )
    .await?;
    Ok(attachment(&name, mime, bytes))
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// One zip of the workbooks, each under its own name (the category's name
/// and the start of its id: the category page of the portal it goes to).
fn zip_books(books: &[std::path::PathBuf]) -> Result<Vec<u8>, WebError> {
    use std::io::Write;
    let internal = |e: &dyn std::fmt::Display| WebError::Internal(format!("zipping the workbooks: {e}"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // The workbooks are zips already: stored, not compressed again.
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for book in books {
        zip.start_file(file_name(book), options).map_err(|e| internal(&e))?;
        zip.write_all(&std::fs::read(book).map_err(|e| internal(&e))?).map_err(|e| internal(&e))?;
    }
    Ok(zip.finish().map_err(|e| internal(&e))?.into_inner())
}
