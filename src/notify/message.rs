//! What a notification says, in Bahasa Indonesia: the order, the buyer, the
//! items, the total and the deadline in WIB with the working time left.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Asia::Jakarta;
use rust_decimal::Decimal;

use crate::domain::calendar::WorkingCalendar;
use crate::domain::fulfilment::Step;
use crate::domain::money::{format_number_id, format_rupiah};
use crate::domain::notification::NotificationKind;
use crate::store::notifications::Due;

const HARI: [&str; 7] = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"];
const BULAN: [&str; 12] = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"];

/// `Senin, 7 Desember 2026 pukul 14.00 WIB`.
pub fn tanggal(t: DateTime<Utc>) -> String {
    let l = t.with_timezone(&Jakarta);
    format!("{}, {} {} {} pukul {}", HARI[l.weekday().num_days_from_monday() as usize], l.day(), BULAN[l.month0() as usize], l.year(), l.format("%H.%M WIB"))
}

/// `Senin, 7 Desember 2026`.
pub fn hari(d: chrono::NaiveDate) -> String {
    format!("{}, {} {} {}", HARI[d.weekday().num_days_from_monday() as usize], d.day(), BULAN[d.month0() as usize], d.year())
}

/// `2 hari kerja 5 jam` / `7 jam 30 menit`.
pub fn sisa_waktu(d: chrono::Duration) -> String {
    let (days, hours, mins) = crate::domain::calendar::working_parts(d);
    match (days, hours) {
        (0, 0) => format!("{mins} menit"),
        (0, h) => format!("{h} jam {mins} menit"),
        (d, h) => format!("{d} hari kerja {h} jam"),
    }
}

pub struct Message {
    pub subject: String,
    pub text: String,
    items: Vec<(String, Option<Decimal>, Option<String>, Decimal)>,
    left: Option<String>,
    overdue: Option<Overdue>,
    member: Option<MemberNews>,
    /// The products running low, in a few words (for a `stock_low` notification).
    low: Option<String>,
    /// A plan package's news, for a notification about the plan.
    plan: Option<PlanNews>,
}

/// What a cooperative is told of a plan package, as the WhatsApp template's parameters.
#[derive(Debug, Clone)]
pub struct PlanNews {
    /// `Belanja beras ... (Dinas Sosial)`
    pub package: String,
    /// `Rp15.000.000, pemilihan mulai Senin, 1 Februari 2027`, or the correction's news.
    pub news: String,
    /// The cooperative's products that fit, and what they lack.
    pub goods: String,
}

/// What a member is told of an accepted order for their products.
#[derive(Debug, Clone)]
pub struct MemberNews {
    pub name: String,
    /// `Keripik Tempe × 40 bungkus; ...`
    pub goods: String,
    /// The day to bring them to the cooperative by.
    pub bring_by: chrono::NaiveDate,
}

/// A step after the order past its due date, as a notification tells it.
#[derive(Debug, Clone)]
pub struct Overdue {
    pub step: Step,
    pub due: chrono::NaiveDate,
    pub days_late: i64,
    /// What the cooperative is still to receive.
    pub outstanding: Decimal,
}

