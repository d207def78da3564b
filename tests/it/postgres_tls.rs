//! PostgreSQL over TLS: a private server started here with `ssl=on`, a CA,
//! a server certificate and a client certificate all made by the test.
//! `verify-full` with the right CA connects (and the session is encrypted);
//! with another CA it is refused with a clear error; a client certificate
//! logs a user in where the server asks for one.

use crate::common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use katalog_bridge::config::DatabaseSettings;
use katalog_bridge::store::Store;
use katalog_bridge::store::embedded::{Cluster, ClusterOptions, PgBinaries};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use secrecy::SecretString;

struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn new_ca(name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    Ca { pem: cert.pem(), issuer: Issuer::new(params, key) }
}

/// A certificate for `names` (DNS names or IP addresses) with `common_name`, signed by `ca`: (cert PEM, key PEM).
fn leaf(ca: &Ca, common_name: &str, names: &[&str]) -> (String, String) {
    let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, common_name);
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// Writes a file the server reads: owned by the data directory's owner, mode 0600.
fn server_file(data_dir: &Path, name: &str, text: &str) {
    let path = data_dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let meta = std::fs::metadata(data_dir).unwrap();
    nix::unistd::chown(&path, Some(meta.uid().into()), Some(meta.gid().into())).unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn settings(url: String) -> DatabaseSettings {
    DatabaseSettings { url: Some(SecretString::from(url)), ..Default::default() }
}

#[tokio::test]
async fn postgres_over_tls_verifies_the_server_and_presents_a_client_certificate() {
    let dir = common::temp_dir();
    let port = free_port();
    let bins = PgBinaries::locate(std::env::var_os("PATH").as_deref(), &common::default_bin_dirs()).expect("tests need the PostgreSQL server binaries");
    let cluster = Cluster::new(bins, &dir.path().join("pg"), ClusterOptions { port, ephemeral: true }).unwrap();
    cluster.init().unwrap();

    let right_ca = new_ca("katalog-bridge test CA");
    let other_ca = new_ca("someone else's CA");
    let (server_cert, server_key) = leaf(&right_ca, "localhost", &["localhost"]);
    let data = cluster.data_dir();
    server_file(data, "server.crt", &server_cert);
    server_file(data, "server.key", &server_key);
    server_file(data, "root.crt", &right_ca.pem);
    // Read after postgresql.conf and its include: TCP on loopback, TLS only.
    server_file(
        data,
        "postgresql.auto.conf",
        "listen_addresses = '127.0.0.1'\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nssl_ca_file = 'root.crt'\n",
    );
    // No plain `host` line: an unencrypted TCP connection has no entry.
    server_file(data, "pg_hba.conf", "local all all trust\nhostssl all certuser 127.0.0.1/32 cert\nhostssl all all 127.0.0.1/32 trust\n");
    assert!(cluster.start().expect("the TLS cluster starts"), "started here");
    struct Stop<'a>(&'a Cluster);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            let _ = self.0.stop();
        }
    }
    let _stop = Stop(&cluster);
    {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect_with(&cluster.connect_options("postgres")).await.unwrap();
        sqlx::query("CREATE ROLE certuser LOGIN").execute(&mut conn).await.unwrap();
    }

    let files = common::temp_dir();
    let write = |name: &str, text: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path.display().to_string()
    };
    let right = write("right-ca.pem", &right_ca.pem);
    let other = write("other-ca.pem", &other_ca.pem);
    let (client_cert, client_key) = leaf(&right_ca, "certuser", &[]);
    let client_cert = write("client.crt", &client_cert);
    let client_key = write("client.key", &client_key);

    // verify-full with the CA that signed the server's certificate: connected, and encrypted.
    let store = Store::open_migrated(&settings(format!("postgres://postgres@localhost:{port}/postgres?sslmode=verify-full&sslrootcert={right}")))
        .await
        .expect("verify-full with the right CA connects");
    let (ssl, version): (bool, Option<String>) =
        sqlx::query_as("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetch_one(store.pool()).await.unwrap();
    assert!(ssl, "the session is encrypted");
    assert!(version.is_some_and(|v| v.starts_with("TLSv1.")), "a TLS version is reported");
    drop(store);

    // verify-full with another CA: refused, and the error says it is the certificate.
    let err = Store::open(&settings(format!("postgres://postgres@localhost:{port}/postgres?sslmode=verify-full&sslrootcert={other}")))
        .await
        .expect_err("a server certificate from an unknown CA is refused");
    let text = err.to_string();
    assert!(text.contains("TLS") && text.contains("sslrootcert") && text.contains("localhost"), "clear error: {text}");
    assert!(text.contains("invalid peer certificate: UnknownIssuer"), "names the cause: {text}");

    // The certificate names `localhost` only: verify-full to 127.0.0.1 is refused,
    // verify-ca (the CA, not the name) connects.
    let err = Store::open(&settings(format!("postgres://postgres@127.0.0.1:{port}/postgres?sslmode=verify-full&sslrootcert={right}")))
        .await
        .expect_err("a certificate for another name is refused under verify-full");
    assert!(err.to_string().contains("not valid for name \"127.0.0.1\""), "names the cause: {err}");
    Store::open(&settings(format!("postgres://postgres@127.0.0.1:{port}/postgres?sslmode=verify-ca&sslrootcert={right}")))
        .await
        .expect("verify-ca checks the CA, not the name");

    // Unencrypted TCP has no entry in pg_hba.conf: refused by the server.
    let err = Store::open(&settings(format!("postgres://postgres@localhost:{port}/postgres?sslmode=disable"))).await.expect_err("plain TCP is refused");
    assert!(err.to_string().contains("no encryption"), "the server's reason is shown: {err}");

    // A client certificate logs in `certuser`, whose pg_hba line asks for one ...
    let store = Store::open(&settings(format!(
        "postgres://certuser@localhost:{port}/postgres?sslmode=verify-full&sslrootcert={right}&sslcert={client_cert}&sslkey={client_key}"
    )))
    .await
    .expect("the client certificate is accepted");
    let user: String = sqlx::query_scalar("SELECT current_user::text").fetch_one(store.pool()).await.unwrap();
    assert_eq!(user, "certuser");
    drop(store);
    // ... and without it the same user is refused.
    let err = Store::open(&settings(format!("postgres://certuser@localhost:{port}/postgres?sslmode=verify-full&sslrootcert={right}")))
        .await
        .expect_err("no client certificate, no login");
    assert!(err.to_string().contains("certificate"), "{err}");
}
