use std::process::ExitCode;

use std::io::Write as _;

use super::common::{cooperative_arg, with_store};
use super::{Cli, Command, DbCommand, EXIT_ERROR, EXIT_OK, EXIT_REJECTED_ROWS, ImportArgs, ImportCommand, MappingsCommand, TemplateKind};
use crate::catalog::Format;
use crate::config::Settings;
use crate::intake::{self, ImportOptions, ImportReport};
use crate::listings::{self, MapOptions, Output};
use crate::mapping::MappingSource;
use crate::mapping::plan::Tables;
use crate::mapping::units::UnitTable;
use crate::store::Store;
use crate::telemetry;

/// Runs a parsed command line; never panics on bad input, returns the exit status.
pub async fn run(cli: Cli) -> ExitCode {
    let mut settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(&anyhow::Error::new(e)),
    };
    if let Some(format) = cli.log_format {
        settings.log.format = format;
    }
    if let Some(dir) = cli.data_dir {
        settings.database.data_dir = dir;
    }
    telemetry::init(settings.log.format, &settings.log.filter);
    tracing::debug!(?settings, "configuration loaded");
    if let Err(e) = crate::shutdown::install() {
        return fail(&anyhow::Error::new(e).context("cannot listen for SIGINT and SIGTERM"));
    }
    // The daemon's normal end is a signal: it exits 0 when it stopped cleanly.
    let daemon = matches!(cli.command, super::Command::Daemon);
    let outcome = dispatch(cli.command, &settings).await;
    // Stopped by a signal: the shell's status for it (130, 143), after saying what was kept.
    if let Some(signal) = crate::shutdown::signal()
        && !(daemon && outcome.is_ok())
    {
        if let Err(e) = &outcome {
            fail(e);
        }
        return ExitCode::from(crate::shutdown::exit_status(signal));
    }
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => fail(&e),
    }
}

/// Prints the error on one line, with each cause not already in the message.
fn fail(e: &anyhow::Error) -> ExitCode {
    let mut line = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    eprintln!("error: {}", line.replace('\n', " "));
    ExitCode::from(EXIT_ERROR)
}

