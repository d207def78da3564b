//! A product's own page: its fields as a form (added at `/produk/baru`,
//! edited on its page), withdrawing and reactivating it, and its photos,
//! taken with the phone's camera or from its gallery. Each action is one use
//! case of `app::products`. The photos themselves are served at
//! `/foto/<digest>.jpg` without a login: the catalogue's servers fetch them.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::i18n::Lang;
use super::{Auth, Choice, Layout, WebError, WebState, render};
use crate::app::Actor;
use crate::app::products::{self as use_case, PhotoAction, ProductError, Saved, Target};
use crate::intake::columns::CellIssue;

/// One field of the form as the page shows it.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    pub value: String,
    /// `decimal` for numbers (a keyboard with digits, dot and comma).
    pub inputmode: &'static str,
    pub long: bool,
    pub fixed: bool,
    pub required: bool,
    /// A choice among these (value, words), for `sumber_stok`.
    pub choices: Vec<(&'static str, &'static str)>,
    /// What is wrong with it, in the page's language.
    pub problems: Vec<String>,
}

/// The label of each form field, in Bahasa Indonesia and English.
fn label(name: &str, lang: Lang) -> &'static str {
    let (id, en) = match name {
        "kode_anggota" => ("Kode anggota", "Member code"),
        "nama_anggota" => ("Nama anggota (produsen)", "Member (producer) name"),
        "hp_anggota" => ("Nomor HP/WhatsApp anggota", "Member's mobile/WhatsApp number"),
        "email_anggota" => ("E-mail anggota", "Member's e-mail"),
        "sumber_stok" => ("Sumber stok", "Stock source"),
        "sku" => ("SKU (kode produk)", "SKU (product code)"),
        "nama_produk" => ("Nama produk", "Product name"),
        "kategori" => ("Kategori", "Category"),
        "satuan" => ("Satuan jual", "Unit of sale"),
        "isi_bersih" => ("Isi bersih", "Net content"),
        "harga" => ("Harga (Rp)", "Price (Rp)"),
        "stok" => ("Stok", "Stock"),
        "berat_kg" => ("Berat kirim (kg)", "Shipping weight (kg)"),
        "tkdn_persen" => ("TKDN (%)", "TKDN (%)"),
        "no_sertifikat_tkdn" => ("Nomor sertifikat TKDN", "TKDN certificate number"),
        "deskripsi" => ("Deskripsi", "Description"),
        _ => ("", ""),
    };
    lang.pick(id, en)
}

fn fields(values: &BTreeMap<String, String>, issues: &[CellIssue], fixed: bool, lang: Lang) -> Vec<Field> {
    use_case::FIELDS
        .iter()
        .map(|name| {
            let column = crate::intake::products::PRODUCT_COLUMNS.iter().find(|c| c.header == *name);
            Field {
                name,
                label: label(name, lang),
                help: column.map_or("", |c| c.help),
                value: values.get(*name).cloned().unwrap_or_default(),
                inputmode: match *name {
                    "harga" | "stok" | "berat_kg" | "tkdn_persen" => "decimal",
                    "hp_anggota" => "tel",
                    "email_anggota" => "email",
                    _ => "text",
                },
                choices: if *name == "sumber_stok" {
                    vec![
                        ("sendiri", lang.pick("Milik sendiri", "Own")),
                        ("konsinyasi", lang.pick("Konsinyasi (titipan)", "Consignment")),
                        ("sphp", lang.pick("Beras SPHP (eceran, tidak dikirim ke katalog)", "SPHP rice (retail, not sent to the catalogue)")),
                    ]
                } else {
                    Vec::new()
                },
                long: *name == "deskripsi",
                fixed: fixed && use_case::FIXED.contains(name),
                required: column.is_some_and(|c| c.required),
                problems: issues
                    .iter()
                    .filter(|i| i.field == *name)
                    .map(|i| if lang == Lang::Id { i.problem.indonesian.clone() } else { i.problem.english.clone() })
                    .collect(),
            }
        })
        .collect()
}

