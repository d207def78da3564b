//! Payments read from a cooperative's bank statement: which order each
//! credit pays, or why none is chosen. Nothing is guessed: where the
//! description or reference names an order, it decides; otherwise a credit
//! is matched only when exactly one unpaid order expects that amount. No I/O.

use rust_decimal::Decimal;
use serde::Serialize;

/// Where a credit of a statement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditState {
    /// Matched to its order when imported, and recorded as paid.
    Matched,
    /// Several orders fit: the staff choose.
    Ambiguous,
    /// No order fits: the staff assign it, or leave it (not a payment of an order).
    Unmatched,
    /// Assigned to an order by the staff, and recorded as paid.
    Assigned,
}

impl CreditState {
    pub const ALL: [CreditState; 4] = [CreditState::Matched, CreditState::Ambiguous, CreditState::Unmatched, CreditState::Assigned];

    pub fn as_str(self) -> &'static str {
        match self {
            CreditState::Matched => "matched",
            CreditState::Ambiguous => "ambiguous",
            CreditState::Unmatched => "unmatched",
            CreditState::Assigned => "assigned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// In Bahasa Indonesia.
    pub fn label(self) -> &'static str {
        match self {
            CreditState::Matched => "cocok otomatis",
            CreditState::Ambiguous => "lebih dari satu pesanan cocok",
            CreditState::Unmatched => "tidak cocok dengan pesanan",
            CreditState::Assigned => "ditetapkan petugas",
        }
    }

    /// Waits for the staff.
    pub fn open(self) -> bool {
        matches!(self, CreditState::Ambiguous | CreditState::Unmatched)
    }
}

super::named_by!(CreditState, "credit state", as_str);

/// One credit of a statement, as the bank wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    pub amount: Decimal,
    pub description: String,
    pub reference: Option<String>,
}

/// An order a credit may pay: its id, and what is still to be received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The stored order's id.
    pub order: i64,
    /// The order's id on the catalogue, as a credit's words may name it.
    pub remote_id: String,
    pub outstanding: Decimal,
}

/// Which order a credit pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// This order, the bank having kept `fee` of the transfer (zero: none).
    Paid { order: i64, fee: Decimal },
    /// These orders fit: the staff choose.
    Ambiguous(Vec<i64>),
    /// None fits; why, in Bahasa Indonesia.
    Unmatched(String),
}

/// An order id as words may carry it: its letters and digits, upper case
/// (`EP-2026-000001` and `EP2026000001` are one).
pub fn id_key(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

/// Ids shorter than this are not looked for in words: they would be found in any account number.
const MIN_ID_KEY: usize = 5;

/// The fee the bank kept when `amount` pays `outstanding`: zero when equal,
/// a known fee when the amount is the outstanding less it, `None` otherwise.
fn fee_of(amount: Decimal, outstanding: Decimal, fees: &[Decimal]) -> Option<Decimal> {
    if outstanding <= Decimal::ZERO {
        return None;
    }
    if amount == outstanding {
        return Some(Decimal::ZERO);
    }
    fees.iter().copied().find(|f| *f > Decimal::ZERO && amount == outstanding - f)
}

/// Decides which order `credit` pays among `orders` (every order of the
/// cooperative not cancelled, paid or not), with the transfer fees the bank
/// is known to keep. Orders named by the words decide; otherwise amounts.
pub fn decide(credit: &Credit, orders: &[Candidate], fees: &[Decimal]) -> Decision {
    let words = format!("{} {}", credit.description, credit.reference.as_deref().unwrap_or(""));
    let tokens: Vec<String> = words.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '(' | ')' | '|')).map(id_key).collect();
    let named: Vec<&Candidate> = orders.iter().filter(|o| o.remote_id.len() >= MIN_ID_KEY && tokens.contains(&id_key(&o.remote_id))).collect();
    let rupiah = super::money::format_rupiah;
    if !named.is_empty() {
        let fitting: Vec<(&Candidate, Decimal)> = named.iter().filter_map(|o| fee_of(credit.amount, o.outstanding, fees).map(|f| (*o, f))).collect();
        return match fitting.as_slice() {
            [(o, fee)] => Decision::Paid { order: o.order, fee: *fee },
            [] if named.len() == 1 && named[0].outstanding <= Decimal::ZERO => {
                Decision::Unmatched(format!("menyebut pesanan {}, yang sudah lunas", named[0].remote_id))
            }
            [] => Decision::Unmatched(format!(
                "menyebut pesanan {}, tetapi jumlahnya {} tidak sama dengan yang belum dibayar ({})",
                named.iter().map(|o| o.remote_id.as_str()).collect::<Vec<_>>().join(", "),
                rupiah(credit.amount),
                named.iter().map(|o| rupiah(o.outstanding)).collect::<Vec<_>>().join(", ")
            )),
            more => Decision::Ambiguous(more.iter().map(|(o, _)| o.order).collect()),
        };
    }
    let fitting: Vec<(&Candidate, Decimal)> = orders.iter().filter_map(|o| fee_of(credit.amount, o.outstanding, fees).map(|f| (o, f))).collect();
    match fitting.as_slice() {
        [(o, fee)] => Decision::Paid { order: o.order, fee: *fee },
        [] => Decision::Unmatched(format!("tidak ada pesanan yang belum dibayar sebesar {}", rupiah(credit.amount))),
        more => Decision::Ambiguous(more.iter().map(|(o, _)| o.order).collect()),
    }
}

