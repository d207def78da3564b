//! The PEPPOL and xlsx channels against the mock catalogue over real HTTP:
//! one UBL Catalogue per cooperative with Add, Update and Delete lines, each
//! line's result applied from the Catalogue Response; a document cut off by
//! faults sent again as the same document; bulk-upload workbooks written for
//! changed publications only, and `listings mark-uploaded` marking their rows.

mod common;

use katalog_bridge::catalog::Format;
use katalog_bridge::catalog::client::CatalogueClient;
use katalog_bridge::config::CatalogueSettings;
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::plan::{Plan, Tables};
use katalog_bridge::mock::{MockServer, Scenario};
use katalog_bridge::publish::status::{StatusOptions, sync_status};
use katalog_bridge::publish::{Channel, PublishOptions, publish};
use serde_json::Value;

fn scenario() -> Scenario {
    Scenario::load(&common::repo().join("fixtures/scenarios/mojokerto.toml")).unwrap()
}

fn client(server: &MockServer, scenario: &Scenario) -> CatalogueClient {
    let settings = CatalogueSettings { base_url: server.url(), timeout_secs: 10, max_concurrency: 8, max_attempts: 3, sellers: scenario.seller_accounts() };
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
    assert!(code == 0 || code == 1, "{out}{err}");
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
