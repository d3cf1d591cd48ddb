//! Thin handlers: parse the request, call the store under the lock, shape the response.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{Shared, error_response, json_response, parse_object, root};
use crate::clock::unix_now;
use crate::config::SandboxConfig;
use crate::error::{ApiError, ApiResult};
use crate::fields::Entity;
use crate::selectors::fixed_selector;
use crate::store::{ListQuery, Record, Store};

type Params = Query<HashMap<String, String>>;

/// Every API route, relative to the base prefix.
pub(crate) fn api_routes() -> Router<Shared> {
    let mut r = Router::new();
    for e in [Entity::Contact, Entity::SalesAccount] {
        r = r.merge(entity_routes(e));
    }
    r.route("/notes", post(create_note))
        .route(
            "/notes/{id}",
            get(get_note).put(update_note).delete(delete_note),
        )
        .route("/tasks", post(create_task).get(list_tasks))
        .route(
            "/tasks/{id}",
            get(get_task).put(update_task).delete(delete_task),
        )
        .route(
            "/appointments",
            post(create_appointment).get(list_appointments),
        )
        .route(
            "/appointments/{id}",
            get(get_appointment)
                .put(update_appointment)
                .delete(delete_appointment),
        )
        .route("/lookup", get(lookup))
        .route("/filtered_search/{entity}", post(filtered_search))
        .route("/settings/{entity}/fields", get(fields))
        .route("/settings/{entity}/forms", get(forms))
        .route(
            "/settings/{entity}/forms/{form_id}/fields",
            post(create_field),
        )
        .route("/selector/{name}", get(selector))
}

fn entity_routes(e: Entity) -> Router<Shared> {
    let p = format!("/{}", e.plural());
    Router::new()
        .route(
            &p,
            post(move |State(s): State<Shared>, b: Bytes| async move { create(&s, e, &b) }),
        )
        .route(
            &format!("{p}/upsert"),
            post(move |State(s): State<Shared>, b: Bytes| async move { upsert(&s, e, &b) }),
        )
        .route(
            &format!("{p}/bulk_destroy"),
            post(move |State(s): State<Shared>, b: Bytes| async move { bulk_destroy(&s, e, &b) }),
        )
        .route(
            &format!("{p}/filters"),
            get(move |State(s): State<Shared>| async move {
                json_response(200, s.lock().store.filters(e))
            }),
        )
        .route(
            &format!("{p}/view/{{view_id}}"),
            get(
                move |State(s): State<Shared>, Path(v): Path<String>, Query(q): Params| async move {
                    respond(view(&s, e, &v, &q))
                },
            ),
        )
        .route(
            &format!("{p}/{{id}}"),
            get(
                move |State(s): State<Shared>, Path(id): Path<String>| async move {
                    respond(
                        with_id(&id).and_then(|id| Ok(wrap(e, s.lock().store.get(e, id)?, 200))),
                    )
                },
            )
            .put(
                move |State(s): State<Shared>, Path(id): Path<String>, b: Bytes| async move {
                    update(&s, e, &id, &b)
                },
            )
            .delete(
                move |State(s): State<Shared>, Path(id): Path<String>| async move {
                    respond(with_id(&id).and_then(|id| {
                        mutate(&s, |st, _, now| st.soft_delete(e, id, now))?;
                        Ok(deleted(&s.config, e.model()))
                    }))
                },
            ),
        )
        .route(
            &format!("{p}/{{id}}/forget"),
            axum::routing::delete(
                move |State(s): State<Shared>, Path(id): Path<String>| async move {
                    respond(with_id(&id).and_then(|id| {
                        mutate(&s, |st, _, _| st.forget(e, id))?;
                        Ok(deleted(&s.config, e.model()))
                    }))
                },
            ),
        )
        .route(
            &format!("{p}/{{id}}/appointments"),
            get(
                move |State(s): State<Shared>, Path(id): Path<String>| async move {
                    if !s.config.contact_appointments_list {
                        return error_response(&ApiError::not_found());
                    }
                    respond(with_id(&id).and_then(|id| {
                        Ok(json_response(200, s.lock().store.appointments_of(e, id)?))
                    }))
                },
            ),
        )
        .route(
            &format!("{p}/{{id}}/notes"),
            get(
                move |State(s): State<Shared>, Path(id): Path<String>| async move {
                    respond(
                        with_id(&id)
                            .and_then(|id| Ok(json_response(200, s.lock().store.notes_of(e, id)?))),
                    )
                },
            ),
        )
}

fn respond(r: ApiResult<Response>) -> Response {
    r.unwrap_or_else(|e| error_response(&e))
}

