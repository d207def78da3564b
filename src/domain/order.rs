//! A purchase order's status, as the catalogue's order API names it. No I/O.

/// The statuses of the real e-purchasing API (`../shared/context/DOMAIN.md`).
/// One this version does not know is kept as the API wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    OnNegotiation,
    WaitingPpkReview,
    WaitingSellerConfirmation,
    EsignInProgress,
    OnProcess,
    OnAddendum,
    Completed,
    PaymentOutsideSystem,
    Cancelled,
    CancelledOnNegotiation,
    CancelledOnReview,
    RequestCancelByAdmin,
    Other(String),
}

const NAMES: [(&str, OrderStatus); 12] = [
    ("ON_NEGOTIATION", OrderStatus::OnNegotiation),
    ("WAITING_PPK_REVIEW", OrderStatus::WaitingPpkReview),
    ("WAITING_SELLER_CONFIRMATION", OrderStatus::WaitingSellerConfirmation),
    ("ESIGN_IN_PROGRESS", OrderStatus::EsignInProgress),
    ("ON_PROCESS", OrderStatus::OnProcess),
    ("ON_ADDENDUM", OrderStatus::OnAddendum),
    ("COMPLETED", OrderStatus::Completed),
    ("PAYMENT_OUTSIDE_SYSTEM", OrderStatus::PaymentOutsideSystem),
    ("CANCELLED", OrderStatus::Cancelled),
    ("CANCELLED_ON_NEGOTIATION", OrderStatus::CancelledOnNegotiation),
    ("CANCELLED_ON_REVIEW", OrderStatus::CancelledOnReview),
    ("REQUEST_CANCEL_BY_ADMIN", OrderStatus::RequestCancelByAdmin),
];

/// Why an order cannot be answered over the catalogue's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotAnswerable {
    #[error("this order is not waiting for an answer")]
    NotWaiting,
    #[error("this is an INAPROC order: it is confirmed by signing its order letter in the e-Katalog portal with PrivyID, not over the API")]
    InPortal,
}

impl NotAnswerable {
    /// The same in Bahasa Indonesia.
    pub fn in_indonesian(self) -> &'static str {
        match self {
            Self::NotWaiting => "Pesanan ini tidak menunggu jawaban.",
            Self::InPortal => "Ini pesanan INAPROC: dikonfirmasi dengan menandatangani surat pesanan di portal e-Katalog dengan PrivyID, bukan lewat API.",
        }
    }
}

impl OrderStatus {
    pub fn parse(s: &str) -> Self {
        NAMES.iter().find(|(name, _)| *name == s).map_or_else(|| Self::Other(s.to_owned()), |(_, st)| st.clone())
    }

    /// The API's own name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Other(s) => s,
            known => NAMES.iter().find(|(_, st)| st == known).map_or("", |(name, _)| name),
        }
    }

    /// The seller has accepted the order (`ON_PROCESS` or later, not
    /// cancelled): its quantities come off the products' stock.
    pub fn accepted_by_seller(&self) -> bool {
        matches!(self, Self::OnProcess | Self::OnAddendum | Self::Completed | Self::PaymentOutsideSystem)
    }

    /// Every status the catalogue is known to send.
    pub fn known() -> impl Iterator<Item = OrderStatus> {
        NAMES.iter().map(|(_, s)| s.clone())
    }

    /// Cancelled, however it came to be.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Self::Cancelled | Self::CancelledOnNegotiation | Self::CancelledOnReview)
    }

    /// The seller must answer, before the deadline.
    pub fn awaits_seller(&self) -> bool {
        *self == Self::WaitingSellerConfirmation
    }

    /// Whether the cooperative may answer the order over the catalogue's
    /// API: only while it waits for the seller, and never an INAPROC order
    /// (`in_portal`), which is confirmed by signing its order letter in the
    /// e-Katalog portal. The one rule the pages and the command line share.
    pub fn answerable(&self, in_portal: bool) -> Result<(), NotAnswerable> {
        if in_portal {
            Err(NotAnswerable::InPortal)
        } else if !self.awaits_seller() {
            Err(NotAnswerable::NotWaiting)
        } else {
            Ok(())
        }
    }

    /// Nothing more happens to the order.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Completed | Self::PaymentOutsideSystem | Self::Cancelled | Self::CancelledOnNegotiation | Self::CancelledOnReview)
    }

    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Other(_))
    }

    /// The buyer's contracting officer (PPK) must approve it, before its own deadline.
    pub fn awaits_ppk(&self) -> bool {
        *self == Self::WaitingPpkReview
    }

    /// The seller's confirmation has been given (the order letter is being or was signed).
    pub fn confirmed(&self) -> bool {
        matches!(self, Self::EsignInProgress | Self::OnProcess)
    }
}

/// An order's deadlines as a copy of it shows them, given the status stored
/// before (`None`: the order is new): `None` keeps what is stored.
///
/// - The seller's: the catalogue's `confirm_by` when it gives one.
///   Otherwise (INAPROC gives none) 3 working days from the moment the order
///   began waiting for the seller: its order date when it is new and already
///   waiting (exact when it was made waiting; early, never late, when a PPK
///   approved it before it was first seen), its `last_update_date` when it is
///   seen moving to waiting, the stored deadline while it stays waiting.
/// - The PPK's, for an order at `WAITING_PPK_REVIEW`: 3 working days from
///   the order date (new) or from the change that brought it there.
pub fn deadlines(
    o: &RemoteOrder,
    before: Option<&OrderStatus>,
    calendar: &super::calendar::WorkingCalendar,
) -> (Option<chrono::DateTime<chrono::Utc>>, Option<chrono::DateTime<chrono::Utc>>) {
    use super::calendar::CONFIRM_WORKING_DAYS;
    let start = |waiting_since: chrono::DateTime<chrono::Utc>| calendar.add_working_days(waiting_since, CONFIRM_WORKING_DAYS);
    let began = match before {
        None => o.order_date.unwrap_or(o.updated_at),
        Some(_) => o.updated_at,
    };
    let stays = before == Some(&o.status);
    let seller = match (o.confirm_by, o.status.awaits_seller()) {
        (Some(c), _) => Some(c),
        (None, true) if stays => None,
        (None, true) => Some(start(began)),
        // First seen past waiting: the order date's count, as good an estimate as any.
        (None, false) if before.is_none() && !o.status.awaits_ppk() => o.order_date.map(start),
        (None, false) => None,
    };
    let ppk = (o.status.awaits_ppk() && !stays).then(|| start(began));
    (seller, ppk)
}

