//! A cooperative's products from the dashboard: adding and editing one
//! (through the importer's own parser), withdrawing and reactivating it,
//! its photos. The one place their rules live, for the product's page and
//! the `products` commands.

use std::collections::BTreeMap;

use super::Actor;
use crate::domain::cooperative::CooperativeCode;
use crate::domain::money::format_number_id;
use crate::intake::columns::CellIssue;
use crate::mapping::units::UnitTable;
use crate::photos::{PhotoError, PhotoLimits};
use crate::store::photos::{Kept, ProductPhoto};
use crate::store::products::{Present, StoredProduct};
use crate::store::{Store, StoreError};

/// The product form's fields, named as the products sheet's columns, in
/// the order the form shows them.
pub const FIELDS: &[&str] = &[
    "kode_anggota",
    "nama_anggota",
    "hp_anggota",
    "email_anggota",
    "sku",
    "nama_produk",
    "kategori",
    "satuan",
    "isi_bersih",
    "harga",
    "stok",
    "sumber_stok",
    "berat_kg",
    "tkdn_persen",
    "no_sertifikat_tkdn",
    "deskripsi",
];

/// The fields that name the product in the catalogue (its seller item id):
/// given when it is added, fixed after.
pub const FIXED: &[&str] = &["kode_anggota", "sku"];

