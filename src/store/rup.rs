//! The city's purchase plan in the store: packages read page by page (each
//! change an event, in the same transaction), the cooperatives matched to
//! each, the packages bought from other sellers, what each cooperative was
//! told, and the figures the report gives.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{Store, StoreError};
use crate::domain::order::OrderStatus;
use crate::domain::rup::{NoticeKind, PlanChange, PlanPackage};

/// What saving a page of packages did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SaveCounts {
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
}

summed!(SaveCounts { new, changed, unchanged });

/// A package as stored, with whether it is still on the announced list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub kd_rup: String,
    pub kode_klpd: String,
    pub tahun: i32,
    pub nama_paket: String,
    pub uraian: String,
    pub kd_satker: Option<String>,
    pub nama_satker: Option<String>,
    pub pagu: Decimal,
    pub metode: String,
    pub jenis: String,
    pub status_ukm: bool,
    pub status_pdn: bool,
    pub nama_ppk: Option<String>,
    pub tgl_awal_pemilihan: Option<NaiveDate>,
    pub tgl_akhir_pemilihan: Option<NaiveDate>,
    pub tgl_awal_kontrak: Option<NaiveDate>,
    pub tgl_akhir_kontrak: Option<NaiveDate>,
    pub sumber_dana: Option<String>,
    pub announced: bool,
    pub active: bool,
    pub listed: bool,
    /// The local categories it speaks of.
    pub categories: Vec<String>,
}

impl Row {
    pub fn package(&self) -> PlanPackage {
        PlanPackage {
            kd_rup: self.kd_rup.clone(),
            kode_klpd: self.kode_klpd.clone(),
            tahun: self.tahun,
            nama_paket: self.nama_paket.clone(),
            uraian: self.uraian.clone(),
            kd_satker: self.kd_satker.clone(),
            nama_satker: self.nama_satker.clone(),
            pagu: self.pagu,
            metode: self.metode.clone(),
            jenis: self.jenis.clone(),
            status_ukm: self.status_ukm,
            status_pdn: self.status_pdn,
            nama_ppk: self.nama_ppk.clone(),
            tgl_awal_pemilihan: self.tgl_awal_pemilihan,
            tgl_akhir_pemilihan: self.tgl_akhir_pemilihan,
            tgl_awal_kontrak: self.tgl_awal_kontrak,
            tgl_akhir_kontrak: self.tgl_akhir_kontrak,
            sumber_dana: self.sumber_dana.clone(),
            announced: self.announced,
            active: self.active,
        }
    }
}

/// The columns of a [`Row`], of the packages' table as `p`.
const P_COLUMNS: &str = "p.kd_rup, p.kode_klpd, p.tahun, p.nama_paket, p.uraian, p.kd_satker, p.nama_satker, p.pagu, p.metode, p.jenis, p.status_ukm,
     p.status_pdn, p.nama_ppk, p.tgl_awal_pemilihan, p.tgl_akhir_pemilihan, p.tgl_awal_kontrak, p.tgl_akhir_kontrak, p.sumber_dana, p.announced, p.active,
     p.listed, p.categories";

/// A package read, with the categories it speaks of, its row as sent, and
/// the digest of that row ([`digest_of`]). What the plan's reading writes
/// can be read again: its transactions commit without waiting for the WAL
/// flush (`Store::begin_recomputable`).
#[derive(Debug, Clone)]
pub struct Read {
    pub package: PlanPackage,
    pub categories: Vec<String>,
    pub raw: Box<serde_json::value::RawValue>,
    pub digest: String,
}

/// A digest of a row as INAPROC sent it, read for buyer `klpd`: a row read
/// again the same is the same package (its categories follow the words,
/// which are read again for every package when they change).
pub fn digest_of(klpd: &str, raw: &str) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(klpd.as_bytes());
    h.update([0x1f]);
    h.update(raw.as_bytes());
    hex::encode(h.finalize())
}

/// The digest of each package of a buyer's year on its list, by `kd_rup`:
/// a row read again with the same digest is neither read further nor
/// written. One query a year (nothing at a first reading), however many
/// pages it has.
pub async fn listed_digests(store: &Store, (klpd, year): (&str, i32)) -> Result<HashMap<String, String>, StoreError> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT kd_rup, digest FROM rup_packages WHERE kode_klpd = $1 AND tahun = $2 AND listed")
        .bind(klpd)
        .bind(year)
        .fetch_all(&store.pool)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Saves a page of packages read in run `run`: new ones added, changed ones
