//! The domain's named enums as PostgreSQL `text` values: sqlx reads and
//! writes each as itself, by its stored name ([`crate::domain::Named`]).

use sqlx::Postgres;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};

use crate::domain::Named;

macro_rules! text_column {
    ($($t:ty),* $(,)?) => {$(
        impl sqlx::Type<Postgres> for $t {
            fn type_info() -> PgTypeInfo {
                <&str as sqlx::Type<Postgres>>::type_info()
            }
            fn compatible(ty: &PgTypeInfo) -> bool {
                <&str as sqlx::Type<Postgres>>::compatible(ty)
            }
        }
        impl<'r> sqlx::Decode<'r, Postgres> for $t {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let name = <&str as sqlx::Decode<'r, Postgres>>::decode(value)?;
                <$t as Named>::from_name(name).ok_or_else(|| format!("unknown {} {name:?} in the database", <$t as Named>::WHAT).into())
            }
        }
        impl sqlx::Encode<'_, Postgres> for $t {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as sqlx::Encode<'_, Postgres>>::encode(Named::name(self), buf)
            }
        }
        impl sqlx::postgres::PgHasArrayType for $t {
            fn array_type_info() -> PgTypeInfo {
                <&str as sqlx::postgres::PgHasArrayType>::array_type_info()
            }
        }
    )*};
}

use crate::domain::fulfilment::{PaymentWay, Step};
use crate::domain::job::{Job, RunStatus};
use crate::domain::notification::{NotificationChannel, NotificationKind, NotificationState};
use crate::domain::order::{AnswerState, OrderSource, OrderStatus};
use crate::domain::payments::CreditState;
use crate::domain::publication::{Channel, PublicationState, Standing};
use crate::domain::rup::{NoticeKind, PlanChange};

text_column!(
    PlanChange,
    NoticeKind,
    OrderStatus,
    OrderSource,
    AnswerState,
    PublicationState,
    Standing,
    Channel,
    NotificationKind,
    NotificationChannel,
    NotificationState,
    Step,
    PaymentWay,
    CreditState,
    Job,
    RunStatus
);