impl super::Named for OrderStatus {
    const WHAT: &'static str = "order status";
    fn name(&self) -> &str {
        self.as_str()
    }
    /// Never `None`: a status this version does not know is kept as written.
    fn from_name(name: &str) -> Option<Self> {
        Some(Self::parse(name))
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Which catalogue interface an order came from (`purchase_orders.source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum OrderSource {
    /// The e-purchasing order API (read from the catalogue or from INAPROC).
    #[serde(rename = "ekatalog-v6")]
    Ekatalog,
    /// A PEPPOL BIS Ordering 3 Order imported from a file.
    #[serde(rename = "peppol-ubl")]
    PeppolOrder,
}

impl OrderSource {
    pub const ALL: [OrderSource; 2] = [Self::Ekatalog, Self::PeppolOrder];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ekatalog => "ekatalog-v6",
            Self::PeppolOrder => "peppol-ubl",
        }
    }
}

super::named_by!(OrderSource, "order source", as_str);

/// Where the cooperative's answer to an order stands in its outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerState {
    /// Recorded, not yet taken by the catalogue.
    Pending,
    Sent,
    /// Refused by the catalogue for good.
    Refused,
}

impl AnswerState {
    pub const ALL: [AnswerState; 3] = [Self::Pending, Self::Sent, Self::Refused];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Refused => "refused",
        }
    }
}

super::named_by!(AnswerState, "answer state", as_str);

super::serialize_by_name!(OrderStatus);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_of_the_real_api_is_known_and_spelt_back() {
        let real = "ON_NEGOTIATION, WAITING_PPK_REVIEW, WAITING_SELLER_CONFIRMATION, ESIGN_IN_PROGRESS, ON_PROCESS, ON_ADDENDUM, \
                    COMPLETED, PAYMENT_OUTSIDE_SYSTEM, CANCELLED, CANCELLED_ON_NEGOTIATION, CANCELLED_ON_REVIEW, REQUEST_CANCEL_BY_ADMIN";
        for name in real.split(", ") {
            let s = OrderStatus::parse(name);
            assert!(s.is_known(), "{name}");
            assert_eq!(s.as_str(), name);
        }
        let odd = OrderStatus::parse("ON_HOLD");
        assert_eq!((odd.is_known(), odd.as_str()), (false, "ON_HOLD"));
        assert!(OrderStatus::parse("WAITING_SELLER_CONFIRMATION").awaits_seller());
        assert!(OrderStatus::parse("CANCELLED").is_final() && !OrderStatus::parse("ON_PROCESS").is_final());
    }
}

/// An order as the catalogue reports it (a package of the order feed, or its
/// detail with lines), in domain types; everything it sent is kept in `raw`.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteOrder {
    pub order_id: String,
    pub rup_code: Option<String>,
    pub rup_name: Option<String>,
    pub fiscal_year: i32,
    pub funding_source: Option<String>,
    pub kode_klpd: String,
    pub kode_satker: Option<String>,
    pub nama_satker: Option<String>,
    pub kode_penyedia: String,
    pub status: OrderStatus,
    pub shipment_status: Option<String>,
    pub shipping_fee: rust_decimal::Decimal,
    pub total: rust_decimal::Decimal,
    pub order_date: Option<chrono::DateTime<chrono::Utc>>,
    pub confirm_by: Option<chrono::DateTime<chrono::Utc>>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub raw: serde_json::Value,
    /// The lines, when this is a detail.
    pub lines: Option<Vec<RemoteLine>>,
    /// What was changed to store it: the fields whose text held a character
    /// that cannot be stored (replaced by U+FFFD), or a note that the raw copy
    /// was refused by the database. Empty for an order stored as sent.
    pub repaired: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RemoteLine {
    pub line_id: String,
    pub listing_id: Option<String>,
    pub sku: Option<String>,
    pub name: String,
    /// How many, and at what unit price: unknown where the catalogue reports
    /// only a line's value (INAPROC's `nilai_transaksi`).
    pub quantity: Option<rust_decimal::Decimal>,
    pub unit: Option<String>,
    pub unit_price: Option<rust_decimal::Decimal>,
    pub line_total: rust_decimal::Decimal,
    pub raw: serde_json::Value,
}

impl RemoteOrder {
    /// A line id that appears more than once, if any (such an order is refused).
    pub fn repeated_line(&self) -> Option<&str> {
        let mut seen = std::collections::HashSet::new();
        self.lines.iter().flatten().map(|l| l.line_id.as_str()).find(|id| !seen.insert(*id))
    }

    /// Lines plus shipping, when the lines are known.
    pub fn lines_total(&self) -> Option<rust_decimal::Decimal> {
        self.lines.as_ref().map(|l| l.iter().map(|l| l.line_total).sum())
    }

    /// Whether the lines plus shipping differ from the total (stored and flagged, never fixed).
    pub fn amount_mismatch(&self) -> bool {
        self.lines_total().is_some_and(|sum| sum + self.shipping_fee != self.total)
    }
}
