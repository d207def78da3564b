//! Every integration test in one binary, so the library is linked once:
//! a module per area, the shared helpers in `common`. They run against a
//! real PostgreSQL, the real binary, real files and real HTTP.

mod common;

mod after_order;
mod catalogue_client;
mod cli;
mod daemon;
mod docs;
mod embedded_postgres;
mod hostile_files;
mod house;
mod import_products;
mod inaproc;
mod interrupt;
mod listing_state;
mod mapping_formats;
mod mapping_rules;
mod mock_catalog;
mod notify;
mod order_documents;
mod orders;
mod payments;
mod postgres_tls;
mod publish;
mod publish_channels;
mod rup;
mod text_round_trip;
mod use_cases;
mod web;
