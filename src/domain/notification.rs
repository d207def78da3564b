//! What a notification is about and how it travels: the one list of each,
//! with the names stored in `notifications.kind` and `.channel`.

use super::fulfilment::Step;

/// Why a cooperative is told about an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    /// A new order waits for its confirmation.
    Arrived,
    /// Less than a working day is left to confirm it (`[notify.reminders] near_hours_left`).
    DeadlineNear,
    /// The last reminder, a few working hours before the deadline (`last_hours_left`).
    DeadlineLast,
    /// A step after the order is past its due date.
    Overdue(Step),
    /// Told to a member: an order for their products was accepted; what,
    /// how much, and by when to bring it to the cooperative.
    MemberOrder,
    /// Told to a cooperative: an order brought products to its stock
    /// threshold or below (sent to the catalogue with the new stock at the
    /// next publish).
    StockLow,
    /// Told to a cooperative: a package of the city's purchase plan fits its
    /// goods, and its choosing has not begun (`rup_notices`).
    RupOpportunity,
    /// Told to a cooperative after an opportunity: the package moved or was withdrawn.
    RupCorrection,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 16] = [
        NotificationKind::Arrived,
        NotificationKind::DeadlineNear,
        NotificationKind::DeadlineLast,
        NotificationKind::Overdue(Step::Shipped),
        NotificationKind::Overdue(Step::Delivered),
        NotificationKind::Overdue(Step::Bast),
        NotificationKind::Overdue(Step::Faktur),
        NotificationKind::Overdue(Step::Invoice),
        NotificationKind::Overdue(Step::OrderLetter),
        NotificationKind::Overdue(Step::LogisticsInvoice),
        NotificationKind::Overdue(Step::Ticket),
        NotificationKind::Overdue(Step::Paid),
        NotificationKind::MemberOrder,
        NotificationKind::StockLow,
        NotificationKind::RupOpportunity,
        NotificationKind::RupCorrection,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            NotificationKind::Arrived => "arrived",
            NotificationKind::DeadlineNear => "deadline_near",
            NotificationKind::DeadlineLast => "deadline_last",
            NotificationKind::Overdue(Step::Shipped) => "overdue_shipped",
            NotificationKind::Overdue(Step::Delivered) => "overdue_delivered",
            NotificationKind::Overdue(Step::Bast) => "overdue_bast",
            NotificationKind::Overdue(Step::Faktur) => "overdue_faktur",
            NotificationKind::Overdue(Step::Invoice) => "overdue_invoice",
            NotificationKind::Overdue(Step::OrderLetter) => "overdue_order_letter",
            NotificationKind::Overdue(Step::LogisticsInvoice) => "overdue_logistics_invoice",
            NotificationKind::Overdue(Step::Ticket) => "overdue_ticket",
            NotificationKind::Overdue(Step::Paid | Step::PaymentWay) => "overdue_paid",
            NotificationKind::MemberOrder => "member_order",
            NotificationKind::StockLow => "stock_low",
            NotificationKind::RupOpportunity => "rup_opportunity",
            NotificationKind::RupCorrection => "rup_correction",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// About a package of the purchase plan, not an order.
    pub const fn about_plan(self) -> bool {
        matches!(self, Self::RupOpportunity | Self::RupCorrection)
    }
}

/// How a notification travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationChannel {
    Email,
    Webhook,
    /// A template message through the WhatsApp Business Cloud API.
    WhatsApp,
}

impl NotificationChannel {
    pub const ALL: [NotificationChannel; 3] = [NotificationChannel::Email, NotificationChannel::Webhook, NotificationChannel::WhatsApp];

    pub const fn name(self) -> &'static str {
        match self {
            NotificationChannel::Email => "email",
            NotificationChannel::Webhook => "webhook",
            NotificationChannel::WhatsApp => "whatsapp",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

super::named_by!(NotificationKind, "notification kind", name);
super::named_by!(NotificationChannel, "notification channel", name);

/// Where a notification stands in its outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationState {
    /// Waiting to be sent (or to be sent again).
    Pending,
    Sent,
    /// Given up on after its attempts.
    Failed,
    /// No longer worth sending: the order was answered or ended first.
    Moot,
}

impl NotificationState {
    pub const ALL: [NotificationState; 4] = [Self::Pending, Self::Sent, Self::Failed, Self::Moot];

    /// In Bahasa Indonesia, as the staff read it.
    pub const fn in_indonesian(self) -> &'static str {
        match self {
            Self::Pending => "menunggu",
            Self::Sent => "terkirim",
            Self::Failed => "gagal",
            Self::Moot => "tidak perlu lagi",
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Moot => "moot",
        }
    }
}

super::named_by!(NotificationState, "notification state", as_str);

/// A kind or channel name that is none of the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown notification {what} {name:?}")]
pub struct UnknownName {
    what: &'static str,
    name: String,
}

impl TryFrom<String> for NotificationKind {
    type Error = UnknownName;

    fn try_from(name: String) -> Result<Self, UnknownName> {
        Self::parse(&name).ok_or(UnknownName { what: "kind", name })
    }
}

impl TryFrom<String> for NotificationChannel {
    type Error = UnknownName;

    fn try_from(name: String) -> Result<Self, UnknownName> {
        Self::parse(&name).ok_or(UnknownName { what: "channel", name })
    }
}

super::serialize_by_name!(NotificationKind, NotificationChannel, NotificationState);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(k.name()), Some(k));
        }
        for c in NotificationChannel::ALL {
            assert_eq!(NotificationChannel::parse(c.name()), Some(c));
        }
        assert_eq!(NotificationChannel::parse("sms"), None);
        assert!(NotificationChannel::try_from("sms".to_owned()).unwrap_err().to_string().contains("\"sms\""));
    }
}
