//! The PEPPOL and xlsx channels against the mock catalogue over real HTTP:
//! one UBL Catalogue per cooperative with Add, Update and Delete lines, each
//! line's result applied from the Catalogue Response; a document cut off by
//! faults sent again as the same document; bulk-upload workbooks written for
//! changed publications only, and `listings mark-uploaded` marking their rows.

use crate::common;

use katalog_bridge::catalog::Format;
use katalog_bridge::catalog::client::{Call, CatalogueClient};
use katalog_bridge::config::CatalogueSettings;
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::plan::{Plan, Tables};
use katalog_bridge::publish::status::{StatusOptions, sync_status};
use katalog_bridge::publish::{Channel, PublishOptions, publish};
use mock_catalog::{MockServer, Scenario};
use serde_json::Value;

fn scenario() -> Scenario {
    Scenario::load(&common::repo().join("fixtures/scenarios/mojokerto.toml")).unwrap()
}

/// A client with every cooperative's account set to the PEPPOL channel.
fn client(server: &MockServer, scenario: &Scenario) -> CatalogueClient {
    client_with(server, scenario, |_| Channel::Peppol)
}

/// A client with every cooperative's account, each on the channel `channel_of` its seller id says.
fn client_with(server: &MockServer, scenario: &Scenario, channel_of: impl Fn(&str) -> Channel) -> CatalogueClient {
    let mut sellers = katalog_bridge::demo::seller_accounts(scenario);
    for s in &mut sellers {
        s.channel = channel_of(&s.kode_penyedia);
    }
    let settings = CatalogueSettings { base_url: server.url(), timeout_secs: 10, max_concurrency: 8, max_attempts: 3, sellers, ..Default::default() };
    CatalogueClient::new(&settings).unwrap().0
}

fn plan(format: Format) -> Plan {
    let tables = Tables::load(&MappingSource::BuiltIn).unwrap();
    format.plan(&MappingSource::BuiltIn, &tables).unwrap()
}

fn peppol() -> PublishOptions {
    PublishOptions { channel: Channel::Peppol, ..Default::default() }
}

async fn admin_state(server: &MockServer) -> Value {
    reqwest::get(format!("{}/admin/state", server.url())).await.unwrap().json().await.unwrap()
}

async fn admin(server: &MockServer, path: &str, body: Value) {
    let r = reqwest::Client::new().post(format!("{}{path}", server.url())).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
}

async fn count(store: &katalog_bridge::store::Store, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(store.pool()).await.unwrap()
}

