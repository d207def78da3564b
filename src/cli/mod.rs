//! The command line: argument definitions (clap) and dispatch. Each command
//! is a thin call into the library.

mod after_order;
mod commands;
mod common;
mod daemon;
#[cfg(feature = "demo")]
mod demo;
mod inaproc;
mod listings;
mod orders;
mod payments;
mod products;
mod rup;
mod sync;
mod users;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use commands::run;

use crate::config::LogFormat;

/// Exit status when every row went in / some rows were rejected / the command failed.
pub const EXIT_OK: u8 = 0;
pub const EXIT_REJECTED_ROWS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "katalog-bridge",
    version,
    about = "Puts cooperative (KKMP) products on the government e-catalogue and brings purchase orders back",
    long_about = "katalog-bridge keeps the products of neighbourhood cooperatives (Koperasi Kelurahan Merah Putih) \
                  and their members in a local database, lists them on the government e-catalogue, and brings \
                  the government's purchase orders back so the cooperatives can fill them.\n\n\
                  Without DATABASE_URL it starts its own private PostgreSQL in .katalog-bridge/postgres.",
    after_help = "Exit status: 0 when everything went in, 1 when some rows were rejected, 2 on an error."
)]
pub struct Cli {
    /// Configuration file [default: katalog-bridge.toml in this folder, when present]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log format on stderr
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Data directory of the built-in PostgreSQL (when DATABASE_URL is not set)
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    #[cfg(feature = "demo")]
    /// Run the whole job on the built-in fixtures: start the database, import the
    /// 18 Kota Mojokerto cooperatives and their products, map them to every
    /// catalogue format, and print a summary
    Demo {
        /// Folder with cooperatives.csv and products/
        #[arg(long, value_name = "DIR", default_value = "fixtures")]
        fixtures: PathBuf,
        /// Where the catalogue documents go
        #[arg(long, value_name = "DIR", default_value = ".katalog-bridge/out")]
        out: PathBuf,
        /// Then keep the dashboard (on [daemon] listen) and the mock catalogue
        /// running on the demo's data until Ctrl-C, with a liaison and a
        /// cooperative login to try
        #[arg(long)]
        web: bool,
    },
    /// Read cooperatives or products from a spreadsheet (CSV or XLSX)
    #[command(subcommand)]
    Import(ImportCommand),
    /// Database set-up and status
    #[command(subcommand)]
    Db(DbCommand),
    /// Map the products to a catalogue format, check them, and write the
    /// documents. Products with blocking issues are held back and listed with
    /// --issues; the others are written
    Map {
        /// Which catalogue format
        #[arg(long, value_enum)]
        format: crate::catalog::Format,
        /// Only this cooperative (e.g. MJK-WATES)
        #[arg(long, value_name = "CODE")]
        cooperative: Option<String>,
        /// Where to write: a file (katalog-v6), a folder (katalog-v6-xlsx,
        /// peppol-catalogue), or - for standard output [default: out/FORMAT]
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
        /// Print every issue found, product by product
        #[arg(long)]
        issues: bool,
    },
    /// Check the mapping files and lookup tables
    #[command(subcommand)]
    Mappings(MappingsCommand),
    /// Show the configuration in effect (secrets hidden)
    Config,
    /// Work with the e-catalogue
    #[command(subcommand)]
    Sync(SyncCommand),
    /// The liaison's view: every listing with its cooperative, member, SKU,
    /// state and since when, and the reasons of those rejected, sent back or
    /// held back
    Listings {
        #[command(flatten)]
        args: ListingsArgs,
        #[command(subcommand)]
        command: Option<ListingsCommand>,
    },
    /// Run unattended: the jobs on their schedules ([daemon.schedules]), health,
    /// readiness and metrics over HTTP ([daemon] listen), and notifications of
    /// waiting orders ([notify]). Several daemons may share one database
    /// (DATABASE_URL). SIGTERM or SIGINT stops it cleanly (exit 0)
    Daemon,
    /// Each job's schedule ([daemon.schedules]) and its next runs, in the
    /// configured time zone
    Schedule {
        /// How many next runs to show per job
        #[arg(long, default_value_t = 5)]
        count: usize,
    },
    /// The history of runs (imports, publishing, review tracking, order sync):
    /// when, how long, how each ended
    Runs {
        /// Only this job (import-cooperatives, import-products, publish, status, status-inaproc, orders)
        #[arg(long, value_name = "JOB")]
        job: Option<String>,
        /// Only runs that did not succeed (failed, partial, interrupted, abandoned)
        #[arg(long)]
        failed: bool,
        /// One JSON object per line
        #[arg(long)]
        json: bool,
        /// At most this many, newest first
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Government purchase orders: those waiting for an answer, all of them,
    /// and the cooperatives' answers
    #[command(subcommand)]
    Orders(OrdersCommand),
    /// Reports for the cooperatives' bookkeepers and the liaison
    #[command(subcommand)]
    Report(ReportCommand),
    /// The cooperatives as the e-catalogue knows them
    #[command(subcommand)]
    Cooperatives(CooperativesCommand),
    /// The dashboard's accounts: the liaison sees everything, a cooperative's
    /// staff only their own cooperative. Passwords are read from standard input
    #[command(subcommand)]
    Users(UsersCommand),
    /// One product at a time, as the dashboard's product page does it: list,
    /// add, edit (fields named as the products sheet's columns), withdraw,
    /// reactivate, add a photo
    #[command(subcommand)]
    Products(ProductsCommand),
    /// The city's purchase plan (RUP): its packages with the cooperatives
    /// they fit, and what the cooperatives won of it
    #[command(subcommand)]
    Rup(RupCommand),
    /// Payments from the bank: import a cooperative's statement (each credit
    /// matched to the order it pays and recorded as paid), list the credits
    /// waiting for the staff, and assign one to its order
    #[command(subcommand)]
    Payments(PaymentsCommand),
}

#[derive(Debug, Subcommand)]
pub enum PaymentsCommand {
    /// Read a bank statement (CSV or XLSX): a credit whose words name an
    /// order, or whose amount only one unpaid order expects, is recorded as
    /// that order's payment; the others are listed for the staff. A
    /// statement imported again records nothing twice
    Import {
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
        /// The cooperative whose account it is
        #[arg(long, value_name = "CODE")]
        cooperative: String,
        /// How the bank writes its export: mappings/banks/NAME.toml [default: generic]
        #[arg(long, value_name = "NAME")]
        bank: Option<String>,
        /// Who imports it [default: the login name]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
        /// One JSON object
        #[arg(long)]
        json: bool,
    },
    /// The credits imported, newest first
    List {
        #[arg(long, value_name = "CODE")]
        cooperative: Option<String>,
        /// Only those waiting for the staff (ambiguous or unmatched)
        #[arg(long)]
        open: bool,
        /// One JSON array
        #[arg(long)]
        json: bool,
    },
    /// Assign a credit waiting for the staff to the order it pays, and record the payment
    Assign {
        /// The credit's number (payments list)
        #[arg(value_name = "CREDIT")]
        credit: i64,
        /// The order it pays (e.g. EP-2026-000001)
        #[arg(value_name = "ORDER")]
        order: String,
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RupCommand {
    /// The packages read, with their matched cooperatives, nearest choosing first
    List {
        /// Only packages matched to this cooperative
        #[arg(long, value_name = "CODE")]
        cooperative: Option<String>,
        /// Only packages whose choosing begins in this month (YYYY-MM)
        #[arg(long, value_name = "YYYY-MM")]
        month: Option<String>,
        /// Only this fiscal year
        #[arg(long, value_name = "YEAR")]
        tahun: Option<i32>,
        /// Only open opportunities (as of --on)
        #[arg(long)]
        open: bool,
        /// Judge "open" as of this day (YYYY-MM-DD) instead of today in Jakarta
        #[arg(long, value_name = "DATE")]
        on: Option<chrono::NaiveDate>,
        /// One JSON array with every field read and `matches`
        #[arg(long)]
        json: bool,
    },
    /// The matched budget, the value won by our cooperatives and lost to
    /// other sellers, and the share won: per cooperative, work unit and the city
    Report {
        /// The fiscal year (default: this year in Jakarta)
        #[arg(long, value_name = "YEAR")]
        tahun: Option<i32>,
        #[arg(long, value_name = "CODE")]
        cooperative: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProductsCommand {
    /// Each product with its stock, its state on the catalogue and its photos
    List {
        #[arg(long, value_name = "CODE")]
        cooperative: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Add a product: `FIELD=VALUE` per column of the products sheet
    /// (kode_anggota=BLS-01 nama_anggota=... sku=... nama_produk=... kategori=...
    /// satuan=kg harga=12.500 stok=40 ...), checked as the importer checks a row
    Add {
        #[arg(long, value_name = "CODE")]
        cooperative: String,
        #[arg(value_name = "FIELD=VALUE", required = true)]
        fields: Vec<String>,
    },
    /// Change a product's fields (`FIELD=VALUE`; those not given keep their
    /// value; kode_anggota and sku cannot change)
    Edit {
        id: i64,
        #[arg(value_name = "FIELD=VALUE", required = true)]
        fields: Vec<String>,
    },
    /// Stop selling a product on the catalogue
    Withdraw { id: i64 },
    /// Sell a withdrawn product again
    Reactivate { id: i64 },
    /// Add a photo (JPEG, PNG or WebP), kept as the dashboard keeps it
    Photo { id: i64, file: std::path::PathBuf },
    /// What the next publish would do with a product (a new listing, an
    /// update, nothing, or held back and why), then send it now through the
    /// API channel, as "Kirim sekarang" does; `--dry-run` only says
    Send {
        id: i64,
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    Liaison,
    Cooperative,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create an account; its password is the first line of standard input
    /// (e.g. `printf '%s\n' "$PASSWORD" | katalog-bridge users add ...`)
    Add {
        /// 2-40 lower-case letters, digits, dots, dashes or underscores
        username: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The cooperative of a cooperative user (e.g. MJK-WATES)
        #[arg(long, value_name = "CODE")]
        cooperative: Option<String>,
        /// Read the password from standard input (the only way: never from the command line)
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Every account, its role, cooperative and last activity
    List {
        #[arg(long)]
        json: bool,
    },
    /// Disable an account; its sessions end at once
    Disable { username: String },
    /// Lift the lock that a flood of failed logins from many addresses put
    /// on an account (its failed logins are forgotten)
    Unlock { username: String },
    /// Set a new password (read from standard input); the account is enabled
    /// again and its sessions end
    Password {
        username: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CooperativesCommand {
    /// Compare each cooperative's NIB, NPWP and name with its seller record on
    /// INAPROC (penyedia-detail), and show whether it is active, its UMKK class
    /// and KBLI: the liaison's onboarding check. Exit 1 when any differs
    Check {
        /// Only this cooperative (e.g. MJK-WATES)
        #[arg(long, value_name = "CODE")]
        cooperative: Option<String>,
        /// One JSON object per cooperative
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CategoriesCommand {
    /// Read INAPROC's category tree and report the mapped categories
    /// (mappings/tables/categories.csv) whose id is gone or whose names changed.
    /// Exit 1 when any is
    Refresh {
        /// The report as one JSON object
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// A month's orders per cooperative (orders, value, PPN, PPh 22,
    /// delivered, paid, outstanding) and the city's spending through its
    /// cooperatives by work unit; orders made in the month (in Jakarta),
    /// cancelled ones left out
    Monthly {
        /// The month (YYYY-MM)
        #[arg(long, value_name = "MONTH")]
        month: crate::orders::report::Month,
        /// Only this cooperative (e.g. MJK-WATES)
        #[arg(long, value_name = "CODE")]
        cooperative: Option<String>,
        #[arg(long, value_enum, default_value = "csv")]
        format: crate::orders::export::ExportFormat,
        /// The file to write [default: standard output for csv; laporan-MONTH.xlsx for xlsx]
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrdersCommand {
    /// Orders waiting for the seller's confirmation, the soonest deadline
    /// first: buyer, items, total, deadline (WIB) and the working time left
    Pending {
        /// Only this cooperative (e.g. MJK-WATES)
        #[arg(long, value_name = "CODE")]
        cooperative: Option<String>,
    },
    /// Store PEPPOL BIS Ordering 3 Order documents (UBL 2.1) as orders, with
    /// every line, quantity, unit, price and party; a file that cannot be read
    /// is reported and changes nothing
    ImportUbl {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Write a cooperative's orders and their lines for its staff (formulas
    /// neutralised; amounts stay numbers)
    Export {
        #[arg(long, value_name = "CODE")]
        cooperative: String,
        #[arg(long, value_enum, default_value = "csv")]
        format: crate::orders::export::ExportFormat,
        /// Only orders made on or after this day (YYYY-MM-DD, in Jakarta)
        #[arg(long, value_name = "DATE")]
        since: Option<chrono::NaiveDate>,
        /// The file to write [default: standard output for csv; orders-CODE.xlsx for xlsx]
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Every order stored
    List {
        /// Only this cooperative (e.g. MJK-WATES)
        #[arg(long, value_name = "CODE")]
        cooperative: Option<String>,
        /// Only orders in this status, as the API writes it (e.g. ON_PROCESS)
        #[arg(long, value_name = "STATUS")]
        status: Option<String>,
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
    /// A PKP cooperative's tax invoices for Coretax: the month's orders
    /// whose route has it issue its own faktur and that no earlier file
    /// holds, as one XML file to import (at most 1,000 invoices; the rest
    /// in the next file). Every TIN and IDTKU is checked first: nothing is
    /// written while one is wrong, and every problem is named
    Faktur {
        #[arg(long, value_name = "CODE")]
        cooperative: String,
        /// The month the orders were made in (YYYY-MM)
        #[arg(long, value_name = "YYYY-MM")]
        month: crate::orders::report::Month,
        /// The file to write
        #[arg(long, value_name = "FILE.xml")]
        out: std::path::PathBuf,
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
        /// One JSON object
        #[arg(long)]
        json: bool,
    },
    /// The numbers Coretax gave a cooperative's tax invoices, read from
    /// its list of output invoices (e-Faktur > Pajak Keluaran, downloaded as
    /// XLSX or CSV): each issued invoice's number recorded on the order its
    /// reference names. Invoices not issued are listed; a row that cannot be
    /// read is named with its row and column while the others go in. Read
    /// again, it records nothing twice
    FakturNumbers {
        /// Coretax's list (XLSX or CSV)
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
        #[arg(long, value_name = "CODE")]
        cooperative: String,
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
        /// One JSON object
        #[arg(long)]
        json: bool,
    },
    /// One order: its lines, its money (value before PPN, PPN, PPh 22, what
    /// the cooperative receives), its steps after the order and its status history
    Show {
        /// The order id (e.g. EP-2026-000001)
        #[arg(value_name = "ORDER")]
        order: String,
        /// One JSON object
        #[arg(long)]
        json: bool,
    },
    /// Record what happened after the order: the signed order letter,
    /// shipped, delivered, the BAST (its number and date as the work unit
    /// wrote them), the tax invoice (faktur), the payment and shipping
    /// invoices, the PPK's ticket, the payment received, or how it is paid
    /// (its route: `orders show` then lists the route's papers). Entries
    /// are only added: a correction is a new entry, and the newest is in
    /// force
    Record {
        /// The order id (e.g. EP-2026-000001)
        #[arg(value_name = "ORDER")]
        order: String,
        /// The day it happened (YYYY-MM-DD) [default: today in Jakarta]
        #[arg(long, value_name = "DATE")]
        date: Option<chrono::NaiveDate>,
        /// The signed order letter, with its number if it has one (`--order-letter ""` for none)
        #[arg(long, value_name = "NUMBER")]
        order_letter: Option<String>,
        #[arg(long)]
        shipped: bool,
        #[arg(long)]
        delivered: bool,
        /// The BAST's number
        #[arg(long, value_name = "NUMBER")]
        bast: Option<String>,
        /// The tax invoice's number
        #[arg(long, value_name = "NUMBER")]
        faktur: Option<String>,
        /// The payment invoice, with its number if it has one (`--invoice ""` for none)
        #[arg(long, value_name = "NUMBER")]
        invoice: Option<String>,
        /// The shipping's invoice, with its number if it has one (`--logistics-invoice ""` for none)
        #[arg(long, value_name = "NUMBER")]
        logistics_invoice: Option<String>,
        /// The PPK's ticket for a payment outside the system: its number
        #[arg(long, value_name = "NUMBER")]
        ticket: Option<String>,
        /// The amount received in all so far, in rupiah (e.g. 1250000 or 1.250.000)
        #[arg(long, value_name = "AMOUNT")]
        paid: Option<String>,
        /// How the order is paid: in the system, petty cash by government
        /// credit card (up-kkp) or by transfer to the order's virtual
        /// account (up-va), or outside the system (SP2D)
        #[arg(long, value_enum)]
        payment: Option<crate::domain::fulfilment::PaymentWay>,
        /// Who records it [default: the login name]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Answer an order with the owning cooperative's account: accept it, or
    /// reject it with a reason. The answer is recorded before it is sent, so
    /// it is neither lost nor sent twice
    Respond {
        /// The order id (e.g. EP-2026-000001)
        #[arg(value_name = "ORDER")]
        order: String,
        #[arg(long, conflicts_with = "reject", required_unless_present = "reject")]
        accept: bool,
        #[arg(long, requires = "reason")]
        reject: bool,
        /// Why the order is rejected
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// Send a UBL OrderResponse (PEPPOL BIS Ordering 3) instead of JSON
        #[arg(long)]
        ubl: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Map, then send each cooperative's new and changed listings under its own
    /// seller account, and withdraw those of deactivated products. Exit status:
    /// 0 every publication ended in a known state, 1 some were refused for good
    /// (they are listed), 2 configuration or connection error
    Publish {
        /// Only this cooperative (e.g. MJK-WATES)
        #[arg(long, value_name = "CODE")]
        cooperative: Option<String>,
        /// How listings reach the catalogue: by default each cooperative's own
        /// channel (`[[catalogue.sellers]] channel`; api, then peppol). A
        /// cooperative set to another channel is refused, naming both
        #[arg(long, value_enum)]
        channel: Option<crate::publish::Channel>,
        /// Map and plan, and say what would be sent; send nothing
        #[arg(long)]
        dry_run: bool,
        /// Where `--channel xlsx` writes its workbooks (a folder per run inside,
        /// a folder per cooperative in that)
        #[arg(long, value_name = "DIR", default_value = "out/upload")]
        out: std::path::PathBuf,
    },
    /// Pull the purchase orders of the configured buyers and fiscal years for
    /// our cooperatives, with their lines, from where the last run stopped
    Orders {
        /// This buyer government instead of [orders] klpd (e.g. D347)
        #[arg(long, value_name = "CODE")]
        klpd: Vec<String>,
        /// This fiscal year instead of [orders] tahun
        #[arg(long, value_name = "YEAR")]
        tahun: Vec<i32>,
        /// Read every feed from its start
        #[arg(long)]
        full: bool,
        /// Where to read: the catalogue's order API or the INAPROC data API (default: [orders] source)
        #[arg(long, value_enum)]
        source: Option<SourceArg>,
    },
    /// Read the buyers' purchase plans (RUP) from INAPROC, match each package
    /// to the cooperatives whose goods it speaks of, and tell them of their
    /// open opportunities (through the outbox)
    Rup {
        /// This buyer government instead of [orders] klpd (e.g. D347)
        #[arg(long, value_name = "CODE")]
        klpd: Vec<String>,
        /// This fiscal year instead of [orders] tahun
        #[arg(long, value_name = "YEAR")]
        tahun: Vec<i32>,
        /// Judge "not begun" as of this day (YYYY-MM-DD) instead of today in Jakarta
        #[arg(long, value_name = "DATE")]
        on: Option<chrono::NaiveDate>,
    },
    /// Follow each cooperative's listings through review: read the catalogue's
    /// change feed from where the last run stopped and record every change
    Status {
        /// Only this cooperative (e.g. MJK-WATES)
        #[arg(long, value_name = "CODE")]
        cooperative: Option<String>,
        /// The channel whose publications are followed (peppol also applies the
        /// answers to the catalogue documents sent); by default api, then peppol,
        /// each cooperative on its own channel
        #[arg(long, value_enum)]
        channel: Option<crate::publish::Channel>,
        /// inaproc: read each cooperative's products from the INAPROC data API
        /// (live or not, and its words), whatever channel listed them
        #[arg(long, value_enum)]
        source: Option<SourceArg>,
    },
}

#[derive(Debug, Args)]
pub struct ListingsArgs {
    /// Only publications in this state (pending, submitted, under_curation, live,
    /// rejected, revision_requested, taken_down, withdraw_pending, withdrawn,
    /// failed) or drafts held back (blocked)
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
    /// Only this cooperative (e.g. MJK-WATES)
    #[arg(long, value_name = "CODE")]
    pub cooperative: Option<String>,
    /// One JSON object per line
    #[arg(long)]
    pub json: bool,
    /// Only publications of this channel [default: every channel, and the
    /// drafts held back as the API maps them]
    #[arg(long, value_enum)]
    pub channel: Option<crate::publish::Channel>,
}

#[derive(Debug, Subcommand)]
pub enum ListingsCommand {
    /// Send these publications again at the next `sync publish` (ids from `listings --json`)
    Resubmit {
        #[arg(required = true, value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Record that these bulk-upload workbooks (from `sync publish --channel
    /// xlsx`) were uploaded on the portal: their rows' listings become submitted
    MarkUploaded {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<std::path::PathBuf>,
        /// The cooperative the workbooks are for; by default the name of the
        /// folder each lies in
        #[arg(long, value_name = "CODE")]
        cooperative: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MappingsCommand {
    /// Load and compile every mapping and table; report the first mistake with
    /// its file and line, and exit non-zero
    Check {
        /// The mappings folder to check [default: mappings_dir, or the built-in copy]
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// The mapped categories against the e-catalogue's category tree
    #[command(subcommand)]
    Categories(CategoriesCommand),
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import products from a CSV or XLSX file. Bad rows are listed with their
    /// row and column and written to FILE.rejects.csv beside the file; the good
    /// rows are imported. Importing the same file again changes nothing
    Products {
        /// The CSV (`;` or `,` separated) or XLSX file
        file: PathBuf,
        /// The cooperative the rows belong to, when the file has no kode_koperasi column (e.g. MJK-WATES)
        #[arg(long, value_name = "CODE")]
        cooperative: Option<String>,
        #[command(flatten)]
        common: ImportArgs,
    },
    /// Import the cooperatives (KKMP) themselves: code, name, kelurahan, kecamatan, city, NIB, NPWP, PKP
    Cooperatives {
        file: PathBuf,
        #[command(flatten)]
        common: ImportArgs,
    },
    /// Write an empty template to fill in: FILE.xlsx gives a workbook with instructions, FILE.csv a CSV
    Template {
        /// The file to write: NAME.csv or NAME.xlsx
        file: PathBuf,
        /// Replace FILE when it exists
        #[arg(long)]
        force: bool,
        /// Which template
        #[arg(long, value_enum, default_value = "products")]
        kind: TemplateKind,
    },
}

impl clap::ValueEnum for crate::publish::Channel {
    fn value_variants<'a>() -> &'a [Self] {
        &crate::publish::Channel::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum TemplateKind {
    Products,
    Cooperatives,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Check the file and report problems without saving anything
    #[arg(long)]
    pub dry_run: bool,
    /// In an XLSX workbook, the sheet to read [default: the first]
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending database migrations
    Migrate,
    /// Show where the database is and its migration level
    Status,
}

/// Where orders (and listing states) are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SourceArg {
    /// The catalogue's own API, with a seller's account ([catalogue])
    Catalogue,
    /// The INAPROC data API, with the city's data-integrator token ([inaproc])
    Inaproc,
}

impl From<SourceArg> for crate::config::OrderSource {
    fn from(a: SourceArg) -> Self {
        match a {
            SourceArg::Catalogue => crate::config::OrderSource::Catalogue,
            SourceArg::Inaproc => crate::config::OrderSource::Inaproc,
        }
    }
}
