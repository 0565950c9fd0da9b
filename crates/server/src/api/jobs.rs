//! Jobs: submit, list, show, cancel.

use abilene_scheduler::views::{JobDetail, JobFilter, JobView, KindFilter, MAX_PAGE};
use abilene_scheduler::{Command, JobId, JobKind, JobSpec, JobState, Priority, Time};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use super::{
    AppState, Caller, RawBody, execute, first_reject, idempotency, json_reply, parse_json,
};
use crate::auth::Action;
use crate::engine::{Engine, FinishedView, KindName};
use crate::writer::Responder;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit, list))
        .routes(routes!(show))
        .routes(routes!(cancel))
}

/// Longest runtime a job may ask for: a year (frontier runs are 1-3 months).
pub const MAX_RUNTIME_S: Time = 366 * 86_400;

/// A job to submit. The server picks its id.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitJob {
    /// The project (a tenant node) that pays for it.
    pub project: String,
    /// SKU key from the campus catalogue; the first rack's SKU if left out.
    #[serde(default)]
    pub sku: Option<String>,
    /// `training` (one gang) or `service` (replicas).
    #[serde(default = "training")]
    pub kind: KindName,
    /// GPUs of the gang, or of one replica.
    pub gpus: u32,
    /// Services: replicas wanted (1 to 100,000).
    #[serde(default)]
    pub replicas: Option<u32>,
    /// Services: replicas that must run before it counts as started.
    #[serde(default)]
    pub min_available: Option<u32>,
    /// GPUs that must share one NVLink domain; 0: one tray.
    #[serde(default)]
    pub tp_gpus: u32,
    /// Trays per segment sharing an NVLink domain; 0: none.
    #[serde(default)]
    pub segment_trays: u32,
    #[serde(default = "normal")]
    pub priority: Priority,
    #[serde(default)]
    pub preemptible: bool,
    /// Seconds of work (training) or of service; 1 to a year.
    pub runtime_s: Time,
    /// Wall seconds after which it is stopped; at least `runtime_s`;
    /// twice `runtime_s` if left out.
    #[serde(default)]
    pub runtime_limit_s: Option<Time>,
    /// Seconds between checkpoints; 0: never checkpoints.
    #[serde(default)]
    pub checkpoint_interval_s: Time,
    /// Warm spare trays kept to restart on after a failure.
    #[serde(default)]
    pub spare_trays: u32,
    /// Run only inside this reservation.
    #[serde(default)]
    pub reservation: Option<String>,
}

fn training() -> KindName {
    KindName::Training
}
fn normal() -> Priority {
    Priority::Normal
}

impl SubmitJob {
    /// The core's job spec; checks what the core does not know to check.
    pub fn spec(&self, default_sku: &str) -> Result<JobSpec, ApiError> {
        if !(1..=MAX_RUNTIME_S).contains(&self.runtime_s) {
            return Err(ApiError::bad(
                "bad_value",
                "runtime_s",
                format!(
                    "runtime_s = {}: must be 1 to {MAX_RUNTIME_S} s",
                    self.runtime_s
                ),
            ));
        }
        let limit = self
            .runtime_limit_s
            .unwrap_or(self.runtime_s.saturating_mul(2));
        if limit < self.runtime_s || limit > 2 * MAX_RUNTIME_S {
            return Err(ApiError::bad(
                "bad_value",
                "runtime_limit_s",
                format!(
                    "runtime_limit_s = {limit}: must be at least runtime_s ({}) and at most {} s",
                    self.runtime_s,
                    2 * MAX_RUNTIME_S
                ),
            ));
        }
        let kind = match self.kind {
            KindName::Training => {
                if self.replicas.is_some() || self.min_available.is_some() {
                    return Err(ApiError::bad(
                        "bad_value",
                        "replicas",
                        "replicas and min_available are for services; a training job is one gang",
                    ));
                }
                JobKind::Training
            }
            KindName::Service => {
                let replicas = self.replicas.unwrap_or(1);
                JobKind::Service {
                    replicas,
                    min_available: self.min_available.unwrap_or(replicas),
                }
            }
        };
        Ok(JobSpec {
            id: JobId(0),
            project: self.project.clone(),
            sku: self.sku.clone().unwrap_or_else(|| default_sku.to_string()),
            kind,
            gpus: self.gpus,
            tp_gpus: self.tp_gpus,
            segment_trays: self.segment_trays,
            priority: self.priority,
            preemptible: self.preemptible,
            runtime_limit: limit,
            runtime_estimate: self.runtime_s,
            checkpoint_interval: self.checkpoint_interval_s,
            spare_trays: self.spare_trays,
            reservation: self.reservation.clone(),
        })
    }
}

/// The SKU of the campus's first rack: what a submission without one asks for.
pub fn default_sku(e: &Engine) -> String {
    let c = e.sched.campus();
    c.racks
        .first()
        .map(|r| c.catalog.key(r.sku).to_string())
        .unwrap_or_default()
}