#[derive(Debug, thiserror::Error)]
pub enum ProductError {
    #[error("no product #{0} is stored within your cooperatives")]
    NotFound(i64),
    #[error("no cooperative {0} within your cooperatives")]
    NoCooperative(String),
    #[error("the photo was refused: {0}")]
    Photo(PhotoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which product a form saves.
#[derive(Debug, Clone)]
pub enum Target {
    /// A new product of the cooperative named (a staff member's own, whatever is named).
    New {
        cooperative: Option<String>,
    },
    Existing(i64),
}

/// How saving a product form ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Saved {
    /// Stored: the product's id, whether it is new, and the fields changed
    /// (each with its value before and after, as typed).
    Done { id: i64, created: bool, changed: BTreeMap<&'static str, (String, String)> },
    /// Nothing stored: each problem names its field.
    Refused(Vec<CellIssue>),
}

/// A product's fields as the form shows them (numbers in Indonesian notation).
pub fn fields_of(p: &StoredProduct) -> BTreeMap<&'static str, String> {
    let num = |d: Option<rust_decimal::Decimal>| d.map(format_number_id).unwrap_or_default();
    BTreeMap::from([
        ("kode_anggota", p.member_code.clone()),
        ("nama_anggota", p.member_name.clone()),
        ("hp_anggota", p.member_phone.clone().unwrap_or_default()),
        ("email_anggota", p.member_email.clone().unwrap_or_default()),
        ("sumber_stok", p.stock_source.clone()),
        ("sku", p.sku.clone()),
        ("nama_produk", p.name.clone()),
        ("kategori", p.category.clone()),
        ("satuan", p.unit.clone()),
        ("isi_bersih", p.net_content.clone().unwrap_or_default()),
        ("harga", format_number_id(p.price)),
        ("stok", format_number_id(p.stock)),
        ("berat_kg", num(p.weight_kg)),
        ("tkdn_persen", num(p.tkdn_percent)),
        ("no_sertifikat_tkdn", p.tkdn_certificate.clone().unwrap_or_default()),
        ("deskripsi", p.description.clone()),
    ])
}

/// Adds or edits a product from a form's fields (by column header; any
/// other field is ignored). The product's cooperative must be within the
/// actor's scope; an edit keeps the member code and SKU it has. The values
/// go through the importer's parser and its upsert; the change is audited
/// with each changed field's value before and after.
pub async fn save(store: &Store, units: &UnitTable, actor: &Actor, target: Target, form: &BTreeMap<String, String>) -> Result<Saved, ProductError> {
    let (cooperative, before) = match &target {
        Target::Existing(id) => {
            let p = crate::store::products::product_in_scope(store, actor.scope, *id).await?.ok_or(ProductError::NotFound(*id))?;
            ((p.cooperative_id, p.cooperative.clone()), Some(p))
        }
        Target::New { cooperative } => (cooperative_for(store, actor, cooperative.as_deref()).await?, None),
    };
    let code = CooperativeCode::parse(&cooperative.1).map_err(|e| StoreError::Inconsistent(format!("stored cooperative code: {e}")))?;
    let old = before.as_ref().map(fields_of);
    let values: Vec<(&str, &str)> = FIELDS
        .iter()
        .map(|f| {
            let fixed = old.as_ref().filter(|_| FIXED.contains(f)).and_then(|o| o.get(f));
            (*f, fixed.or_else(|| form.get(*f)).map_or("", String::as_str))
        })
        .collect();
    let draft = match crate::intake::products::parse_fields(units, (code, cooperative.0), &values) {
        Ok(draft) => draft,
        Err(issues) => return Ok(Saved::Refused(issues)),
    };
    if before.is_none() && crate::store::products::product_id(store, cooperative.0, &draft.member_code, draft.sku.as_str()).await?.is_some() {
        let problem = crate::domain::DomainError::new(
            "duplicate",
            format!("member {} already has a product with SKU {}: edit that one", draft.member_code, draft.sku.as_str()),
            format!("anggota {} sudah punya produk dengan SKU {}: ubah produk itu", draft.member_code, draft.sku.as_str()),
        );
        return Ok(Saved::Refused(vec![CellIssue { column: "sku".into(), field: "sku", problem }]));
    }
    // The form's optional fields are all present: an emptied one clears its value.
    let present =
        Present(crate::intake::products::PRODUCT_COLUMNS.iter().filter(|c| !c.required && FIELDS.contains(&c.header)).map(|c| c.header.to_owned()).collect());
    crate::store::products::write_products(store, &present, &[(cooperative.0, draft.clone())]).await?;
    let id = match &before {
        Some(p) => p.id,
        None => crate::store::products::product_id(store, cooperative.0, &draft.member_code, draft.sku.as_str())
            .await?
            .ok_or_else(|| StoreError::Inconsistent("the product just written is not stored".into()))?,
    };
    let after = crate::store::products::product_in_scope(store, None, id).await?.map(|p| fields_of(&p)).unwrap_or_default();
    let changed: BTreeMap<&'static str, (String, String)> = FIELDS
        .iter()
        .filter_map(|f| {
            let was = old.as_ref().and_then(|o| o.get(f)).cloned().unwrap_or_default();
            let now = after.get(f).cloned().unwrap_or_default();
            (was != now).then_some((*f, (was, now)))
        })
        .collect();
    let created = before.is_none();
    if created || !changed.is_empty() {
        let detail = serde_json::json!({
            "product": id,
            "before": changed.iter().map(|(f, (b, _))| (*f, b)).collect::<BTreeMap<_, _>>(),
            "after": changed.iter().map(|(f, (_, a))| (*f, a)).collect::<BTreeMap<_, _>>(),
        });
        let action = if created { "product.create" } else { "product.edit" };
        audit(store, actor, cooperative.0, action, &draft.member_code, draft.sku.as_str(), &draft.name, detail).await?;
    }
    Ok(Saved::Done { id, created, changed })
}

/// The cooperative a new product is for: a staff member's own; the one an
/// actor over every cooperative names.
async fn cooperative_for(store: &Store, actor: &Actor, named: Option<&str>) -> Result<(i64, String), ProductError> {
    if let Some(own) = actor.scope {
        let code = crate::store::dashboard::cooperative_code(store, own).await?.ok_or_else(|| ProductError::NoCooperative(format!("#{own}")))?;
        return Ok((own, code));
    }
    let named = named.map(str::trim).filter(|c| !c.is_empty()).ok_or_else(|| ProductError::NoCooperative("(none named)".into()))?;
    crate::store::dashboard::cooperative_by_code(store, None, named).await?.ok_or_else(|| ProductError::NoCooperative(named.chars().take(40).collect()))
}

#[allow(clippy::too_many_arguments)]
async fn audit(
    store: &Store,
    actor: &Actor,
    cooperative: i64,
    action: &str,
    member: &str,
    sku: &str,
    name: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    crate::store::users::audit_as(store, (actor.user_id, &actor.name), Some(cooperative), action, Some(&format!("{member}/{sku} {name}")), detail).await
}

/// A product within the actor's scope, or `NotFound`.
async fn find(store: &Store, actor: &Actor, id: i64) -> Result<StoredProduct, ProductError> {
    crate::store::products::product_in_scope(store, actor.scope, id).await?.ok_or(ProductError::NotFound(id))
}

/// Withdraws (`active = false`) or reactivates a product; audited when it
/// changed. Returns whether it did.
pub async fn set_active(store: &Store, actor: &Actor, id: i64, active: bool) -> Result<bool, ProductError> {
    let p = find(store, actor, id).await?;
    let changed = crate::store::products::set_active(store, id, active).await?;
    if changed {
        let action = if active { "product.reactivate" } else { "product.withdraw" };
        audit(store, actor, p.cooperative_id, action, &p.member_code, &p.sku, &p.name, serde_json::json!({"product": id})).await?;
    }
    Ok(changed)
}

/// A product with its photos.
#[derive(Debug, Clone)]
pub struct ProductDetail {
    pub product: StoredProduct,
    pub photos: Vec<ProductPhoto>,
}

pub async fn detail(store: &Store, actor: &Actor, id: i64) -> Result<ProductDetail, ProductError> {
    let product = find(store, actor, id).await?;
    let photos = crate::store::photos::of_product(store, id).await?;
    Ok(ProductDetail { product, photos })
}

/// Photos are decoded one at a time: each holds up to `max_pixels` × 4 bytes.
static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// What adding a photo did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PhotoAdded {
    pub digest: String,
    pub width: u32,
    pub height: u32,
    pub kept: Kept,
}

