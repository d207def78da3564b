//! The demo: the main job end to end on the fixtures of Kota Mojokerto.
//! Today: import the 18 cooperatives and their products, then summarise per
//! cooperative. Publishing and order sync join the loop as they land.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;

use crate::catalog::Format;
use crate::config::ImportSettings;
use crate::domain::money::format_rupiah;
use crate::domain::time;
use crate::intake::{self, ImportOptions, ImportReport};
use crate::listings::{MapOptions, MapReport, Output, map_products};
use crate::mapping::MappingSource;
use crate::mapping::plan::Tables;
use crate::mapping::units::UnitTable;
use crate::store::Store;
use crate::store::products::{CooperativeSummary, cooperative_summaries};

/// The fixtures folder: `given` when it holds `cooperatives.csv`; otherwise,
/// for the default `fixtures`, the one of the checkout the program was built
/// from or runs from. An error names every place looked at.
pub fn locate_fixtures(given: &Path) -> anyhow::Result<std::path::PathBuf> {
    let holds = |dir: &Path| dir.join("cooperatives.csv").is_file() && dir.join("products").is_dir();
    if holds(given) {
        return Ok(given.to_owned());
    }
    let mut looked = vec![given.to_owned()];
    if given == Path::new("fixtures") {
        let exe_checkout = std::env::current_exe().ok().and_then(|exe| {
            // target/{debug,release}/katalog-bridge sits three levels under the checkout.
            exe.ancestors().nth(3).map(|root| root.join("fixtures"))
        });
        let built_from = Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
        for candidate in [exe_checkout, built_from].into_iter().flatten() {
            if holds(&candidate) {
                return Ok(candidate);
            }
            looked.push(candidate);
        }
    }
    let looked: Vec<String> = looked.iter().map(|p| p.display().to_string()).collect();
    anyhow::bail!(
        "the demo's fixtures (cooperatives.csv and products/) are not in {}: run it from the katalog-bridge checkout, or give the folder with --fixtures DIR",
        looked.join(", ")
    )
}

pub struct DemoOutcome {
    pub location: String,
    pub imports: Vec<ImportReport>,
    pub cooperatives: Vec<CooperativeSummary>,
    pub maps: Vec<MapReport>,
    pub catalogue: CatalogueOutcome,
}

/// What happened on the (mock) catalogue.
pub struct CatalogueOutcome {
    pub url: String,
    pub publish: crate::publish::PublishReport,
    pub status: crate::publish::status::StatusReport,
    /// (cooperative, state, count)
    pub by_state: Vec<(String, String, i64)>,
    /// Rejected and sent-back listings with their reasons.
    pub sent_back: Vec<crate::store::publications::ListingLine>,
    /// Why drafts were held back before sending: (issue code, products, an example, its message).
    pub held_back: Vec<(String, i64, String, String)>,
    pub review_hours: i64,
    pub orders: OrdersOutcome,
    pub plan: PlanOutcome,
    /// The mock catalogue, still serving (`demo --web` keeps it), and its seller accounts.
    pub server: mock_catalog::MockServer,
    pub sellers: Vec<crate::config::SellerAccount>,
}

/// The city's purchase plan read from the mock's INAPROC.
pub struct PlanOutcome {
    pub sync: crate::rup::RupReport,
    pub report: crate::rup::report::Report,
    /// The open opportunities, nearest first.
    pub open: Vec<crate::app::rup::Package>,
}

/// The government orders that arrived on the (mock) catalogue.
pub struct OrdersOutcome {
    pub hours: i64,
    pub sync: crate::orders::SyncReport,
    /// The catalogue's clock when the orders were listed.
    pub now: chrono::DateTime<chrono::Utc>,
    /// Orders waiting for confirmation, soonest deadline first, with the working time left.
    pub waiting: Vec<(crate::store::orders::OrderLine, String)>,
    /// The order accepted, and its status after the next sync.
    pub accepted: Option<(String, String)>,
    /// The month of the catalogue's clock and its report (`report monthly`).
    pub month: (String, Vec<crate::orders::report::Row>),
}