/// updated, and an event for each change of budget, date or standing, in one
/// transaction. A package whose digest is the one stored, and still listed,
/// is not written. A package read twice in the page counts once (the last).
/// The columns go as one array each (bound in binary, no JSON for the
/// database to parse but the raw rows). One run of the job writes at a time
/// (its lock), so the rows read before are not locked.
pub async fn save_page(store: &Store, run: i64, page: &[Read]) -> Result<SaveCounts, StoreError> {
    let mut last: HashMap<&str, usize> = HashMap::new();
    for (i, r) in page.iter().enumerate() {
        last.insert(r.package.kd_rup.as_str(), i);
    }
    let mut chosen: Vec<usize> = last.into_values().collect();
    chosen.sort_unstable();
    let mut counts = SaveCounts::default();
    if chosen.is_empty() {
        return Ok(counts);
    }
    let ids: Vec<&str> = chosen.iter().map(|&i| page[i].package.kd_rup.as_str()).collect();
    let mut tx = store.begin_recomputable().await?;
    type Before = (String, Decimal, Option<NaiveDate>, bool, bool, String);
    let before: Vec<Before> =
        sqlx::query_as("SELECT kd_rup, pagu, tgl_awal_pemilihan, announced AND active AND listed, listed, digest FROM rup_packages WHERE kd_rup = ANY($1)")
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await?;
    let before: HashMap<String, Before> = before.into_iter().map(|b| (b.0.clone(), b)).collect();
    let mut events: Vec<Event> = Vec::new();
    let mut rows: Vec<&Read> = Vec::with_capacity(chosen.len());
    for &i in &chosen {
        let read = &page[i];
        let p = &read.package;
        let stored = before.get(&p.kd_rup);
        if stored.is_some_and(|b| b.4 && b.5 == read.digest) {
            counts.unchanged += 1;
            continue;
        }
        let found = changes(stored.map(|b| (b.1, b.2, b.3)).as_ref(), p);
        match stored {
            None => counts.new += 1,
            Some(_) if found.is_empty() => counts.unchanged += 1,
            Some(_) => counts.changed += 1,
        }
        events.extend(found.into_iter().map(|(kind, b, a)| (p.kd_rup.clone(), kind, b, a)));
        rows.push(read);
    }
    if !rows.is_empty() {
        write_rows(&mut tx, &rows).await?;
    }
    if !events.is_empty() {
        sqlx::query("INSERT INTO rup_events (kd_rup, kind, before, after, run_id) SELECT k, e, b, a, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(k, e, b, a)")
            .bind(events.iter().map(|e| e.0.as_str()).collect::<Vec<_>>())
            .bind(events.iter().map(|e| e.1.name()).collect::<Vec<_>>())
            .bind(events.iter().map(|e| e.2.clone()).collect::<Vec<_>>())
            .bind(events.iter().map(|e| e.3.clone()).collect::<Vec<_>>())
            .bind(run)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(counts)
}

/// Writes packages read (new or changed) as one array a column.
async fn write_rows(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, rows: &[&Read]) -> Result<(), StoreError> {
    let p = |f: fn(&PlanPackage) -> &str| rows.iter().map(|r| f(&r.package)).collect::<Vec<&str>>();
    let o = |f: fn(&PlanPackage) -> Option<&str>| rows.iter().map(|r| f(&r.package)).collect::<Vec<Option<&str>>>();
    let d = |f: fn(&PlanPackage) -> Option<NaiveDate>| rows.iter().map(|r| f(&r.package)).collect::<Vec<Option<NaiveDate>>>();
    let b = |f: fn(&PlanPackage) -> bool| rows.iter().map(|r| f(&r.package)).collect::<Vec<bool>>();
    // Categories joined by a unit separator, as `set_categories` does.
    let categories: Vec<String> = rows.iter().map(|r| r.categories.join("\u{1f}")).collect();
    sqlx::query(
        "INSERT INTO rup_packages (kd_rup, kode_klpd, tahun, nama_paket, uraian, kd_satker, nama_satker, pagu, metode, jenis, status_ukm, status_pdn,
                                   nama_ppk, tgl_awal_pemilihan, tgl_akhir_pemilihan, tgl_awal_kontrak, tgl_akhir_kontrak, sumber_dana, announced, active,
                                   listed, categories, raw, digest)
         SELECT r.kd_rup, r.kode_klpd, r.tahun, r.nama_paket, r.uraian, r.kd_satker, r.nama_satker, r.pagu, r.metode, r.jenis, r.status_ukm, r.status_pdn,
                r.nama_ppk, r.awal_pemilihan, r.akhir_pemilihan, r.awal_kontrak, r.akhir_kontrak, r.sumber_dana, r.announced, r.active,
                true, CASE WHEN r.categories = '' THEN '{}'::text[] ELSE string_to_array(r.categories, chr(31)) END, r.raw, r.digest
         FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::numeric[], $9::text[], $10::text[],
                     $11::bool[], $12::bool[], $13::text[], $14::date[], $15::date[], $16::date[], $17::date[], $18::text[], $19::bool[], $20::bool[],
                     $21::text[], $22::text[], $23::text[])
              AS r(kd_rup, kode_klpd, tahun, nama_paket, uraian, kd_satker, nama_satker, pagu, metode, jenis, status_ukm, status_pdn, nama_ppk,
                   awal_pemilihan, akhir_pemilihan, awal_kontrak, akhir_kontrak, sumber_dana, announced, active, categories, raw, digest)
         ON CONFLICT (kd_rup) DO UPDATE SET kode_klpd = EXCLUDED.kode_klpd, tahun = EXCLUDED.tahun, nama_paket = EXCLUDED.nama_paket,
             uraian = EXCLUDED.uraian, kd_satker = EXCLUDED.kd_satker, nama_satker = EXCLUDED.nama_satker, pagu = EXCLUDED.pagu,
             metode = EXCLUDED.metode, jenis = EXCLUDED.jenis, status_ukm = EXCLUDED.status_ukm, status_pdn = EXCLUDED.status_pdn,
             nama_ppk = EXCLUDED.nama_ppk, tgl_awal_pemilihan = EXCLUDED.tgl_awal_pemilihan, tgl_akhir_pemilihan = EXCLUDED.tgl_akhir_pemilihan,
             tgl_awal_kontrak = EXCLUDED.tgl_awal_kontrak, tgl_akhir_kontrak = EXCLUDED.tgl_akhir_kontrak, sumber_dana = EXCLUDED.sumber_dana,
             announced = EXCLUDED.announced, active = EXCLUDED.active, listed = true, categories = EXCLUDED.categories, raw = EXCLUDED.raw,
             digest = EXCLUDED.digest, updated_at = now()",
    )
    .bind(p(|p| &p.kd_rup))
    .bind(p(|p| &p.kode_klpd))
    .bind(rows.iter().map(|r| r.package.tahun).collect::<Vec<i32>>())
    .bind(p(|p| &p.nama_paket))
    .bind(p(|p| &p.uraian))
    .bind(o(|p| p.kd_satker.as_deref()))
    .bind(o(|p| p.nama_satker.as_deref()))
    .bind(rows.iter().map(|r| r.package.pagu).collect::<Vec<Decimal>>())
    .bind(p(|p| &p.metode))
    .bind(p(|p| &p.jenis))
    .bind(b(|p| p.status_ukm))
    .bind(b(|p| p.status_pdn))
    .bind(o(|p| p.nama_ppk.as_deref()))
    .bind(d(|p| p.tgl_awal_pemilihan))
    .bind(d(|p| p.tgl_akhir_pemilihan))
    .bind(d(|p| p.tgl_awal_kontrak))
    .bind(d(|p| p.tgl_akhir_kontrak))
    .bind(o(|p| p.sumber_dana.as_deref()))
    .bind(b(|p| p.announced))
    .bind(b(|p| p.active))
    .bind(&categories)
    .bind(rows.iter().map(|r| r.raw.get()).collect::<Vec<&str>>())
    .bind(rows.iter().map(|r| r.digest.as_str()).collect::<Vec<&str>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A change of a package: its package, what changed, before, after.
type Event = (String, PlanChange, Option<String>, Option<String>);

/// What changed of a package since it was stored as `before` (budget, date
/// of choosing, open or not); a new package has none (`first_seen` says when).
fn changes(before: Option<&(Decimal, Option<NaiveDate>, bool)>, p: &PlanPackage) -> Vec<(PlanChange, Option<String>, Option<String>)> {
    let Some((pagu, date, open)) = before else { return Vec::new() };
    let mut found = Vec::new();
    if *pagu != p.pagu {
        found.push((PlanChange::Budget, Some(pagu.normalize().to_string()), Some(p.pagu.normalize().to_string())));
    }
    if *date != p.tgl_awal_pemilihan {
        found.push((PlanChange::Date, date.map(|d| d.to_string()), p.tgl_awal_pemilihan.map(|d| d.to_string())));
    }
    let open_now = !p.withdrawn(true);
    if *open != open_now {
        found.push((if open_now { PlanChange::Returned } else { PlanChange::Withdrawn }, None, None));
    }
    found
}

/// After a reading of a buyer's year read to its end: the packages it did
/// not list (`seen` holds those it did) are withdrawn, an event each if they
/// were open. Returns how many.
pub async fn close_unseen(store: &Store, (klpd, year): (&str, i32), seen: &std::collections::HashSet<String>, run: i64) -> Result<u64, StoreError> {
    let listed: Vec<(String, bool)> = sqlx::query_as("SELECT kd_rup, announced AND active FROM rup_packages WHERE kode_klpd = $1 AND tahun = $2 AND listed")
        .bind(klpd)
        .bind(year)
        .fetch_all(&store.pool)
        .await?;
    let gone: Vec<(String, bool)> = listed.into_iter().filter(|(k, _)| !seen.contains(k)).collect();
    if gone.is_empty() {
        return Ok(0);
    }
    let ids: Vec<&str> = gone.iter().map(|(k, _)| k.as_str()).collect();
    let withdrawn: Vec<&str> = gone.iter().filter(|(_, was_open)| *was_open).map(|(k, _)| k.as_str()).collect();
    let mut tx = store.begin_recomputable().await?;
    sqlx::query("UPDATE rup_packages SET listed = false, updated_at = now() WHERE kd_rup = ANY($1)").bind(&ids).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO rup_events (kd_rup, kind, run_id) SELECT k, 'withdrawn', $2 FROM unnest($1::text[]) AS k")
        .bind(&withdrawn)
        .bind(run)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(gone.len() as u64)
}

/// The texts categories are read from: every package after `after` (by `kd_rup`), `limit` at most.
pub async fn texts_after(store: &Store, after: &str, limit: i64) -> Result<Vec<(String, String, String)>, StoreError> {
    Ok(sqlx::query_as("SELECT kd_rup, nama_paket, uraian FROM rup_packages WHERE kd_rup > $1 ORDER BY kd_rup LIMIT $2")
        .bind(after)
        .bind(limit)
        .fetch_all(&store.pool)
        .await?)
}

/// Sets the categories of packages (read again with other words).
pub async fn set_categories(store: &Store, rows: &[(String, Vec<String>)]) -> Result<(), StoreError> {
    let categories: Vec<String> = rows.iter().map(|r| r.1.join("\u{1f}")).collect();
    let mut tx = store.begin_recomputable().await?;
    sqlx::query(
        "UPDATE rup_packages p SET categories = CASE WHEN t.cats = '' THEN '{}'::text[] ELSE string_to_array(t.cats, chr(31)) END
         FROM unnest($1::text[], $2::text[]) AS t(k, cats) WHERE p.kd_rup = t.k",
    )
    .bind(rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>())
    .bind(&categories)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The words' fingerprint the stored categories were read with.
pub async fn keywords_read_with(store: &Store) -> Result<Option<String>, StoreError> {
    super::publications::cursor(store, KEYWORDS_CURSOR).await
}

pub async fn set_keywords_read_with(store: &Store, fingerprint: &str) -> Result<(), StoreError> {
    set_cursor(store, KEYWORDS_CURSOR, fingerprint).await
}

async fn set_cursor(store: &Store, name: &str, value: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sync_cursors (name, cursor, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (name) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()",
    )
    .bind(name)
    .bind(value)
    .execute(&store.pool)
    .await?;
    Ok(())
}

const KEYWORDS_CURSOR: &str = "rup:keywords";
const EVENTS_CURSOR: &str = "rup:events-told";

/// The last event whose news the notices have taken in, and the newest event.
pub async fn events_told(store: &Store) -> Result<(i64, i64), StoreError> {
    let told = super::publications::cursor(store, EVENTS_CURSOR).await?.and_then(|c| c.parse().ok()).unwrap_or(0);
    let newest: Option<i64> = sqlx::query_scalar("SELECT max(id) FROM rup_events").fetch_one(&store.pool).await?;
    Ok((told, newest.unwrap_or(0)))
}

pub async fn set_events_told(store: &Store, upto: i64) -> Result<(), StoreError> {
    set_cursor(store, EVENTS_CURSOR, &upto.to_string()).await
}

/// Packages of other sellers carrying a RUP code, as INAPROC's orders show them (newer copies win).
pub async fn save_purchases(store: &Store, rows: &[Purchase]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO rup_purchases (remote_order_id, rup_code, kode_penyedia, total, status, updated_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::text[], $6::timestamptz[])
         ON CONFLICT (remote_order_id) DO UPDATE SET rup_code = EXCLUDED.rup_code, kode_penyedia = EXCLUDED.kode_penyedia,
             total = EXCLUDED.total, status = EXCLUDED.status, updated_at = EXCLUDED.updated_at
         WHERE rup_purchases.updated_at < EXCLUDED.updated_at",
    )
    .bind(rows.iter().map(|r| r.order_id.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.rup_code.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.seller.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.total).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.updated_at).collect::<Vec<_>>())
    .execute(&store.pool)
    .await?;
    Ok(())
}