/// One function per command group; the single commands are here.
async fn dispatch(command: Command, settings: &Settings) -> anyhow::Result<u8> {
    let mappings = MappingSource::from_config(settings.mappings_dir.as_deref());
    match command {
        Command::Sync(command) => super::sync::run(command, settings).await,
        Command::Listings { args, command } => super::listings::run(args, command, settings).await,
        Command::Orders(command) => super::orders::run(command, settings).await,
        Command::Report(command) => super::after_order::report(command, settings).await,
        Command::Cooperatives(command) => super::inaproc::cooperatives(command, settings).await,
        Command::Users(command) => super::users::users(command, settings).await,
        Command::Products(command) => super::products::run(command, settings).await,
        Command::Rup(command) => super::rup::run(command, settings).await,
        Command::Payments(command) => super::payments::run(command, settings).await,
        Command::Import(command) => import(command, settings).await,
        Command::Db(command) => db(command, settings).await,
        Command::Mappings(command) => mappings_command(command, settings).await,
        Command::Map { format, cooperative, out, issues } => {
            let tables = Tables::load(&mappings)?;
            let plan = format.plan(&mappings, &tables)?;
            let cooperative = cooperative_arg(cooperative)?.map(|c| c.to_string());
            let out = match out {
                Some(p) if p.as_os_str() == "-" => Output::Stdout,
                Some(p) => Output::Path(p),
                None => Output::Path(default_out(format, cooperative.as_deref())),
            };
            let options = MapOptions { cooperative, out, issue_date: crate::domain::time::today(), photo_base: settings.photo_base(), products: None };
            with_store(settings, async |store| {
                let report = listings::map_products(store, &plan, format, &options).await?;
                if issues {
                    for line in report.issue_lines() {
                        eprintln!("{line}");
                    }
                }
                eprintln!("{}", report.summary());
                Ok(EXIT_OK)
            })
            .await
        }
        Command::Daemon => super::daemon::daemon(settings).await,
        Command::Schedule { count } => {
            let tz = settings.daemon.tz().map_err(anyhow::Error::msg)?;
            let schedules = crate::daemon::schedule::from_settings(&settings.daemon.schedules).map_err(anyhow::Error::msg)?;
            let now = chrono::Utc::now();
            println!("schedules in {tz} (now {})", now.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z"));
            for (job, s) in schedules {
                let next: Vec<String> = s.upcoming(now, tz, count).iter().map(|t| t.with_timezone(&tz).format("%a %Y-%m-%d %H:%M").to_string()).collect();
                println!("{job:<8} {:<20} next: {}", s.expr, next.join(", "));
            }
            Ok(EXIT_OK)
        }
        Command::Runs { job, failed, json, limit } => {
            with_store(settings, async |store| {
                let runs = crate::store::runs::history(store, job.as_deref(), failed, limit).await?;
                let mut out = std::io::stdout().lock();
                for r in &runs {
                    if json {
                        writeln!(out, "{}", serde_json::to_string(r).unwrap_or_default())?;
                    } else {
                        let took =
                            r.finished_at.map(|f| format!("{:.1} s", (f - r.started_at).num_milliseconds() as f64 / 1000.0)).unwrap_or_else(|| "-".into());
                        let error = r.error.as_deref().map(|e| format!("  {}", e.chars().take(200).collect::<String>())).unwrap_or_default();
                        let job = if r.role == "help" { format!("{} (help)", r.job) } else { r.job.clone() };
                        writeln!(
                            out,
                            "{:>6} {:<19} {:<12} {} {:>9}  {}{error}",
                            r.id,
                            job,
                            r.status,
                            crate::domain::time::show(r.started_at),
                            took,
                            r.instance
                        )?;
                    }
                }
                if !json {
                    eprintln!("{} runs", runs.len());
                }
                Ok(EXIT_OK)
            })
            .await
        }
        Command::Config => {
            print!("{}", settings.describe());
            Ok(EXIT_OK)
        }
        #[cfg(feature = "demo")]
        Command::Demo { fixtures, out, web } => super::demo::demo_command(fixtures, out, web, settings).await,
    }
}

/// `import cooperatives|products|template`.
async fn import(command: ImportCommand, settings: &Settings) -> anyhow::Result<u8> {
    let mappings = MappingSource::from_config(settings.mappings_dir.as_deref());
    match command {
        ImportCommand::Template { file, kind, force } => {
            let units = UnitTable::load(&mappings)?;
            let (columns, example): (_, &[&str]) = match kind {
                TemplateKind::Products => (intake::products::PRODUCT_COLUMNS, intake::template::PRODUCT_EXAMPLE),
                TemplateKind::Cooperatives => (
                    intake::cooperatives::COOPERATIVE_COLUMNS,
                    &[
                        "MJK-WATES",
                        "KKMP Wates",
                        "Wates",
                        "Magersari",
                        "Kota Mojokerto",
                        "",
                        "",
                        "tidak",
                        "",
                        "P3576-0006",
                        "kkmp-wates@koperasi.example",
                        "081234567890",
                    ],
                ),
            };
            intake::template::write(&file, columns, example, &units, force)?;
            println!("template written to {}", file.display());
            Ok(EXIT_OK)
        }
        ImportCommand::Cooperatives { file, common } => {
            let options = import_options(common);
            with_store(settings, async |store| {
                let report = intake::cooperatives::import_cooperatives(store, &file, &options, &settings.import).await?;
                Ok(print_report(&report))
            })
            .await
        }
        ImportCommand::Products { file, cooperative, common } => {
            let options = import_options(common);
            let cooperative = cooperative_arg(cooperative)?.map(|c| c.to_string());
            let units = std::sync::Arc::new(UnitTable::load(&mappings)?);
            let shown = file.display().to_string();
            with_store(settings, async |store| {
                let actor = crate::app::Actor::operator();
                let report =
                    crate::app::imports::import_products(store, &units, &settings.import, &actor, (&file, &shown), cooperative.as_deref(), &options).await?;
                Ok(print_report(&report.report))
            })
            .await
        }
    }
}

/// `db status|migrate`.
async fn db(command: DbCommand, settings: &Settings) -> anyhow::Result<u8> {
    match command {
        DbCommand::Status => {
            let store = Store::open(&settings.database).await?;
            let status = store.migration_status().await;
            println!("database: {}", store.location());
            let result = status.map(|s| {
                let latest = s.latest_applied.map_or("none".to_owned(), |v| v.to_string());
                println!("migrations: {} applied (latest {latest}), {} pending", s.applied, s.pending.len());
                for (version, description) in &s.pending {
                    println!("  pending: {version} {description}");
                }
            });
            store.close().await?;
            result?;
            Ok(EXIT_OK)
        }
        DbCommand::Migrate => {
            with_store(settings, async |store| {
                println!("database: {}", store.location());
                println!("migrations applied");
                Ok(EXIT_OK)
            })
            .await
        }
    }
}

/// `mappings check`.
async fn mappings_command(command: MappingsCommand, settings: &Settings) -> anyhow::Result<u8> {
    let mappings = MappingSource::from_config(settings.mappings_dir.as_deref());
    match command {
        MappingsCommand::Check { dir } => {
            let source = dir.map_or(mappings, MappingSource::Dir);
            match &source {
                MappingSource::BuiltIn => {
                    println!("checking the built-in mappings (compiled into this program; check a folder with --dir, use one with mappings_dir)")
                }
                MappingSource::Dir(d) => println!("checking the mappings in {}", d.display()),
            }
            let plans = crate::catalog::check_all(&source)?;
            let built_in = matches!(source, MappingSource::BuiltIn);
            for plan in &plans {
                let origin = if built_in { "built-in copy of " } else { "" };
                println!("{origin}{}: ok ({} fields)", plan.path.display(), plan.targets.len());
            }
            println!("mappings are valid");
            Ok(EXIT_OK)
        }
        MappingsCommand::Categories(command) => super::inaproc::categories(command, settings).await,
    }
}

/// `out/katalog-v6/`, `out/katalog-v6-xlsx/`, `out/peppol-catalogue/`: one
/// folder per format, one file (or more) per cooperative in it. A run for one
/// cooperative writes only that cooperative's files there.
pub fn default_out(format: Format, _cooperative: Option<&str>) -> std::path::PathBuf {
    std::path::PathBuf::from("out").join(format.name())
}

fn import_options(args: ImportArgs) -> ImportOptions {
    ImportOptions { dry_run: args.dry_run, sheet: args.sheet }
}

fn print_report(report: &ImportReport) -> u8 {
    for line in report.reject_lines().into_iter().chain(report.notice_lines()) {
        eprintln!("{line}");
    }
    println!("{}", report.summary());
    if report.rejected > 0 { EXIT_REJECTED_ROWS } else { EXIT_OK }
}