/// Decides every credit of a statement in turn: an order matched is then
/// owed that much less, so one payment is never matched to two credits.
pub fn decide_all(credits: &[Credit], orders: &mut [Candidate], fees: &[Decimal]) -> Vec<Decision> {
    credits
        .iter()
        .map(|c| {
            let d = decide(c, orders, fees);
            if let Decision::Paid { order, fee } = &d
                && let Some(o) = orders.iter_mut().find(|o| o.order == *order)
            {
                o.outstanding -= c.amount + fee;
            }
            d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn order(order: i64, id: &str, outstanding: i64) -> Candidate {
        Candidate { order, remote_id: id.into(), outstanding: Decimal::from(outstanding) }
    }

    fn credit(amount: i64, description: &str) -> Credit {
        Credit { amount: Decimal::from(amount), description: description.into(), reference: None }
    }

    #[test]
    fn words_naming_an_order_decide_and_amounts_alone_need_a_single_fit() {
        let orders = [order(1, "EP-2027-000001", 131_439), order(2, "EP-2027-000002", 131_439), order(3, "EP-2027-000003", 500_000)];
        let fees = [Decimal::from(2_500)];
        assert_eq!(decide(&credit(500_000, "TRF DINSOS"), &orders, &fees), Decision::Paid { order: 3, fee: Decimal::ZERO });
        assert_eq!(decide(&credit(497_500, "BIFAST DINSOS"), &orders, &fees), Decision::Paid { order: 3, fee: Decimal::from(2_500) }, "less a known fee");
        assert_eq!(decide(&credit(131_439, "SP2D 0042"), &orders, &fees), Decision::Ambiguous(vec![1, 2]), "two orders fit: never guessed");
        assert_eq!(decide(&credit(131_439, "BAYAR EP2027000002 DINKES"), &orders, &fees), Decision::Paid { order: 2, fee: Decimal::ZERO });
        let named_wrong = decide(&credit(500_000, "BAYAR EP-2027-000001"), &orders, &fees);
        assert!(matches!(&named_wrong, Decision::Unmatched(why) if why.contains("EP-2027-000001") && why.contains("Rp500.000")), "{named_wrong:?}");
        assert!(matches!(decide(&credit(77_000, "BUNGA"), &orders, &fees), Decision::Unmatched(_)));
        let paid = [order(1, "EP-2027-000001", 0)];
        assert!(matches!(decide(&credit(131_439, "EP-2027-000001"), &paid, &fees), Decision::Unmatched(why) if why.contains("sudah lunas")));
    }

    #[test]
    fn an_order_is_not_paid_twice_by_two_credits_of_one_statement() {
        let mut orders = [order(1, "EP-2027-000001", 250_000)];
        let decisions = decide_all(&[credit(250_000, "TRF"), credit(250_000, "TRF")], &mut orders, &[]);
        assert_eq!(decisions[0], Decision::Paid { order: 1, fee: Decimal::ZERO });
        assert!(matches!(decisions[1], Decision::Unmatched(_)));
    }

    proptest! {
        /// A statement made of exact payments of some orders (amounts all
        /// different) and of credits no order expects: exactly the orders
        /// paid are matched, each to its own credit, and the other credits
        /// are left unmatched.
        #[test]
        fn exact_payments_of_distinct_amounts_match_exactly_the_orders_paid(
            amounts in proptest::collection::btree_set(1_000i64..50_000_000, 1..30),
            paid_mask in proptest::collection::vec(any::<bool>(), 30),
            strays in proptest::collection::vec(1i64..999, 0..5),
        ) {
            let amounts: Vec<i64> = amounts.into_iter().collect();
            let mut orders: Vec<Candidate> = amounts.iter().enumerate().map(|(i, a)| order(i as i64, &format!("EP-2027-{i:06}"), *a)).collect();
            let paid: Vec<i64> = (0..amounts.len() as i64).filter(|i| paid_mask[*i as usize]).collect();
            let mut credits: Vec<(Option<i64>, Credit)> = paid.iter().map(|i| (Some(*i), credit(amounts[*i as usize], "TRANSFER"))).collect();
            // Below any order's amount: no order can expect them.
            credits.extend(strays.iter().map(|s| (None, credit(*s, "BUNGA"))));
            let decisions = decide_all(&credits.iter().map(|c| c.1.clone()).collect::<Vec<_>>(), &mut orders, &[]);
            for ((truth, _), d) in credits.iter().zip(&decisions) {
                match truth {
                    Some(i) => prop_assert_eq!(d, &Decision::Paid { order: *i, fee: Decimal::ZERO }),
                    None => prop_assert!(matches!(d, Decision::Unmatched(_)), "{:?}", d),
                }
            }
        }
    }
}