impl Message {
    /// An order waiting for its confirmation. `portal`: the order is
    /// confirmed by signing in the e-catalogue's portal (INAPROC), which no
    /// program can do for the cooperative.
    pub fn new(due: &Due, items: &[(String, Option<Decimal>, Option<String>, Decimal)], calendar: &WorkingCalendar, now: DateTime<Utc>, portal: bool) -> Self {
        let buyer = due.buyer.as_deref().unwrap_or("(tidak disebutkan)");
        let deadline = due.deadline.map(tanggal).unwrap_or_else(|| "(tidak diketahui)".into());
        let left = due.deadline.map(|d| sisa_waktu(calendar.working_time_left(now, d)));
        let subject = match due.kind {
            NotificationKind::DeadlineNear => format!("SEGERA: pesanan {} harus dikonfirmasi sebelum {deadline}", due.remote_order_id),
            NotificationKind::DeadlineLast => format!("BATAS HAMPIR HABIS: konfirmasi pesanan {} sebelum {deadline}", due.remote_order_id),
            _ => format!("Pesanan baru {} dari {buyer}", due.remote_order_id),
        };
        let mut text = format!("Yth. pengurus {},\n\n", due.cooperative_name);
        match due.kind {
            NotificationKind::DeadlineNear | NotificationKind::DeadlineLast => text.push_str(&format!(
                "Pesanan pemerintah berikut BELUM dikonfirmasi dan batas waktunya tinggal {}.\n\n",
                left.as_deref().unwrap_or("sedikit lagi")
            )),
            _ => text.push_str("Ada pesanan pemerintah baru untuk koperasi Anda di e-Katalog.\n\n"),
        }
        text.push_str(&format!("Nomor pesanan : {}\nPembeli       : {buyer}\nBarang        :\n", due.remote_order_id));
        for (description, quantity, unit, total) in items {
            match quantity {
                Some(q) => text.push_str(&format!("  - {description} × {} {}  {}\n", q.normalize(), unit.as_deref().unwrap_or(""), format_rupiah(*total))),
                None => text.push_str(&format!("  - {description}  {}\n", format_rupiah(*total))),
            }
        }
        text.push_str(&format!("Total         : {}\nBatas konfirmasi: {deadline}", format_rupiah(due.total)));
        if let Some(left) = &left {
            text.push_str(&format!(" (sisa {left})"));
        }
        text.push_str("\n\nPesanan yang tidak dikonfirmasi dalam 3 hari kerja dibatalkan otomatis.\n");
        if portal {
            text.push_str(
                "Konfirmasi pesanan ini di portal e-Katalog: tanda tangani surat pesanan dengan PrivyID (kode OTP dikirim ke ponsel penanggung jawab). \
                 Hanya koperasi yang dapat melakukannya; katalog-bridge tidak dapat mengonfirmasi untuk Anda.\n\n",
            );
        } else {
            text.push_str(&format!(
                "Konfirmasi di e-Katalog, atau minta petugas penghubung menjalankan:\n  katalog-bridge orders respond {} --accept\n\n",
                due.remote_order_id
            ));
        }
        text.push_str(&format!("Pesan ini dikirim otomatis oleh katalog-bridge untuk koperasi {}.\n", due.cooperative));
        Self { subject, text, items: items.to_vec(), left, overdue: None, member: None, low: None, plan: None }
    }

    /// To a member: an order for their products was accepted by the
    /// cooperative; what, how much, and by when to bring it.
    pub fn member(due: &Due, news: MemberNews) -> Self {
        let buyer = due.buyer.as_deref().unwrap_or("(tidak disebutkan)");
        let subject = format!("Pesanan untuk produk Anda: {} dari {buyer}", due.remote_order_id);
        let text = format!(
            "Yth. {},\n\nPesanan pemerintah untuk produk Anda sudah diterima oleh {}.\n\n\
             Nomor pesanan : {}\nPembeli       : {buyer}\nBarang        : {}\n\n\
             Mohon antar barang ke koperasi paling lambat {}.\n\n\
             Pesan ini dikirim otomatis oleh katalog-bridge untuk koperasi {}.\n",
            news.name,
            due.cooperative_name,
            due.remote_order_id,
            news.goods,
            hari(news.bring_by),
            due.cooperative
        );
        Self { subject, text, items: Vec::new(), left: None, overdue: None, member: Some(news), low: None, plan: None }
    }

    /// To a cooperative: an order brought these products (name, stock now)
    /// to its stock threshold or below.
    pub fn stock_low(due: &Due, fallen: &[(String, Decimal)]) -> Self {
        let subject = format!("Stok menipis setelah pesanan {}", due.remote_order_id);
        let mut text = format!("Yth. pengurus {},\n\nSetelah pesanan {} diterima, stok produk berikut menipis:\n", due.cooperative_name, due.remote_order_id);
        let mut goods = Vec::new();
        for (name, stock) in fallen {
            text.push_str(&format!("  - {name}: sisa {}\n", format_number_id(*stock)));
            goods.push(format!("{name} (sisa {})", format_number_id(*stock)));
        }
        text.push_str(&format!(
            "\nStok baru ini dikirim ke katalog pada pengiriman berikutnya. Bila stok sudah ditambah, perbarui di halaman produk.\n\n\
             Pesan ini dikirim otomatis oleh katalog-bridge untuk koperasi {}.\n",
            due.cooperative
        ));
        Self { subject, text, items: Vec::new(), left: None, overdue: None, member: None, low: Some(goods.join("; ")), plan: None }
    }

