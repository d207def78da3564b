//! How the pages write amounts, times and the catalogue's words: amounts as
//! `Rp12.500`, times in WIB (`Senin, 7 Desember 2026 14.00 WIB`), states in
//! plain words of the page's language.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Asia::Jakarta;

use super::i18n::Lang;

pub use crate::domain::money::format_rupiah as rupiah;

const DAYS_EN: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS_EN: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/// `Senin, 7 Desember 2026 14.00 WIB` / `Monday, 7 December 2026 14:00 WIB`.
pub fn when(t: DateTime<Utc>, lang: Lang) -> String {
    match lang {
        Lang::Id => format!("{} {}", crate::notify::message::hari(t.with_timezone(&Jakarta).date_naive()), t.with_timezone(&Jakarta).format("%H.%M WIB")),
        Lang::En => {
            let l = t.with_timezone(&Jakarta);
            format!(
                "{}, {} {} {} {}",
                DAYS_EN[l.weekday().num_days_from_monday() as usize],
                l.day(),
                MONTHS_EN[l.month0() as usize],
                l.year(),
                l.format("%H:%M WIB")
            )
        }
    }
}

/// `02.10 WIB` when `t` is today in Jakarta, else the whole [`when`].
pub fn clock_or_when(t: DateTime<Utc>, now: DateTime<Utc>, lang: Lang) -> String {
    if t.with_timezone(&Jakarta).date_naive() == now.with_timezone(&Jakarta).date_naive() {
        match lang {
            Lang::Id => t.with_timezone(&Jakarta).format("%H.%M WIB").to_string(),
            Lang::En => t.with_timezone(&Jakarta).format("%H:%M WIB").to_string(),
        }
    } else {
        when(t, lang)
    }
}

/// A day: `7 Desember 2026` / `7 December 2026`.
pub fn day(d: chrono::NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Id => crate::domain::time::show_date(d),
        Lang::En => format!("{} {} {}", d.day(), MONTHS_EN[d.month0() as usize], d.year()),
    }
}

/// A working time left: `2 hari kerja 5 jam` / `2 working days 5 h`.
pub fn working_left(d: chrono::Duration, lang: Lang) -> String {
    match lang {
        Lang::Id => crate::notify::message::sisa_waktu(d),
        Lang::En => crate::domain::calendar::show_working_time(d),
    }
}

/// A publication state (or `blocked`, a draft held back) in words.
pub fn listing_state(state: &str, lang: Lang) -> String {
    let (id, en) = match state {
        "pending" => ("menunggu dikirim", "waiting to be sent"),
        "submitted" => ("terkirim", "submitted"),
        "under_curation" => ("sedang ditinjau", "under review"),
        "live" => ("tayang", "live"),
        "rejected" => ("ditolak", "rejected"),
        "revision_requested" => ("diminta perbaikan", "revision requested"),
        "taken_down" => ("diturunkan", "taken down"),
        "withdraw_pending" => ("menunggu ditarik", "waiting to be withdrawn"),
        "withdrawn" => ("ditarik", "withdrawn"),
        "failed" => ("gagal dikirim", "failed"),
        "blocked" => ("ditahan: data belum lengkap", "held back: data incomplete"),
        other => return other.to_owned(),
    };
    lang.pick(id, en).to_owned()
}

/// The listing states a filter offers, in the order of a listing's life.
pub const LISTING_STATES: [&str; 11] =
    ["blocked", "pending", "submitted", "under_curation", "live", "rejected", "revision_requested", "taken_down", "withdraw_pending", "withdrawn", "failed"];

/// Whether a listing in `state` needs the liaison's attention (its reasons shown).
pub fn listing_needs_attention(state: &str) -> bool {
    matches!(state, "rejected" | "revision_requested" | "failed" | "blocked" | "taken_down")
}

/// A channel in words.
pub fn channel(channel: &str, lang: Lang) -> String {
    let (id, en) = match channel {
        "api" => ("API katalog", "catalogue API"),
        "peppol" => ("dokumen PEPPOL", "PEPPOL document"),
        "xlsx" => ("unggah massal (XLSX)", "bulk upload (XLSX)"),
        other => return other.to_owned(),
    };
    lang.pick(id, en).to_owned()
}

