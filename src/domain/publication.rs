//! A listing's life on the catalogue, as a pure state machine: what the
//! publisher and the status sync may do to a publication, decided here and
//! persisted by the store. No I/O, no wire names.

/// How a cooperative's listings reach the catalogue. Each cooperative uses
/// one (`[[catalogue.sellers]] channel`), so that a product is listed once
/// whichever was used before; changing it hands the listings over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// The catalogue's listing API (katalog-v6 JSON), one call per listing.
    #[default]
    Api,
    /// One UBL Catalogue document per seller and batch (PEPPOL BIS Catalogue 3).
    Peppol,
    /// Bulk-upload workbooks written for the liaison to upload by hand on the
    /// portal (which has no write API); `listings mark-uploaded` records it.
    Xlsx,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Api, Channel::Peppol, Channel::Xlsx];

    pub fn name(self) -> &'static str {
        match self {
            Channel::Api => "api",
            Channel::Peppol => "peppol",
            Channel::Xlsx => "xlsx",
        }
    }
}

/// Where a publication stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublicationState {
    /// To be sent (new, changed, or sent again on request); nothing in flight.
    Pending,
    /// The catalogue took it; review has not started.
    Submitted,
    /// Curators are reviewing it.
    UnderCuration,
    /// Live on the catalogue ("tayang").
    Live,
    /// Refused by the curators, with reasons.
    Rejected,
    /// Sent back for changes, with reasons.
    RevisionRequested,
    /// Taken down by the catalogue ("turun tayang").
    TakenDown,
    /// To be withdrawn (the product was removed or deactivated); not yet sent.
    WithdrawPending,
    /// Withdrawn by the seller.
    Withdrawn,
    /// Sending failed for good (a refusal that will not change by itself).
    Failed,
}

/// Something that happens to a publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The product's content changed, or a resend was asked for.
    Resend,
    /// The catalogue accepted our write.
    Accepted,
    /// The catalogue refused our write for good.
    Refused,
    /// The product was removed or deactivated: withdraw the listing.
    Withdraw,
    /// The catalogue confirmed the withdrawal.
    WithdrawAccepted,
    /// A catalogue document was taken whole, and then this line of it was
    /// refused when the catalogue processed it (PEPPOL Catalogue Response).
    LineRefused,
    /// The catalogue's change feed says the listing is now in this state.
    Remote(RemoteState),
}

/// The states the catalogue itself reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RemoteState {
    Submitted,
    UnderCuration,
    Live,
    Rejected,
    RevisionRequested,
    TakenDown,
    Withdrawn,
}

/// One change of a listing, as the catalogue's change feed reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingChange {
    /// The catalogue's listing id.
    pub remote_id: String,
    pub state: RemoteState,
    /// Rejection or revision reasons, in the curators' words.
    pub reasons: Vec<String>,
    /// The catalogue's id of this change: each is recorded once.
    pub change: String,
    /// The seller's item id as the catalogue has it (`sku`, and `kode_anggota`
    /// where given): finds the publication of a listing whose id is not known
    /// here yet (a PEPPOL line taken before its result was read).
    pub sku: Option<String>,
    pub member: Option<String>,
}

/// What a resend asked for by hand does with a publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnRequest {
    /// Sent again at the next publish, as a new request.
    Resend,
    /// Nothing changed since the catalogue took it: not sent again.
    Unchanged,
    /// Already to be sent: left as it is.
    AlreadyDue,
}

/// A change the machine does not allow from a state; recorded, not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{change:?} is not allowed in state {from:?}")]
pub struct NotAllowed {
    pub from: PublicationState,
    pub change: Change,
}

impl From<RemoteState> for PublicationState {
    fn from(r: RemoteState) -> Self {
        match r {
            RemoteState::Submitted => Self::Submitted,
            RemoteState::UnderCuration => Self::UnderCuration,
            RemoteState::Live => Self::Live,
            RemoteState::Rejected => Self::Rejected,
            RemoteState::RevisionRequested => Self::RevisionRequested,
            RemoteState::TakenDown => Self::TakenDown,
            RemoteState::Withdrawn => Self::Withdrawn,
        }
    }
}

impl PublicationState {
    pub const ALL: [PublicationState; 10] = [
        Self::Pending,
        Self::Submitted,
        Self::UnderCuration,
        Self::Live,
        Self::Rejected,
        Self::RevisionRequested,
        Self::TakenDown,
        Self::WithdrawPending,
        Self::Withdrawn,
        Self::Failed,
    ];