    /// A package of the city's plan that fits the cooperative's goods: what
    /// the work unit plans to buy, for how much, from when; which of the
    /// cooperative's products fit; what is missing for them to be ready.
    pub fn plan_opportunity(due: &Due, p: &crate::rup::view::Package) -> Self {
        let pk = &p.package;
        let unit = pk.nama_satker.as_deref().unwrap_or("(tidak disebutkan)");
        let from = pk.tgl_awal_pemilihan.map(hari).unwrap_or_else(|| "(belum dijadwalkan)".into());
        let subject = format!("Peluang pengadaan: {} ({})", pk.nama_paket, format_rupiah(pk.pagu));
        let mut text = format!(
            "Yth. pengurus {},\n\nPemerintah berencana membeli barang yang cocok dengan produk koperasi Anda (Rencana Umum Pengadaan).\n\n\
             Paket         : {}\nKode RUP      : {}\nSatuan kerja  : {unit}\nPagu          : {}\nCara pengadaan: {}\nPemilihan mulai: {from}\n",
            due.cooperative_name,
            pk.nama_paket,
            pk.kd_rup,
            format_rupiah(pk.pagu),
            pk.metode
        );
        if pk.status_ukm {
            text.push_str("Paket ini dicadangkan untuk usaha kecil dan koperasi.\n");
        }
        let products: Vec<&crate::rup::view::Product> = p.matches.iter().filter(|m| m.cooperative == due.cooperative).flat_map(|m| &m.products).collect();
        text.push_str("\nProduk Anda yang cocok:\n");
        if products.is_empty() {
            text.push_str("  (belum ada produk di kategori ini)\n");
        }
        for product in &products {
            let state = if product.ready() { "siap".to_owned() } else { format!("belum siap: {}", product.missing.join(", ")) };
            text.push_str(&format!("  - {} ({}, stok {}): {state}\n", product.name, format_rupiah(product.price), format_number_id(product.stock)));
        }
        let missing = p.missing_for(&due.cooperative);
        if !missing.is_empty() {
            text.push_str("\nSebelum pemilihan dimulai, lengkapi: tayangkan produk di katalog, sesuaikan harga dengan HET, dan isi stok.\n");
        }
        text.push_str(&format!("\nPesan ini dikirim otomatis oleh katalog-bridge untuk koperasi {}.\n", due.cooperative));
        let goods = if products.is_empty() {
            "-".to_owned()
        } else {
            products
                .iter()
                .map(|p| if p.ready() { format!("{} (siap)", p.name) } else { format!("{} ({})", p.name, p.missing.join(", ")) })
                .collect::<Vec<_>>()
                .join("; ")
        };
        let plan = PlanNews { package: format!("{} ({unit})", pk.nama_paket), news: format!("{}, pemilihan mulai {from}", format_rupiah(pk.pagu)), goods };
        Self { subject, text, items: Vec::new(), left: None, overdue: None, member: None, low: None, plan: Some(plan) }
    }

    /// One short correction of an opportunity told before: the package
    /// moved to another day, or was withdrawn.
    pub fn plan_correction(due: &Due, p: &crate::rup::view::Package, kind: crate::domain::rup::NoticeKind, told: Option<chrono::NaiveDate>) -> Self {
        let pk = &p.package;
        let news = match (kind, pk.tgl_awal_pemilihan.or(told)) {
            (crate::domain::rup::NoticeKind::Moved, Some(d)) => format!("jadwal pemilihan bergeser ke {}", hari(d)),
            _ => "paket ini ditarik dari rencana pengadaan".to_owned(),
        };
        let subject = format!("Koreksi peluang: {} ({news})", pk.nama_paket);
        let text = format!(
            "Yth. pengurus {},\n\nKoreksi atas peluang pengadaan yang kami kirim sebelumnya:\n\nPaket   : {}\nKode RUP: {}\nKabar   : {news}.\n\n\
             Pesan ini dikirim otomatis oleh katalog-bridge untuk koperasi {}.\n",
            due.cooperative_name, pk.nama_paket, pk.kd_rup, due.cooperative
        );
        let plan = PlanNews { package: pk.nama_paket.clone(), news, goods: String::new() };
        Self { subject, text, items: Vec::new(), left: None, overdue: None, member: None, low: None, plan: Some(plan) }
    }

