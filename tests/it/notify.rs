//! Notifications of waiting orders, against an HTTP receiver and an SMTP
//! server that the test starts itself, with orders synced from the mock
//! catalogue into real PostgreSQL: each is sent exactly once per order, kind
//! and channel, however often the pass runs; a failed delivery is retried;
//! the webhook's signature is the HMAC-SHA256 of its timestamp and body; the e-mail goes to
//! the cooperative's address, in Bahasa Indonesia, with buyer, items, total
//! and deadline.

use crate::common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use hmac::{KeyInit, Mac};
use katalog_bridge::config::NotifySettings;
use katalog_bridge::mapping::MappingSource;
use katalog_bridge::notify::Notifier;
use katalog_bridge::orders::{SyncOptions, sync_orders};
use katalog_bridge::store::Store;
use mock_catalog::{MockServer, Scenario};
use secrecy::SecretString;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const SECRET: &str = "rahasia-webhook-uji";

#[derive(Default)]
struct Received {
    /// (delivery id, signature header, body, answered status)
    posts: Vec<(String, String, Vec<u8>, u16)>,
    /// Fail the first this many deliveries with a 500.
    fail_first: usize,
}

async fn webhook_receiver(received: Arc<Mutex<Received>>) -> String {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let received = received.clone();
            async move {
                let mut r = received.lock().unwrap();
                let status = if r.posts.len() < r.fail_first { 500 } else { 200 };
                let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                r.posts.push((header("x-katalog-bridge-delivery"), header("x-katalog-bridge-signature"), body.to_vec(), status));
                StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A mail (envelope recipient and raw DATA) taken by the test's SMTP server.
pub(crate) type Mail = (String, String);

/// Just enough SMTP to take mail: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
pub(crate) async fn smtp_server(mails: Arc<Mutex<Vec<Mail>>>) -> u16 {
    smtp_server_with(mails, Arc::default(), None).await
}

/// What the SMTP server saw besides mail: each login (user, password, whether
/// it came inside TLS) and every line the client sent in the clear.
#[derive(Default)]
struct SmtpSeen {
    logins: Vec<(String, String, bool)>,
    clear: String,
}

/// The SMTP server; with an acceptor it offers STARTTLS, and AUTH PLAIN and
/// LOGIN once inside TLS (never in the clear, as real servers do).
async fn smtp_server_with(mails: Arc<Mutex<Vec<Mail>>>, seen: Arc<Mutex<SmtpSeen>>, tls: Option<tokio_rustls::TlsAcceptor>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(smtp_session(Box::new(stream), tls.clone(), false, mails.clone(), seen.clone()));
        }
    });
    port
}

/// A connection, in the clear or inside TLS.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