    /// The state a change leads to, or why it may not happen.
    pub fn apply(self, change: Change) -> Result<PublicationState, NotAllowed> {
        use PublicationState as S;
        use RemoteState as R;
        let refused = Err(NotAllowed { from: self, change });
        match (self, change) {
            // Our own writes.
            (_, Change::Resend) => Ok(S::Pending),
            (S::Pending, Change::Accepted) => Ok(S::Submitted),
            (S::Pending, Change::Refused) => Ok(S::Failed),
            (S::Withdrawn, Change::Withdraw) => Ok(S::Withdrawn),
            (_, Change::Withdraw) => Ok(S::WithdrawPending),
            (S::WithdrawPending, Change::WithdrawAccepted) => Ok(S::Withdrawn),
            (S::WithdrawPending, Change::Refused) => Ok(S::Failed),
            (S::Submitted | S::Withdrawn, Change::LineRefused) => Ok(S::Failed),
            (_, Change::Accepted | Change::Refused | Change::WithdrawAccepted | Change::LineRefused) => refused,
            // What the catalogue reports. A repeat of the current state is no change.
            (s, Change::Remote(r)) if s == S::from(r) => Ok(s),
            // While our own write is due, the feed's older news does not override it.
            (S::Pending | S::WithdrawPending, Change::Remote(R::Withdrawn)) => Ok(S::Withdrawn),
            (S::Pending | S::WithdrawPending, Change::Remote(_)) => refused,
            (S::Failed, Change::Remote(_)) => refused,
            (_, Change::Remote(R::Withdrawn)) => Ok(S::Withdrawn),
            (S::Withdrawn, Change::Remote(_)) => refused,
            // Review: submitted, under curation, then a decision (pages may skip a step).
            (S::Submitted, Change::Remote(r @ (R::UnderCuration | R::Live | R::Rejected | R::RevisionRequested))) => Ok(r.into()),
            (S::UnderCuration, Change::Remote(r @ (R::Live | R::Rejected | R::RevisionRequested))) => Ok(r.into()),
            (S::Live, Change::Remote(R::TakenDown)) => Ok(S::TakenDown),
            // A listing sent again goes through review again.
            // (an update made elsewhere, say on the portal by hand).
            (S::Live | S::Rejected | S::RevisionRequested | S::TakenDown, Change::Remote(r @ (R::Submitted | R::UnderCuration))) => Ok(r.into()),
            (_, Change::Remote(_)) => refused,
        }
    }

    /// What a resend asked for by hand (`listings resubmit`) does: a listing
    /// the catalogue refused, sent back or took down is sent again; one it
    /// holds (under review, live) or that was withdrawn is sent again only
    /// when its content changed since it was sent (`changed`), since resending
    /// the same content would only start its review over; one already due is
    /// left as it is.
    pub fn on_request(self, changed: bool) -> OnRequest {
        match self {
            Self::Pending | Self::WithdrawPending => OnRequest::AlreadyDue,
            Self::Failed | Self::Rejected | Self::RevisionRequested | Self::TakenDown => OnRequest::Resend,
            Self::Submitted | Self::UnderCuration | Self::Live | Self::Withdrawn if changed => OnRequest::Resend,
            Self::Submitted | Self::UnderCuration | Self::Live | Self::Withdrawn => OnRequest::Unchanged,
        }
    }

    /// Whether the publisher has work to do for it.
    pub fn needs_sending(self) -> bool {
        matches!(self, Self::Pending | Self::WithdrawPending)
    }

    /// The name it is stored under (and shown by `listings --json`); the
    /// catalogue's own name where it has the state.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Submitted => "submitted",
            Self::UnderCuration => "under_curation",
            Self::Live => "live",
            Self::Rejected => "rejected",
            Self::RevisionRequested => "revision_requested",
            Self::TakenDown => "taken_down",
            Self::WithdrawPending => "withdraw_pending",
            Self::Withdrawn => "withdrawn",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }
}

/// The catalogue's result for one line of an uploaded document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineResult {
    pub line_id: String,
    pub accepted: bool,
    pub reason: Option<String>,
    pub listing_id: Option<String>,
}

super::named_by!(Channel, "listing channel", name);

/// Where a product's listing stands, as the dashboard lists it: held back
/// before it was ever sent (a draft with errors), or its publication's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Standing {
    Blocked,
    Published(PublicationState),
}