/// An order status in words.
pub fn order_status(status: &str, lang: Lang) -> String {
    let (id, en) = match status {
        "ON_NEGOTIATION" => ("dalam negosiasi", "under negotiation"),
        "WAITING_SELLER_CONFIRMATION" => ("menunggu konfirmasi penjual", "waiting for the seller's confirmation"),
        "WAITING_PPK_REVIEW" => ("menunggu persetujuan PPK", "waiting for the PPK's approval"),
        "ESIGN_IN_PROGRESS" => ("dikonfirmasi: tanda tangan elektronik berjalan", "confirmed: e-signing in progress"),
        "ON_PROCESS" => ("diproses", "in process"),
        "ON_ADDENDUM" => ("dalam adendum", "under addendum"),
        "COMPLETED" => ("selesai", "completed"),
        "PAYMENT_OUTSIDE_SYSTEM" => ("dibayar di luar sistem", "paid outside the system"),
        "REQUEST_CANCEL_BY_ADMIN" => ("diminta batal oleh admin", "cancellation asked by the admin"),
        "CANCELLED_ON_NEGOTIATION" => ("batal dalam negosiasi", "cancelled in negotiation"),
        "CANCELLED_ON_REVIEW" => ("batal: tidak disetujui PPK", "cancelled: not approved by the PPK"),
        "CANCELLED" => ("dibatalkan", "cancelled"),
        other => return other.to_owned(),
    };
    lang.pick(id, en).to_owned()
}

/// A job in words.
pub fn job(kind: &str, lang: Lang) -> String {
    let (id, en) = match kind {
        "publish" => ("Kirim produk ke katalog", "Publish products"),
        "status" => ("Ikuti status tinjauan", "Follow the review status"),
        "orders" => ("Sinkronkan pesanan", "Sync orders"),
        "status-inaproc" => ("Status tayang di INAPROC", "Live status on INAPROC"),
        "import-products" => ("Impor produk", "Product import"),
        "import-cooperatives" => ("Impor koperasi", "Cooperative import"),
        other => return other.to_owned(),
    };
    lang.pick(id, en).to_owned()
}

/// A run's outcome in words.
pub fn run_status(status: &str, lang: Lang) -> String {
    let (id, en) = match status {
        "running" => ("berjalan", "running"),
        "succeeded" => ("berhasil", "succeeded"),
        "partial" => ("sebagian berhasil", "partly succeeded"),
        "failed" => ("gagal", "failed"),
        "interrupted" => ("dihentikan", "interrupted"),
        "abandoned" => ("terputus", "abandoned"),
        other => return other.to_owned(),
    };
    lang.pick(id, en).to_owned()
}

/// A notification's state in words.
pub fn notification_state(state: &str, lang: Lang) -> String {
    let (id, en) = match state {
        "sent" => ("terkirim", "sent"),
        "pending" => ("menunggu", "waiting"),
        "failed" => ("gagal", "failed"),
        "moot" => ("tidak perlu lagi", "no longer needed"),
        other => return other.to_owned(),
    };
    lang.pick(id, en).to_owned()
}

/// A notification's kind and channel in words: `pengingat terakhir · WhatsApp`.
pub fn notification(kind: &str, channel: &str, lang: Lang) -> String {
    let (id, en) = match kind {
        "arrived" => ("pesanan masuk", "order arrived"),
        "deadline_near" => ("pengingat: sisa 1 hari kerja", "reminder: one working day left"),
        "deadline_last" => ("pengingat terakhir", "last reminder"),
        k if k.starts_with("overdue_") => ("langkah terlambat", "step overdue"),
        _ => ("", ""),
    };
    let what = if id.is_empty() { kind } else { lang.pick(id, en) };
    let channel = match channel {
        "email" => "e-mail",
        "whatsapp" => "WhatsApp",
        "webhook" => "webhook",
        other => other,
    };
    format!("{what} · {channel}")
}

