//! Produk dan listing: every listing, filtered by cooperative, state and
//! channel; those refused, sent back, taken down or held back show why, in
//! plain words; a resubmit button where resending applies.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::format::{self, when};
use super::i18n::Lang;
use super::{Auth, Choice, Layout, PAGE_SIZE, Pager, WebError, WebState, given, render};
use crate::domain::Named;
use crate::domain::publication::{Channel, OnRequest, Standing};
use crate::store::dashboard::{self, ListingFilter};

#[derive(Debug, Default, serde::Deserialize)]
pub struct ListingQuery {
    koperasi: Option<String>,
    status: Option<String>,
    saluran: Option<String>,
    /// Where the page starts: after the listing with this key (`dashboard::ListingKey`).
    setelah: Option<String>,
    ok: Option<String>,
}

/// `cooperative.member.channel.sku` (the SKU last: it may hold dots).
fn key_text(k: &dashboard::ListingKey) -> String {
    format!("{}.{}.{}.{}", k.cooperative_id, k.member_id, k.channel, k.sku)
}

fn parse_key(s: &str) -> Option<dashboard::ListingKey> {
    let mut parts = s.splitn(4, '.');
    let cooperative_id = parts.next()?.parse().ok()?;
    let member_id = parts.next()?.parse().ok()?;
    let channel = parts.next()?.to_owned();
    let sku = parts.next()?.chars().take(200).collect();
    Some(dashboard::ListingKey { cooperative_id, member_id, sku, channel })
}

pub struct Row {
    pub id: Option<i64>,
    pub product_id: i64,
    pub cooperative: String,
    pub member: String,
    pub sku: String,
    pub product: String,
    pub channel: String,
    pub state: String,
    pub attention: bool,
    pub since: String,
    pub reasons: Vec<(String, Option<String>)>,
    pub inaproc: Option<String>,
    pub resubmit: bool,
}

#[derive(Template)]
#[template(path = "listings.html")]
struct ListingsPage {
    l: Layout,
    coops: Vec<Choice>,
    states: Vec<Choice>,
    channels: Vec<Choice>,
    rows: Vec<Row>,
    pager: Pager,
    here: String,
}

/// A mapping issue in plain words, from its rule's code; the mapping's own
/// sentence goes beside it.
pub fn issue_words(code: &str, field: &str, lang: Lang) -> String {
    let (id, en) = match code {
        "name_too_short" => ("Nama produk terlalu pendek", "The product name is too short"),
        "name_too_long" => ("Nama produk terlalu panjang", "The product name is too long"),
        "description_too_long" => ("Deskripsi terlalu panjang", "The description is too long"),
        "unknown_unit" => ("Satuan tidak dikenal katalog", "The catalogue does not know the unit"),
        "no_category_mapping" => ("Kategori belum dipetakan ke kategori katalog", "The category is not mapped to a catalogue category"),
        "missing_value" => return format!("{}: {field}", lang.pick("Kolom wajib masih kosong", "A required field is empty")),
        "missing_weight" => ("Berat (kg) belum diisi", "The weight (kg) is missing"),
        "tkdn_without_certificate" => ("Nilai TKDN tanpa nomor sertifikat", "A TKDN value without its certificate number"),
        "no_photo" => ("Belum ada foto produk", "The product has no photo"),
        "too_many_photos" => ("Foto melebihi batas katalog", "More photos than the catalogue takes"),
        "price_rounded" => ("Harga dibulatkan", "The price was rounded"),
        "no_gln" => ("Koperasi belum punya GLN (diperlukan PEPPOL)", "The cooperative has no GLN (PEPPOL needs one)"),
        "tkdn_not_in_bulk_upload" => ("TKDN tidak dapat dikirim lewat unggah massal", "TKDN cannot go through the bulk upload"),
        "sni_not_in_bulk_upload" => ("SNI tidak dapat dikirim lewat unggah massal", "SNI cannot go through the bulk upload"),
        "brand_not_in_bulk_upload" => ("Merek tidak dapat dikirim lewat unggah massal", "The brand cannot go through the bulk upload"),
        "above_price_ceiling" => ("Harga di atas harga tertinggi yang diizinkan", "The price is above the allowed ceiling"),
        "net_content_unknown" => ("Isi bersih (berat/volume) tidak diketahui", "The net content is unknown"),
        "net_content_inferred" => ("Isi bersih ditebak dari nama produk", "The net content was read from the name"),
        "sphp_stock" => ("Beras SPHP: stok eceran, tidak dijual ke satuan kerja", "SPHP rice: retail stock, not sold to a work unit"),
        other => return other.to_owned(),
    };
    lang.pick(id, en).to_owned()
}

