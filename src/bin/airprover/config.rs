//! `--config FILE` of `serve`, `worker` and `relay`: a TOML file of flags. Each key is a flag's
//! long name and its value becomes that flag's default, so clap's own order gives the
//! precedence: the command line, then the flag's `AIRPROVER_*` environment variable, then the
//! file, then the built-in default.
//!
//! ```toml
//! redis-file = "/etc/airprover/redis-url"   # top level: every command that has the flag
//! keys = "/var/lib/airprover/keys"
//!
//! [serve]                                   # one command's: over the top level's
//! listen = "0.0.0.0:8787"
//! cors-origin = ["https://app.example"]
//!
//! [worker]
//! threads = 8
//! ```
//!
//! Every key of every table is checked against the command's flags, whichever command reads the
//! file: a typo in `[worker]` stops `serve --check-config` too. No message quotes a value (the
//! file may hold a Redis URL with its password): a TOML syntax error is said by line and column.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use airprover::{Error, Result};
use clap::builder::Resettable;
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, Command};

/// The commands that take `--config`.
pub(crate) const COMMANDS: [&str; 3] = ["serve", "worker", "relay"];

/// Settings given by either of two flags: where the command line or the environment gives one,
/// the file's are left out (rather than refused as conflicting with it).
const ALTERNATIVES: &[&[&str]] = &[&["redis", "redis_file"], &["sealing_key", "dev_unsealed"]];

/// Flags a file may not set: how to read the file, and what to do with it.
const NOT_IN_FILE: &[&str] = &["config", "check_config", "help"];

/// `command` with the defaults of the file that `argv`'s `--config` (or `AIRPROVER_CONFIG`)
/// names, for the subcommand `argv` runs; unchanged without one.
pub(crate) fn apply(command: Command, argv: &[OsString]) -> Result<Command> {
    // A first look, errors ignored (the real parse says them): which command, which file, and
    // which flags the command line or the environment gave.
    let Ok(first) = command
        .clone()
        .ignore_errors(true)
        .try_get_matches_from(argv)
    else {
        return Ok(command);
    };
    let Some((name, given)) = first.subcommand() else {
        return Ok(command);
    };
    if !COMMANDS.contains(&name) {
        return Ok(command);
    }
    let Some(path) = given.get_one::<PathBuf>("config").cloned() else {
        return Ok(command);
    };
    let table = read(&path)?;
    check_keys(&command, &table, &path)?;
    // Given on the command line or in the environment; a switch only when on
    // (`AIRPROVER_DEV_UNSEALED=false` gives nothing).
    let explicit = |id: &str| {
        matches!(
            given.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) && !matches!(given.try_get_one::<bool>(id), Ok(Some(false)))
    };
    let subcommand = command
        .find_subcommand(name)
        .expect("one of COMMANDS")
        .clone();
    let mut settings: Vec<(String, Vec<&'static str>)> = Vec::new();
    for (key, value) in settings_of(&table, name) {
        // A top-level key this command does not have is another command's.
        let Some(arg) = flag(&subcommand, key) else {
            continue;
        };
        let id = arg.get_id().as_str().to_string();
        let pair = ALTERNATIVES.iter().find(|pair| pair.contains(&id.as_str()));
        if pair.is_some_and(|pair| pair.iter().any(|other| explicit(other))) {
            continue;
        }
        settings.push((id, values(arg, key, value, &path, name)?));
    }
    for pair in ALTERNATIVES {
        let from_file: Vec<_> = settings
            .iter()
            .filter(|(id, _)| pair.contains(&id.as_str()))
            .collect();
        if from_file.len() > 1 {
            let keys: Vec<String> = pair.iter().map(|id| id.replace('_', "-")).collect();
            return Err(config_error(
                &path,
                format!("for {name}: {} together: give one", keys.join(" and ")),
            ));
        }
    }
    let file_gives_redis = settings
        .iter()
        .any(|(id, _)| id == "redis" || id == "redis_file");
    Ok(command.mut_subcommand(name, |mut sub| {
        for (id, values) in settings {
            let secret = id == "redis";
            sub = sub.mut_arg(id, |arg| {
                // `--help` shows a default: never the URL, which may hold a password.
                arg.default_values(values)
                    .required(false)
                    .hide_default_value(secret)
            });
        }
        if file_gives_redis {
            // `--redis` is required unless `--redis-file` is given: a default from the file
            // does not count for clap, so the file's answers that requirement instead.
            sub = sub.mut_arg("redis", |arg| {
                arg.required_unless_present(Resettable::Reset)
            });
        }
        sub
    }))
}

/// The file, parsed; a syntax error by line and column, never the line itself.
fn read(path: &Path) -> Result<toml::Table> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        what: e.kind().to_string(),
    })?;
    text.parse::<toml::Table>().map_err(|e| {
        let at = e.span().map_or(String::new(), |span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.lines().count().max(1);
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!(" at line {line}, column {column}")
        });
        config_error(
            path,
            format!("not TOML{at}: {}", e.message().trim_end_matches('\n')),
        )
    })
}