/// Submit a job
///
/// Durable when answered: a 201 means the job is in the log. Send an
/// `Idempotency-Key` to retry safely after a timeout or a crash.
#[utoipa::path(post, path = "/v1/jobs", tag = "jobs",
    request_body = SubmitJob,
    params(super::IdempotencyHeader),
    responses(
        (status = 201, description = "Accepted: pending or running", body = JobView), super::CommandErrors))]
async fn submit(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    caller.may(Action::Submit)?;
    let idem = idempotency(&headers, "POST", "/v1/jobs", &body)?;
    let req: SubmitJob = parse_json(&headers, &body)?;
    // No lock on the way in: the writer holds the state's lock while its
    // round is being made durable, and a submission that waited for it
    // here would miss the next round. The default SKU is the campus's and
    // fixed; the scope check needs the tenant tree only for a scoped caller.
    if caller.scope.is_some() {
        check_scope(&st.read(), &caller, &req.project)?;
    }
    let spec = req.spec(&st.default_sku)?;
    Ok(execute(
        &st,
        &caller,
        idem,
        vec![Command::Submit(spec)],
        submit_responder(),
    )
    .await)
}

/// The reply to a submission, made from the state after its step.
pub fn submit_responder() -> Responder {
    Box::new(|commands: &[Command], results: &[_], e: &Engine| {
        if let Some(r) = first_reject(results) {
            return r;
        }
        let Some(Command::Submit(spec)) = commands.first() else {
            return ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "no job").reply();
        };
        match e.sched.job(spec.id) {
            Some(d) => json_reply(StatusCode::CREATED, &d.view),
            None => json_reply(StatusCode::CREATED, &finished_or_id(e, spec.id)),
        }
    })
}

fn finished_or_id(e: &Engine, id: JobId) -> serde_json::Value {
    e.finished_job(id.0)
        .and_then(|v| serde_json::to_value(v).ok())
        .unwrap_or_else(|| serde_json::json!({ "id": id.0 }))
}

/// A caller may act only inside its subtree.
pub fn check_scope(e: &Engine, caller: &Caller, node: &str) -> Result<(), ApiError> {
    if let Some(scope) = &caller.scope
        && !e.sched.tenant_is_under(node, scope)
    {
        return Err(ApiError::not_found(
            "unknown_tenant",
            format!("unknown tenant or project `{node}`"),
        )
        .field("project"));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StateName {
    Pending,
    Running,
    Finished,
}

/// Filters and paging of the job list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// A tenant node: its subtree's jobs only.
    pub tenant: Option<String>,
    /// `pending`, `running` or `finished`; live jobs (pending and running)
    /// if left out.
    pub state: Option<StateName>,
    pub kind: Option<KindName>,
    /// The cursor: the `next` of the page before.
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub after: Option<u64>,
    /// Jobs per page, 1 to 1000; 100 if left out.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// A page of jobs.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobList {
    /// Live jobs as `JobView`, finished ones as `FinishedView`.
    #[schema(value_type = Vec<Object>)]
    pub jobs: Vec<serde_json::Value>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<u64>,
}

/// List jobs
#[utoipa::path(get, path = "/v1/jobs", tag = "jobs", params(ListQuery),
    responses(
        (status = 200, description = "A page of jobs", body = JobList), super::ReadErrors))]
async fn list(
    State(st): State<AppState>,
    caller: Caller,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.may(Action::Read)?;
    let Query(q) = q?;
    super::at_most_int64("after", q.after)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad(
            "bad_value",
            "limit",
            format!("limit = {limit}: a page holds 1 to {MAX_PAGE} jobs"),
        ));
    }
    let e = st.read();
    let tenant = match (&q.tenant, &caller.scope) {
        (Some(t), _) => {
            check_scope(&e, &caller, t).map_err(|err| err.field("tenant"))?;
            Some(t.clone())
        }
        (None, scope) => scope.clone(),
    };
    if let Some(t) = &tenant
        && !e.sched.tenant_names().iter().any(|n| n == t)
    {
        return Err(
            ApiError::not_found("unknown_tenant", format!("unknown tenant `{t}`")).field("tenant"),
        );
    }
    let page = if q.state == Some(StateName::Finished) {
        finished_page(&e, tenant.as_deref(), q.kind, q.after, limit)
    } else {
        let filter = JobFilter {
            tenant,
            state: q.state.map(|s| match s {
                StateName::Pending => JobState::Pending,
                _ => JobState::Running,
            }),
            kind: q.kind.map(|k| match k {
                KindName::Training => KindFilter::Training,
                KindName::Service => KindFilter::Service,
            }),
        };
        // The filter, the cursor and the limit make the page: the same
        // ones at the same log record give the same bytes.
        let key = format!("{filter:?}|{:?}|{limit}", q.after);
        let seq = e.seq;
        let cached = st.pages.lock().ok().and_then(|mut c| c.get(seq, &key));
        if let Some(page) = cached {
            return Ok(json_body(page));
        }
        let p = e
            .sched
            .list_jobs(&filter, q.after.map(JobId), limit)
            .map_err(|r| ApiError::from_reject(&r))?;
        drop(e);
        let body = axum::body::Bytes::from(live_page(&p.jobs, p.next));
        if let Ok(mut c) = st.pages.lock() {
            c.put(seq, key, body.clone());
        }
        return Ok(json_body(body));
    };
    Ok(axum::Json(page).into_response())
}

