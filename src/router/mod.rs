//! Router stage: order entry. In replay, a paper venue fills orders
//! against the replayed market.

pub mod paper;
pub mod stage;