/// A package of another seller with a RUP code.
#[derive(Debug, Clone, PartialEq)]
pub struct Purchase {
    pub order_id: String,
    pub rup_code: String,
    pub seller: String,
    pub total: Decimal,
    pub status: String,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// The names of the statuses at which an order has bought its package.
fn bought_statuses() -> Vec<String> {
    OrderStatus::known().filter(OrderStatus::accepted_by_seller).map(|s| s.as_str().to_owned()).collect()
}

/// The packages some cooperative lists goods of whose choosing begins
/// after `today` and within `lead_days` of it (the caller applies the open rule).
pub async fn in_window(store: &Store, today: NaiveDate, lead_days: i32) -> Result<Vec<Row>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {P_COLUMNS} FROM rup_packages p
         WHERE p.tgl_awal_pemilihan > $1 AND p.tgl_awal_pemilihan - $2 <= $1
           AND p.categories && (SELECT coalesce(array_agg(DISTINCT category), '{{}}') FROM products)
         ORDER BY p.tgl_awal_pemilihan, p.kd_rup"
    )))
    .bind(today)
    .bind(lead_days)
    .fetch_all(&store.pool)
    .await?)
}

/// Records an opportunity of each of these packages for every cooperative
/// listing goods of its categories that has none yet. Returns how many are new.
pub async fn tell_open(store: &Store, packages: &[&str]) -> Result<u64, StoreError> {
    if packages.is_empty() {
        return Ok(0);
    }
    Ok(sqlx::query(
        "INSERT INTO rup_notices (kd_rup, cooperative_id, kind, told_date)
         SELECT DISTINCT p.kd_rup, cc.cooperative_id, 'opportunity', p.tgl_awal_pemilihan
         FROM rup_packages p JOIN rup_cooperative_categories cc ON cc.category = ANY(p.categories)
         WHERE p.kd_rup = ANY($1)
           AND NOT EXISTS (SELECT 1 FROM rup_notices n WHERE n.kd_rup = p.kd_rup AND n.cooperative_id = cc.cooperative_id AND n.kind = 'opportunity')
         ON CONFLICT DO NOTHING",
    )
    .bind(packages)
    .execute(&store.pool)
    .await?
    .rows_affected())
}

