//! How the pages write amounts, times and the catalogue's words: amounts as
//! `Rp12.500`, times in WIB (`Senin, 7 Desember 2026 14.00 WIB`), states in
//! plain words of the page's language.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Asia::Jakarta;

use super::i18n::Lang;
use crate::domain::job::RunStatus;
use crate::domain::notification::{NotificationChannel, NotificationKind, NotificationState};
use crate::domain::order::OrderStatus;
use crate::domain::publication::{Channel, PublicationState, Standing};

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

/// Where a listing stands, in words.
pub fn listing_state(state: Standing, lang: Lang) -> String {
    use PublicationState::*;
    let (id, en) = match state {
        Standing::Blocked => ("ditahan: data belum lengkap", "held back: data incomplete"),
        Standing::Published(state) => match state {
            Pending => ("menunggu dikirim", "waiting to be sent"),
            Submitted => ("terkirim", "submitted"),
            UnderCuration => ("sedang ditinjau", "under review"),
            Live => ("tayang", "live"),
            Rejected => ("ditolak", "rejected"),
            RevisionRequested => ("diminta perbaikan", "revision requested"),
            TakenDown => ("diturunkan", "taken down"),
            WithdrawPending => ("menunggu ditarik", "waiting to be withdrawn"),
            Withdrawn => ("ditarik", "withdrawn"),
            Failed => ("gagal dikirim", "failed"),
        },
    };
    lang.pick(id, en).to_owned()
}

/// A channel in words.
pub fn channel(channel: Channel, lang: Lang) -> String {
    let (id, en) = match channel {
        Channel::Api => ("API katalog", "catalogue API"),
        Channel::Peppol => ("dokumen PEPPOL", "PEPPOL document"),
        Channel::Xlsx => ("unggah massal (XLSX)", "bulk upload (XLSX)"),
    };
    lang.pick(id, en).to_owned()
}

/// An order status in words.
pub fn order_status(status: &OrderStatus, lang: Lang) -> String {
    use OrderStatus::*;
    let (id, en) = match status {
        OnNegotiation => ("dalam negosiasi", "under negotiation"),
        WaitingSellerConfirmation => ("menunggu konfirmasi penjual", "waiting for the seller's confirmation"),
        WaitingPpkReview => ("menunggu persetujuan PPK", "waiting for the PPK's approval"),
        EsignInProgress => ("dikonfirmasi: tanda tangan elektronik berjalan", "confirmed: e-signing in progress"),
        OnProcess => ("diproses", "in process"),
        OnAddendum => ("dalam adendum", "under addendum"),
        Completed => ("selesai", "completed"),
        PaymentOutsideSystem => ("dibayar di luar sistem", "paid outside the system"),
        RequestCancelByAdmin => ("diminta batal oleh admin", "cancellation asked by the admin"),
        CancelledOnNegotiation => ("batal dalam negosiasi", "cancelled in negotiation"),
        CancelledOnReview => ("batal: tidak disetujui PPK", "cancelled: not approved by the PPK"),
        Cancelled => ("dibatalkan", "cancelled"),
        Other(other) => return other.clone(),
    };
    lang.pick(id, en).to_owned()
}

/// A job in words.
pub fn job(kind: &str, lang: Lang) -> String {
    let (id, en) = match kind {
        "publish" => ("Kirim produk ke katalog", "Publish products"),
        "status" => ("Ikuti status tinjauan", "Follow the review status"),
        "orders" => ("Sinkronkan pesanan", "Sync orders"),
        "rup" => ("Baca rencana belanja (RUP)", "Read the purchase plans (RUP)"),
        "status-inaproc" => ("Status tayang di INAPROC", "Live status on INAPROC"),
        "import-products" => ("Impor produk", "Product import"),
        "import-cooperatives" => ("Impor koperasi", "Cooperative import"),
        other => return other.to_owned(),
    };
    lang.pick(id, en).to_owned()
}