impl Standing {
    /// Every standing, in the order of a listing's life.
    pub const ALL: [Standing; 11] = [
        Self::Blocked,
        Self::Published(PublicationState::Pending),
        Self::Published(PublicationState::Submitted),
        Self::Published(PublicationState::UnderCuration),
        Self::Published(PublicationState::Live),
        Self::Published(PublicationState::Rejected),
        Self::Published(PublicationState::RevisionRequested),
        Self::Published(PublicationState::TakenDown),
        Self::Published(PublicationState::WithdrawPending),
        Self::Published(PublicationState::Withdrawn),
        Self::Published(PublicationState::Failed),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Blocked => "blocked",
            Self::Published(state) => state.as_str(),
        }
    }

    /// Whether the liaison must look at it (its reasons are shown).
    pub fn needs_attention(self) -> bool {
        use PublicationState::*;
        matches!(self, Self::Blocked | Self::Published(Rejected | RevisionRequested | Failed | TakenDown))
    }

    /// Sent back by the catalogue's curators.
    pub fn sent_back(self) -> bool {
        matches!(self, Self::Published(PublicationState::Rejected | PublicationState::RevisionRequested))
    }
}

super::named_by!(Standing, "listing standing", as_str);
super::named_by!(PublicationState, "listing state", as_str);

super::serialize_by_name!(PublicationState, Standing);

#[cfg(test)]
mod tests {
    use super::Change::*;
    use super::PublicationState as S;
    use super::RemoteState as R;
    use super::*;

    #[test]
    fn a_listing_goes_from_sent_through_review_to_live() {
        let mut s = S::Pending;
        for (change, want) in [
            (Accepted, S::Submitted),
            (Remote(R::UnderCuration), S::UnderCuration),
            (Remote(R::Live), S::Live),
            (Remote(R::Live), S::Live),
            (Remote(R::TakenDown), S::TakenDown),
            (Resend, S::Pending),
            (Accepted, S::Submitted),
            (Remote(R::Rejected), S::Rejected),
            (Withdraw, S::WithdrawPending),
            (WithdrawAccepted, S::Withdrawn),
        ] {
            s = s.apply(change).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(s, want, "{change:?}");
        }
    }

    #[test]
    fn changes_that_make_no_sense_are_refused() {
        for (from, change) in [
            (S::Submitted, Accepted),
            (S::Live, Accepted),
            (S::Withdrawn, Remote(R::Live)),
            (S::Pending, Remote(R::Live)),
            (S::Failed, Remote(R::Live)),
            (S::UnderCuration, Remote(R::TakenDown)),
            (S::Rejected, Remote(R::Live)),
            (S::Submitted, WithdrawAccepted),
            (S::Live, LineRefused),
            (S::Pending, LineRefused),
        ] {
            assert_eq!(from.apply(change), Err(NotAllowed { from, change }), "{from:?} + {change:?}");
        }
    }

    #[test]
    fn a_catalogue_line_refused_after_its_document_was_taken_fails() {
        assert_eq!(S::Pending.apply(Accepted).and_then(|s| s.apply(LineRefused)), Ok(S::Failed));
        assert_eq!(S::WithdrawPending.apply(WithdrawAccepted).and_then(|s| s.apply(LineRefused)), Ok(S::Failed));
        // Review news about it afterwards is not applied, as for any failed send.
        assert!(S::Failed.apply(Remote(R::UnderCuration)).is_err());
    }

    #[test]
    fn a_resend_by_hand_goes_only_where_it_can_change_something() {
        // Refused, sent back or taken down: the point of a resend.
        for s in [S::Failed, S::Rejected, S::RevisionRequested, S::TakenDown] {
            assert_eq!(s.on_request(false), OnRequest::Resend, "{s:?}");
        }
        // Held or withdrawn with the content the catalogue has: nothing to resend.
        for s in [S::Submitted, S::UnderCuration, S::Live, S::Withdrawn] {
            assert_eq!(s.on_request(false), OnRequest::Unchanged, "{s:?}");
            assert_eq!(s.on_request(true), OnRequest::Resend, "{s:?} with new content");
        }
        assert_eq!(S::Pending.on_request(true), OnRequest::AlreadyDue);
        assert_eq!(S::WithdrawPending.on_request(false), OnRequest::AlreadyDue);
    }

    #[test]
    fn every_state_can_be_withdrawn_and_sent_again() {
        for s in S::ALL {
            assert_eq!(s.apply(Withdraw).unwrap(), if s == S::Withdrawn { S::Withdrawn } else { S::WithdrawPending });
            assert_eq!(s.apply(Resend).unwrap(), S::Pending);
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
        assert_eq!(S::parse("tayang"), None);
    }
}