// Unknown or non-numeric ids are simply records that don't exist.
fn with_id(raw: &str) -> ApiResult<u64> {
    raw.parse().map_err(|_| ApiError::not_found())
}

fn wrap(e: Entity, record: Value, status: u16) -> Response {
    json_response(status, json!({ e.singular(): record }))
}

fn mutate<T>(
    s: &Shared,
    f: impl FnOnce(&mut Store, &SandboxConfig, i64) -> ApiResult<T>,
) -> ApiResult<T> {
    let mut inner = s.lock();
    f(&mut inner.store, &s.config, unix_now())
}

fn deleted(cfg: &SandboxConfig, what: &str) -> Response {
    if cfg.delete_status == 204 {
        StatusCode::NO_CONTENT.into_response()
    } else {
        json_response(
            200,
            json!({"message": format!("{what} deleted successfully.")}),
        )
    }
}

fn create(s: &Shared, e: Entity, body: &Bytes) -> Response {
    respond((|| {
        let input = root(&parse_object(body)?, e.singular(), &s.config)?;
        Ok(wrap(
            e,
            mutate(s, |st, cfg, now| st.create(e, &input, cfg, now))?,
            201,
        ))
    })())
}

fn update(s: &Shared, e: Entity, id: &str, body: &Bytes) -> Response {
    respond((|| {
        let id = with_id(id)?;
        let input = root(&parse_object(body)?, e.singular(), &s.config)?;
        Ok(wrap(
            e,
            mutate(s, |st, cfg, now| st.update(e, id, &input, cfg, now))?,
            200,
        ))
    })())
}

fn upsert(s: &Shared, e: Entity, body: &Bytes) -> Response {
    respond((|| {
        let mut body = parse_object(body)?;
        let ident: Record = match body.remove("unique_identifier") {
            Some(Value::Object(m)) => m,
            _ => return Err(ApiError::bad("unique_identifier is required.")),
        };
        let input = root(&body, e.singular(), &s.config)?;
        let (created, rec) = mutate(s, |st, cfg, now| st.upsert(e, &ident, &input, cfg, now))?;
        Ok(wrap(e, rec, if created { 201 } else { 200 }))
    })())
}

fn bulk_destroy(s: &Shared, e: Entity, body: &Bytes) -> Response {
    respond((|| {
        let body = parse_object(body)?;
        let ids: Vec<u64> = body
            .get("selected_ids")
            .and_then(Value::as_array)
            .ok_or_else(|| ApiError::bad("selected_ids is required."))?
            .iter()
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| ApiError::bad("Invalid value for selected_ids."))
            })
            .collect::<ApiResult<_>>()?;
        let done = mutate(s, |st, _, now| Ok(st.bulk_destroy(e, &ids, now)))?;
        Ok(json_response(
            200,
            json!({"message": format!("{} {} deleted.", done.len(), e.plural()), "deleted_ids": done}),
        ))
    })())
}

fn view(s: &Shared, e: Entity, view_id: &str, q: &HashMap<String, String>) -> ApiResult<Response> {
    let view_id = with_id(view_id)?;
    let q = ListQuery::from_params(q)?;
    Ok(json_response(
        200,
        s.lock().store.list_view(e, view_id, &q)?,
    ))
}

async fn create_note(State(s): State<Shared>, body: Bytes) -> Response {
    respond((|| {
        let input = root(&parse_object(&body)?, "note", &s.config)?;
        let note = mutate(&s, |st, _, now| st.create_note(&input, now))?;
        Ok(json_response(201, json!({ "note": note })))
    })())
}

// Upstream answers 404 here even for existing notes; notes are read through their parent.
async fn get_note() -> Response {
    error_response(&ApiError::not_found())
}

async fn update_note(State(s): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    respond((|| {
        let id = with_id(&id)?;
        let input = root(&parse_object(&body)?, "note", &s.config)?;
        let note = mutate(&s, |st, _, now| st.update_note(id, &input, now))?;
        Ok(json_response(200, json!({ "note": note })))
    })())
}

async fn delete_note(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    respond(with_id(&id).and_then(|id| {
        mutate(&s, |st, _, _| st.delete_note(id))?;
        Ok(deleted(&s.config, "Note"))
    }))
}

async fn create_task(State(s): State<Shared>, body: Bytes) -> Response {
    respond((|| {
        let input = root(&parse_object(&body)?, "task", &s.config)?;
        let task = mutate(&s, |st, _, now| st.create_task(&input, now))?;
        Ok(json_response(201, json!({ "task": task })))
    })())
}

async fn list_tasks(State(s): State<Shared>, Query(q): Params) -> Response {
    respond((|| {
        let q = ListQuery::from_params(&q)?;
        Ok(json_response(
            200,
            s.lock().store.list_tasks(&q, unix_now())?,
        ))
    })())
}

