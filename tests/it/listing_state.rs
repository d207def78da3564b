//! A listing's local state follows what the catalogue answers (issue 22):
//! a deliberate resend is a new request, a resubmit says what it does with
//! each id, and the drift check corrects a state the feed never reported.
//! Against the mock catalogue over real HTTP and a real PostgreSQL.

use crate::common;

use std::collections::HashMap;
use std::time::Duration;

use katalog_bridge::catalog::Format;
use katalog_bridge::catalog::client::CatalogueClient;
use katalog_bridge::domain::publication::OnRequest;
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::mapping::plan::Tables;
use katalog_bridge::publish::status::{StatusOptions, sync_status};
use katalog_bridge::publish::{Channel, PublishOptions, publish};
use katalog_bridge::store::Store;
use mock_catalog::{MockServer, Scenario};
use serde_json::{Value, json};

const WATES: &str = "MJK-WATES";

/// The fixtures' catalogue, with curators stricter than the ceilings the
/// mapping checks (a rule katalog-bridge does not know): staples priced
/// above Rp10.000 a kg or liter are rejected, so review sends some back.
fn scenario() -> Scenario {
    let mut s = Scenario::load(&common::repo().join("fixtures/scenarios/mojokerto.toml")).unwrap();
    for c in &mut s.ceilings {
        c.price = 10_000;
    }
    s
}

fn client(server: &MockServer, scenario: &Scenario) -> CatalogueClient {
    common::mock_client(server, scenario)
}

fn plan() -> katalog_bridge::mapping::plan::Plan {
    let tables = Tables::load(&MappingSource::BuiltIn).unwrap();
    Format::KatalogV6.plan(&MappingSource::BuiltIn, &tables).unwrap()
}

fn wates() -> PublishOptions {
    PublishOptions { cooperative: Some(WATES.into()), ..Default::default() }
}

/// The catalogue's listings by id.
async fn truth(server: &MockServer) -> HashMap<String, Value> {
    let v: Value = reqwest::get(format!("{}/admin/state", server.url())).await.unwrap().json().await.unwrap();
    v["listings"].as_array().unwrap().iter().map(|l| (l["listing_id"].as_str().unwrap().to_owned(), l.clone())).collect()
}

async fn advance(server: &MockServer, hours: i64) {
    let r = reqwest::Client::new().post(format!("{}/admin/clock/advance", server.url())).json(&json!({"hours": hours})).send().await.unwrap();
    assert!(r.status().is_success());
}

/// Every publication with a listing id: (id, remote id, state).
async fn ours(store: &Store) -> Vec<(i64, String, String)> {
    sqlx::query_as("SELECT id, remote_id, state FROM publications WHERE remote_id IS NOT NULL ORDER BY id").fetch_all(store.pool()).await.unwrap()
}

/// Each local state is the catalogue's, and the catalogue holds nothing we do not know of.
async fn assert_in_step(store: &Store, server: &MockServer) {
    let truth = truth(server).await;
    let ours = ours(store).await;
    assert_eq!(ours.len(), truth.len(), "one listing per publication, none more");
    let drifted: Vec<String> = ours
        .iter()
        .filter(|(_, remote, state)| truth[remote]["state"] != state.as_str())
        .map(|(id, remote, state)| format!("{id} {remote}: ours {state}, catalogue {}", truth[remote]["state"]))
        .collect();
    assert!(drifted.is_empty(), "local states that are not the catalogue's: {drifted:#?}");
}