/// A package a cooperative was told of, with an event of its date or
/// standing after event `after` (what did not change needs no correction):
/// the date it was last told, whether its withdrawal was told, and the
/// package as it stands.
#[derive(Debug, Clone)]
pub struct Told {
    pub cooperative_id: i64,
    pub last_date: Option<NaiveDate>,
    pub withdrawal_told: bool,
    pub package: Row,
}

pub async fn told(store: &Store, after: i64) -> Result<Vec<Told>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Found {
        cooperative_id: i64,
        last_date: Option<NaiveDate>,
        withdrawal_told: bool,
        #[sqlx(flatten)]
        package: Row,
    }
    let rows: Vec<Found> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT n.cooperative_id,
                (SELECT t.told_date FROM rup_notices t WHERE t.kd_rup = n.kd_rup AND t.cooperative_id = n.cooperative_id
                   AND t.kind IN ('opportunity', 'moved') ORDER BY t.id DESC LIMIT 1) AS last_date,
                EXISTS (SELECT 1 FROM rup_notices t WHERE t.kd_rup = n.kd_rup AND t.cooperative_id = n.cooperative_id AND t.kind = 'withdrawn') AS withdrawal_told,
                {P_COLUMNS}
         FROM rup_notices n JOIN rup_packages p ON p.kd_rup = n.kd_rup
         WHERE n.kind = 'opportunity'
           AND n.kd_rup IN (SELECT kd_rup FROM rup_events WHERE id > $1 AND kind IN ('date', 'withdrawn', 'returned'))
         ORDER BY n.id"
    )))
    .bind(after)
    .fetch_all(&store.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Told { cooperative_id: r.cooperative_id, last_date: r.last_date, withdrawal_told: r.withdrawal_told, package: r.package })
        .collect())
}

