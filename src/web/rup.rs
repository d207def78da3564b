//! The city's purchase plan on the dashboard, through `app::rup`:
//! - "Rencana belanja kota" (`/rencana`): the coming packages by month, with
//!   filters for work unit, category, reserved for small businesses, and
//!   matched or not; each row with its matched cooperatives and the state of
//!   their products; what the city won on top. A cooperative's staff see
//!   their own cooperative's matches only.
//! - "Peluang" (`/peluang`): a cooperative's open opportunities, nearest
//!   first, with what to do.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::Datelike;

use super::format;
use super::i18n::Lang;
use super::{Auth, Choice, Layout, WebError, WebState, given, render};
use crate::app::Actor;
use crate::app::rup::{self as use_case, Ask, Package};
use crate::domain::money::format_rupiah;

/// Rows a page shows at most (the filters narrow the rest).
const MAX_ROWS: i64 = 50;
/// How long the plan's figures and filters are reused: they change when `sync rup` runs, daily.
const FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(60);
/// How long the pages' default views are reused: a product's readiness
/// changes when the staff edit it, so not for long.
const VIEW_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(15);

/// What the plan's page reads for everyone in a scope: the year's figures.
pub struct Shared {
    figures: Option<(String, String, String, String, u32)>,
}

/// The filters' choices (work units, categories), the same for everyone.
pub struct Choices {
    units: Vec<String>,
    categories: Vec<String>,
}

/// A view of the plan as a page lists it: its months, and whether more were left out.
pub struct Listing {
    months: Vec<Month>,
    cut: bool,
}