/// Starts the mock catalogue of `fixtures/scenarios/mojokerto.toml` in this
/// process, publishes every cooperative's ready products under its own seller
/// account, moves the catalogue's clock past the review, and follows it.
async fn on_the_mock_catalogue(
    store: &Store,
    mappings: &MappingSource,
    fixtures: &Path,
    tables: &Tables,
    photo_base: &str,
) -> anyhow::Result<CatalogueOutcome> {
    use crate::config::CatalogueSettings;
    let scenario_path = fixtures.join("scenarios/mojokerto.toml");
    let mut scenario = mock_catalog::Scenario::load(&scenario_path).map_err(|e| anyhow::anyhow!("reading {}: {e}", scenario_path.display()))?;
    // The story starts near today (the next Monday that opens two weeks
    // without a holiday), so its orders wait on the real clock too and the
    // demo tells the same story on any date.
    scenario = scenario.starting_near(chrono::Utc::now());
    // The demo's catalogue answers faster than the real one (6,000 a minute), so the demo takes seconds.
    scenario.rate_limit_per_minute = scenario.rate_limit_per_minute.max(6_000);
    // The city's purchase plan, read with a data integrator's token (a demo value).
    scenario.inaproc.get_or_insert_with(|| mock_catalog::scenario::InaprocScenario {
        token: DEMO_INTEGRATOR_TOKEN.into(),
        per_minute: 1000,
        per_hour: 5000,
        renamed_categories: Default::default(),
        removed_categories: Vec::new(),
    });
    scenario.rup.get_or_insert(mock_catalog::scenario::RupScenario { packages_per_satker: 8, bought_elsewhere_percent: 40 });
    let token = scenario.inaproc.as_ref().map(|i| i.token.clone()).unwrap_or_default();
    let review_hours = scenario.review_hours + 2;
    let sellers = seller_accounts(&scenario);
    let settings = CatalogueSettings { sellers: sellers.clone(), ..Default::default() };
    let server = mock_catalog::MockServer::start(scenario, "127.0.0.1:0").await.context("starting the mock catalogue")?;
    let settings = CatalogueSettings { base_url: server.url(), ..settings };
    let (client, _) = crate::catalog::client::CatalogueClient::new(&settings)?;
    let plan = Format::KatalogV6.plan(mappings, tables)?;
    let publish =
        crate::publish::publish(store, &plan, &client, &crate::publish::PublishOptions { photo_base: photo_base.to_owned(), ..Default::default() }).await?;
    let http = reqwest::Client::new();
    http.post(format!("{}/admin/clock/advance", server.url()))
        .json(&serde_json::json!({"hours": review_hours}))
        .send()
        .await
        .context("moving the mock catalogue's clock")?;
    let status = crate::publish::status::sync_status(store, &client, crate::publish::Channel::Api, None, &Default::default()).await?;
    let lines = crate::store::publications::listing_lines(store, Some(crate::publish::Channel::Api), "katalog-v6", None, None).await?;
    let mut by_state: std::collections::BTreeMap<(String, String), i64> = Default::default();
    for l in &lines {
        *by_state.entry((l.cooperative.clone(), l.state.to_string())).or_default() += 1;
    }
    let sent_back = lines.into_iter().filter(|l| l.state.sent_back()).collect();
    let held_back = crate::store::listings::blocked_by_issue(store, Format::KatalogV6.name()).await?;
    let orders = orders_on_the_mock_catalogue(store, mappings, &client, &server.url()).await?;
    let plan = plan_on_the_mock(store, mappings, &server.url(), &token, &orders).await?;
    Ok(CatalogueOutcome {
        plan,
        held_back,
        orders,
        url: server.url(),
        publish,
        status,
        by_state: by_state.into_iter().map(|((c, s), n)| (c, s, n)).collect(),
        sent_back,
        review_hours,
        server,
        sellers,
    })
}

/// The data integrator's token of the demo's mock INAPROC.
const DEMO_INTEGRATOR_TOKEN: &str = "demo-integrator-kota-mojokerto";

/// `sync rup` against the mock's INAPROC on the catalogue's day: the city's
/// packages read, matched to the cooperatives, the opportunities to tell, and
/// what the city won so far (`rup report`).
async fn plan_on_the_mock(store: &Store, mappings: &MappingSource, url: &str, token: &str, orders: &OrdersOutcome) -> anyhow::Result<PlanOutcome> {
    let settings = crate::config::InaprocSettings { base_url: url.to_owned(), token: Some(token.to_owned().into()), ..Default::default() };
    let client = crate::catalog::inaproc::InaprocClient::with_store(&settings, store)?;
    let keywords = crate::mapping::rup_keywords::Keywords::load(mappings)?;
    let today = orders.now.with_timezone(&chrono_tz::Asia::Jakarta).date_naive();
    let options = crate::rup::RupOptions {
        klpd: vec!["D347".into()],
        years: vec![chrono::Datelike::year(&today)],
        page: 1000,
        today,
        lead_days: crate::config::RupSettings::default().lead_days,
    };
    let sync = crate::rup::sync(store, &client, &keywords, &options).await?;
    let operator = crate::app::Actor::operator();
    let report = crate::app::rup::report(store, &operator, options.years[0], None, true).await?;
    let ask = crate::app::rup::Ask { matched: Some(true), ..Default::default() };
    let mut open = crate::app::rup::list(store, &operator, &ask, today).await?;
    open.retain(|p| p.open);
    Ok(PlanOutcome { sync, report, open })
}

