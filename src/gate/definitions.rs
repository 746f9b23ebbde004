//! Windows and teams changed through the API: validated like config files,
//! refused where a config file defines them, stored with their audit record.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::idempotency::{self, Made};
use super::{Caller, Gate};
use crate::config::{Problem, team_from_json, window_from_json};
use crate::error::{Error, ErrorCode};
use crate::policy::{Team, Window};
use crate::store::{DefinitionKind, Definitions, Inserted};
use crate::wire::WindowView;

fn defined_in_config(what: &str, key: &str) -> Error {
    Error::new(
        ErrorCode::DefinedInConfig,
        format!("{what} `{key}` comes from a config file; change it there (in git), not through the API"),
    )
}

pub fn window_not_found(id: &str) -> Error {
    Error::new(ErrorCode::WindowNotFound, format!("no window has id `{}`; GET /windows lists them", id.escape_debug()))
}

pub fn team_not_found(name: &str) -> Error {
    Error::new(ErrorCode::TeamNotFound, format!("no team is named `{}`; GET /teams lists them", name.escape_debug()))
}

/// A body that names what it defines by `key` (a window's `id`, a team's
/// `name`) where the path names it too: absent takes the path's value; a
/// different one is refused.
pub fn keyed(mut body: Value, key: &str, from_path: &str, example: &str) -> Result<Value, Error> {
    let Some(map) = body.as_object_mut() else {
        return Err(Error::field(
            ErrorCode::InvalidJson,
            "body",
            format!("the body must be a JSON object such as {example}"),
        ));
    };
    match map.get(key) {
        None | Some(Value::Null) => {
            map.insert(key.into(), Value::String(from_path.to_string()));
        }
        Some(Value::String(given)) if given == from_path => {}
        Some(_) => {
            return Err(Error::invalid(vec![Problem::new(
                None,
                "",
                key,
                ErrorCode::InvalidValue,
                format!("does not match the {key} in the path, `{from_path}`"),
            )]));
        }
    }
    Ok(body)
}

impl Gate {
    fn live_window(&self, id: &str) -> Result<Arc<Window>, Error> {
        let live = self.live();
        live.rules.window(id).cloned().ok_or_else(|| Error::internal(anyhow::anyhow!("window {id} missing after save")))
    }

    /// `POST /windows`: add a window; the database refuses an id that exists.
    pub async fn create_window(
        &self,
        body: Value,
        by: &Caller,
        key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Made<Value>, Error> {
        let idem = idempotency::key(by, key, "POST /windows", &body)?;
        let Some(id) = body.get("id").and_then(Value::as_str).map(str::to_string) else {
            return Err(Error::invalid(vec![Problem::new(
                None,
                "",
                "id",
                ErrorCode::MissingField,
                "is required, e.g. \"id\": \"hotfix-freeze\"",
            )]));
        };
        if self.catalog.config_defines_window(&id) {
            return Err(defined_in_config("window", &id));
        }
        let window = window_from_json(&body).map_err(Error::invalid)?;
        let spec = serde_json::to_value(&window.spec).map_err(|e| Error::internal(e.into()))?;
        let view = serde_json::to_value(WindowView::at(&window, now)).map_err(|e| Error::internal(e.into()))?;
        let answering = idem.as_ref().map(|i| (i, 201, &view));
        let inserted = self
            .store
            .insert_definition(DefinitionKind::Window, &id, &spec, &by.name, now, answering)
            .await
            .map_err(|e| Error::store(e, "save the window"))?;
        match inserted {
            Inserted::Now => {}
            Inserted::Exists => {
                return Err(Error::new(
                    ErrorCode::WindowExists,
                    format!("window `{id}` already exists; PUT /windows/{id} replaces it"),
                ));
            }
            Inserted::Replayed(before) => return idempotency::replay(idem.as_ref(), before),
        }
        self.catalog.set_api_window(&id, Some(window), now);
        self.after_write(now).await;
        tracing::info!(window = %id, by = %by.name, "window created");
        Ok(Made::Now(view))
    }

    /// `PUT /windows/{id}`: add or replace; answers the window and whether it is new.
    pub async fn put_window(
        &self,
        id: &str,
        body: Value,
        by: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(Arc<Window>, bool), Error> {
        if self.catalog.config_defines_window(id) {
            return Err(defined_in_config("window", id));
        }
        let body = keyed(body, "id", id, "{\"cron\": \"0 17 * * FRI\", \"duration\": \"63h\"}")?;
        let window = window_from_json(&body).map_err(Error::invalid)?;
        let spec = serde_json::to_value(&window.spec).map_err(|e| Error::internal(e.into()))?;
        let before = self
            .store
            .put_definition(DefinitionKind::Window, id, &spec, &by.name, now)
            .await
            .map_err(|e| Error::store(e, "save the window"))?;
        self.catalog.set_api_window(id, Some(window), now);
        self.after_write(now).await;
        tracing::info!(window = %id, by = %by.name, replaced = before.is_some(), "window saved");
        Ok((self.live_window(id)?, before.is_none()))
    }

    /// `DELETE /windows/{id}`: answers the deleted definition.
    pub async fn delete_window(&self, id: &str, by: &Caller, now: DateTime<Utc>) -> Result<Value, Error> {
        if self.catalog.config_defines_window(id) {
            return Err(defined_in_config("window", id));
        }
        let before = self
            .store
            .delete_definition(DefinitionKind::Window, id, &by.name, now)
            .await
            .map_err(|e| Error::store(e, "delete the window"))?
            .ok_or_else(|| window_not_found(id))?;
        self.catalog.set_api_window(id, None, now);
        self.after_write(now).await;
        tracing::info!(window = %id, by = %by.name, "window deleted");
        Ok(before)
    }

    /// `PUT /teams/{name}`: add or replace; answers the team and whether it is new.
    pub async fn put_team(
        &self,
        name: &str,
        body: Value,
        by: &Caller,
        now: DateTime<Utc>,
    ) -> Result<(Arc<Team>, bool), Error> {
        if self.catalog.config_defines_team(name) {
            return Err(defined_in_config("team", name));
        }
        let body = keyed(body, "name", name, "{\"status\": \"green\"}")?;
        let team = team_from_json(&body).map_err(Error::invalid)?;
        let spec = serde_json::to_value(&team.spec).map_err(|e| Error::internal(e.into()))?;
        let before = self
            .store
            .put_definition(DefinitionKind::Team, name, &spec, &by.name, now)
            .await
            .map_err(|e| Error::store(e, "save the team"))?;
        self.catalog.set_api_team(name, Some(team), now);
        self.after_write(now).await;
        tracing::info!(team = %name, by = %by.name, "team saved");
        let live = self.live();
        let team = live.rules.team(name).cloned().ok_or_else(|| team_not_found(name))?;
        Ok((team, before.is_none()))
    }
}