/// A view's key: the scope and the page's language.
type ViewKey = (Option<i64>, &'static str);

/// What the plan's pages reuse: per scope (the liaison's, or a
/// cooperative's) the figures and the default views (no filter: what most
/// visits ask for; a filtered view is read each time), and the filters'
/// choices. Keyed by scope and language only, so bounded by the cooperatives.
pub struct Cache {
    figures: super::fresh::Fresh<Option<i64>, Shared>,
    choices: super::fresh::Fresh<(), Choices>,
    plan: super::fresh::Fresh<ViewKey, Listing>,
    opportunities: super::fresh::Fresh<ViewKey, Vec<Row>>,
}

pub fn cache() -> Cache {
    Cache {
        figures: super::fresh::Fresh::new("the purchase plan's figures", FRESH_FOR),
        choices: super::fresh::Fresh::new("the purchase plan's filters", FRESH_FOR),
        plan: super::fresh::Fresh::new("the purchase plan's page", VIEW_FRESH_FOR),
        opportunities: super::fresh::Fresh::new("the opportunities' page", VIEW_FRESH_FOR),
    }
}

/// The packages asked for, by month.
async fn listing(state: WebState, actor: Actor, ask: Ask, lang: Lang, today: chrono::NaiveDate) -> Result<Listing, WebError> {
    let mut packages = use_case::list(&state.store, &actor, &ask, today).await.map_err(rup_error)?;
    let cut = packages.len() as i64 > MAX_ROWS;
    packages.truncate(MAX_ROWS as usize);
    let mut months: Vec<Month> = Vec::new();
    for p in &packages {
        let label = month_label(p.package.tgl_awal_pemilihan, lang);
        match months.last_mut() {
            Some(m) if m.label == label => m.rows.push(row(p, lang, today)),
            _ => months.push(Month { label, rows: vec![row(p, lang, today)] }),
        }
    }
    Ok(Listing { months, cut })
}

/// A cooperative's open opportunities as cards.
async fn cards(state: WebState, actor: Actor, cooperative: Option<String>, lang: Lang, today: chrono::NaiveDate) -> Result<Vec<Row>, WebError> {
    let packages = use_case::opportunities(&state.store, &actor, cooperative.as_deref(), today).await.map_err(rup_error)?;
    Ok(packages.iter().map(|p| row(p, lang, today)).collect())
}

async fn choices(state: WebState) -> Result<Choices, WebError> {
    let (units, categories) = crate::store::rup::choices(&state.store).await?;
    Ok(Choices { units, categories })
}

async fn shared(state: WebState, actor: Actor, year: i32) -> Result<Shared, WebError> {
    let report = use_case::report(&state.store, &actor, year, None, false).await.map_err(rup_error)?;
    let c = &report.city;
    let figures = (c.packages > 0).then(|| {
        (
            format_rupiah(c.matched_budget),
            format_rupiah(c.won),
            format_rupiah(c.lost),
            c.share_won_percent.map_or("-".into(), |s| format!("{s} %")),
            report.target_percent,
        )
    });
    Ok(Shared { figures })
}
/// Cooperatives a package's row names at most (a province's plan may fit hundreds).
const MAX_MATCHES_SHOWN: usize = 12;

#[derive(Debug, Default, serde::Deserialize)]
pub struct PlanQuery {
    bulan: Option<String>,
    satker: Option<String>,
    kategori: Option<String>,
    ukm: Option<String>,
    cocok: Option<String>,
    koperasi: Option<String>,
}

/// A package as a row or a card shows it.
pub struct Row {
    /// Matched cooperatives beyond those shown.
    pub more: usize,
    pub kd_rup: String,
    pub name: String,
    pub unit: String,
    pub pagu: String,
    pub method: String,
    pub starts: String,
    pub ukm: bool,
    pub state: String,
    pub open: bool,
    pub matches: Vec<MatchRow>,
    /// What to do, for a cooperative's card.
    pub todo: Vec<String>,
}

pub struct MatchRow {
    pub cooperative: String,
    pub products: Vec<(String, String, bool)>,
}

pub struct Month {
    pub label: String,
    pub rows: Vec<Row>,
}

/// The page's words, in its language.
pub struct Words {
    pub month: &'static str,
    pub unit: &'static str,
    pub category: &'static str,
    pub ukm_only: &'static str,
    pub matched: &'static str,
    pub all: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub filter: &'static str,
    pub package: &'static str,
    pub budget: &'static str,
    pub starts: &'static str,
    pub cooperatives: &'static str,
    pub none: &'static str,
    pub reserved: &'static str,
    pub no_products: &'static str,
    pub todo: &'static str,
    pub won_title: &'static str,
    pub matched_budget: &'static str,
    pub won: &'static str,
    pub lost: &'static str,
    pub share: &'static str,
    pub target: &'static str,
    pub cut: &'static str,
    pub more: &'static str,
}

fn words(lang: Lang) -> Words {
    Words {
        month: lang.pick("Bulan pemilihan", "Month of choosing"),
        unit: lang.pick("Satuan kerja", "Work unit"),
        category: lang.pick("Kategori", "Category"),
        ukm_only: lang.pick("Hanya paket usaha kecil", "Reserved for small businesses only"),
        matched: lang.pick("Cocok dengan koperasi", "Matched to a cooperative"),
        all: lang.pick("Semua", "All"),
        yes: lang.pick("Ya", "Yes"),
        no: lang.pick("Tidak", "No"),
        filter: lang.pick("Saring", "Filter"),
        package: lang.pick("Paket", "Package"),
        budget: lang.pick("Pagu", "Budget"),
        starts: lang.pick("Pemilihan mulai", "Choosing begins"),
        cooperatives: lang.pick("Koperasi yang cocok", "Matched cooperatives"),
        none: lang.pick("Tidak ada paket.", "No packages."),
        reserved: lang.pick("usaha kecil", "small business"),
        no_products: lang.pick("belum ada produk", "no products yet"),
        todo: lang.pick("Yang perlu dilakukan", "What to do"),
        won_title: lang.pick("Yang dimenangkan koperasi tahun ini", "What the cooperatives won this year"),
        matched_budget: lang.pick("Pagu yang cocok", "Matched budget"),
        won: lang.pick("Dimenangkan koperasi", "Won by our cooperatives"),
        lost: lang.pick("Dibeli dari penyedia lain", "Bought from other sellers"),
        share: lang.pick("Porsi koperasi", "Share won"),
        target: lang.pick("sasaran", "target"),
        cut: lang.pick("Hanya 50 paket pertama yang ditampilkan: persempit saringan.", "Only the first 50 packages are shown: narrow the filters."),
        more: lang.pick("koperasi lain", "other cooperatives"),
    }
}

fn row(p: &Package, lang: Lang, today: chrono::NaiveDate) -> Row {
    let pk = &p.package;
    let state = if p.withdrawn {
        lang.pick("ditarik", "withdrawn").to_owned()
    } else if p.open {
        lang.pick("peluang terbuka", "open opportunity").to_owned()
    } else {
        match (p.outcome, lang) {
            (o, Lang::Id) => o.in_indonesian().to_owned(),
            (crate::domain::rup::Outcome::Won, Lang::En) => "won by a cooperative".into(),
            (crate::domain::rup::Outcome::Lost, Lang::En) => "bought from another seller".into(),
            (crate::domain::rup::Outcome::NotYet, Lang::En) => "not bought yet".into(),
        }
    };
    let more = p.matched.saturating_sub(MAX_MATCHES_SHOWN);
    let matches: Vec<MatchRow> = p
        .matches
        .iter()
        .take(MAX_MATCHES_SHOWN)
        .map(|m| MatchRow {
            cooperative: m.cooperative.clone(),
            products: m
                .products
                .iter()
                .map(|x| {
                    let state = if x.ready() { lang.pick("siap", "ready").to_owned() } else { x.missing.join(", ") };
                    (x.name.clone(), state, x.ready())
                })
                .collect(),
        })
        .collect();
    let mut todo = Vec::new();
    for m in &p.matches {
        if m.products.is_empty() {
            todo.push(lang.pick("Tambahkan produk di kategori ini", "Add a product in this category").to_owned());
        }
        for x in m.products.iter().filter(|x| !x.ready()) {
            todo.push(format!("{}: {}", x.name, x.missing.join(", ")));
        }
    }
    if let Some(d) = pk.tgl_awal_pemilihan.filter(|_| todo.is_empty() && p.open) {
        let days = (d - today).num_days();
        todo.push(match lang {
            Lang::Id => format!("Produk siap. Pastikan tetap tayang dan stok cukup sampai pemilihan dimulai ({days} hari lagi)."),
            Lang::En => format!("Products ready. Keep them live and stocked until the choosing begins (in {days} days)."),
        });
    }
    Row {
        more,
        kd_rup: pk.kd_rup.clone(),
        name: pk.nama_paket.clone(),
        unit: pk.nama_satker.clone().unwrap_or_default(),
        pagu: format_rupiah(pk.pagu),
        method: pk.metode.clone(),
        starts: pk.tgl_awal_pemilihan.map(|d| format::day(d, lang)).unwrap_or_else(|| "-".into()),
        ukm: pk.status_ukm,
        state,
        open: p.open,
        matches,
        todo,
    }
}

const MONTHS: [&str; 12] = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"];
const MONTHS_EN: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

fn month_label(d: Option<chrono::NaiveDate>, lang: Lang) -> String {
    match d {
        None => lang.pick("Belum dijadwalkan", "Not scheduled").to_owned(),
        Some(d) => format!("{} {}", lang.pick(MONTHS[d.month0() as usize], MONTHS_EN[d.month0() as usize]), d.year()),
    }
}

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    l: Layout,
    w: Words,
    listing: std::sync::Arc<Listing>,
    units: Vec<Choice>,
    categories: Vec<Choice>,
    month: String,
    ukm: bool,
    matched: String,
    figures: Option<(String, String, String, String, u32)>,
}