/// A run's outcome in words.
pub fn run_status(status: RunStatus, lang: Lang) -> String {
    let (id, en) = match status {
        RunStatus::Running => ("berjalan", "running"),
        RunStatus::Succeeded => ("berhasil", "succeeded"),
        RunStatus::Partial => ("sebagian berhasil", "partly succeeded"),
        RunStatus::Failed => ("gagal", "failed"),
        RunStatus::Interrupted => ("dihentikan", "interrupted"),
        RunStatus::Abandoned => ("terputus", "abandoned"),
    };
    lang.pick(id, en).to_owned()
}

/// Why a run ended badly, in the page's language: in Indonesian from its
/// code (the command line's English sentence is the English view's), in
/// English the sentence itself, at most 300 characters. `None` when the
/// run has no error, or none this reader may see.
pub fn run_error(code: Option<&str>, english: Option<&str>, lang: Lang) -> Option<String> {
    match lang {
        Lang::En => english.map(|e| e.chars().take(300).collect()),
        Lang::Id => {
            let words = match code? {
                "interrupted" => "dihentikan sebelum selesai; yang sudah tersimpan tetap ada, jalan berikutnya melanjutkan",
                "busy" => "tugas yang sama sedang dijalankan di tempat lain",
                "database" => "basis data tidak dapat dihubungi saat itu; jalan berikutnya mencoba lagi",
                "configuration" => "pengaturan belum lengkap (akun katalog, pembeli, atau saluran koperasi): periksa berkas konfigurasi",
                "file" => "berkasnya tidak dapat dibaca atau ditulis",
                "mapping" => "tabel pemetaan tidak dapat dibaca: periksa folder mappings",
                "lost_lock" => "prosesnya kehilangan kunci tugas sebelum selesai",
                "heartbeat_stopped" => "prosesnya atau mesinnya berhenti di tengah jalan",
                "process_ended" => "prosesnya berakhir sebelum tugas selesai",
                _ => "gagal; rinciannya ada di tampilan bahasa Inggris (EN)",
            };
            Some(words.to_owned())
        }
    }
}

/// A notification's state in words.
pub fn notification_state(state: NotificationState, lang: Lang) -> String {
    let en = match state {
        NotificationState::Sent => "sent",
        NotificationState::Pending => "waiting",
        NotificationState::Failed => "failed",
        NotificationState::Moot => "no longer needed",
    };
    lang.pick(state.in_indonesian(), en).to_owned()
}

/// A bank credit's state in words.
pub fn credit_state(state: crate::domain::payments::CreditState, lang: Lang) -> String {
    use crate::domain::payments::CreditState;
    let en = match state {
        CreditState::Matched => "matched when imported",
        CreditState::Ambiguous => "more than one order fits",
        CreditState::Unmatched => "matches no order",
        CreditState::Assigned => "assigned by the staff",
    };
    lang.pick(state.label(), en).to_owned()
}

/// A notification's kind and channel in words: `pengingat terakhir · WhatsApp`.
pub fn notification(kind: NotificationKind, channel: NotificationChannel, lang: Lang) -> String {
    let (id, en) = match kind {
        NotificationKind::Arrived => ("pesanan masuk", "order arrived"),
        NotificationKind::DeadlineNear => ("pengingat: sisa 1 hari kerja", "reminder: one working day left"),
        NotificationKind::DeadlineLast => ("pengingat terakhir", "last reminder"),
        NotificationKind::Overdue(_) => ("langkah terlambat", "step overdue"),
        NotificationKind::MemberOrder => ("kabar pesanan untuk anggota", "order news for a member"),
        NotificationKind::StockLow => ("stok menipis", "stock running low"),
        NotificationKind::RupOpportunity => ("peluang pengadaan", "procurement opportunity"),
        NotificationKind::RupCorrection => ("koreksi peluang", "opportunity corrected"),
    };
    let channel = match channel {
        NotificationChannel::Email => "e-mail",
        NotificationChannel::WhatsApp => "WhatsApp",
        NotificationChannel::Webhook => "webhook",
    };
    format!("{} · {channel}", lang.pick(id, en))
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
}