#[tokio::test]
async fn resubmitting_after_updates_went_live_leaves_every_local_state_equal_to_the_catalogues() {
    let store = common::fixture_store().await;
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let client = client(&server, &scenario);
    let status = StatusOptions::default();

    let first = publish(&store, &plan(), &client, &wates()).await.unwrap();
    assert!(first.accepted > 5 && first.complete(), "{}", first.summary());
    advance(&server, 30).await;
    sync_status(&store, &client, Channel::Api, Some(WATES), &status).await.unwrap();

    // The liaison corrects every price and publishes: each listing is updated and reviewed again.
    sqlx::query("UPDATE products SET price = price + 500 WHERE cooperative_id = (SELECT id FROM cooperatives WHERE code = $1)")
        .bind(WATES)
        .execute(store.pool())
        .await
        .unwrap();
    let updated = publish(&store, &plan(), &client, &wates()).await.unwrap();
    assert_eq!(updated.planned.changed, first.accepted, "{}", updated.summary());
    advance(&server, 30).await;
    sync_status(&store, &client, Channel::Api, Some(WATES), &status).await.unwrap();
    assert_in_step(&store, &server).await;
    let before = ours(&store).await;
    let live = before.iter().filter(|(_, _, s)| s == "live").count();
    let sent_back: Vec<i64> = before.iter().filter(|(_, _, s)| s == "rejected" || s == "revision_requested").map(|(id, _, _)| *id).collect();
    assert!(live > 0 && !sent_back.is_empty(), "the scenario puts some live and sends some back: {before:?}");

    // Resubmit all of them: the live ones have nothing to resend; the sent-back ones go again.
    let ids: Vec<i64> = before.iter().map(|(id, _, _)| *id).collect();
    let done = katalog_bridge::store::publications::resubmit(&store, &ids).await.unwrap();
    for r in &done {
        let state = r.state.unwrap().as_str();
        let want = if state == "live" { OnRequest::Unchanged } else { OnRequest::Resend };
        assert_eq!(r.decision, Some(want), "{r:?}");
    }
    let keys_before: HashMap<i64, String> = sqlx::query_as("SELECT id, idempotency_key FROM publications WHERE id = ANY($1)")
        .bind(&sent_back)
        .fetch_all(store.pool())
        .await
        .unwrap()
        .into_iter()
        .collect();
    let changes_before: HashMap<String, Value> = truth(&server).await.into_iter().map(|(id, l)| (id, l["change"].clone())).collect();

    let resent = publish(&store, &plan(), &client, &wates()).await.unwrap();
    assert_eq!(resent.sent as usize, sent_back.len(), "only the sent-back ones: {}", resent.summary());
    // Each was a new request the catalogue acted on (a new key, a new change), not a replay of the earlier update.
    let after = truth(&server).await;
    for (id, remote, _) in before.iter().filter(|(id, _, _)| sent_back.contains(id)) {
        assert_ne!(after[remote]["change"], changes_before[remote], "listing {remote} was really sent again");
        assert_eq!(after[remote]["state"], "submitted", "and is in review again");
        let key: String = sqlx::query_scalar("SELECT idempotency_key FROM publications WHERE id = $1").bind(id).fetch_one(store.pool()).await.unwrap();
        assert_ne!(&key, &keys_before[id], "a resend is a new request with a new key");
    }
    advance(&server, 30).await;
    let followed = sync_status(&store, &client, Channel::Api, Some(WATES), &status).await.unwrap();
    assert_eq!(followed.changes.not_allowed, 0, "{}", followed.summary());
    assert_in_step(&store, &server).await;
}

#[tokio::test]
async fn a_failed_listing_resubmitted_is_sent_and_a_lost_create_answer_adopts_the_listing() {
    let store = common::fixture_store().await;
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let client = client(&server, &scenario);
    // The first create is refused for good.
    let fault = json!({"route": "/api/v1/listings", "kind": "status", "status": 422, "count": 1});
    reqwest::Client::new().post(format!("{}/admin/faults", server.url())).json(&fault).send().await.unwrap();
    let first = publish(&store, &plan(), &client, &wates()).await.unwrap();
    assert_eq!(first.refused.len(), 1, "{}", first.summary());
    let failed: i64 = sqlx::query_scalar("SELECT id FROM publications WHERE state = 'failed'").fetch_one(store.pool()).await.unwrap();
    let done = katalog_bridge::store::publications::resubmit(&store, &[failed, 999_999]).await.unwrap();
    assert_eq!(done[0].decision, Some(OnRequest::Resend));
    assert_eq!(done[1].decision, None, "an unknown id is said to be unknown");
    let again = publish(&store, &plan(), &client, &wates()).await.unwrap();
    assert_eq!((again.sent, again.accepted), (1, 1), "{}", again.summary());
    let (state, remote): (String, Option<String>) =
        sqlx::query_as("SELECT state, remote_id FROM publications WHERE id = $1").bind(failed).fetch_one(store.pool()).await.unwrap();
    assert_eq!(state, "submitted");
    assert!(truth(&server).await.contains_key(&remote.unwrap()), "it is on the catalogue");

    // A create the catalogue took whose answer never came back, and whose
    // content changed before the next attempt: the next create, a new round
    // with new content, finds the listing by its item id and updates it.
    let (id, remote): (i64, String) =
        sqlx::query_as("SELECT id, remote_id FROM publications WHERE id <> $1 ORDER BY id LIMIT 1").bind(failed).fetch_one(store.pool()).await.unwrap();
    sqlx::query("UPDATE publications SET remote_id = NULL, sent_hash = NULL, state = 'pending', send_round = send_round + 1 WHERE id = $1")
        .bind(id)
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE products SET price = price + 100 WHERE id = (SELECT product_id FROM publications WHERE id = $1)")
        .bind(id)
        .execute(store.pool())
        .await
        .unwrap();
    let count = truth(&server).await.len();
    let adopted = publish(&store, &plan(), &client, &wates()).await.unwrap();
    assert_eq!((adopted.sent, adopted.accepted), (1, 1), "{}", adopted.summary());
    let now = truth(&server).await;
    assert_eq!(now.len(), count, "no second listing");
    let (state, remote_now): (String, String) =
        sqlx::query_as("SELECT state, remote_id FROM publications WHERE id = $1").bind(id).fetch_one(store.pool()).await.unwrap();
    assert_eq!((state.as_str(), remote_now.as_str()), ("submitted", remote.as_str()), "the listing it had is its again");
    let wanted: Value =
        sqlx::query_scalar("SELECT payload FROM listings WHERE format = 'katalog-v6' AND product_id = (SELECT product_id FROM publications WHERE id = $1)")
            .bind(id)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(now[&remote]["listing"]["harga"], wanted["harga"], "the catalogue has the new price");
    assert_eq!(now[&remote]["state"], "submitted", "updated with the new content, in review again");
}