    /// A plan package's news, for a notification about the plan.
    pub fn plan_news(&self) -> Option<&PlanNews> {
        self.plan.as_ref()
    }

    /// What a member is told, for a member's message.
    pub fn member_news(&self) -> Option<&MemberNews> {
        self.member.as_ref()
    }

    /// The products running low, in a few words (`stock_low`).
    pub fn low_goods(&self) -> Option<&str> {
        self.low.as_deref()
    }

    /// Says, before anything else the cooperative must do, which products
    /// the order asks more of than their stock.
    pub fn with_short(mut self, short: &[crate::store::stock::Short]) -> Self {
        if short.is_empty() {
            return self;
        }
        let mut note = String::from("PERHATIAN: stok tidak cukup untuk pesanan ini:\n");
        for s in short {
            note.push_str(&format!("  - {}: dipesan {}, stok {}\n", s.name, format_number_id(s.asked), format_number_id(s.stock)));
        }
        note.push_str("Periksa stok sebelum menerima pesanan.\n\n");
        match self.text.find("Pesanan yang tidak dikonfirmasi") {
            Some(at) => self.text.insert_str(at, &note),
            None => self.text.push_str(&note),
        }
        self.subject = format!("{} (stok kurang)", self.subject);
        self
    }

    /// A step after the order past its due date: what is late, since when,
    /// what is still to be received, and how to record it once done.
    pub fn overdue(due: &Due, o: Overdue) -> Self {
        let buyer = due.buyer.as_deref().unwrap_or("(tidak disebutkan)");
        let subject = format!("Terlambat: {} pesanan {} lewat jatuh tempo {}", o.step.label(), due.remote_order_id, hari(o.due));
        let flag = match o.step {
            Step::Bast => "--bast NOMOR",
            Step::Faktur => "--faktur NOMOR",
            Step::Invoice => "--invoice NOMOR",
            Step::OrderLetter => "--order-letter NOMOR",
            Step::LogisticsInvoice => "--logistics-invoice NOMOR",
            Step::Ticket => "--ticket NOMOR",
            Step::Paid | Step::PaymentWay => "--paid JUMLAH",
            Step::Shipped => "--shipped",
            Step::Delivered => "--delivered",
        };
        let text = format!(
            "Yth. pengurus {},\n\nLangkah setelah pesanan berikut sudah lewat jatuh temponya.\n\n\
             Nomor pesanan : {}\nPembeli       : {buyer}\nLangkah       : {}\nJatuh tempo   : {} ({} hari lalu)\nBelum dibayar : {}\n\n\
             Bila sudah, minta petugas penghubung mencatatnya:\n  katalog-bridge orders record {} {flag} --date YYYY-MM-DD\n\n\
             Pesan ini dikirim otomatis oleh katalog-bridge untuk koperasi {}.\n",
            due.cooperative_name,
            due.remote_order_id,
            o.step.label(),
            hari(o.due),
            o.days_late,
            format_rupiah(o.outstanding),
            due.remote_order_id,
            due.cooperative
        );
        Self { subject, text, items: Vec::new(), left: None, overdue: Some(o), member: None, low: None, plan: None }
    }

    /// The overdue step this message is about, if it is about one.
    pub fn overdue_step(&self) -> Option<&Overdue> {
        self.overdue.as_ref()
    }

    /// The working time left to the deadline, in words.
    pub fn left(&self) -> Option<&str> {
        self.left.as_deref()
    }