/// Moves the catalogue's clock two days on, so that orders arrive for the
/// live listings; syncs them; lists those waiting with their deadlines;
/// accepts the first; and syncs again to show it in process.
async fn orders_on_the_mock_catalogue(
    store: &Store,
    mappings: &MappingSource,
    client: &crate::catalog::client::CatalogueClient,
    url: &str,
) -> anyhow::Result<OrdersOutcome> {
    let hours = 48;
    let http = reqwest::Client::new();
    let clock: serde_json::Value = http
        .post(format!("{url}/admin/clock/advance"))
        .json(&serde_json::json!({"hours": hours}))
        .send()
        .await
        .context("moving the mock catalogue's clock")?
        .json()
        .await?;
    let now = clock["now"].as_str().and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok()).unwrap_or_else(chrono::Utc::now);
    let calendar = crate::mapping::working_calendar(mappings, false)?;
    let today = now.with_timezone(&chrono_tz::Asia::Jakarta).date_naive();
    let options = crate::orders::SyncOptions { klpd: vec!["D347".into()], years: crate::orders::default_years(today), ..Default::default() };
    let sync = crate::orders::sync_orders(store, client, &calendar, &options).await?;
    let mut waiting = crate::store::orders::list(store, None, None, true).await?;
    // Per cooperative, then by deadline.
    waiting.sort_by(|a, b| (a.cooperative.as_str(), a.deadline).cmp(&(b.cooperative.as_str(), b.deadline)));
    let waiting: Vec<_> = waiting
        .into_iter()
        .map(|o| {
            let left = o.deadline.map(|d| crate::domain::calendar::show_working_time(calendar.working_time_left(now, d))).unwrap_or_default();
            (o, left)
        })
        .collect();
    let mut accepted = None;
    if let Some((first, _)) = waiting.first() {
        use crate::app::orders::{Answered, Answering, Decision, OrderRef};
        let sender = format!("{}:demo", crate::store::runs::instance_name());
        let ctx = Answering { store, client: Some(client), in_portal: false, ubl: false, sender: &sender };
        let answer = crate::app::orders::answer(&ctx, &crate::app::Actor::operator(), OrderRef::Remote(&first.order_id), &Decision::Accept).await?;
        crate::orders::sync_orders(store, client, &calendar, &options).await?;
        let status = crate::store::orders::status(store, &first.order_id).await?.unwrap_or_default();
        // (On a second demo run the catalogue is new and does not know the orders stored by the first.)
        let outcome = match answer.answered {
            Answered::Refused { why } | Answered::Later { why } => format!("still {status}: the answer was not taken ({why})"),
            Answered::Sent { .. } | Answered::AlreadySent => status,
        };
        accepted = Some((first.order_id.clone(), outcome));
    }
    let month = crate::orders::report::Month(chrono::Datelike::with_day(&today, 1).unwrap_or(today));
    let rules = crate::mapping::tax::TaxRules::load(mappings)?;
    let (rows, _) = crate::orders::report::month(store, &rules, &crate::config::FulfilmentSettings::default(), month, None).await?;
    let month = (month.label(), rows);
    Ok(OrdersOutcome { hours, sync, now, waiting, accepted, month })
}

/// Imports `fixtures/cooperatives.csv`, then every CSV and XLSX file in
/// `fixtures/products/`, reads back the per-cooperative summary, and maps
/// every product to each catalogue format under `out`.
pub async fn run(
    store: &Store,
    units: &UnitTable,
    mappings: &MappingSource,
    fixtures: &Path,
    out: &Path,
    settings: &ImportSettings,
    photo_base: &str,
) -> anyhow::Result<DemoOutcome> {
    let options = ImportOptions::default();
    let mut imports = vec![intake::cooperatives::import_cooperatives(store, &fixtures.join("cooperatives.csv"), &options, settings).await?];
    let dir = fixtures.join("products");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading the fixtures folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "csv" || e == "xlsx"))
        .filter(|p| !p.to_string_lossy().ends_with(".rejects.csv"))
        .collect();
    files.sort();
    for file in files {
        imports.push(intake::products::import_products(store, units, &file, None, &options, settings).await?);
    }
    let cooperatives = cooperative_summaries(store).await?;
    let tables = Tables::load(mappings)?;
    let mut maps = Vec::new();
    for format in Format::ALL {
        let plan = format.plan(mappings, &tables)?;
        let target = out.join(format.name());
        let options = MapOptions { cooperative: None, out: Output::Path(target), issue_date: time::today(), photo_base: photo_base.to_owned(), products: None };
        maps.push(map_products(store, &plan, format, &options).await?);
    }
    let catalogue = on_the_mock_catalogue(store, mappings, fixtures, &tables, photo_base).await?;
    Ok(DemoOutcome { location: store.location().to_owned(), imports, cooperatives, maps, catalogue })
}