/// Records notices (package, cooperative, kind, the date told); a notice already recorded is left. Returns how many are new.
pub async fn add_notices(store: &Store, rows: &[(String, i64, NoticeKind, Option<NaiveDate>)]) -> Result<u64, StoreError> {
    if rows.is_empty() {
        return Ok(0);
    }
    Ok(sqlx::query(
        "INSERT INTO rup_notices (kd_rup, cooperative_id, kind, told_date)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::date[]) ON CONFLICT DO NOTHING",
    )
    .bind(rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.2.name()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.3).collect::<Vec<_>>())
    .execute(&store.pool)
    .await?
    .rows_affected())
}

/// A notice to send: its id and kind, with the cooperative's e-mail and WhatsApp number.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoticeToSend {
    pub id: i64,
    pub kind: NoticeKind,
    pub email: Option<String>,
    pub whatsapp: Option<String>,
}

/// Notices with no notification queued yet.
pub async fn notices_to_send(store: &Store) -> Result<Vec<NoticeToSend>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT n.id, n.kind, NULLIF(trim(c.email), '') AS email, c.whatsapp
         FROM rup_notices n JOIN cooperatives c ON c.id = n.cooperative_id
         WHERE NOT EXISTS (SELECT 1 FROM notifications x WHERE x.rup_notice_id = n.id) ORDER BY n.id",
    )
    .fetch_all(&store.pool)
    .await?)
}

/// What a notice says: the package as it stands, the kind, the date told, and the cooperative's code.
pub async fn notice(store: &Store, id: i64) -> Result<Option<(NoticeKind, Option<NaiveDate>, i64, Row)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Found {
        kind: NoticeKind,
        told_date: Option<NaiveDate>,
        cooperative_id: i64,
        #[sqlx(flatten)]
        package: Row,
    }
    let row: Option<Found> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT n.kind, n.told_date, n.cooperative_id, {P_COLUMNS} FROM rup_notices n JOIN rup_packages p ON p.kd_rup = n.kd_rup WHERE n.id = $1"
    )))
    .bind(id)
    .fetch_optional(&store.pool)
    .await?;
    Ok(row.map(|r| (r.kind, r.told_date, r.cooperative_id, r.package)))
}

/// A cooperative's product that fits a package's categories, with what keeps it from being ready.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct Fit {
    pub cooperative_id: i64,
    pub product_id: i64,
    pub category: String,
    pub name: String,
    pub price: Decimal,
    pub stock: Decimal,
    /// Held back by the cooperative (withdrawn from sale).
    pub active: bool,
    /// Live on the catalogue through some channel.
    pub live: bool,
    /// Its mapping found its price above the ceiling (HET).
    pub above_ceiling: bool,
}

/// The products of these cooperatives in these categories.
pub async fn fits(store: &Store, cooperatives: &[i64], categories: &[String]) -> Result<Vec<Fit>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT p.cooperative_id, p.id AS product_id, p.category, p.name, p.price, p.stock, p.active,
                EXISTS (SELECT 1 FROM publications b WHERE b.product_id = p.id AND b.state = 'live') AS live,
                EXISTS (SELECT 1 FROM listings l WHERE l.product_id = p.id AND l.issues @> '[{\"code\": \"above_price_ceiling\"}]') AS above_ceiling
         FROM products p WHERE p.cooperative_id = ANY($1) AND p.category = ANY($2) ORDER BY p.cooperative_id, p.name, p.id",
    )
    .bind(cooperatives)
    .bind(categories)
    .fetch_all(&store.pool)
    .await?)
}

/// Which packages to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub tahun: Option<i32>,
    /// Only packages matched to this cooperative (by id), with its match only.
    pub cooperative: Option<i64>,
    /// Only packages whose choosing begins in this month (first day).
    pub month: Option<NaiveDate>,
    /// Only this work unit (by name).
    pub satker: Option<String>,
    /// Only packages matched for this category.
    pub category: Option<String>,
    pub ukm_only: bool,
    /// Some(true): matched only; Some(false): unmatched only.
    pub matched: Option<bool>,
    /// Only packages whose choosing begins on or after this day.
    pub from: Option<NaiveDate>,
    /// Only this package.
    pub kd_rup: Option<String>,
    pub limit: Option<i64>,
}

/// A package listed, with its matches (cooperative id, code, name,
/// categories) and what our cooperatives and others bought of it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub package: Row,
    pub matches: Vec<(i64, String, String, Vec<String>)>,
    /// Orders of our cooperatives that bought it: (cooperative id, order id, total).
    pub won: Vec<(i64, String, Decimal)>,
    /// Orders of other sellers that bought it: (seller, order id, total).
    pub lost: Vec<(String, String, Decimal)>,
}