/// Adds a photo to a product: checked and re-encoded (`photos::prepare`,
/// on a blocking thread, one at a time), kept once by its digest, placed
/// after the product's others; audited.
pub async fn add_photo(store: &Store, actor: &Actor, limits: &PhotoLimits, max: i64, id: i64, bytes: Vec<u8>) -> Result<PhotoAdded, ProductError> {
    let p = find(store, actor, id).await?;
    let prepared = {
        let _turn = DECODING.acquire().await.map_err(|_| StoreError::Inconsistent("the photo queue is closed".into()))?;
        let limits = *limits;
        tokio::task::spawn_blocking(move || crate::photos::prepare(&bytes, &limits))
            .await
            .map_err(|e| StoreError::Inconsistent(format!("the photo's decoding stopped: {e}")))?
            .map_err(ProductError::Photo)?
    };
    let kept = crate::store::photos::keep(store, id, &prepared.digest, &prepared.jpeg, (prepared.width, prepared.height), max).await?;
    if kept == Kept::Added {
        let detail = serde_json::json!({"product": id, "photo": prepared.digest, "width": prepared.width, "height": prepared.height});
        audit(store, actor, p.cooperative_id, "product.photo.add", &p.member_code, &p.sku, &p.name, detail).await?;
    }
    Ok(PhotoAdded { digest: prepared.digest, width: prepared.width, height: prepared.height, kept })
}

/// What to do with one of a product's photos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoAction {
    /// Show it first: the catalogue's main photo.
    MakeMain,
    Remove,
}

/// Makes a photo the main one, or takes it off the product; audited.
/// Returns whether the product showed it.
pub async fn photo_action(store: &Store, actor: &Actor, id: i64, digest: &str, action: PhotoAction) -> Result<bool, ProductError> {
    let p = find(store, actor, id).await?;
    let done = match action {
        PhotoAction::MakeMain => crate::store::photos::make_main(store, id, digest).await?,
        PhotoAction::Remove => crate::store::photos::remove(store, id, digest).await?,
    };
    if done {
        let name = if action == PhotoAction::MakeMain { "product.photo.main" } else { "product.photo.remove" };
        audit(store, actor, p.cooperative_id, name, &p.member_code, &p.sku, &p.name, serde_json::json!({"product": id, "photo": digest})).await?;
    }
    Ok(done)
}

/// The products within the actor's scope (or of one cooperative), with
/// their stock, standing on the catalogue and photos.
pub async fn list(store: &Store, actor: &Actor, cooperative: Option<&str>, photo_base: &str) -> Result<Vec<crate::store::products::ProductLine>, ProductError> {
    if let Some(code) = cooperative
        && crate::store::dashboard::cooperative_by_code(store, actor.scope, code).await?.is_none()
    {
        return Err(ProductError::NoCooperative(code.to_owned()));
    }
    Ok(crate::store::products::lines(store, actor.scope, cooperative, photo_base).await?)
}

/// Changes some of a product's fields (by column header); the others keep
/// their stored value. Otherwise as [`save`].
pub async fn edit_fields(store: &Store, units: &UnitTable, actor: &Actor, id: i64, changes: &BTreeMap<String, String>) -> Result<Saved, ProductError> {
    let stored = find(store, actor, id).await?;
    let mut form: BTreeMap<String, String> = fields_of(&stored).into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    form.extend(changes.iter().map(|(k, v)| (k.clone(), v.clone())));
    save(store, units, actor, Target::Existing(id), &form).await
}

/// What the next publish would do with a product on the catalogue.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "will", rename_all = "snake_case")]
pub enum Preview {
    /// A new listing.
    New,
    /// An update of the listing the catalogue has.
    Update,
    /// The catalogue has it as it is.
    Nothing,
    /// Held back, with why (the mapping's issues that block it).
    HeldBack { issues: Vec<crate::mapping::rules::Issue> },
    /// Withdrawn: taken off the catalogue (or never sent).
    Withdraw { listed: bool },
}

/// What the catalogue needs beside the store to preview or send a product.
pub struct Catalogue<'a> {
    pub client: &'a crate::catalog::client::CatalogueClient,
    /// The API channel's plan (`katalog-v6`).
    pub plan: &'a crate::mapping::plan::Plan,
    pub photo_base: &'a str,
    /// The issue date of what is mapped (Jakarta's today; fixed in tests).
    pub today: chrono::NaiveDate,
}