impl DemoOutcome {
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "katalog-bridge demo, {}: on a PostgreSQL of its own ({}), made for this run and removed after it; \
             the configured database (DATABASE_URL, [database]) is not used\n",
            time::show(chrono::Utc::now()),
            self.location
        );
        for report in &self.imports {
            let _ = writeln!(out, "{}", report.summary());
        }
        self.render_cooperatives(&mut out);
        let _ = writeln!(out);
        for map in &self.maps {
            let _ = writeln!(
                out,
                "{}: {} products, {} ready, {} held back by blocking issues, {} with warnings; output in {}",
                map.format,
                map.products,
                map.written,
                map.blocked,
                map.with_warnings,
                common_folder(&map.outputs)
            );
        }
        let _ = writeln!(out, "(katalog-bridge map --format FORMAT --issues lists what to fix, product by product)");
        self.render_catalogue(&mut out);
        self.render_orders(&mut out);
        self.render_plan(&mut out);
        out
    }

    /// Each cooperative: its members, items, categories and stock value, and the sums.
    fn render_cooperatives(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\n{:<22} {:<16} {:<15} {:>3} {:>7} {:>6} {:>8} {:>18}",
            "cooperative", "kelurahan", "kecamatan", "PKP", "members", "items", "categories", "stock value"
        );
        let (mut members, mut products, mut value) = (0, 0, rust_decimal::Decimal::ZERO);
        for c in &self.cooperatives {
            let _ = writeln!(
                out,
                "{:<22} {:<16} {:<15} {:>3} {:>7} {:>6} {:>8} {:>18}",
                c.code,
                c.kelurahan,
                c.kecamatan,
                if c.pkp { "ya" } else { "-" },
                c.members,
                c.products,
                c.categories,
                format_rupiah(c.stock_value)
            );
            members += c.members;
            products += c.products;
            value += c.stock_value;
        }
        let _ = writeln!(
            out,
            "{:<22} {:<16} {:<15} {:>3} {:>7} {:>6} {:>8} {:>18}",
            format!("{} cooperatives", self.cooperatives.len()),
            "",
            "",
            "",
            members,
            products,
            "",
            format_rupiah(value)
        );
    }

    /// The listings on the mock catalogue by state, what was held back and what the curators sent back.
    fn render_catalogue(&self, out: &mut String) {
        let c = &self.catalogue;
        let _ = writeln!(out, "\nOn the mock catalogue at {} (each cooperative under its own seller account):", c.url);
        let _ = writeln!(out, "publish: {}", c.publish.summary());
        let _ = writeln!(out, "after {} hours of the catalogue's time, review: {}", c.review_hours, c.status.summary());
        let states = ["live", "rejected", "revision_requested", "under_curation", "submitted", "blocked", "failed"];
        let _ = writeln!(
            out,
            "\n{:<22} {:>6} {:>9} {:>9} {:>9} {:>9} {:>8} {:>7}",
            "cooperative", "live", "rejected", "revision", "curation", "submitted", "blocked", "failed"
        );
        let cooperatives: std::collections::BTreeSet<&String> = c.by_state.iter().map(|(coop, _, _)| coop).collect();
        for coop in cooperatives {
            let n = |s: &str| c.by_state.iter().find(|(k, st, _)| k == coop && st == s).map_or(0, |(_, _, n)| *n);
            let _ = writeln!(
                out,
                "{:<22} {:>6} {:>9} {:>9} {:>9} {:>9} {:>8} {:>7}",
                coop,
                n(states[0]),
                n(states[1]),
                n(states[2]),
                n(states[3]),
                n(states[4]),
                n(states[5]),
                n(states[6])
            );
        }
        if !c.held_back.is_empty() {
            let _ = writeln!(out, "\nHeld back before sending, by reason (katalog-bridge listings --state blocked lists each one):");
            for (code, n, example, message) in &c.held_back {
                let _ = writeln!(out, "  {code}: {n} products, e.g. {example}: {message}");
            }
        }
        if !c.sent_back.is_empty() {
            let _ = writeln!(out, "\nRejected or sent back, with the curators' reasons:");
            for l in &c.sent_back {
                let _ = writeln!(out, "  {} {}/{} {} ({}): {}", l.cooperative, l.member, l.sku, l.product, l.state, l.reasons_text());
            }
        }
    }

    /// The orders that arrived, those waiting for confirmation, the one accepted, and the month's report.
    fn render_orders(&self, out: &mut String) {
        let c = &self.catalogue;
        let o = &c.orders;
        let _ = writeln!(out, "\nGovernment orders, {} hours later on the catalogue's clock ({}):", o.hours, time::show(o.now));
        let _ = writeln!(out, "sync orders: {}", o.sync.summary());
        let _ = writeln!(out, "\nWaiting for the cooperative's confirmation (3 working days), soonest deadline first:");
        let mut coop = "";
        for (w, left) in &o.waiting {
            if w.cooperative != coop {
                coop = &w.cooperative;
                let _ = writeln!(out, "  {coop}");
            }
            let due = w.deadline.map(time::show).unwrap_or_default();
            let _ = writeln!(
                out,
                "    {} {} {}; due {due} ({left} left): {}",
                w.order_id,
                w.buyer.as_deref().unwrap_or("-"),
                format_rupiah(w.total),
                w.items.as_deref().unwrap_or("-")
            );
        }
        if o.waiting.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        if let Some((id, status)) = &o.accepted {
            let _ = writeln!(out, "\nkatalog-bridge orders respond {id} --accept; after the next sync the order is {status}");
        }
        let (month, rows) = &o.month;
        let _ = writeln!(out, "\nLaporan bulanan {month} (katalog-bridge report monthly --month {month}), pesanan yang tidak dibatalkan:");
        for r in rows.iter().filter(|r| r.part != "satker") {
            let _ = writeln!(
                out,
                "  {:<20} {:>3} pesanan  nilai {:>14}  PPN {:>12}  PPh 22 {:>10}  belum dibayar {:>14}",
                if r.part == "total" { "Jumlah" } else { r.code.as_str() },
                r.orders,
                format_rupiah(r.value),
                format_rupiah(r.ppn),
                format_rupiah(r.pph22),
                format_rupiah(r.outstanding)
            );
        }
    }

    fn render_plan(&self, out: &mut String) {
        let p = &self.catalogue.plan;
        let _ = writeln!(out, "\nRencana belanja kota (katalog-bridge sync rup; rup list; rup report):");
        let _ = writeln!(out, "sync rup: {}", p.sync.summary());
        let _ = writeln!(out, "Peluang terbuka, yang terdekat lebih dulu:");
        for pk in p.open.iter().take(8) {
            let coops: Vec<&str> = pk.matches.iter().map(|m| m.cooperative.as_str()).collect();
            let _ = writeln!(
                out,
                "  {} {} {}, pemilihan mulai {}: {} koperasi cocok ({}...)",
                pk.package.kd_rup,
                format_rupiah(pk.package.pagu),
                pk.package.nama_paket,
                pk.package.tgl_awal_pemilihan.map(|d| d.to_string()).unwrap_or_default(),
                coops.len(),
                coops.iter().take(3).copied().collect::<Vec<_>>().join(", ")
            );
        }
        if p.open.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        let c = &p.report.city;
        let _ = writeln!(
            out,
            "Tahun {}: pagu cocok {}, dimenangkan koperasi {}, dibeli dari penyedia lain {} (diketahui bila pesanan dibaca dari INAPROC), porsi {} (sasaran {} %)",
            p.report.tahun,
            format_rupiah(c.matched_budget),
            format_rupiah(c.won),
            format_rupiah(c.lost),
            c.share_won_percent.map_or("-".to_owned(), |s| format!("{s} %")),
            p.report.target_percent
        );
    }
}

/// The folder of a format's outputs (one file, or many in one folder).
fn common_folder(outputs: &[String]) -> String {
    match outputs {
        [] => "(nothing written)".into(),
        [one] => one.clone(),
        [first, ..] => Path::new(first).parent().map_or(first.clone(), |p| format!("{}/", p.display())),
    }
}

/// The adapter's accounts for the mock scenario's sellers (the demo, tests
/// and benchmarks use them).
pub fn seller_accounts(scenario: &mock_catalog::Scenario) -> Vec<crate::config::SellerAccount> {
    scenario.clients.iter().map(|c| crate::config::SellerAccount::new(&c.kode_penyedia, &c.client_id, &c.client_secret)).collect()
}
