//! API bodies into the TOML tables the config reader takes, so a window or
//! team sent as JSON is validated exactly like one in a config file.

use serde_json::Value;

use super::fields::Problem;
use super::{team_from_table, window_from_table};
use crate::error::ErrorCode;
use crate::policy::{Source, Team, Window};

/// A JSON object as a TOML table; `null` means absent.
pub fn table_from_json(value: &Value) -> Result<toml::Table, String> {
    fn convert(v: &Value) -> Result<Option<toml::Value>, String> {
        Ok(Some(match v {
            Value::Null => return Ok(None),
            Value::Bool(b) => toml::Value::Boolean(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => toml::Value::Integer(i),
                None => toml::Value::Float(n.as_f64().unwrap_or_default()),
            },
            Value::String(s) => toml::Value::String(s.clone()),
            Value::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.push(convert(item)?.ok_or("lists may not hold null")?);
                }
                toml::Value::Array(out)
            }
            Value::Object(map) => {
                let mut table = toml::Table::new();
                for (k, v) in map {
                    if let Some(v) = convert(v)? {
                        table.insert(k.clone(), v);
                    }
                }
                toml::Value::Table(table)
            }
        }))
    }
    match convert(value)? {
        Some(toml::Value::Table(t)) => Ok(t),
        _ => Err("the body must be a JSON object".into()),
    }
}

fn table(spec: &Value) -> Result<toml::Table, Vec<Problem>> {
    table_from_json(spec).map_err(|m| vec![Problem::new(None, "", "", ErrorCode::InvalidType, m)])
}

/// A window from its JSON definition, validated like a config file.
pub fn window_from_json(spec: &Value) -> Result<Window, Vec<Problem>> {
    window_from_table(&table(spec)?, None, 0, Source::Api)
}

/// A team from its JSON definition, validated like a config file.
pub fn team_from_json(spec: &Value) -> Result<Team, Vec<Problem>> {
    team_from_table(&table(spec)?, None, 0, Source::Api)
}