/// A photo as the page shows it.
pub struct Photo {
    pub digest: String,
    pub size: String,
    pub main: bool,
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    l: Layout,
    /// `None` for a new product.
    id: Option<i64>,
    action: String,
    fields: Vec<Field>,
    /// The cooperatives a new product may be for (the liaison chooses).
    coops: Vec<Choice>,
    active: bool,
    photos: Vec<Photo>,
    photos_max: i64,
    cooperative: String,
    /// What the next publish would do with it, in words; and whether it can
    /// be sent now ("Kirim sekarang": a catalogue is configured).
    preview: Vec<String>,
    can_send: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ShownQuery {
    ok: Option<String>,
}

/// `/produk/baru`: an empty form.
pub async fn new_page(State(state): State<WebState>, auth: Auth) -> Result<Response, WebError> {
    new_form(&state, &auth, &BTreeMap::new(), &[], None).await
}

async fn new_form(state: &WebState, auth: &Auth, values: &BTreeMap<String, String>, issues: &[CellIssue], alert: Option<String>) -> Result<Response, WebError> {
    let t = auth.t();
    let named = values.get("kode_koperasi").map(String::as_str).filter(|c| !c.is_empty());
    let (coops, _) = super::cooperative_choices(state, auth.user.scope(), None).await?;
    let coops = coops.into_iter().map(|c| Choice { selected: Some(c.value.as_str()) == named, ..c }).collect();
    let mut l = auth.layout("products", t.product_new, "/produk/baru");
    l.alert = alert;
    let page = ProductPage {
        l,
        id: None,
        action: "/produk/baru".into(),
        fields: fields(values, issues, false, auth.lang),
        coops,
        active: true,
        photos: Vec::new(),
        photos_max: state.photos_per_product,
        cooperative: String::new(),
        preview: Vec::new(),
        can_send: false,
    };
    let mut response = render(&page)?;
    if !issues.is_empty() {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// A product's page: its form filled in, its photos.
pub async fn show(State(state): State<WebState>, auth: Auth, Path(id): Path<i64>, Query(q): Query<ShownQuery>) -> Result<Response, WebError> {
    let t = auth.t();
    let notice = match q.ok.as_deref() {
        Some("simpan") => Some(t.product_saved),
        Some("foto") => Some(t.photo_added),
        Some("foto-sama") => Some(t.photo_already),
        Some("foto-utama") => Some(t.photo_made_main),
        Some("foto-hapus") => Some(t.photo_removed),
        Some("tarik") => Some(t.product_withdrawn),
        Some("aktif") => Some(t.product_reactivated),
        _ => None,
    };
    product_form(&state, &auth, id, None, &[], notice.map(str::to_owned), None).await
}

async fn product_form(
    state: &WebState,
    auth: &Auth,
    id: i64,
    typed: Option<&BTreeMap<String, String>>,
    issues: &[CellIssue],
    notice: Option<String>,
    alert: Option<String>,
) -> Result<Response, WebError> {
    let detail = use_case::detail(&state.store, &Actor::user(&auth.user), id).await.map_err(product_error)?;
    let stored: BTreeMap<String, String> = use_case::fields_of(&detail.product).into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    // What was typed stays, but the fields that cannot change show what is stored.
    let mut values = typed.cloned().unwrap_or_else(|| stored.clone());
    for f in use_case::FIXED {
        values.insert((*f).to_owned(), stored.get(*f).cloned().unwrap_or_default());
    }
    let here = format!("/produk/{id}");
    let mut l = auth.layout("products", detail.product.name.clone(), &here);
    l.notice = notice;
    l.alert = alert;
    let photos = detail
        .photos
        .iter()
        .enumerate()
        .map(|(i, p)| Photo { digest: p.digest.clone(), size: format!("{} × {} px", p.width, p.height), main: i == 0 })
        .collect();
    let (preview, can_send) = match &state.jobs {
        Some(jobs) => {
            let catalogue = catalogue(state, jobs);
            match use_case::preview(&state.store, &catalogue, &Actor::user(&auth.user), id).await {
                Ok(p) => (preview_words(&p, auth.lang), !matches!(p, use_case::Preview::HeldBack { .. } | use_case::Preview::Withdraw { .. })),
                Err(e) => {
                    tracing::warn!(error = %e, product = id, "cannot preview the product's listing");
                    (Vec::new(), false)
                }
            }
        }
        None => (Vec::new(), false),
    };
    let page = ProductPage {
        preview,
        can_send,
        l,
        id: Some(id),
        action: here,
        fields: fields(&values, issues, true, auth.lang),
        coops: Vec::new(),
        active: detail.product.active,
        photos,
        photos_max: state.photos_per_product,
        cooperative: detail.product.cooperative.clone(),
    };
    let mut response = render(&page)?;
    if !issues.is_empty() || page.l.alert.is_some() {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

fn catalogue<'a>(state: &'a WebState, jobs: &'a crate::jobs::RealJobs) -> use_case::Catalogue<'a> {
    use_case::Catalogue { client: &jobs.client, plan: &jobs.plan, photo_base: &state.photo_base, today: crate::domain::time::today() }
}

/// What the next publish would do, in the page's language: a sentence, then
/// each reason it is held back.
fn preview_words(p: &use_case::Preview, lang: Lang) -> Vec<String> {
    use use_case::Preview;
    let first = match p {
        Preview::New => lang.pick("Pengiriman berikutnya: listing baru di katalog.", "Next publish: a new listing on the catalogue."),
        Preview::Update => lang.pick("Pengiriman berikutnya: pembaruan listing yang sama di katalog.", "Next publish: an update of the same listing."),
        Preview::Nothing => {
            lang.pick("Tidak ada yang perlu dikirim: katalog sudah memuat produk ini apa adanya.", "Nothing to send: the catalogue has it as it is.")
        }
        Preview::HeldBack { .. } => lang.pick("Ditahan, belum dikirim ke katalog:", "Held back, not sent to the catalogue:"),
        Preview::Withdraw { listed: true } => lang.pick("Pengiriman berikutnya: produk ditarik dari katalog.", "Next publish: the product is withdrawn."),
        Preview::Withdraw { listed: false } => lang.pick("Produk ditarik: tidak dikirim ke katalog.", "Withdrawn: not sent to the catalogue."),
    };
    let mut words = vec![first.to_owned()];
    if let Preview::HeldBack { issues } = p {
        for i in issues {
            let detail = if lang == Lang::Id { &i.message_id } else { &i.message };
            words.push(format!("{} ({detail})", super::listings::issue_words(i.code.name(), &i.field, lang)));
        }
    }
    words
}

/// `POST /produk/{id}/kirim`: "Kirim sekarang", through the publisher.
pub async fn send_now(State(state): State<WebState>, auth: Auth, Path(id): Path<i64>, Form(form): Form<CsrfForm>) -> Result<Response, WebError> {
    auth.check(&form.csrf)?;
    let t = auth.t();
    let Some(jobs) = state.jobs.clone() else { return Err(WebError::NotFound) };
    let catalogue = catalogue(&state, &jobs);
    let id_lang = auth.lang == Lang::Id;
    let (notice, alert) = match use_case::send_now(&state.store, &catalogue, &Actor::user(&auth.user), id).await {
        Ok(sent) if !sent.refused.is_empty() => (None, Some(format!("{} {}", t.send_refused, sent.refused.join("; ")))),
        Ok(sent) if sent.sent > 0 => (Some(t.send_done.to_owned()), None),
        Ok(sent) if sent.deferred > 0 => (None, Some(t.send_later.to_owned())),
        Ok(_) => (Some(t.send_nothing.to_owned()), None),
        Err(use_case::SendError::Product(e)) => return Err(product_error(e)),
        Err(use_case::SendError::Store(e)) => return Err(e.into()),
        Err(use_case::SendError::Busy(_)) => (None, Some(t.send_busy.to_owned())),
        Err(e) if id_lang => (None, Some(format!("{} ({e})", t.send_failed))),
        Err(e) => (None, Some(e.to_string())),
    };
    let mut page = product_form(&state, &auth, id, None, &[], notice, alert).await?;
    *page.status_mut() = axum::http::StatusCode::OK;
    Ok(page)
}

fn product_error(e: ProductError) -> WebError {
    match e {
        ProductError::NotFound(_) | ProductError::NoCooperative(_) => WebError::NotFound,
        ProductError::Store(e) => WebError::Store(e),
        ProductError::Photo(e) => WebError::BadRequest(e.to_string()),
    }
}

/// The form's fields, bounded: each known field once, the CSRF token apart.
fn form_values(form: Vec<(String, String)>) -> (String, BTreeMap<String, String>) {
    let mut csrf = String::new();
    let mut values = BTreeMap::new();
    for (k, v) in form {
        if k == "csrf" {
            csrf = v;
        } else if use_case::FIELDS.contains(&k.as_str()) || k == "kode_koperasi" {
            values.entry(k).or_insert(v);
        }
    }
    (csrf, values)
}

/// `POST /produk/baru`: adds the product, or shows the form again with
/// each problem beside its field and what was typed.
pub async fn create(State(state): State<WebState>, auth: Auth, Form(form): Form<Vec<(String, String)>>) -> Result<Response, WebError> {
    let (csrf, values) = form_values(form);
    auth.check(&csrf)?;
    let target = Target::New { cooperative: values.get("kode_koperasi").cloned() };
    match use_case::save(&state.store, &state.units, &Actor::user(&auth.user), target, &values).await {
        Ok(Saved::Done { id, .. }) => Ok(Redirect::to(&format!("/produk/{id}?ok=simpan")).into_response()),
        Ok(Saved::Refused(issues)) => new_form(&state, &auth, &values, &issues, Some(auth.t().product_refused.to_owned())).await,
        Err(ProductError::NoCooperative(_)) => new_form(&state, &auth, &values, &[], Some(auth.t().product_choose_cooperative.to_owned())).await,
        Err(e) => Err(product_error(e)),
    }
}

/// `POST /produk/{id}`: saves the product's form.
pub async fn edit(State(state): State<WebState>, auth: Auth, Path(id): Path<i64>, Form(form): Form<Vec<(String, String)>>) -> Result<Response, WebError> {
    let (csrf, values) = form_values(form);
    auth.check(&csrf)?;
    match use_case::save(&state.store, &state.units, &Actor::user(&auth.user), Target::Existing(id), &values).await.map_err(product_error)? {
        Saved::Done { id, .. } => Ok(Redirect::to(&format!("/produk/{id}?ok=simpan")).into_response()),
        Saved::Refused(issues) => product_form(&state, &auth, id, Some(&values), &issues, None, Some(auth.t().product_refused.to_owned())).await,
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /produk/{id}/tarik` and `/aktifkan`.
pub async fn withdraw(State(state): State<WebState>, auth: Auth, Path(id): Path<i64>, Form(form): Form<CsrfForm>) -> Result<Response, WebError> {
    set_active(state, auth, id, form, false).await
}

pub async fn reactivate(State(state): State<WebState>, auth: Auth, Path(id): Path<i64>, Form(form): Form<CsrfForm>) -> Result<Response, WebError> {
    set_active(state, auth, id, form, true).await
}

async fn set_active(state: WebState, auth: Auth, id: i64, form: CsrfForm, active: bool) -> Result<Response, WebError> {
    auth.check(&form.csrf)?;
    use_case::set_active(&state.store, &Actor::user(&auth.user), id, active).await.map_err(product_error)?;
    Ok(Redirect::to(&format!("/produk/{id}?ok={}", if active { "aktif" } else { "tarik" })).into_response())
}

/// A photo form as read: the file, or that it was larger than a photo may be.
enum PhotoForm {
    File(Vec<u8>),
    TooLarge,
    Empty,
}

/// Reads a photo form: the CSRF field first (nothing is read for a forged
/// request), then the file, up to `max` bytes and no further.
async fn read_photo_form(auth: &Auth, mut multipart: Multipart, max: usize) -> Result<PhotoForm, WebError> {
    use axum::extract::multipart::MultipartError;
    let t = auth.t();
    // The body limit's refusal (a file far over `max`) says the same as ours.
    let read = |e: MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Ok(PhotoForm::TooLarge)
        } else {
            Err(WebError::BadRequest(format!("{}: {e}", t.photo_refused)))
        }
    };
    let mut csrf_ok = false;
    let mut file = PhotoForm::Empty;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return read(e),
        };
        match field.name().unwrap_or_default() {
            "csrf" => match field.text().await {
                Ok(token) => {
                    auth.check(&token)?;
                    csrf_ok = true;
                }
                Err(e) => return read(e),
            },
            "foto" if csrf_ok && matches!(file, PhotoForm::Empty) => {
                let mut got = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) if got.len() + chunk.len() > max => return Ok(PhotoForm::TooLarge),
                        Ok(Some(chunk)) => got.extend_from_slice(&chunk),
                        Ok(None) => break,
                        Err(e) => return read(e),
                    }
                }
                if !got.is_empty() {
                    file = PhotoForm::File(got);
                }
            }
            _ if !csrf_ok => return Err(WebError::Csrf),
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(WebError::Csrf);
    }
    Ok(file)
}

/// `POST /produk/{id}/foto`: a photo from the camera or the gallery.
pub async fn add_photo(State(state): State<WebState>, auth: Auth, Path(id): Path<i64>, multipart: Multipart) -> Result<Response, WebError> {
    let t = auth.t();
    let refused = |why: String| format!("{}: {why}", t.photo_refused);
    let bytes = match read_photo_form(&auth, multipart, state.photos.max_bytes).await? {
        PhotoForm::File(bytes) => bytes,
        PhotoForm::Empty => return product_form(&state, &auth, id, None, &[], None, Some(t.photo_none.to_owned())).await,
        PhotoForm::TooLarge => {
            // Said without reading the rest of it.
            let mb = state.photos.max_bytes >> 20;
            let why = if auth.lang == Lang::Id { format!("berkas lebih dari {mb} MB") } else { format!("the file is over {mb} MB") };
            let mut page = product_form(&state, &auth, id, None, &[], None, Some(refused(why))).await?;
            *page.status_mut() = axum::http::StatusCode::PAYLOAD_TOO_LARGE;
            return Ok(page);
        }
    };
    let actor = Actor::user(&auth.user);
    match use_case::add_photo(&state.store, &actor, &state.photos, state.photos_per_product, id, bytes).await {
        Ok(added) => {
            let ok = match added.kept {
                crate::store::photos::Kept::Added => "foto",
                crate::store::photos::Kept::AlreadyThere => "foto-sama",
                crate::store::photos::Kept::Full { .. } => {
                    let why = t.photos_full.replace("{n}", &state.photos_per_product.to_string());
                    return product_form(&state, &auth, id, None, &[], None, Some(why)).await;
                }
            };
            Ok(Redirect::to(&format!("/produk/{id}?ok={ok}")).into_response())
        }
        Err(ProductError::Photo(e)) => {
            let why = if auth.lang == Lang::Id { e.indonesian() } else { e.to_string() };
            product_form(&state, &auth, id, None, &[], None, Some(refused(why))).await
        }
        Err(e) => Err(product_error(e)),
    }
}

/// `POST /produk/{id}/foto/{digest}/utama` and `/hapus`.
pub async fn photo_main(
    State(state): State<WebState>,
    auth: Auth,
    Path((id, digest)): Path<(i64, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    photo_action(state, auth, id, digest, form, PhotoAction::MakeMain).await
}

pub async fn photo_remove(
    State(state): State<WebState>,
    auth: Auth,
    Path((id, digest)): Path<(i64, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    photo_action(state, auth, id, digest, form, PhotoAction::Remove).await
}

async fn photo_action(state: WebState, auth: Auth, id: i64, digest: String, form: CsrfForm, action: PhotoAction) -> Result<Response, WebError> {
    auth.check(&form.csrf)?;
    if !is_digest(&digest) {
        return Err(WebError::NotFound);
    }
    if !use_case::photo_action(&state.store, &Actor::user(&auth.user), id, &digest, action).await.map_err(product_error)? {
        return Err(WebError::NotFound);
    }
    let ok = if action == PhotoAction::MakeMain { "foto-utama" } else { "foto-hapus" };
    Ok(Redirect::to(&format!("/produk/{id}?ok={ok}")).into_response())
}

fn is_digest(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `GET /foto/<digest>.jpg`, without a login: the catalogue's servers fetch
/// it. Its name is its content's digest, so it never changes: cached for a
/// year. Anything else is a 404.
pub async fn photo(State(state): State<WebState>, Path(file): Path<String>) -> Result<Response, WebError> {
    let Some(digest) = file.strip_suffix(".jpg").filter(|d| is_digest(d)) else { return Err(WebError::NotFound) };
    let Some(jpeg) = crate::store::photos::jpeg(&state.store, digest).await? else { return Err(WebError::NotFound) };
    let mut response = jpeg.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{digest}\"")) {
        h.insert(header::ETAG, etag);
    }
    Ok(response)
}