pub async fn list(store: &Store, f: &Filter) -> Result<Vec<Listed>, StoreError> {
    // Only the conditions asked for, each with its value bound: a plan made
    // for the filter at hand walks the index by date (conditions written as
    // `$n IS NULL OR ...` get a generic plan that reads every package).
    let mut q = sqlx::QueryBuilder::<sqlx::Postgres>::new(format!("SELECT {P_COLUMNS} FROM rup_packages p WHERE true"));
    if let Some(t) = f.tahun {
        q.push(" AND p.tahun = ").push_bind(t);
    }
    // The categories listed, bound as values (not a subquery), so that the
    // planner reads how many packages they fit from the column's statistics.
    if let Some(c) = f.cooperative {
        q.push(" AND p.categories && ").push_bind(listed_categories(store, Some(c)).await?);
    }
    if let Some((month, end)) = f.month.zip(f.month.and_then(|m| m.checked_add_months(chrono::Months::new(1)))) {
        q.push(" AND p.tgl_awal_pemilihan >= ").push_bind(month).push(" AND p.tgl_awal_pemilihan < ").push_bind(end);
    }
    if let Some(s) = &f.satker {
        q.push(" AND p.nama_satker = ").push_bind(s.clone());
    }
    if let Some(c) = &f.category {
        q.push(" AND ").push_bind(c.clone()).push(" = ANY(p.categories)");
    }
    if f.ukm_only {
        q.push(" AND p.status_ukm");
    }
    if let Some(m) = f.matched {
        q.push(" AND ").push_bind(m).push(" = (p.categories && ").push_bind(listed_categories(store, None).await?).push(")");
    }
    if let Some(from) = f.from {
        q.push(" AND p.tgl_awal_pemilihan >= ").push_bind(from);
    }
    if let Some(k) = &f.kd_rup {
        q.push(" AND p.kd_rup = ").push_bind(k.clone());
    }
    // The limit as a number of ours, written out: the planner sees how few rows are wanted.
    q.push(format!(" ORDER BY p.tgl_awal_pemilihan NULLS LAST, p.kd_rup LIMIT {}", f.limit.unwrap_or(i64::MAX).max(0)));
    let rows: Vec<Row> = q.build_query_as().fetch_all(&store.pool).await?;
    let ids: Vec<&str> = rows.iter().map(|r| r.kd_rup.as_str()).collect();
    let suppliers = if rows.is_empty() { HashMap::new() } else { suppliers(store, f.cooperative).await? };
    let bought = bought_statuses();
    let won: Vec<(String, i64, String, Decimal)> = sqlx::query_as(
        "SELECT rup_code, cooperative_id, remote_order_id, total FROM purchase_orders
         WHERE rup_code = ANY($1) AND status = ANY($2) ORDER BY remote_order_id",
    )
    .bind(&ids)
    .bind(&bought)
    .fetch_all(&store.pool)
    .await?;
    let lost: Vec<(String, String, String, Decimal)> = sqlx::query_as(
        "SELECT rup_code, kode_penyedia, remote_order_id, total FROM rup_purchases
         WHERE rup_code = ANY($1) AND status = ANY($2)
           AND kode_penyedia NOT IN (SELECT kode_penyedia FROM cooperatives WHERE kode_penyedia IS NOT NULL) ORDER BY remote_order_id",
    )
    .bind(&ids)
    .bind(&bought)
    .fetch_all(&store.pool)
    .await?;
    let mut by: HashMap<String, Listed> = rows
        .iter()
        .map(|r| (r.kd_rup.clone(), Listed { package: r.clone(), matches: matches_of(&r.categories, &suppliers), won: Vec::new(), lost: Vec::new() }))
        .collect();
    for (k, coop, order, total) in won {
        if let Some(l) = by.get_mut(&k) {
            l.won.push((coop, order, total));
        }
    }
    for (k, seller, order, total) in lost {
        if let Some(l) = by.get_mut(&k) {
            l.lost.push((seller, order, total));
        }
    }
    Ok(rows.iter().filter_map(|r| by.remove(&r.kd_rup)).collect())
}

/// The categories a cooperative (or any) lists goods of.
async fn listed_categories(store: &Store, cooperative: Option<i64>) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT DISTINCT category FROM products WHERE $1::bigint IS NULL OR cooperative_id = $1 ORDER BY 1")
        .bind(cooperative)
        .fetch_all(&store.pool)
        .await?)
}