    /// The webhook's body: the facts as fields, and the same text as the e-mail.
    pub fn json(&self, due: &Due) -> serde_json::Value {
        serde_json::json!({
            "kind": due.kind.name(),
            "order_id": due.remote_order_id,
            "cooperative": due.cooperative,
            "cooperative_name": due.cooperative_name,
            "buyer": due.buyer,
            "items": self.items.iter().map(|(d, q, u, t)| serde_json::json!({"description": d, "quantity": q.map(|q| q.normalize().to_string()), "unit": u, "total": t.to_string()})).collect::<Vec<_>>(),
            "total": due.total.to_string(),
            "deadline": due.deadline.map(|d| d.to_rfc3339()),
            "deadline_wib": due.deadline.map(tanggal),
            "working_time_left": self.left,
            "subject": self.subject,
            "text": self.text,
            "overdue": self.overdue.as_ref().map(|o| serde_json::json!({
                "step": o.step.as_str(), "due": o.due.to_string(), "days_late": o.days_late, "outstanding": o.outstanding.to_string(),
            })),
            "member": self.member.as_ref().map(|m| serde_json::json!({"name": m.name, "goods": m.goods, "bring_by": m.bring_by.to_string()})),
            "plan": self.plan.as_ref().map(|p| serde_json::json!({"package": p.package, "news": p.news, "goods": p.goods})),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_read_in_indonesian_and_in_wib() {
        // 07:00 UTC is 14:00 WIB, Monday 7 December 2026.
        assert_eq!(tanggal(Utc.with_ymd_and_hms(2026, 12, 7, 7, 0, 0).unwrap()), "Senin, 7 Desember 2026 pukul 14.00 WIB");
        // 18:30 UTC on Thursday 31 December is already Friday 1 January in Jakarta.
        assert_eq!(tanggal(Utc.with_ymd_and_hms(2026, 12, 31, 18, 30, 0).unwrap()), "Jumat, 1 Januari 2027 pukul 01.30 WIB");
        assert_eq!(sisa_waktu(chrono::Duration::minutes(2 * 24 * 60 + 5 * 60 + 7)), "2 hari kerja 5 jam");
        assert_eq!(sisa_waktu(chrono::Duration::minutes(7 * 60 + 30)), "7 jam 30 menit");
    }

    #[test]
    fn an_order_short_of_stock_says_so_before_the_cooperative_accepts_it() {
        let due = Due {
            id: 1,
            kind: NotificationKind::Arrived,
            channel: crate::domain::notification::NotificationChannel::Email,
            recipient: "kkmp@example.id".into(),
            attempts: 0,
            order_status: Some(crate::domain::order::OrderStatus::WaitingSellerConfirmation),
            rup_notice_id: None,
            remote_order_id: "EP-2026-000123".into(),
            cooperative: "MJK-WATES".into(),
            cooperative_name: "KKMP Wates".into(),
            buyer: Some("Dinas Sosial".into()),
            total: Decimal::from(1_250_000),
            deadline: None,
            member_id: None,
        };
        let calendar = crate::domain::calendar::WorkingCalendar::parse("date,name,kind\n", false).unwrap();
        let short =
            crate::store::stock::Short { order_id: 9, product_id: 4, name: "Beras Medium 5 kg".into(), asked: Decimal::from(1250), stock: Decimal::from(40) };
        let m = Message::new(&due, &[], &calendar, Utc.with_ymd_and_hms(2026, 12, 7, 7, 0, 0).unwrap(), false).with_short(&[short]);
        assert!(m.subject.ends_with("(stok kurang)"), "{}", m.subject);
        let at = m.text.find("PERHATIAN: stok tidak cukup untuk pesanan ini:\n  - Beras Medium 5 kg: dipesan 1.250, stok 40\n").expect(&m.text);
        assert!(at < m.text.find("Pesanan yang tidak dikonfirmasi").unwrap(), "said before the rest: {}", m.text);
        let plain = Message::new(&due, &[], &calendar, Utc.with_ymd_and_hms(2026, 12, 7, 7, 0, 0).unwrap(), false).with_short(&[]);
        assert!(!plain.text.contains("PERHATIAN"));
    }
}
