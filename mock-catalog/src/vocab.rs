//! What the mock's state and its document readers share, so that neither
//! imports the other for it.

/// The largest amount, in rupiah, that a listing price may be (Rp 1 trillion):
/// far above any cooperative's goods, far below what the arithmetic can hold.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;