pub async fn plan(State(state): State<WebState>, auth: Auth, Query(q): Query<PlanQuery>) -> Result<Response, WebError> {
    let lang = auth.lang;
    let actor = Actor::user(&auth.user);
    let today = crate::domain::time::today();
    let month = given(&q.bulan).and_then(|m| chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").ok());
    let matched = match given(&q.cocok) {
        Some("ya") => Some(true),
        Some("tidak") => Some(false),
        _ => None,
    };
    let ask = Ask {
        month,
        satker: given(&q.satker).map(str::to_owned),
        category: given(&q.kategori).map(str::to_owned),
        ukm_only: given(&q.ukm).is_some(),
        matched,
        // The coming packages: from the first of this month, unless a month is chosen.
        from: if month.is_some() { None } else { today.with_day(1) },
        limit: Some(MAX_ROWS + 1),
        shown: Some(MAX_MATCHES_SHOWN),
        ..Default::default()
    };
    let filtered = month.is_some() || ask.satker.is_some() || ask.category.is_some() || ask.ukm_only || matched.is_some();
    let ukm_only = ask.ukm_only;
    let (reading, reader) = (state.clone(), actor.clone());
    let listing = if filtered {
        std::sync::Arc::new(listing(reading, reader, ask, lang, today).await?)
    } else {
        state.plan.plan.get((actor.scope, lang.code()), move || listing(reading, reader, ask, lang, today)).await?
    };
    let (reading, reader) = (state.clone(), actor.clone());
    let shared = state.plan.figures.get(actor.scope, move || shared(reading, reader, today.year())).await?;
    let reading = state.clone();
    let filters = state.plan.choices.get((), move || choices(reading)).await?;
    let choose = |all: &[String], chosen: Option<&str>| {
        all.iter().map(|v| Choice { selected: chosen == Some(v.as_str()), label: v.clone(), value: v.clone() }).collect::<Vec<_>>()
    };
    let title = lang.pick("Rencana belanja kota", "The city's purchase plan");
    let page = PlanPage {
        l: auth.layout("plan", title, "/rencana"),
        w: words(lang),
        units: choose(&filters.units, given(&q.satker)),
        categories: choose(&filters.categories, given(&q.kategori)),
        month: month.map(|m| m.format("%Y-%m").to_string()).unwrap_or_default(),
        ukm: ukm_only,
        matched: given(&q.cocok).unwrap_or_default().to_owned(),
        listing,
        figures: shared.figures.clone(),
    };
    render(&page)
}

#[derive(Template)]
#[template(path = "opportunities.html")]
struct OpportunitiesPage {
    l: Layout,
    w: Words,
    rows: std::sync::Arc<Vec<Row>>,
    coops: Vec<Choice>,
    intro: &'static str,
}

pub async fn opportunities(State(state): State<WebState>, auth: Auth, Query(q): Query<PlanQuery>) -> Result<Response, WebError> {
    let lang = auth.lang;
    let actor = Actor::user(&auth.user);
    let today = crate::domain::time::today();
    let (coops, _) = super::cooperative_choices(&state, auth.user.scope(), given(&q.koperasi)).await?;
    let asked = given(&q.koperasi).map(str::to_owned);
    let (reading, reader) = (state.clone(), actor.clone());
    let rows = match asked {
        Some(code) => std::sync::Arc::new(cards(reading, reader, Some(code), lang, today).await?),
        None => state.plan.opportunities.get((actor.scope, lang.code()), move || cards(reading, reader, None, lang, today)).await?,
    };
    let page = OpportunitiesPage {
        l: auth.layout("opportunities", lang.pick("Peluang", "Opportunities"), "/peluang"),
        w: words(lang),
        rows,
        coops,
        intro: lang.pick(
            "Paket belanja pemerintah yang cocok dengan produk koperasi Anda dan pemilihannya belum dimulai, yang terdekat lebih dulu.",
            "Government packages that fit your cooperative's products and whose choosing has not begun, nearest first.",
        ),
    };
    render(&page)
}

fn rup_error(e: use_case::RupError) -> WebError {
    match e {
        use_case::RupError::Store(e) => e.into(),
        use_case::RupError::UnknownCooperative(_) => WebError::NotFound,
    }
}