/// Maps the product as the publisher would and compares it with what the
/// catalogue was last sent through the API channel.
pub async fn preview(store: &Store, catalogue: &Catalogue<'_>, actor: &Actor, id: i64) -> Result<Preview, ProductError> {
    use futures_util::StreamExt;
    let p = find(store, actor, id).await?;
    let publication = crate::store::publications::of_product(store, id, crate::domain::publication::Channel::Api).await?;
    let listed = publication.as_ref().is_some_and(|(_, listed, _)| *listed);
    if !p.active {
        return Ok(Preview::Withdraw { listed });
    }
    let format = catalogue.plan.format.as_str();
    let mut rows = crate::store::listings::products_for_mapping(store, format, None, Some(std::slice::from_ref(&id)), catalogue.photo_base);
    let Some(row) = rows.next().await.transpose()? else { return Err(ProductError::NotFound(id)) };
    let mapped = catalogue.plan.map_on(&row.product, &row.seller, catalogue.today);
    if mapped.blocked() {
        let issues = mapped.issues.iter().filter(|i| i.severity == crate::mapping::rules::Severity::Blocking).cloned().collect();
        return Ok(Preview::HeldBack { issues });
    }
    let hash = crate::listings::draft_payload(catalogue.plan, &mapped, &mut Vec::with_capacity(1024));
    Ok(match publication {
        Some((_, true, sent)) if sent.as_deref() == Some(hash.as_str()) => Preview::Nothing,
        Some((_, true, _)) => Preview::Update,
        _ => Preview::New,
    })
}

/// How sending a product now ended.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SentNow {
    /// Sent and accepted by the catalogue.
    pub sent: u64,
    /// Refused by the catalogue, with why.
    pub refused: Vec<String>,
    /// Left for a later try (a failure the catalogue may not repeat).
    pub deferred: u64,
    /// What the next publish would do now.
    pub then: Preview,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Product(#[from] ProductError),
    #[error("the cooperative has no seller id on the catalogue (kode_penyedia): import it with the cooperatives file")]
    NoSeller,
    #[error("the cooperative's seller {0} has no catalogue account configured ([[catalogue.sellers]])")]
    NoAccount(String),
    #[error("the cooperative's listings go through the {0} channel, which sends a whole catalogue at a time: run sync publish")]
    NotOneByOne(&'static str),
    #[error("a publish run is going on ({0}): the product goes with it")]
    Busy(String),
    #[error("{0}")]
    Publish(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Sends one product now through the same publisher as the schedule (the
/// API channel): a deliberate resend, with a new key, where the catalogue
/// has it already (as `listings resubmit`). Audited.
pub async fn send_now(store: &Store, catalogue: &Catalogue<'_>, actor: &Actor, id: i64) -> Result<SentNow, SendError> {
    use crate::domain::publication::Channel;
    let p = find(store, actor, id).await?;
    let seller = crate::store::products::seller_of(store, id).await?.ok_or(SendError::NoSeller)?;
    let channel = catalogue.client.channel(&seller).unwrap_or(Channel::Api);
    if channel != Channel::Api {
        return Err(SendError::NotOneByOne(channel.name()));
    }
    if !catalogue.client.has_account(&seller) {
        return Err(SendError::NoAccount(seller));
    }
    if let Some((publication, _, _)) = crate::store::publications::of_product(store, id, Channel::Api).await? {
        crate::store::publications::resubmit(store, &[publication]).await?;
    }
    let options = crate::publish::PublishOptions {
        channel,
        cooperative: Some(p.cooperative.clone()),
        products: Some(vec![id]),
        photo_base: catalogue.photo_base.to_owned(),
        issue_date: catalogue.today,
        ..Default::default()
    };
    let report = match crate::publish::publish(store, catalogue.plan, catalogue.client, &options).await {
        Ok(report) => report,
        Err(crate::publish::PublishError::Busy(holder)) => return Err(SendError::Busy(holder)),
        Err(crate::publish::PublishError::Store(e)) => return Err(e.into()),
        Err(e) => return Err(SendError::Publish(e.to_string())),
    };
    let refused: Vec<String> = report.refused.iter().map(|r| r.error.clone()).collect();
    let detail = serde_json::json!({"product": id, "sent": report.accepted, "refused": refused, "deferred": report.deferred});
    audit(store, actor, p.cooperative_id, "product.send", &p.member_code, &p.sku, &p.name, detail).await?;
    let then = preview(store, catalogue, actor, id).await?;
    Ok(SentNow { sent: report.accepted, refused, deferred: report.deferred, then })
}