/// After a reading that changed packages: the table's statistics read
/// again, so the pages' plans know how many packages each filter keeps.
/// A quick, coarse sample (a quarter of the default's: 7,500 rows, 80 ms
/// for a province's 100,000 packages against 280 ms), which is all the
/// pages' filters need; autovacuum's own ANALYZE refines it later with the
/// default.
pub async fn analyze(store: &Store) -> Result<(), StoreError> {
    let mut tx = store.pool.begin().await?;
    sqlx::query("SET LOCAL default_statistics_target = 25").execute(&mut *tx).await?;
    sqlx::query("ANALYZE rup_packages").execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// A cooperative that lists goods of a category: (id, code, name).
type Supplier = (i64, String, String);

/// Which cooperatives list goods of each category (of `only` when given),
/// by code: what `rup_cooperative_categories` says, a few hundred rows
/// however many packages are shown.
async fn suppliers(store: &Store, only: Option<i64>) -> Result<HashMap<String, Vec<Supplier>>, StoreError> {
    let rows: Vec<(String, i64, String, String)> = sqlx::query_as(
        "SELECT cc.category, c.id, c.code, c.name FROM rup_cooperative_categories cc JOIN cooperatives c ON c.id = cc.cooperative_id
         WHERE $1::bigint IS NULL OR c.id = $1 ORDER BY c.code, cc.category",
    )
    .bind(only)
    .fetch_all(&store.pool)
    .await?;
    let mut by: HashMap<String, Vec<Supplier>> = HashMap::new();
    for (category, id, code, name) in rows {
        by.entry(category).or_default().push((id, code, name));
    }
    Ok(by)
}

/// The cooperatives a package of these categories is matched to, by code,
/// each with the categories it lists among them (sorted).
fn matches_of(categories: &[String], suppliers: &HashMap<String, Vec<Supplier>>) -> Vec<(i64, String, String, Vec<String>)> {
    let mut by: std::collections::BTreeMap<&str, (i64, &str, Vec<String>)> = std::collections::BTreeMap::new();
    for category in categories {
        for (id, code, name) in suppliers.get(category).map(Vec::as_slice).unwrap_or_default() {
            by.entry(code.as_str()).or_insert_with(|| (*id, name.as_str(), Vec::new())).2.push(category.clone());
        }
    }
    by.into_iter()
        .map(|(code, (id, name, mut cats))| {
            cats.sort_unstable();
            cats.dedup();
            (id, code.to_owned(), name.to_owned(), cats)
        })
        .collect()
}

/// One line of the report: matched budget, won, lost.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct Figures {
    pub key: String,
    pub name: String,
    pub packages: i64,
    pub matched: Decimal,
    pub won: Decimal,
    pub lost: Decimal,
}

/// The report's figures for a year: per cooperative, per work unit and for
/// the city (one line, key ""), over the matched packages (of one
/// cooperative when `cooperative` is given).
pub async fn figures(store: &Store, tahun: i32, cooperative: Option<i64>, per_cooperative: bool) -> Result<(Vec<Figures>, Vec<Figures>, Figures), StoreError> {
    let bought = bought_statuses();
    let base = "WITH cc AS (SELECT * FROM rup_cooperative_categories WHERE $2::bigint IS NULL OR cooperative_id = $2),
              m AS (SELECT DISTINCT p.kd_rup, cc.cooperative_id, p.pagu, COALESCE(p.nama_satker, '') AS satker
                    FROM rup_packages p JOIN cc ON cc.category = ANY(p.categories) WHERE p.tahun = $1),
              won AS (SELECT rup_code, cooperative_id, sum(total) AS v FROM purchase_orders WHERE status = ANY($3) AND rup_code IS NOT NULL GROUP BY 1, 2),
              lost AS (SELECT rup_code, sum(total) AS v FROM rup_purchases WHERE status = ANY($3)
                         AND kode_penyedia NOT IN (SELECT kode_penyedia FROM cooperatives WHERE kode_penyedia IS NOT NULL) GROUP BY 1),
              pkg AS (SELECT p.kd_rup, p.pagu, COALESCE(p.nama_satker, '') AS satker FROM rup_packages p
                      WHERE p.tahun = $1 AND p.categories && (SELECT coalesce(array_agg(category), '{}') FROM cc)),
              pkg_won AS (SELECT pkg.kd_rup, COALESCE(sum(won.v), 0) AS v FROM pkg LEFT JOIN won ON won.rup_code = pkg.kd_rup
                            AND ($2::bigint IS NULL OR won.cooperative_id = $2) GROUP BY 1)";
    let per_coop: Vec<Figures> = if !per_cooperative {
        Vec::new()
    } else {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{base} SELECT c.code AS key, c.name, count(*) AS packages, sum(m.pagu) AS matched,
                COALESCE(sum((SELECT w.v FROM won w WHERE w.rup_code = m.kd_rup AND w.cooperative_id = m.cooperative_id)), 0) AS won,
                COALESCE(sum((SELECT l.v FROM lost l WHERE l.rup_code = m.kd_rup)), 0) AS lost
         FROM m JOIN cooperatives c ON c.id = m.cooperative_id GROUP BY c.code, c.name ORDER BY c.code"
        )))
        .bind(tahun)
        .bind(cooperative)
        .bind(&bought)
        .fetch_all(&store.pool)
        .await?
    };
    let per_unit: Vec<Figures> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{base} SELECT pkg.satker AS key, pkg.satker AS name, count(*) AS packages, sum(pkg.pagu) AS matched, sum(pw.v) AS won,
                COALESCE(sum((SELECT l.v FROM lost l WHERE l.rup_code = pkg.kd_rup)), 0) AS lost
         FROM pkg JOIN pkg_won pw ON pw.kd_rup = pkg.kd_rup GROUP BY pkg.satker ORDER BY pkg.satker"
    )))
    .bind(tahun)
    .bind(cooperative)
    .bind(&bought)
    .fetch_all(&store.pool)
    .await?;
    let city = Figures {
        key: String::new(),
        name: String::new(),
        packages: per_unit.iter().map(|u| u.packages).sum(),
        matched: per_unit.iter().map(|u| u.matched).sum(),
        won: per_unit.iter().map(|u| u.won).sum(),
        lost: per_unit.iter().map(|u| u.lost).sum(),
    };
    Ok((per_coop, per_unit, city))
}