/// Refuses a table that is no command's, and a key that is no flag of the command it is for (a
/// top-level one: of no command).
fn check_keys(command: &Command, table: &toml::Table, path: &Path) -> Result<()> {
    let subcommands: Vec<&Command> = COMMANDS
        .iter()
        .map(|name| command.find_subcommand(name).expect("one of COMMANDS"))
        .collect();
    for (key, value) in table {
        if let Some(sub) = subcommands.iter().find(|s| s.get_name() == key) {
            let toml::Value::Table(section) = value else {
                return Err(config_error(
                    path,
                    format!("{key} must be a table, [{key}]"),
                ));
            };
            for inner in section.keys() {
                if flag(sub, inner).is_none() {
                    return Err(config_error(
                        path,
                        format!("[{key}] {inner}: `airprover {key}` has no such setting"),
                    ));
                }
            }
        } else if value.is_table() {
            return Err(config_error(
                path,
                format!("[{key}]: no such table (serve, worker, relay)"),
            ));
        } else if !subcommands.iter().any(|sub| flag(sub, key).is_some()) {
            return Err(config_error(
                path,
                format!("{key}: no command (serve, worker, relay) has such a setting"),
            ));
        }
    }
    Ok(())
}

/// The flag `key` of `command`, if a file may set it.
fn flag<'c>(command: &'c Command, key: &str) -> Option<&'c Arg> {
    command
        .get_arguments()
        .find(|a| a.get_long() == Some(key))
        .filter(|a| !NOT_IN_FILE.contains(&a.get_id().as_str()))
}

/// The keys for `name`: the top level's that it has, then its table's over them.
fn settings_of<'t>(table: &'t toml::Table, name: &str) -> Vec<(&'t str, &'t toml::Value)> {
    let mut out: Vec<(&str, &toml::Value)> = table
        .iter()
        .filter(|(key, value)| !value.is_table() && !COMMANDS.contains(&key.as_str()))
        .map(|(key, value)| (key.as_str(), value))
        .collect();
    if let Some(toml::Value::Table(section)) = table.get(name) {
        for (key, value) in section {
            out.retain(|(k, _)| k != key);
            out.push((key.as_str(), value));
        }
    }
    out
}

/// A value as clap's default values: a switch takes a boolean, a repeatable flag an array or
/// one value, any other flag one string or number. The message names the key, never the value.
fn values(
    arg: &Arg,
    key: &str,
    value: &toml::Value,
    path: &Path,
    name: &str,
) -> Result<Vec<&'static str>> {
    let scalar = |v: &toml::Value| match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(n) => Some(n.to_string()),
        toml::Value::Float(x) => Some(x.to_string()),
        _ => None,
    };
    let wrong =
        |what: &str| config_error(path, format!("{} {key} must be {what}", table_name(name)));
    let texts = match arg.get_action() {
        ArgAction::SetTrue | ArgAction::SetFalse => match value {
            toml::Value::Boolean(b) => vec![b.to_string()],
            _ => return Err(wrong("true or false")),
        },
        ArgAction::Append => match value {
            toml::Value::Array(items) => items
                .iter()
                .map(scalar)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| wrong("a string, or an array of strings"))?,
            other => vec![scalar(other).ok_or_else(|| wrong("a string, or an array of strings"))?],
        },
        _ => vec![scalar(value).ok_or_else(|| wrong("a string or a number"))?],
    };
    // clap keeps defaults for the life of the process; this is one parse, once.
    Ok(texts
        .into_iter()
        .map(|t| &*Box::leak(t.into_boxed_str()))
        .collect())
}

fn table_name(name: &str) -> String {
    format!("[{name}] (or the top level)")
}

fn config_error(path: &Path, reason: String) -> Error {
    Error::input("config", format!("{}: {reason}", path.display()))
}