#[tokio::test]
async fn peppol_documents_list_each_product_once_and_every_line_result_lands_on_its_publication() {
    let store = common::fixture_store().await;
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let client = client(&server, &scenario);
    let plan = plan(Format::PeppolCatalogue);

    let first = publish(&store, &plan, &client, &peppol()).await.unwrap();
    let ready = count(&store, "SELECT count(*) FROM listings WHERE format = 'peppol-catalogue' AND state = 'draft'").await;
    let sellers = count(
        &store,
        "SELECT count(DISTINCT p.cooperative_id) FROM listings l JOIN products p ON p.id = l.product_id
         WHERE l.format = 'peppol-catalogue' AND l.state = 'draft'",
    )
    .await;
    assert!(ready > 200 && sellers == 18, "{ready} {sellers}");
    assert_eq!((first.sent as i64, first.accepted as i64, first.documents as i64), (ready, ready, sellers), "{}", first.summary());
    let state = admin_state(&server).await;
    let uploads = state["uploads"].as_array().unwrap();
    assert_eq!(uploads.len() as i64, sellers, "one document per cooperative");
    for u in uploads {
        assert!(u["lines"].as_array().unwrap().iter().all(|l| l["action"] == "Add"), "a first document only adds");
    }
    assert_eq!(count(&store, "SELECT count(*) FROM publications WHERE channel = 'peppol' AND state = 'submitted' AND remote_id IS NULL").await, ready);

    // The catalogue processes the documents; their answers name the listings.
    admin(&server, "/admin/clock/advance", serde_json::json!({"hours": 1})).await;
    let status = sync_status(&store, &client, Channel::Peppol, None, &StatusOptions { page_size: 100, ..Default::default() }).await.unwrap();
    assert_eq!((status.uploads.uploads as i64, status.uploads.accepted as i64, status.uploads.refused), (sellers, ready, 0), "{}", status.summary());
    assert!(status.failed.is_empty(), "{}", status.summary());
    let listings = admin_state(&server).await["listings"].as_array().unwrap().clone();
    assert_eq!(listings.len() as i64, ready, "each product listed once");
    let ours: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT pb.remote_id, pb.seller, m.code || '/' || p.sku FROM publications pb JOIN products p ON p.id = pb.product_id
         JOIN members m ON m.id = p.member_id WHERE pb.channel = 'peppol'",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    for (remote, seller, item) in &ours {
        let l = listings.iter().find(|l| l["listing_id"] == remote.as_str()).expect("the listing the answer named");
        assert_eq!((l["kode_penyedia"].as_str(), l["sku"].as_str()), (Some(seller.as_str()), Some(item.as_str())));
    }

    // Review ends; the feed moves each publication to the catalogue's state.
    admin(&server, "/admin/clock/advance", serde_json::json!({"hours": 30})).await;
    sync_status(&store, &client, Channel::Peppol, None, &StatusOptions { page_size: 100, ..Default::default() }).await.unwrap();
    let listings = admin_state(&server).await["listings"].as_array().unwrap().clone();
    let states: Vec<(String, String)> =
        sqlx::query_as("SELECT remote_id, state FROM publications WHERE channel = 'peppol'").fetch_all(store.pool()).await.unwrap();
    for (remote, state) in &states {
        let l = listings.iter().find(|l| l["listing_id"] == remote.as_str()).unwrap();
        assert_eq!(l["state"], state.as_str(), "{remote}");
    }

    // Nothing changed: nothing sent.
    let before = client.counters().requests.load(std::sync::atomic::Ordering::Relaxed);
    let again = publish(&store, &plan, &client, &peppol()).await.unwrap();
    assert_eq!((again.sent, again.documents), (0, 0), "{}", again.summary());
    assert_eq!(client.counters().requests.load(std::sync::atomic::Ordering::Relaxed), before, "zero requests");

    // In MJK-WATES: one price changed, one product deactivated, and one
    // publication that the catalogue never took but is believed listed (its
    // Update line is refused).
    let wates: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT p.id, pb.id FROM products p JOIN publications pb ON pb.product_id = p.id JOIN cooperatives c ON c.id = p.cooperative_id
         WHERE c.code = 'MJK-WATES' AND pb.channel = 'peppol' ORDER BY p.id LIMIT 3",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let [(changed, changed_pub), (gone, gone_pub), (_, ghost_pub)] = wates[..] else { panic!("three WATES products") };
    sqlx::query("UPDATE products SET price = price + 1000 WHERE id = $1").bind(changed).execute(store.pool()).await.unwrap();
    sqlx::query("UPDATE products SET active = false WHERE id = $1").bind(gone).execute(store.pool()).await.unwrap();
    let ghost_sku: String =
        sqlx::query_scalar("UPDATE products p SET sku = 'GHOST-1' FROM publications pb WHERE pb.id = $1 AND p.id = pb.product_id RETURNING p.sku")
            .bind(ghost_pub)
            .fetch_one(store.pool())
            .await
            .unwrap();
    sqlx::query("UPDATE publications SET remote_id = NULL WHERE id = $1").bind(ghost_pub).execute(store.pool()).await.unwrap();
    let third = publish(&store, &plan, &client, &PublishOptions { cooperative: Some("MJK-WATES".into()), ..peppol() }).await.unwrap();
    assert_eq!((third.documents, third.sent), (1, 3), "{}", third.summary());
    let state = admin_state(&server).await;
    let last = state["uploads"].as_array().unwrap().last().unwrap().clone();
    let mut actions: Vec<&str> = last["lines"].as_array().unwrap().iter().map(|l| l["action"].as_str().unwrap()).collect();
    actions.sort();
    assert_eq!(actions, ["Delete", "Update", "Update"]);
    assert_eq!(count(&store, &format!("SELECT count(*) FROM publications WHERE id = {gone_pub} AND state = 'withdrawn'")).await, 1);

    // The document conforms to UBL 2.1 and the PEPPOL rules.
    let doc: Vec<u8> = sqlx::query_scalar("SELECT document FROM catalogue_uploads ORDER BY id DESC LIMIT 1").fetch_one(store.pool()).await.unwrap();
    let dir = common::temp_dir();
    std::fs::write(dir.path().join("update.xml"), &doc).unwrap();
    common::assert_ubl_valid(dir.path(), "maindoc/UBL-Catalogue-2.1.xsd", "PEPPOLBIS-T19.xslt");

    admin(&server, "/admin/clock/advance", serde_json::json!({"hours": 1})).await;
    let status = sync_status(&store, &client, Channel::Peppol, Some("MJK-WATES"), &StatusOptions { page_size: 100, ..Default::default() }).await.unwrap();
    assert_eq!((status.uploads.accepted, status.uploads.refused), (2, 1), "{}", status.summary());
    let (state, reasons): (String, Value) =
        sqlx::query_as("SELECT state, reasons FROM publications WHERE id = $1").bind(ghost_pub).fetch_one(store.pool()).await.unwrap();
    assert_eq!(state, "failed");
    assert!(reasons[0].as_str().unwrap().contains(&ghost_sku) && reasons[0].as_str().unwrap().contains("not listed"), "{reasons}");
    let listings = admin_state(&server).await["listings"].as_array().unwrap().clone();
    let gone_remote: String = sqlx::query_scalar("SELECT remote_id FROM publications WHERE id = $1").bind(gone_pub).fetch_one(store.pool()).await.unwrap();
    let changed_remote: String =
        sqlx::query_scalar("SELECT remote_id FROM publications WHERE id = $1").bind(changed_pub).fetch_one(store.pool()).await.unwrap();
    let find = |id: &str| listings.iter().find(|l| l["listing_id"] == id).unwrap().clone();
    assert_eq!(find(&gone_remote)["state"], "withdrawn");
    assert_eq!(find(&changed_remote)["state"], "submitted", "an update goes through review again");
    assert_eq!(listings.len() as i64, ready, "updates and deletes make no new listing");
}