/// A page of live jobs as `JobList` JSON, written straight from the views:
/// no `serde_json::Value` tree per job (a third of a list's cost).
fn live_page(jobs: &[JobView], next: Option<JobId>) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + jobs.len() * 320);
    out.extend_from_slice(b"{\"jobs\":[");
    for (i, v) in jobs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Serialising plain data into memory cannot fail.
        let _ = serde_json::to_writer(&mut out, v);
    }
    out.push(b']');
    if let Some(n) = next {
        out.extend_from_slice(format!(",\"next\":{}", n.0).as_bytes());
    }
    out.push(b'}');
    out
}

fn json_body(body: axum::body::Bytes) -> Response {
    (
        StatusCode::OK,
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

fn finished_page(
    e: &Engine,
    tenant: Option<&str>,
    kind: Option<KindName>,
    after: Option<u64>,
    limit: usize,
) -> JobList {
    let in_scope = |p: &str| tenant.is_none_or(|t| e.sched.tenant_is_under(p, t));
    // One more than a page says whether another follows.
    let mut views = e.finished_jobs(in_scope, kind, after, limit + 1);
    let more = views.len() > limit;
    views.truncate(limit);
    let next = if more {
        views.last().map(|v| v.id)
    } else {
        None
    };
    JobList {
        jobs: views
            .iter()
            .map(|v| serde_json::to_value(v).unwrap_or_default())
            .collect(),
        next,
    }
}

/// Show a job
///
/// A live job in full (state, pending reason in words, placement,
/// history); a finished one as it ended.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "jobs",
    params(("id" = u64, Path, description = "Job id")),
    responses(
        (status = 200, description = "A live job (JobDetail) or a finished one (FinishedView)", body = JobAnswer), super::ReadErrors))]
async fn show(
    State(st): State<AppState>,
    caller: Caller,
    id: Result<Path<u64>, axum::extract::rejection::PathRejection>,
) -> Result<Response, ApiError> {
    caller.may(Action::Read)?;
    let Path(id) = id?;
    let e = st.read();
    if let Some(d) = e.sched.job(JobId(id)) {
        check_scope(&e, &caller, &d.view.project).map_err(|_| unknown_job(id))?;
        return Ok(axum::Json(d).into_response());
    }
    if let Some(v) = e.finished_job(id) {
        check_scope(&e, &caller, &v.project).map_err(|_| unknown_job(id))?;
        return Ok(axum::Json(JobAnswer::Finished(v)).into_response());
    }
    Err(unknown_job(id))
}

/// A job as `GET /v1/jobs/{id}` returns it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum JobAnswer {
    Live(Box<JobDetail>),
    Finished(FinishedView),
}

fn unknown_job(id: u64) -> ApiError {
    ApiError::not_found("unknown_job", format!("job {id} is not known")).field("id")
}

/// Cancel a job
#[utoipa::path(post, path = "/v1/jobs/{id}/cancel", tag = "jobs",
    params(("id" = u64, Path, description = "Job id"),
           super::IdempotencyHeader),
    responses(
        (status = 200, description = "Cancelled: the job as it ended", body = FinishedView), super::CommandErrors))]
async fn cancel(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    id: Result<Path<u64>, axum::extract::rejection::PathRejection>,
) -> Result<Response, ApiError> {
    caller.may(Action::Submit)?;
    let Path(id) = id?;
    let idem = idempotency(&headers, "POST", &format!("/v1/jobs/{id}/cancel"), b"")?;
    // A scoped caller cancels only a job live in its subtree now: ids are
    // handed out in order, and a cancel of an id not yet taken must not
    // land on another tenant's next job.
    if caller.scope.is_some() {
        let e = st.read();
        let p = e
            .sched
            .job_tenant(JobId(id))
            .ok_or_else(|| unknown_job(id))?;
        check_scope(&e, &caller, p).map_err(|_| unknown_job(id))?;
    }
    let respond = Box::new(move |_: &[Command], results: &[_], e: &Engine| {
        if let Some(r) = first_reject(results) {
            return r;
        }
        json_reply(StatusCode::OK, &finished_or_id(e, JobId(id)))
    });
    Ok(execute(
        &st,
        &caller,
        idem,
        vec![Command::Cancel(JobId(id))],
        respond,
    )
    .await)
}