fn smtp_session(
    stream: Box<dyn Io>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    secure: bool,
    mails: Arc<Mutex<Vec<Mail>>>,
    seen: Arc<Mutex<SmtpSeen>>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    use base64::Engine;
    let b64 = |s: &str| String::from_utf8(base64::engine::general_purpose::STANDARD.decode(s.trim()).unwrap_or_default()).unwrap_or_default();
    Box::pin(async move {
        let mut stream = BufReader::new(stream);
        if !secure {
            stream.write_all(b"220 test ESMTP\r\n").await.unwrap();
        }
        let mut rcpt = String::new();
        loop {
            let mut line = String::new();
            if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            if !secure {
                seen.lock().unwrap().clear.push_str(&line);
            }
            let line = line.trim_end_matches(['\r', '\n']).to_owned();
            let upper = line.to_ascii_uppercase();
            let answer: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                match (&tls, secure) {
                    (Some(_), _) => b"250-test\r\n250 STARTTLS\r\n",
                    (None, true) => b"250-test\r\n250 AUTH PLAIN LOGIN\r\n",
                    (None, false) => b"250 test\r\n",
                }
            } else if upper == "STARTTLS" && tls.is_some() {
                stream.write_all(b"220 go ahead\r\n").await.unwrap();
                stream.flush().await.unwrap();
                let Ok(inside) = tls.unwrap().accept(stream.into_inner()).await else { return };
                return smtp_session(Box::new(inside), None, true, mails, seen).await;
            } else if upper.starts_with("AUTH") && !secure {
                b"538 5.7.11 encryption required\r\n"
            } else if upper.starts_with("AUTH PLAIN") {
                let mut given = line[10..].trim().to_owned();
                if given.is_empty() {
                    stream.write_all(b"334 \r\n").await.unwrap();
                    stream.read_line(&mut given).await.unwrap();
                }
                let plain = b64(&given);
                let mut parts = plain.split('\0').skip(1);
                let (user, password) = (parts.next().unwrap_or_default().to_owned(), parts.next().unwrap_or_default().to_owned());
                seen.lock().unwrap().logins.push((user, password, secure));
                b"235 2.7.0 accepted\r\n"
            } else if upper.starts_with("AUTH LOGIN") {
                let (mut user, mut password) = (String::new(), String::new());
                stream.write_all(b"334 VXNlcm5hbWU6\r\n").await.unwrap();
                stream.read_line(&mut user).await.unwrap();
                stream.write_all(b"334 UGFzc3dvcmQ6\r\n").await.unwrap();
                stream.read_line(&mut password).await.unwrap();
                seen.lock().unwrap().logins.push((b64(&user), b64(&password), secure));
                b"235 2.7.0 accepted\r\n"
            } else if upper.starts_with("RCPT TO:") {
                rcpt = line[8..].trim().trim_matches(['<', '>']).to_owned();
                b"250 OK\r\n"
            } else if upper.starts_with("DATA") {
                stream.write_all(b"354 go on\r\n").await.unwrap();
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    if stream.read_line(&mut l).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let l = l.trim_end_matches(['\r', '\n']);
                    if l == "." {
                        break;
                    }
                    data.push_str(l.strip_prefix('.').unwrap_or(l));
                    data.push('\n');
                }
                mails.lock().unwrap().push((rcpt.clone(), data));
                b"250 OK queued\r\n"
            } else if upper.starts_with("QUIT") {
                let _ = stream.write_all(b"221 bye\r\n").await;
                return;
            } else {
                b"250 OK\r\n"
            };
            stream.write_all(answer).await.unwrap();
        }
    })
}