async fn get_task(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    respond(with_id(&id).and_then(|id| {
        Ok(json_response(
            200,
            json!({"task": s.lock().store.get_task(id)?}),
        ))
    }))
}

async fn update_task(State(s): State<Shared>, Path(id): Path<String>, body: Bytes) -> Response {
    respond((|| {
        let id = with_id(&id)?;
        let input = root(&parse_object(&body)?, "task", &s.config)?;
        let task = mutate(&s, |st, _, now| st.update_task(id, &input, now))?;
        Ok(json_response(200, json!({ "task": task })))
    })())
}

async fn delete_task(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    respond(with_id(&id).and_then(|id| {
        mutate(&s, |st, _, _| st.delete_task(id))?;
        Ok(deleted(&s.config, "Task"))
    }))
}

async fn create_appointment(State(s): State<Shared>, body: Bytes) -> Response {
    respond((|| {
        let input = root(&parse_object(&body)?, "appointment", &s.config)?;
        let a = mutate(&s, |st, cfg, now| st.create_appointment(&input, cfg, now))?;
        Ok(json_response(201, json!({ "appointment": a })))
    })())
}

async fn list_appointments(State(s): State<Shared>, Query(q): Params) -> Response {
    respond((|| {
        let q = ListQuery::from_params(&q)?;
        Ok(json_response(
            200,
            s.lock().store.list_appointments(&q, unix_now())?,
        ))
    })())
}

async fn get_appointment(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    respond(with_id(&id).and_then(|id| {
        Ok(json_response(
            200,
            json!({"appointment": s.lock().store.get_appointment(id)?}),
        ))
    }))
}

async fn update_appointment(
    State(s): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    respond((|| {
        let id = with_id(&id)?;
        let input = root(&parse_object(&body)?, "appointment", &s.config)?;
        let a = mutate(&s, |st, cfg, now| {
            st.update_appointment(id, &input, cfg, now)
        })?;
        Ok(json_response(200, json!({ "appointment": a })))
    })())
}

async fn delete_appointment(State(s): State<Shared>, Path(id): Path<String>) -> Response {
    respond(with_id(&id).and_then(|id| {
        mutate(&s, |st, _, _| st.delete_appointment(id))?;
        Ok(deleted(&s.config, "Appointment"))
    }))
}

async fn lookup(State(s): State<Shared>, Query(q): Params) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str);
    respond(
        s.lock()
            .store
            .lookup(get("q"), get("f"), get("entities"))
            .map(|v| json_response(200, v)),
    )
}

async fn filtered_search(
    State(s): State<Shared>,
    Path(entity): Path<String>,
    body: Bytes,
) -> Response {
    if !s.config.filtered_search {
        return error_response(&ApiError::not_found());
    }
    respond((|| {
        let e = match entity.as_str() {
            "contact" => Entity::Contact,
            "sales_account" => Entity::SalesAccount,
            _ => return Err(ApiError::not_found()),
        };
        let body = parse_object(&body)?;
        Ok(json_response(
            200,
            s.lock().store.filtered_search(e, &body)?,
        ))
    })())
}

fn entity_of(raw: &str) -> ApiResult<Entity> {
    Entity::from_plural(raw).ok_or_else(ApiError::not_found)
}

async fn fields(State(s): State<Shared>, Path(entity): Path<String>) -> Response {
    respond(
        entity_of(&entity)
            .map(|e| json_response(200, json!({"fields": s.lock().store.fields_json(e, true)}))),
    )
}

async fn forms(State(s): State<Shared>, Path(entity): Path<String>) -> Response {
    respond(entity_of(&entity).map(|e| json_response(200, s.lock().store.forms(e))))
}

async fn create_field(
    State(s): State<Shared>,
    Path((entity, form)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if !s.config.custom_field_creation {
        return error_response(&ApiError::NotFound(
            "No route for custom field creation".into(),
        ));
    }
    respond((|| {
        let e = entity_of(&entity)?;
        let form = with_id(&form)?;
        let body = parse_object(&body)?;
        let input = match body.get("field") {
            Some(Value::Object(m)) => m.clone(),
            _ => body,
        };
        let field = mutate(&s, |st, _, _| st.create_field(e, form, &input))?;
        Ok(json_response(201, json!({ "field": field })))
    })())
}

async fn selector(State(s): State<Shared>, Path(name): Path<String>) -> Response {
    if name == "owners" {
        return json_response(200, s.lock().store.owners());
    }
    match fixed_selector(&name) {
        Some(v) => json_response(200, v),
        None => error_response(&ApiError::not_found()),
    }
}