#[tokio::test]
async fn the_drift_check_corrects_a_state_the_feed_never_reported() {
    let store = common::fixture_store().await;
    let scenario = scenario();
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let client = client(&server, &scenario);
    publish(&store, &plan(), &client, &wates()).await.unwrap();
    advance(&server, 30).await;
    sync_status(&store, &client, Channel::Api, Some(WATES), &StatusOptions::default()).await.unwrap();
    assert_in_step(&store, &server).await;

    // Changes made on the portal by hand: no feed entry says so.
    let listings = ours(&store).await;
    let live = listings.iter().find(|(_, _, s)| s == "live").unwrap().1.clone();
    let sent_back = listings.iter().find(|(_, _, s)| s == "rejected" || s == "revision_requested").unwrap().1.clone();
    for (id, state) in [(&live, "taken_down"), (&sent_back, "live")] {
        let r = reqwest::Client::new().post(format!("{}/admin/listings/{id}/state", server.url())).json(&json!({"state": state})).send().await.unwrap();
        assert!(r.status().is_success());
    }
    // The feed says nothing, and listings heard of today are not read back.
    let quiet = sync_status(&store, &client, Channel::Api, Some(WATES), &StatusOptions::default()).await.unwrap();
    assert_eq!((quiet.changes.applied, quiet.drift.checked), (0, 0), "{}", quiet.summary());
    let pool = store.pool().clone();
    let state = |remote: String| {
        let pool = pool.clone();
        async move { sqlx::query_scalar::<_, String>("SELECT state FROM publications WHERE remote_id = $1").bind(remote).fetch_one(&pool).await.unwrap() }
    };
    assert_eq!(state(live.clone()).await, "live", "still the old state: the drift is real");

    // Listings not heard of for a while (here: at once) are read back and corrected.
    let check = StatusOptions { drift_after: Duration::ZERO, ..Default::default() };
    let checked = sync_status(&store, &client, Channel::Api, Some(WATES), &check).await.unwrap();
    assert_eq!(checked.drift.checked as usize, listings.len(), "{}", checked.summary());
    assert_eq!((checked.drift.corrected, checked.drift.failed, checked.drift.missing), (2, 0, 0), "{}", checked.summary());
    assert!(checked.summary().contains("2 corrected"), "{}", checked.summary());
    assert_in_step(&store, &server).await;
    assert_eq!(state(live.clone()).await, "taken_down");
    let events: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT pb.remote_id, e.from_state, e.to_state FROM publication_events e JOIN publications pb ON pb.id = e.publication_id
         WHERE e.kind = 'drift' ORDER BY pb.remote_id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(events.len(), 2, "each correction recorded: {events:?}");
    assert!(events.contains(&(live.clone(), "live".into(), "taken_down".into())), "{events:?}");
    // Run again: nothing left to correct, nothing recorded twice.
    let again = sync_status(&store, &client, Channel::Api, Some(WATES), &check).await.unwrap();
    assert_eq!(again.drift.corrected, 0, "{}", again.summary());
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM publication_events WHERE kind = 'drift'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(n, 2);
}