/// Each reason as (plain words, the detail beside them), in the page's
/// language: the mapping's sentence in Indonesian or English (an issue
/// stored before the Indonesian was kept shows its plain words alone); the
/// curators' sentences as they wrote them; a refusal's text, as the
/// catalogue gave it, beside the words saying it was refused.
fn reasons(r: &dashboard::ListingRow, lang: Lang) -> Vec<(String, Option<String>)> {
    let detail_key = lang.pick("message_id", "message");
    let from_issues: Vec<(String, Option<String>)> = r
        .reasons
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| {
                    let code = i["code"].as_str()?;
                    Some((issue_words(code, i["field"].as_str().unwrap_or(""), lang), i[detail_key].as_str().map(str::to_owned)))
                })
                .collect()
        })
        .unwrap_or_default();
    if !from_issues.is_empty() {
        return from_issues;
    }
    let curators = crate::store::publications::reasons_text(&r.reasons, None);
    match r.last_error.as_deref() {
        _ if !curators.is_empty() => curators.into_iter().map(|s| (s, None)).collect(),
        Some(e) => {
            vec![(lang.pick("Ditolak katalog; perbaiki lalu kirim ulang", "Refused by the catalogue; mend it, then resend").to_owned(), Some(e.to_owned()))]
        }
        None => Vec::new(),
    }
}

pub async fn page(State(state): State<WebState>, auth: Auth, Query(q): Query<ListingQuery>) -> Result<Response, WebError> {
    let lang = auth.lang;
    let t = auth.t();
    let scope = auth.user.scope();
    // A cooperative named in the filter must be one the user may see: else nothing is found.
    let (coops, coop_filter) = super::cooperative_choices(&state, scope, given(&q.koperasi)).await?;
    let state_filter = given(&q.status).and_then(Standing::from_name);
    let channel_filter = given(&q.saluran).and_then(Channel::from_name);
    let filter = ListingFilter { cooperative: coop_filter, state: state_filter, channel: channel_filter };
    let after = q.setelah.as_deref().and_then(parse_key);
    let (rows, next) = dashboard::listings(&state.store, scope, &filter, after.as_ref(), PAGE_SIZE).await?;
    let rows = rows
        .into_iter()
        .map(|r| {
            let resubmit = r.id.is_some() && matches!(r.state, Standing::Published(s) if s.on_request(r.changed) == OnRequest::Resend);
            let inaproc = r.kd_produk.as_ref().map(|kd| {
                let live = match r.live {
                    Some(true) => t.yes,
                    Some(false) => t.no,
                    None => "-",
                };
                format!("{kd} · {}: {live}{}", t.live_on_inaproc, r.status_produk.as_deref().map(|s| format!(" ({s})")).unwrap_or_default())
            });
            Row {
                reasons: if r.state.needs_attention() { reasons(&r, lang) } else { Vec::new() },
                attention: r.state.needs_attention(),
                id: r.id,
                product_id: r.product_id,
                cooperative: r.cooperative,
                member: r.member,
                sku: r.sku,
                product: r.product,
                channel: r.channel.map(|c| format::channel(c, lang)).unwrap_or_default(),
                state: format::listing_state(r.state, lang),
                since: when(r.since, lang),
                inaproc,
                resubmit,
            }
        })
        .collect();
    let params = [("koperasi", q.koperasi.clone()), ("status", state_filter.map(|s| s.to_string())), ("saluran", channel_filter.map(|c| c.to_string()))];
    let first = Pager::href("/produk", &params, 1);
    let with_key = |k: &dashboard::ListingKey| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("setelah", &key_text(k));
        format!("{first}{}{}", if first.contains('?') { '&' } else { '?' }, q.finish())
    };
    // Pages run forward from a key; "back" is to the first page.
    let pager = Pager { prev: after.is_some().then(|| first.clone()), next: next.as_ref().map(with_key) };
    let here = after.as_ref().map(with_key).unwrap_or(first);
    let mut l = auth.layout("products", t.products, &here);
    if q.ok.as_deref() == Some("1") {
        l.notice = Some(t.resubmitted.to_owned());
    } else if q.ok.as_deref() == Some("0") {
        l.notice = Some(t.resubmit_not_applicable.to_owned());
    }
    let page = ListingsPage {
        coops,
        states: Standing::ALL
            .into_iter()
            .map(|s| Choice { value: s.to_string(), label: format::listing_state(s, lang), selected: state_filter == Some(s) })
            .collect(),
        channels: Channel::ALL
            .into_iter()
            .map(|c| Choice { value: c.to_string(), label: format::channel(c, lang), selected: channel_filter == Some(c) })
            .collect(),
        rows,
        pager,
        here,
        l,
    };
    render(&page)
}

#[derive(Debug, serde::Deserialize)]
pub struct ResubmitForm {
    #[serde(default)]
    csrf: String,
    lanjut: Option<String>,
}

/// Makes a publication pending again, where resending applies: the use
/// case `listings resubmit` goes through too.
pub async fn resubmit(State(state): State<WebState>, auth: Auth, Path(id): Path<i64>, Form(form): Form<ResubmitForm>) -> Result<Response, WebError> {
    auth.check(&form.csrf)?;
    let done = crate::app::listings::resubmit(&state.store, &crate::app::Actor::user(&auth.user), &[id]).await?;
    let Some(decision) = done.first().and_then(|d| d.decision) else { return Err(WebError::NotFound) };
    let resent = decision == OnRequest::Resend;
    let back = super::local_path(form.lanjut.as_deref());
    let sep = if back.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{back}{sep}ok={}", if resent { 1 } else { 0 })).into_response())
}