/// The packages of a year stored, for the report's note on what was read.
pub async fn count(store: &Store, tahun: i32) -> Result<(i64, i64), StoreError> {
    Ok(sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE p.categories && (SELECT coalesce(array_agg(DISTINCT category), '{}') FROM products))
         FROM rup_packages p WHERE tahun = $1",
    )
    .bind(tahun)
    .fetch_one(&store.pool)
    .await?)
}

/// A cooperative's id by its code.
pub async fn cooperative_id(store: &Store, code: &str) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar("SELECT id FROM cooperatives WHERE code = $1").bind(code).fetch_optional(&store.pool).await?)
}

/// The work units and the matched categories of a year's packages, for the page's filters.
pub async fn choices(store: &Store) -> Result<(Vec<String>, Vec<String>), StoreError> {
    let units = sqlx::query_scalar("SELECT DISTINCT nama_satker FROM rup_packages WHERE nama_satker IS NOT NULL ORDER BY 1").fetch_all(&store.pool).await?;
    let categories = sqlx::query_scalar("SELECT DISTINCT category FROM products ORDER BY 1").fetch_all(&store.pool).await?;
    Ok((units, categories))
}

/// The plan's figures of a window (a month), for `report monthly`: per
/// cooperative (code, name), per work unit (name) and in total: the budget
/// of matched packages whose choosing begins in the window, the value of our
/// cooperatives' orders of matched packages made in it, and of other
/// sellers' packages last changed in it. Of `cooperative` only when given.
pub async fn window_figures(
    store: &Store,
    (from, to): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
    cooperative: Option<&str>,
) -> Result<Vec<WindowFigures>, StoreError> {
    let from_day = from.with_timezone(&chrono_tz::Asia::Jakarta).date_naive();
    let to_day = to.with_timezone(&chrono_tz::Asia::Jakarta).date_naive();
    Ok(sqlx::query_as(
        "WITH m AS (SELECT DISTINCT p.kd_rup, cc.cooperative_id, c.code, c.name, p.pagu, COALESCE(p.nama_satker, '') AS satker, p.tgl_awal_pemilihan
                    FROM rup_packages p JOIN rup_cooperative_categories cc ON cc.category = ANY(p.categories)
                    JOIN cooperatives c ON c.id = cc.cooperative_id WHERE ($6::text IS NULL OR c.code = $6)),
              pkg AS (SELECT DISTINCT kd_rup, pagu, satker, tgl_awal_pemilihan FROM m),
              won AS (SELECT o.rup_code, c.code, COALESCE(o.nama_satker, '') AS satker, o.total FROM purchase_orders o
                      JOIN cooperatives c ON c.id = o.cooperative_id
                      WHERE o.status = ANY($5) AND o.order_date >= $3 AND o.order_date < $4
                        AND EXISTS (SELECT 1 FROM m WHERE m.kd_rup = o.rup_code AND m.cooperative_id = o.cooperative_id)),
              lost AS (SELECT r.rup_code, r.total FROM rup_purchases r
                       WHERE r.status = ANY($5) AND r.updated_at >= $3 AND r.updated_at < $4 AND r.rup_code IN (SELECT kd_rup FROM pkg)
                         AND r.kode_penyedia NOT IN (SELECT kode_penyedia FROM cooperatives WHERE kode_penyedia IS NOT NULL))
         SELECT 'koperasi' AS part, code AS key, min(name) AS name,
                COALESCE(sum(pagu) FILTER (WHERE tgl_awal_pemilihan >= $1 AND tgl_awal_pemilihan < $2), 0) AS matched,
                COALESCE((SELECT sum(w.total) FROM won w WHERE w.code = m.code), 0) AS won,
                COALESCE((SELECT sum(l.total) FROM lost l WHERE l.rup_code IN (SELECT x.kd_rup FROM m x WHERE x.code = m.code)), 0) AS lost
         FROM m GROUP BY code
         UNION ALL
         SELECT 'satker', satker, satker,
                COALESCE(sum(pagu) FILTER (WHERE tgl_awal_pemilihan >= $1 AND tgl_awal_pemilihan < $2), 0),
                COALESCE((SELECT sum(w.total) FROM won w WHERE w.satker = pkg.satker), 0),
                COALESCE((SELECT sum(l.total) FROM lost l WHERE l.rup_code IN (SELECT x.kd_rup FROM pkg x WHERE x.satker = pkg.satker)), 0)
         FROM pkg GROUP BY satker
         UNION ALL
         SELECT 'total', '', '',
                COALESCE((SELECT sum(pagu) FROM pkg WHERE tgl_awal_pemilihan >= $1 AND tgl_awal_pemilihan < $2), 0),
                COALESCE((SELECT sum(total) FROM won), 0), COALESCE((SELECT sum(total) FROM lost), 0)",
    )
    .bind(from_day)
    .bind(to_day)
    .bind(from)
    .bind(to)
    .bind(bought_statuses())
    .bind(cooperative)
    .fetch_all(&store.pool)
    .await?)
}

/// A line of [`window_figures`]: `part` is `koperasi`, `satker` or `total`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct WindowFigures {
    pub part: String,
    pub key: String,
    pub name: String,
    pub matched: Decimal,
    pub won: Decimal,
    pub lost: Decimal,
}