#[tokio::test]
async fn a_document_cut_off_by_faults_is_sent_again_as_the_same_document_and_taken_once() {
    let store = common::fixture_store().await;
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let client = client(&server, &scenario);
    let plan = plan(Format::PeppolCatalogue);
    let one = || PublishOptions { cooperative: Some("MJK-WATES".into()), ..peppol() };

    // Every answer is cut off mid-body: the catalogue takes the document, we never hear it.
    admin(&server, "/admin/faults", serde_json::json!({"route": "/api/v1/catalogue", "kind": "drop"})).await;
    let cut = publish(&store, &plan, &client, &one()).await.unwrap();
    assert_eq!((cut.documents, cut.accepted), (1, 0), "{}", cut.summary());
    assert!(cut.deferred > 0 && cut.refused.is_empty(), "{}", cut.summary());
    assert_eq!(count(&store, "SELECT count(*) FROM catalogue_uploads WHERE state = 'sending'").await, 1);
    let lines = i64::from(sqlx::query_scalar::<_, i32>("SELECT lines FROM catalogue_uploads").fetch_one(store.pool()).await.unwrap());
    // Meanwhile its publications go into no other document.
    let meanwhile = publish(&store, &plan, &client, &one()).await.unwrap();
    assert_eq!(meanwhile.documents, 0, "{}", meanwhile.summary());

    reqwest::Client::new().delete(format!("{}/admin/faults", server.url())).send().await.unwrap();
    sqlx::query("UPDATE catalogue_uploads SET next_attempt_at = NULL").execute(store.pool()).await.unwrap();
    let resent = publish(&store, &plan, &client, &one()).await.unwrap();
    assert_eq!((resent.documents, resent.accepted as i64), (1, lines), "{}", resent.summary());
    let state = admin_state(&server).await;
    let uploads = state["uploads"].as_array().unwrap();
    assert_eq!(uploads.len(), 1, "the catalogue took the document once: {uploads:?}");
    admin(&server, "/admin/clock/advance", serde_json::json!({"hours": 1})).await;
    let status = sync_status(&store, &client, Channel::Peppol, Some("MJK-WATES"), &StatusOptions { page_size: 100, ..Default::default() }).await.unwrap();
    assert_eq!((status.uploads.accepted as i64, status.uploads.refused), (lines, 0), "{}", status.summary());
    assert_eq!(admin_state(&server).await["listings"].as_array().unwrap().len() as i64, lines, "each product listed once");
    assert_eq!(count(&store, "SELECT count(*) FROM publications WHERE channel = 'peppol' AND remote_id IS NULL").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xlsx_workbooks_carry_only_changed_publications_and_mark_uploaded_records_their_rows() {
    let (store, url) = common::fresh_db().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let run = |args: &[&str]| {
        let out = common::binary().env("DATABASE_URL", &url).args(args).output().unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let products = tmp.path().join("magersari.csv");
    std::fs::copy(common::repo().join("fixtures/products/magersari.csv"), &products).unwrap();
    let (code, out, err) = run(&["import", "products", products.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let upload_dir = tmp.path().join("upload");
    let publish = |dir: &std::path::Path| run(&["sync", "publish", "--channel", "xlsx", "--cooperative", "MJK-WATES", "--out", dir.to_str().unwrap()]);

    let (code, out, err) = publish(&upload_dir);
    assert_eq!(code, 0, "{out}{err}");
    let books = workbooks(&upload_dir);
    assert!(!books.is_empty(), "{out}");
    assert!(books.iter().all(|b| b.parent().unwrap().file_name().unwrap() == "MJK-WATES"), "{books:?}");
    let handed = count(&store, "SELECT count(*) FROM publications WHERE channel = 'xlsx' AND idempotency_key LIKE 'xlsx:%'").await;
    let rows: usize = books.iter().map(|b| sheet_rows(b).len()).sum();
    assert_eq!(rows as i64, handed, "each handed-over publication is one row");
    assert!(handed > 0);

    // Nothing changed: no workbook.
    let again_dir = tmp.path().join("again");
    let (code, out, _) = publish(&again_dir);
    assert_eq!(code, 0);
    assert!(workbooks(&again_dir).is_empty(), "{out}");

    // The liaison uploads them; their rows become submitted. A row naming nothing known is reported with its row.
    let (code, out, err) = run(&["listings", "mark-uploaded", books[0].to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let first_rows = sheet_rows(&books[0]).len() as i64;
    assert!(out.contains(&format!("{first_rows} rows marked submitted")), "{out}");
    assert_eq!(count(&store, "SELECT count(*) FROM publications WHERE channel = 'xlsx' AND state = 'submitted'").await, first_rows);
    let (code, out, _) = run(&["listings", "mark-uploaded", books[0].to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains(&format!("{first_rows} already marked")), "marking twice changes nothing: {out}");

    // One product of the first workbook changes: only it goes into the next workbook.
    let item = &sheet_rows(&books[0])[0];
    let (member, sku) = item.split_once('/').unwrap();
    sqlx::query("UPDATE products p SET price = price + 700 FROM members m WHERE m.id = p.member_id AND m.code = $1 AND p.sku = $2")
        .bind(member)
        .bind(sku)
        .execute(store.pool())
        .await
        .unwrap();
    let next_dir = tmp.path().join("next");
    let (code, out, err) = publish(&next_dir);
    assert_eq!(code, 0, "{out}{err}");
    let next: Vec<String> = workbooks(&next_dir).iter().flat_map(|b| sheet_rows(b)).collect();
    assert_eq!(next, vec![item.clone()]);

    // A workbook with a row the store does not know.
    let stranger = tmp.path().join("MJK-WATES").join("stranger.xlsx");
    std::fs::create_dir_all(stranger.parent().unwrap()).unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write(0, 0, "sku").unwrap();
    sheet.write(1, 0, "NOBODY/NOTHING").unwrap();
    book.save(&stranger).unwrap();
    let (code, out, _) = run(&["listings", "mark-uploaded", stranger.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("row 2 (NOBODY/NOTHING)"), "{out}");
}

fn workbooks(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<std::path::PathBuf> = walk(dir).into_iter().filter(|p| p.extension().is_some_and(|e| e == "xlsx")).collect();
    v.sort();
    v
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .flat_map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() { walk(&p) } else { vec![p] }
        })
        .collect()
}

/// The `sku` column of a workbook's data rows, read with calamine.
fn sheet_rows(path: &std::path::Path) -> Vec<String> {
    use calamine::{Reader, open_workbook_auto};
    let mut book = open_workbook_auto(path).unwrap();
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&name).unwrap();
    let mut rows = range.rows();
    let header = rows.next().unwrap();
    let col = header.iter().position(|c| *c == "sku").unwrap();
    rows.map(|r| r[col].to_string()).collect()
}

const WATES: &str = "MJK-WATES";
const WATES_SELLER: &str = "P3576-0006";

/// The catalogue's listings of a seller by item id (`MEMBER/SKU`), and how
/// many listings each item has.
async fn items_of(server: &MockServer, seller: &str) -> std::collections::BTreeMap<String, Vec<Value>> {
    let mut items: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    for l in admin_state(server).await["listings"].as_array().unwrap().iter().filter(|l| l["kode_penyedia"] == seller) {
        let sku = l["sku"].as_str().unwrap();
        let item = if sku.contains('/') { sku.to_owned() } else { format!("{}/{sku}", l["kode_anggota"].as_str().unwrap()) };
        items.entry(item).or_default().push(l.clone());
    }
    items
}

/// Each product of the seller is listed once (withdrawn ones aside), and
/// every publication with a listing id is in the catalogue's state.
async fn assert_listed_once_in_step(store: &katalog_bridge::store::Store, server: &MockServer, seller: &str) {
    let items = items_of(server, seller).await;
    let doubled: Vec<&String> = items.iter().filter(|(_, ls)| ls.iter().filter(|l| l["state"] != "withdrawn").count() > 1).map(|(i, _)| i).collect();
    assert!(doubled.is_empty(), "listed twice: {doubled:?}");
    let ours: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT m.code || '/' || p.sku, pb.remote_id, pb.state, pb.channel FROM publications pb JOIN products p ON p.id = pb.product_id
         JOIN members m ON m.id = p.member_id WHERE pb.seller = $1 AND pb.remote_id IS NOT NULL",
    )
    .bind(seller)
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(ours.len(), items.len(), "one publication per item the catalogue has: {ours:?}");
    for (item, remote, state, _) in &ours {
        let l = &items[item][0];
        assert_eq!(l["listing_id"], remote.as_str(), "{item}");
        assert_eq!(l["state"], state.as_str(), "{item}: the local view is the catalogue's");
    }
    let per_product: i64 = sqlx::query_scalar("SELECT count(*) FROM (SELECT product_id FROM publications WHERE seller = $1 GROUP BY 1 HAVING count(*) > 1) d")
        .bind(seller)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(per_product, 0, "one publication per product, whatever the channel");
}

/// One cooperative published through the API, then switched to PEPPOL and
/// to the workbooks, with changes in between: the catalogue holds each
/// product once, in the state the local view shows; the new channel updates
/// what the old one listed, and a channel the cooperative is not set to is
/// refused, naming both.
#[tokio::test]
async fn a_cooperative_switched_between_channels_keeps_each_product_listed_once() {
    let store = common::fixture_store().await;
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let on_api = client_with(&server, &scenario, |_| Channel::Api);
    let only_wates = |channel| PublishOptions { channel, cooperative: Some(WATES.into()), ..Default::default() };
    let status = StatusOptions::default();

    let first = publish(&store, &plan(Format::KatalogV6), &on_api, &only_wates(Channel::Api)).await.unwrap();
    assert!(first.accepted > 5 && first.complete(), "{}", first.summary());
    admin(&server, "/admin/clock/advance", serde_json::json!({"hours": 30})).await;
    sync_status(&store, &on_api, Channel::Api, Some(WATES), &status).await.unwrap();
    assert_listed_once_in_step(&store, &server, WATES_SELLER).await;
    let listed = items_of(&server, WATES_SELLER).await.len();
    assert!(listed as u64 == first.accepted);

    // Set to PEPPOL: the API is now refused for it, naming both channels.
    let on_peppol = client_with(&server, &scenario, |s| if s == WATES_SELLER { Channel::Peppol } else { Channel::Api });
    let refused = publish(&store, &plan(Format::KatalogV6), &on_peppol, &only_wates(Channel::Api)).await.unwrap_err();
    let message = refused.to_string();
    assert!(message.contains("MJK-WATES publishes through peppol, not api") && message.contains("channel = \"api\""), "{message}");

    // A price changes; PEPPOL takes the listings over and updates them, adding none.
    sqlx::query("UPDATE products SET price = price + 500 WHERE sku = 'KDL-1' AND cooperative_id = (SELECT id FROM cooperatives WHERE code = $1)")
        .bind(WATES)
        .execute(store.pool())
        .await
        .unwrap();
    let second = publish(&store, &plan(Format::PeppolCatalogue), &on_peppol, &only_wates(Channel::Peppol)).await.unwrap();
    assert!(second.complete() && second.documents >= 1, "{}", second.summary());
    let handed = count(&store, "SELECT count(*) FROM publication_events WHERE kind = 'handed_over'").await;
    assert_eq!(handed as usize, listed, "every API listing handed over");
    let uploads = admin_state(&server).await["uploads"].as_array().unwrap().clone();
    // Each line's item: Update for what the API listed; Add only for what it never listed
    // (PEPPOL also takes products without a photo, which katalog-v6 held back).
    let before = items_of(&server, WATES_SELLER).await;
    let mut added = 0;
    for line in uploads.iter().flat_map(|u| u["lines"].as_array().unwrap().iter()) {
        let (action, item) = (line["action"].as_str().unwrap(), line["sku"].as_str().unwrap());
        assert_eq!(action, if before.contains_key(item) { "Update" } else { "Add" }, "{item}");
        added += usize::from(action == "Add");
    }
    admin(&server, "/admin/clock/advance", serde_json::json!({"hours": 1})).await;
    let read = sync_status(&store, &on_peppol, Channel::Peppol, Some(WATES), &status).await.unwrap();
    assert_eq!(read.uploads.refused, 0, "{}", read.summary());
    admin(&server, "/admin/clock/advance", serde_json::json!({"hours": 30})).await;
    sync_status(&store, &on_peppol, Channel::Peppol, Some(WATES), &status).await.unwrap();
    let listed = listed + added;
    assert_eq!(items_of(&server, WATES_SELLER).await.len(), listed, "no product listed a second time");
    assert_listed_once_in_step(&store, &server, WATES_SELLER).await;

    // Set to the workbooks: they carry every product, the listed ones in the bulk edit workbooks only.
    let on_xlsx = client_with(&server, &scenario, |s| if s == WATES_SELLER { Channel::Xlsx } else { Channel::Api });
    sqlx::query("UPDATE products SET price = price + 500 WHERE sku = 'TPG-1' AND cooperative_id = (SELECT id FROM cooperatives WHERE code = $1)")
        .bind(WATES)
        .execute(store.pool())
        .await
        .unwrap();
    let tmp = common::temp_dir();
    let third =
        publish(&store, &plan(Format::KatalogV6Xlsx), &on_xlsx, &PublishOptions { out: tmp.path().to_owned(), ..only_wates(Channel::Xlsx) }).await.unwrap();
    assert!(third.complete(), "{}", third.summary());
    let (mut adds, mut edits) = (0, 0);
    for path in &third.outputs {
        let path = std::path::Path::new(path);
        let in_edit = path.parent().and_then(|p| p.file_name()).is_some_and(|n| n == "ubah");
        let mut book: calamine::Xlsx<_> = calamine::open_workbook(path).unwrap();
        let sheet = calamine::Reader::worksheet_range_at(&mut book, 0).unwrap().unwrap();
        let rows = sheet.rows().count() - 1;
        if in_edit { edits += rows } else { adds += rows }
    }
    let exported = count(&store, "SELECT count(*) FROM publications WHERE seller = 'P3576-0006' AND idempotency_key LIKE 'xlsx:%'").await;
    assert!(exported > 0);
    assert_eq!((adds, edits), (0, exported as usize), "each listed product once, in the bulk edit workbooks: {:?}", third.outputs);
    assert_eq!(count(&store, "SELECT count(*) FROM publications WHERE seller = 'P3576-0006' AND channel <> 'xlsx'").await, 0);
    assert_eq!(items_of(&server, WATES_SELLER).await.len(), listed, "nothing added on the catalogue");
}

/// Two members of one cooperative using the same SKU: two products, two
/// listings (their item ids differ by member), each found again by the
/// status sync.
#[tokio::test]
async fn two_members_with_the_same_sku_get_two_listings_each_followed() {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let tmp = common::temp_dir();
    let file = tmp.path().join("sama.csv");
    let row = |member: &str, name: &str| {
        format!(
            "MJK-WATES;{member};{name};KRP-1;Keripik Tempe Renyah 200 gram;Keripik tempe.;Makanan Ringan;bungkus;200 gram;12000;10;1;0,2;Lokal;Kota Mojokerto;;;;;https://foto.kkmp-mojokerto.id/{member}.jpg\n"
        )
    };
    let header = "kode_koperasi;kode_anggota;nama_anggota;sku;nama_produk;deskripsi;kategori;satuan;isi_bersih;harga;stok;min_pembelian;berat_kg;asal;lokasi_produksi;tkdn_persen;no_sertifikat_tkdn;no_sni;merek;foto\n";
    std::fs::write(&file, format!("{header}{}{}", row("WAT-07", "Keripik Bu Ani"), row("WAT-08", "Keripik Pak Budi"))).unwrap();
    let units = katalog_bridge::mapping::units::UnitTable::load(&MappingSource::BuiltIn).unwrap();
    let report = katalog_bridge::intake::products::import_products(&store, &units, &file, None, &Default::default(), &Default::default()).await.unwrap();
    assert_eq!((report.accepted, report.rejected), (2, 0), "{report:?}");
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let client = client_with(&server, &scenario, |_| Channel::Api);
    let sent = publish(&store, &plan(Format::KatalogV6), &client, &PublishOptions::default()).await.unwrap();
    assert_eq!(sent.accepted, 2, "{}", sent.summary());
    let items = items_of(&server, WATES_SELLER).await;
    assert_eq!(items.keys().cloned().collect::<Vec<_>>(), ["WAT-07/KRP-1", "WAT-08/KRP-1"]);
    assert!(items.values().all(|ls| ls.len() == 1));
    admin(&server, "/admin/clock/advance", serde_json::json!({"hours": 30})).await;
    // Forget the listing ids: the feed finds each publication again by its item id.
    sqlx::query("UPDATE publications SET remote_id = NULL").execute(store.pool()).await.unwrap();
    let followed = sync_status(&store, &client, Channel::Api, None, &StatusOptions::default()).await.unwrap();
    assert_eq!(followed.changes.unknown, 0, "{}", followed.summary());
    assert_listed_once_in_step(&store, &server, WATES_SELLER).await;
    let live = count(&store, "SELECT count(*) FROM publications WHERE state = 'live' AND remote_id IS NOT NULL").await;
    assert_eq!(live, 2);
}

/// A listing made before the item id was `MEMBER/SKU` (its `sku` the bare
/// SKU, its member in `kode_anggota`) is the same item: publishing finds it
/// and carries it over to the new id instead of listing the product again.
#[tokio::test]
async fn a_listing_under_the_old_bare_sku_is_carried_over_not_listed_again() {
    let store = common::fixture_store().await;
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let client = client_with(&server, &scenario, |_| Channel::Api);
    // As an earlier version listed it: the product's mapped listing with the bare SKU.
    let old: Value = {
        let mapped = common::mapped_fixture_listings().await;
        let mut l = mapped.iter().find(|l| l["sku"] == "WAT-01/KDL-1").expect("Wates lists KDL-1").clone();
        l["sku"] = serde_json::json!("KDL-1");
        let created = client.send(WATES_SELLER, &Call::CreateListing { body: l, key: "old".into() }).await.unwrap();
        assert_eq!(created.status, 201);
        created.body
    };
    let report = publish(&store, &plan(Format::KatalogV6), &client, &PublishOptions { cooperative: Some(WATES.into()), ..Default::default() }).await.unwrap();
    assert!(report.complete(), "{}", report.summary());
    let items = items_of(&server, WATES_SELLER).await;
    assert_eq!(items["WAT-01/KDL-1"].len(), 1, "listed once: {:?}", items["WAT-01/KDL-1"]);
    let carried = &items["WAT-01/KDL-1"][0];
    assert_eq!(
        (carried["listing_id"].clone(), carried["sku"].as_str()),
        (old["listing_id"].clone(), Some("WAT-01/KDL-1")),
        "the old listing, under the new id"
    );
    let remote: String = sqlx::query_scalar(
        "SELECT pb.remote_id FROM publications pb JOIN products p ON p.id = pb.product_id JOIN members m ON m.id = p.member_id
         WHERE m.code = 'WAT-01' AND p.sku = 'KDL-1'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(remote, old["listing_id"].as_str().unwrap());
    assert_eq!(items.len() as u64, report.accepted, "nothing listed twice");
}