/// The text of a mail's body, decoded from quoted-printable or base64.
pub(crate) fn mail_text(raw: &str) -> String {
    let (head, body) = raw.split_once("\n\n").unwrap_or((raw, ""));
    let head = head.to_ascii_lowercase();
    if head.contains("content-transfer-encoding: base64") {
        use base64::Engine;
        let joined: String = body.split_whitespace().collect();
        return String::from_utf8(base64::engine::general_purpose::STANDARD.decode(joined).unwrap()).unwrap();
    }
    if head.contains("content-transfer-encoding: quoted-printable") {
        let soft = body.replace("=\n", "");
        let bytes = soft.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 2 < bytes.len() {
                out.push(u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap(), 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        return String::from_utf8(out).unwrap();
    }
    body.to_owned()
}

async fn synced_store() -> (Store, MockServer) {
    let store = common::fresh_store().await;
    common::load_cooperatives(&store).await;
    let mut scenario = Scenario::load(&common::repo().join("fixtures/scenarios/mojokerto.toml")).unwrap();
    scenario.initial_orders = 40;
    scenario.orders_per_day = 0;
    scenario.lines_per_order_mean = 2;
    scenario.fiscal_year = Some(2026);
    scenario.rate_limit_per_minute = 1_000_000;
    let server = MockServer::start(scenario.clone(), "127.0.0.1:0").await.unwrap();
    let client = common::mock_client(&server, &scenario);
    let calendar = katalog_bridge::mapping::working_calendar(&MappingSource::BuiltIn, false).unwrap();
    let options = SyncOptions { klpd: vec!["D347".into()], years: vec![2026], ..Default::default() };
    let report = sync_orders(&store, &client, &calendar, &options).await.unwrap();
    assert!(report.complete(), "{}", report.summary());
    (store, server)
}

async fn per_channel(store: &Store, channel: &str, kind: &str) -> i64 {
    count(store, &format!("SELECT count(*) FROM notifications WHERE channel = '{channel}' AND kind LIKE '{kind}'")).await
}

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(store.pool()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_waiting_order_is_announced_once_per_channel_by_signed_webhook_and_by_e_mail_and_again_once_when_its_deadline_nears() {
    let (store, _server) = synced_store().await;
    // Orders waiting now (the mock's clock is at the scenario's start, so their deadlines are ahead of "now" only
    // from the catalogue's point of view): the pass is given that time.
    let (waiting_at, waiting): (chrono::DateTime<chrono::Utc>, i64) =
        sqlx::query_as("SELECT min(order_date), count(*) FROM purchase_orders WHERE status = 'WAITING_SELLER_CONFIRMATION'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(waiting > 1, "the scenario leaves orders waiting");
    let received = Arc::new(Mutex::new(Received { fail_first: 1, ..Default::default() }));
    let hook = webhook_receiver(received.clone()).await;
    let mails = Arc::new(Mutex::new(Vec::new()));
    let smtp = smtp_server(mails.clone()).await;
    let settings = NotifySettings {
        webhook_url: Some(SecretString::from(hook)),
        webhook_secret: Some(SecretString::from(SECRET)),
        smtp_url: Some(SecretString::from(format!("smtp://127.0.0.1:{smtp}"))),
        from: Some("katalog-bridge <noreply@koperasi.example>".into()),
        ..Default::default()
    };
    let calendar = Arc::new(katalog_bridge::mapping::working_calendar(&MappingSource::BuiltIn, false).unwrap());
    let notifier = Notifier::from_settings(&settings, calendar.clone()).unwrap().expect("both channels set");

    // The orders waiting at the time of the earliest one, still within its deadline.
    let now = waiting_at + chrono::Duration::minutes(1);
    let due = count(
        &store,
        &format!(
            "SELECT count(*) FROM purchase_orders WHERE status = 'WAITING_SELLER_CONFIRMATION' AND NOT needs_detail AND deadline > '{}'",
            now.to_rfc3339()
        ),
    )
    .await;
    assert!(due > 1);
    let queued = notifier.queue(&store, now).await.unwrap();
    let (webhooks, emails) = (per_channel(&store, "webhook", "%").await, per_channel(&store, "email", "%").await);
    assert_eq!(per_channel(&store, "webhook", "arrived").await, due, "one arrival notice per waiting order");
    assert_eq!(emails, webhooks, "on each channel (every fixture cooperative has an e-mail)");
    assert_eq!(queued as i64, webhooks + emails);
    let first = notifier.send_due(&store).await.unwrap();
    assert_eq!((first.sent, first.failed), (queued - 1, 1), "the receiver refused the first delivery");
    // A second pass queues and sends nothing new; the failed one waits for its backoff.
    assert_eq!(notifier.queue(&store, now).await.unwrap(), 0);
    assert_eq!(notifier.send_due(&store).await.unwrap().sent, 0);
    let pending: (String, i32, bool) =
        sqlx::query_as("SELECT state, attempts, next_attempt_at > now() FROM notifications WHERE state <> 'sent'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(pending, ("pending".into(), 1, true));
    sqlx::query("UPDATE notifications SET next_attempt_at = now() WHERE state = 'pending'").execute(store.pool()).await.unwrap();
    assert_eq!(notifier.send_due(&store).await.unwrap().sent, 1, "retried after its backoff");
    assert_eq!(notifier.send_due(&store).await.unwrap().sent, 0);

    // The webhook: each delivery accepted once, signed over its exact body.
    let posts = received.lock().unwrap().posts.clone();
    let mut accepted: HashMap<String, usize> = HashMap::new();
    for (delivery, signature, body, status) in &posts {
        // As a receiver checks it: `t=<unix>,v1=<hex>` over `t.body`, the time within five minutes.
        let (t, v1) = signature.split_once(',').unwrap_or_else(|| panic!("{signature}"));
        let t: i64 = t.strip_prefix("t=").unwrap().parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - t).abs() < 300, "a fresh timestamp: {t}");
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        mac.verify_slice(&hex::decode(v1.strip_prefix("v1=").unwrap()).unwrap()).expect("the signature verifies over t.body");
        if *status == 200 {
            *accepted.entry(delivery.clone()).or_default() += 1;
        }
    }
    assert_eq!(posts.len() as i64, webhooks + 1, "one post per notification, plus the retry");
    assert!(accepted.values().all(|n| *n == 1) && accepted.len() as i64 == webhooks);
    let body: Value = serde_json::from_slice(&posts[1].2).unwrap();
    let order_id = body["order_id"].as_str().unwrap().to_owned();
    let (buyer, total, lines): (Option<String>, rust_decimal::Decimal, i64) = sqlx::query_as(
        "SELECT nama_satker, total, (SELECT count(*) FROM order_lines l WHERE l.order_id = o.id) FROM purchase_orders o WHERE remote_order_id = $1",
    )
    .bind(&order_id)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(body["buyer"].as_str(), buyer.as_deref());
    assert_eq!(body["total"].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap(), total);
    assert_eq!(body["items"].as_array().unwrap().len() as i64, lines);
    assert!(body["deadline_wib"].as_str().unwrap().ends_with("WIB"), "{body}");
    assert!(!String::from_utf8_lossy(&posts[1].2).contains(SECRET), "the secret never travels");

    // The e-mails: one per notification, to the cooperative's own address, in Indonesian.
    let sent_mails = mails.lock().unwrap().clone();
    assert_eq!(sent_mails.len() as i64, emails);
    let (to, raw) = sent_mails.iter().find(|(_, raw)| mail_text(raw).contains(&order_id)).expect("a mail about that order");
    let coop: (String,) = sqlx::query_as("SELECT c.email FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id WHERE o.remote_order_id = $1")
        .bind(&order_id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(to, &coop.0);
    let text = mail_text(raw);
    for part in
        ["Yth. pengurus", "Nomor pesanan", "Pembeli", "Barang", "Batas konfirmasi", "WIB", "3 hari kerja", &katalog_bridge::domain::money::format_rupiah(total)]
    {
        assert!(text.contains(part), "{part:?} in {text}");
    }
    let buyer = buyer.expect("the mock's orders name their buyer");
    assert!(text.contains(buyer.as_str()), "the buyer in {text}");

    // Less than a working day before an order's deadline: one more, once; an
    // order confirmed in between gets none (moot).
    let (soon, deadline): (String, chrono::DateTime<chrono::Utc>) = sqlx::query_as(
        "SELECT remote_order_id, deadline FROM purchase_orders WHERE status = 'WAITING_SELLER_CONFIRMATION' AND NOT needs_detail ORDER BY deadline DESC LIMIT 1",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    let late = deadline - chrono::Duration::hours(2);
    let before = count(&store, "SELECT count(*) FROM notifications").await;
    let queued = notifier.queue(&store, late).await.unwrap();
    assert!(queued >= 2, "the order nearest its deadline, on both channels");
    let confirmed = sqlx::query_scalar::<_, String>(
        "SELECT o.remote_order_id FROM notifications n JOIN purchase_orders o ON o.id = n.order_id
         WHERE n.kind IN ('deadline_near', 'deadline_last') AND n.state = 'pending' AND o.remote_order_id <> $1 LIMIT 1",
    )
    .bind(&soon)
    .fetch_optional(store.pool())
    .await
    .unwrap();
    if let Some(other) = &confirmed {
        sqlx::query("UPDATE purchase_orders SET status = 'ON_PROCESS' WHERE remote_order_id = $1").bind(other).execute(store.pool()).await.unwrap();
    }
    let sent = notifier.send_due_at(&store, late).await.unwrap();
    assert_eq!(sent.sent + sent.moot, queued);
    assert_eq!(sent.moot, if confirmed.is_some() { 2 } else { 0 });
    assert_eq!(notifier.queue(&store, late).await.unwrap(), 0, "queued once");
    assert_eq!(count(&store, "SELECT count(*) FROM notifications").await, before + queued as i64);
    let notices: Vec<String> =
        mails.lock().unwrap().iter().map(|(_, raw)| mail_text(raw)).filter(|t| t.contains(&soon) && t.contains("BELUM dikonfirmasi")).collect();
    assert_eq!(notices.len(), 1, "one deadline notice by e-mail for {soon}");
    // Two hours before: the last reminder (under four working hours), not also the one of a working day.
    assert!(notices[0].contains("tinggal 2 jam 0 menit"), "{}", notices[0]);
    assert_eq!(count(&store, &format!("SELECT count(*) FROM notifications n JOIN purchase_orders o ON o.id = n.order_id WHERE o.remote_order_id = '{soon}' AND n.kind = 'deadline_near'")).await, 0);
    let _ = calendar;
}

/// A delivery slower than the lease (a receiver taking 10 s a request, the
/// lease 2 s) is not sent again by another pass running meanwhile: each pass
/// claims under a name of its own and renews its leases while it sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_slower_than_the_lease_is_sent_once_whatever_other_passes_run() {
    let (store, _server) = synced_store().await;
    let posts: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = posts.clone();
    let app = axum::Router::new().route(
        "/slow",
        axum::routing::post(move |headers: HeaderMap| {
            let seen = seen.clone();
            async move {
                let id = headers.get("x-katalog-bridge-delivery").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                seen.lock().unwrap().push(id);
                tokio::time::sleep(std::time::Duration::from_secs(10)).await;
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/slow", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let settings = NotifySettings { webhook_url: Some(SecretString::from(hook)), webhook_secret: Some(SecretString::from(SECRET)), ..Default::default() };
    let calendar = Arc::new(katalog_bridge::mapping::working_calendar(&MappingSource::BuiltIn, false).unwrap());
    let notifier = Arc::new(Notifier::from_settings(&settings, calendar).unwrap().unwrap().with_lease(std::time::Duration::from_secs(2)));
    let waiting_at: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT min(order_date) FROM purchase_orders WHERE status = 'WAITING_SELLER_CONFIRMATION'").fetch_one(store.pool()).await.unwrap();
    notifier.queue(&store, waiting_at + chrono::Duration::minutes(1)).await.unwrap();
    // Two notifications keep the test short: 20 s of deliveries, ten leases long.
    sqlx::query("DELETE FROM notifications WHERE id NOT IN (SELECT id FROM notifications ORDER BY id LIMIT 2)").execute(store.pool()).await.unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM notifications WHERE state = 'pending'").await, 2);

    // One pass sends; meanwhile another starts every 300 ms, as the daemon's
    // sweep and the orders job would.
    let first = tokio::spawn({
        let (n, s) = (notifier.clone(), store.handle());
        async move { n.send_due(&s).await.unwrap() }
    });
    let mut others = Vec::new();
    while !first.is_finished() {
        let (n, s) = (notifier.clone(), store.handle());
        others.push(tokio::spawn(async move { n.send_due(&s).await.unwrap() }));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let mut sent = first.await.unwrap().sent;
    for o in others {
        sent += o.await.unwrap().sent;
    }
    let posts = posts.lock().unwrap().clone();
    let mut distinct = posts.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!((posts.len(), distinct.len(), sent), (2, 2, 2), "each notification delivered once: {posts:?}");
    assert_eq!(count(&store, "SELECT count(*) FROM notifications WHERE state = 'sent' AND attempts = 1").await, 2);
}

/// A password never leaves unencrypted: `smtp://` with a password (in the
/// URL or the settings) is refused unless the URL asks for STARTTLS
/// (`?tls=required`) or says `?tls=none` explicitly; `tls=opportunistic`,
/// which a man in the middle strips, is refused too. A plain `http://`
/// webhook to another machine is refused unless allowed. Nothing reaches the
/// SMTP server, and no error shows the password.
#[tokio::test]
async fn credentials_are_never_sent_unencrypted_and_plain_http_webhooks_to_other_machines_are_refused() {
    let mails = Arc::new(Mutex::new(Vec::new()));
    let smtp = smtp_server(mails.clone()).await;
    let calendar = Arc::new(katalog_bridge::mapping::working_calendar(&MappingSource::BuiltIn, false).unwrap());
    let base = NotifySettings {
        smtp_password: Some(SecretString::from("rahasia-smtp")),
        from: Some("katalog-bridge <noreply@koperasi.example>".into()),
        ..Default::default()
    };
    let with_url = |url: String, password: bool| NotifySettings {
        smtp_url: Some(SecretString::from(url)),
        smtp_password: if password { base.smtp_password.clone() } else { None },
        ..base.clone()
    };
    for (url, password) in [
        (format!("smtp://kb@127.0.0.1:{smtp}"), true),
        (format!("smtp://kb@127.0.0.1:{smtp}?tls=opportunistic"), true),
        (format!("smtp://kb:rahasia-di-url@127.0.0.1:{smtp}"), false),
    ] {
        let err = Notifier::from_settings(&with_url(url.clone(), password), calendar.clone()).err().unwrap_or_else(|| panic!("{url}: accepted")).to_string();
        assert!(err.contains("unencrypted") && err.contains("tls=required"), "{url}: {err}");
        assert!(!err.contains("rahasia"), "{url}: the error shows a password: {err}");
    }
    for (url, password) in [
        (format!("smtp://127.0.0.1:{smtp}"), false),                // a local relay, no password
        (format!("smtp://kb@127.0.0.1:{smtp}?tls=none"), true),     // said explicitly
        (format!("smtp://kb@127.0.0.1:{smtp}?tls=required"), true), // STARTTLS
        ("smtps://kb@mail.koperasi.example:465".to_owned(), true),
    ] {
        assert!(Notifier::from_settings(&with_url(url.clone(), password), calendar.clone()).unwrap().is_some(), "{url}");
    }
    assert!(mails.lock().unwrap().is_empty(), "nothing was sent");

    let hook = |url: &str, allow: bool| NotifySettings {
        webhook_url: Some(SecretString::from(url.to_owned())),
        webhook_secret: Some(SecretString::from(SECRET)),
        webhook_allow_http: allow,
        ..Default::default()
    };
    let err = Notifier::from_settings(&hook("http://192.0.2.10/hook?token=rahasia-gateway", false), calendar.clone())
        .err()
        .expect("plain http to another host")
        .to_string();
    assert!(err.contains("https://") && err.contains("webhook_allow_http") && !err.contains("rahasia"), "{err}");
    for url in ["http://127.0.0.1:9/hook", "http://localhost/hook", "http://[::1]/hook", "https://hooks.koperasi.example/kb"] {
        assert!(Notifier::from_settings(&hook(url, false), calendar.clone()).unwrap().is_some(), "{url}");
    }
    assert!(Notifier::from_settings(&hook("http://192.0.2.10/hook", true), calendar.clone()).unwrap().is_some(), "allowed when configured");
}

/// A TLS acceptor for `localhost` under a CA made here, and that CA's PEM.
fn localhost_tls() -> (tokio_rustls::TlsAcceptor, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    use tokio_rustls::rustls;
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "mail test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()]).unwrap().signed_by(&key, &issuer).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap())
        .unwrap();
    (tokio_rustls::TlsAcceptor::from(Arc::new(config)), ca_pem)
}

/// `?tls=required` against a server that offers STARTTLS: the client upgrades
/// first, and logs in and sends only inside TLS; in the clear the server sees
/// EHLO and STARTTLS, never the password. A server whose certificate is not
/// trusted, or one that offers no STARTTLS, gets nothing: no login, no mail,
/// and the notification stays queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_travels_only_inside_starttls_to_a_server_whose_certificate_is_trusted() {
    let (store, _server) = synced_store().await;
    let calendar = Arc::new(katalog_bridge::mapping::working_calendar(&MappingSource::BuiltIn, false).unwrap());
    let (acceptor, ca_pem) = localhost_tls();
    let dir = common::temp_dir();
    let ca_file = dir.path().join("mail-ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let settings = |port: u16, ca: bool| NotifySettings {
        smtp_url: Some(SecretString::from(format!("smtp://kb@localhost:{port}?tls=required"))),
        smtp_password: Some(SecretString::from("rahasia-smtp")),
        smtp_ca_file: ca.then(|| ca_file.clone()),
        from: Some("katalog-bridge <noreply@koperasi.example>".into()),
        ..Default::default()
    };
    let waiting_at: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT min(order_date) FROM purchase_orders WHERE status = 'WAITING_SELLER_CONFIRMATION'").fetch_one(store.pool()).await.unwrap();
    let now = waiting_at + chrono::Duration::minutes(1);

    // Untrusted certificate (no smtp_ca_file), then no STARTTLS offered: nothing goes out.
    let (untrusted_mails, untrusted_seen) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(SmtpSeen::default())));
    let untrusted = smtp_server_with(untrusted_mails.clone(), untrusted_seen.clone(), Some(acceptor.clone())).await;
    let (plain_mails, plain_seen) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(SmtpSeen::default())));
    let plain = smtp_server_with(plain_mails.clone(), plain_seen.clone(), None).await;
    let queued = Notifier::from_settings(&settings(plain, true), calendar.clone()).unwrap().unwrap().queue(&store, now).await.unwrap();
    assert!(queued > 0);
    for (port, ca, mails, seen) in [(untrusted, false, &untrusted_mails, &untrusted_seen), (plain, true, &plain_mails, &plain_seen)] {
        let notifier = Notifier::from_settings(&settings(port, ca), calendar.clone()).unwrap().unwrap();
        let counts = notifier.send_due(&store).await.unwrap();
        assert!(counts.sent == 0 && counts.failed > 0, "port {port}: {counts:?}");
        assert!(mails.lock().unwrap().is_empty() && seen.lock().unwrap().logins.is_empty(), "port {port}: nothing sent, no login");
        assert!(!seen.lock().unwrap().clear.contains("rahasia"), "port {port}: no password in the clear");
        sqlx::query("UPDATE notifications SET next_attempt_at = now(), claimed_by = NULL, claimed_until = NULL WHERE state = 'pending'")
            .execute(store.pool())
            .await
            .unwrap();
    }

    // Trusted through smtp_ca_file: upgraded, logged in inside TLS, sent.
    let (mails, seen) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(SmtpSeen::default())));
    let port = smtp_server_with(mails.clone(), seen.clone(), Some(acceptor)).await;
    let notifier = Notifier::from_settings(&settings(port, true), calendar.clone()).unwrap().unwrap();
    let counts = notifier.send_due(&store).await.unwrap();
    let emails = count(&store, "SELECT count(*) FROM notifications WHERE channel = 'email'").await;
    assert!(emails > 0 && counts.sent as i64 == emails && counts.failed == 0, "{counts:?} of {emails}");
    assert_eq!(mails.lock().unwrap().len() as i64, emails, "every mail arrived");
    let seen = seen.lock().unwrap();
    assert!(!seen.logins.is_empty(), "the client logged in");
    assert!(seen.logins.iter().all(|l| *l == ("kb".to_owned(), "rahasia-smtp".to_owned(), true)), "only inside TLS: {:?}", seen.logins);
    let clear = seen.clear.to_ascii_uppercase();
    assert!(clear.contains("EHLO") && clear.contains("STARTTLS") && !clear.contains("AUTH") && !clear.contains("MAIL FROM"), "in the clear: {}", seen.clear);
    assert!(!seen.clear.contains("rahasia"));
}

/// What the test's WhatsApp Cloud API took: (path, authorization, body).
type WaPosts = Arc<Mutex<Vec<(String, String, Value)>>>;

/// A WhatsApp Business Cloud API of the test's own: it checks the bearer
/// token and the request's shape as the real API does, answers 200 with a
/// message id, and refuses a number not on WhatsApp (a 400 with the API's error).
async fn whatsapp_api(posts: WaPosts, refused_number: &'static str) -> String {
    let app = axum::Router::new().route(
        "/v21.0/{phone}/messages",
        axum::routing::post(move |axum::extract::Path(phone): axum::extract::Path<String>, headers: HeaderMap, body: Bytes| {
            let posts = posts.clone();
            async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                posts.lock().unwrap().push((phone.clone(), auth.clone(), body.clone()));
                let json = |status: u16, v: Value| (StatusCode::from_u16(status).unwrap(), [("content-type", "application/json")], v.to_string());
                if auth != "Bearer wa-token-uji" {
                    return json(401, serde_json::json!({"error": {"message": "Invalid OAuth access token.", "code": 190}}));
                }
                let shape = phone == "1098765432"
                    && body["messaging_product"] == "whatsapp"
                    && body["type"] == "template"
                    && body["template"]["language"]["code"] == "id"
                    && body["template"]["components"][0]["type"] == "body"
                    && body["to"].as_str().is_some_and(|t| t.starts_with("62") && t.chars().all(|c| c.is_ascii_digit()));
                if !shape {
                    return json(400, serde_json::json!({"error": {"message": "(#100) Invalid parameter", "code": 100}}));
                }
                if body["to"] == refused_number {
                    return json(
                        400,
                        serde_json::json!({"error": {"message": "(#131026) Message undeliverable", "code": 131026,
                                                     "error_data": {"details": "Receiver is not on WhatsApp"}}}),
                    );
                }
                json(200, serde_json::json!({"messaging_product": "whatsapp", "messages": [{"id": "wamid.uji"}]}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v21.0", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_template_messages_go_once_per_order_and_kind_and_a_refusal_is_kept_not_retried() {
    let (store, _server) = synced_store().await;
    // Numbers as the staff write them; the one of the cooperative with the most waiting orders is not on WhatsApp.
    let busiest: String = sqlx::query_scalar(
        "SELECT c.code FROM purchase_orders o JOIN cooperatives c ON c.id = o.cooperative_id WHERE o.status = 'WAITING_SELLER_CONFIRMATION'
         GROUP BY c.code ORDER BY count(*) DESC, c.code LIMIT 1",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    let dir = common::temp_dir();
    let csv = std::fs::read_to_string(common::repo().join("fixtures/cooperatives.csv")).unwrap();
    let mut lines = csv.lines();
    let mut with_numbers = format!("{},whatsapp\n", lines.next().unwrap());
    for (i, line) in lines.enumerate() {
        let number = if line.starts_with(&format!("{busiest},")) { "0812-0000-0000".to_owned() } else { format!("+62 857 {:04} {:04}", 1000 + i, 2000 + i) };
        with_numbers.push_str(&format!("{line},{number}\n"));
    }
    let file = dir.path().join("koperasi.csv");
    std::fs::write(&file, with_numbers).unwrap();
    let report = katalog_bridge::intake::cooperatives::import_cooperatives(&store, &file, &Default::default(), &Default::default()).await.unwrap();
    assert_eq!(report.rejected, 0);
    let stored: Vec<String> = sqlx::query_scalar("SELECT whatsapp FROM cooperatives ORDER BY whatsapp").fetch_all(store.pool()).await.unwrap();
    assert!(stored.iter().all(|n| n.starts_with("+62") && n[1..].chars().all(|c| c.is_ascii_digit())), "{stored:?}");
    assert!(stored.contains(&"+6281200000000".to_owned()), "08... becomes +628...");

    let posts: WaPosts = Arc::default();
    let api = whatsapp_api(posts.clone(), "6281200000000").await;
    let settings = NotifySettings {
        whatsapp: Some(katalog_bridge::config::WhatsAppSettings {
            api_url: api,
            phone_number_id: "1098765432".into(),
            token: Some(SecretString::from("wa-token-uji")),
            ..Default::default()
        }),
        ..Default::default()
    };
    let calendar = Arc::new(katalog_bridge::mapping::working_calendar(&MappingSource::BuiltIn, false).unwrap());
    let notifier = Notifier::from_settings(&settings, calendar).unwrap().expect("whatsapp set");
    let waiting_at: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT min(order_date) FROM purchase_orders WHERE status = 'WAITING_SELLER_CONFIRMATION'").fetch_one(store.pool()).await.unwrap();
    let now = waiting_at + chrono::Duration::minutes(1);
    let queued = notifier.queue(&store, now).await.unwrap();
    assert!(queued > 1);
    assert_eq!(per_channel(&store, "whatsapp", "arrived").await, queued as i64);
    let refused_orders = count(
        &store,
        "SELECT count(*) FROM notifications n JOIN purchase_orders o ON o.id = n.order_id JOIN cooperatives c ON c.id = o.cooperative_id
         WHERE c.whatsapp = '+6281200000000'",
    )
    .await;
    assert!(refused_orders > 0);
    let first = notifier.send_due(&store).await.unwrap();
    assert_eq!((first.sent + first.failed, first.failed), (queued, refused_orders as u64));
    // Again and again: nothing new is sent, and the refused ones are not tried again.
    for _ in 0..3 {
        assert_eq!(notifier.queue(&store, now).await.unwrap(), 0);
        let again = notifier.send_due(&store).await.unwrap();
        assert_eq!((again.sent, again.failed), (0, 0));
    }
    let posts = posts.lock().unwrap().clone();
    assert_eq!(posts.len() as u64, queued, "one request per notification");
    let mut per_recipient_order: HashMap<(String, String), usize> = HashMap::new();
    for (_, auth, body) in &posts {
        assert_eq!(auth, "Bearer wa-token-uji");
        assert_eq!(body["template"]["name"], "pesanan_baru");
        let params: Vec<&str> = body["template"]["components"][0]["parameters"].as_array().unwrap().iter().map(|p| p["text"].as_str().unwrap()).collect();
        assert_eq!(params.len(), 5, "{body}");
        assert!(params[2].starts_with("Rp"), "the total as Indonesians write it: {params:?}");
        assert!(params[3].ends_with("WIB") && params[3].contains(" pukul "), "the deadline in WIB, in Indonesian: {params:?}");
        *per_recipient_order.entry((body["to"].as_str().unwrap().to_owned(), params[0].to_owned())).or_default() += 1;
    }
    assert!(per_recipient_order.values().all(|n| *n == 1), "once per order and kind");
    // The refusal is kept with its reason, for good.
    let refused: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT state, last_error FROM notifications WHERE state <> 'sent'").fetch_all(store.pool()).await.unwrap();
    assert_eq!(refused.len() as i64, refused_orders);
    assert!(
        refused.iter().all(|(state, why)| state == "failed" && why.as_deref().is_some_and(|w| w.contains("131026") && w.contains("not on WhatsApp"))),
        "{refused:?}"
    );
    // And shown with its order.
    let order: String =
        sqlx::query_scalar("SELECT o.remote_order_id FROM notifications n JOIN purchase_orders o ON o.id = n.order_id WHERE n.state = 'failed' LIMIT 1")
            .fetch_one(store.pool())
            .await
            .unwrap();
    let shown = katalog_bridge::store::notifications::of_order(&store, katalog_bridge::store::orders::order_db_id(&store, &order).await.unwrap().unwrap())
        .await
        .unwrap();
    assert!(shown.iter().any(|n| n.channel == katalog_bridge::domain::notification::NotificationChannel::WhatsApp
        && n.last_error.as_deref().is_some_and(|e| e.contains("Message undeliverable"))));
}