/// An audit action in words.
pub fn action(action: &str, lang: Lang) -> String {
    let (id, en) = match action {
        "order.accept" => ("menerima pesanan", "accepted an order"),
        "order.reject" => ("menolak pesanan", "rejected an order"),
        "listing.resubmit" => ("mengirim ulang listing", "resubmitted a listing"),
        "upload.products" => ("mengunggah berkas produk", "uploaded a product file"),
        "run.start" => ("memulai pekerjaan", "started a job"),
        "download.orders" => ("mengunduh pesanan", "downloaded orders"),
        "download.workbook" => ("mengunduh buku kerja", "downloaded a workbook"),
        other => return other.to_owned(),
    };
    lang.pick(id, en).to_owned()
}

/// What the importer said about a refused cell, in the page's language. The
/// importer speaks English (as the command line does); in Indonesian the
/// sentence is said first and the importer's own words, with the values it
/// names, follow in brackets.
pub fn import_reason(reason: &str, lang: Lang) -> String {
    const WORDS: [(&str, &str); 26] = [
        ("price is negative", "harga tidak boleh negatif"),
        ("price is zero", "harga nol: isi harga jual dalam rupiah"),
        ("more than 2 decimal places", "harga lebih dari 2 angka desimal"),
        ("more than 4 decimal places", "lebih dari 4 angka desimal"),
        ("implausibly large", "angka terlalu besar"),
        ("unknown unit", "satuan tidak dikenal"),
        ("duplicate: row", "baris ganda: sama dengan baris sebelumnya"),
        ("unknown cooperative", "kode koperasi tidak dikenal"),
        ("row is for cooperative", "baris ini untuk koperasi lain"),
        ("is not a usable number", "bukan angka yang dapat dipakai"),
        ("weight must be above zero", "berat harus lebih dari nol kg"),
        ("not a plausible weight", "berat tidak masuk akal"),
        ("minimum purchase must be at least 1", "pembelian minimum paling sedikit 1"),
        ("origin must be Lokal or Impor", "asal harus Lokal atau Impor"),
        ("is not a web address", "foto harus berupa alamat web (http:// atau https://)"),
        ("TKDN must be between", "TKDN harus antara 0 dan 100 persen"),
        ("must be ya or tidak", "isi dengan ya atau tidak"),
        ("characters long", "teks terlalu panjang"),
        ("invisible control character", "berisi karakter tak terlihat: hapus karakter itu"),
        ("control characters", "berisi karakter kendali"),
        ("holds the spreadsheet error", "sel berisi galat rumus spreadsheet"),
        ("is not a net content", "isi bersih tidak terbaca: tulis jumlah dan satuan, mis. 25 kg"),
        ("is not valid UTF-8", "bukan teks UTF-8: simpan berkas sebagai CSV UTF-8"),
        ("is not a date", "bukan tanggal seperti 2026-03-20"),
        ("is negative", "tidak boleh negatif"),
        ("is empty", "wajib diisi, tetapi kosong"),
    ];
    match lang {
        Lang::En => reason.to_owned(),
        Lang::Id => match WORDS.iter().find(|(needle, _)| reason.contains(needle)) {
            Some((_, words)) => format!("{words} ({reason})"),
            None => reason.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_are_written_in_wib_in_each_language() {
        // 07:00 UTC is 14.00 in Jakarta (UTC+7), a Monday.
        let t = Utc.with_ymd_and_hms(2026, 12, 7, 7, 0, 0).unwrap();
        assert_eq!(when(t, Lang::Id), "Senin, 7 Desember 2026 14.00 WIB");
        assert_eq!(when(t, Lang::En), "Monday, 7 December 2026 14:00 WIB");
        // 19:10 UTC on the 6th is 02.10 on the 7th in Jakarta.
        let early = Utc.with_ymd_and_hms(2026, 12, 6, 19, 10, 0).unwrap();
        assert_eq!(clock_or_when(early, t, Lang::Id), "02.10 WIB");
        assert_eq!(clock_or_when(early, t + chrono::Duration::days(1), Lang::Id), "Senin, 7 Desember 2026 02.10 WIB");
    }

    #[test]
    fn import_reasons_are_said_in_indonesian_with_the_importers_words_beside() {
        assert_eq!(import_reason("price is negative (-5)", Lang::Id), "harga tidak boleh negatif (price is negative (-5))");
        assert_eq!(import_reason("price is negative (-5)", Lang::En), "price is negative (-5)");
        assert_eq!(import_reason("something new", Lang::Id), "something new");
    }
}
