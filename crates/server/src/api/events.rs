//! `/v1/events`: the server-sent event stream. Ids are log positions
//! (`SEQ-INDEX`), so a client that reconnects with `Last-Event-ID` gets
//! every event after the last one it saw, none skipped, or is told plainly
//! that some are gone.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use tokio::sync::broadcast::{self, error::RecvError};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::ApiError;
use super::{AppState, Caller};
use crate::engine::{EventId, StreamEvent};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Start after this event id (as `Last-Event-ID`); from now if left out.
    #[param(pattern = r"^[0-9]{1,19}-[0-9]{1,10}$")]
    pub after: Option<String>,
}

/// The header a reconnecting client sends.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct ResumeHeader {
    /// Resume after this event id (`SEQ-INDEX`).
    #[serde(rename = "Last-Event-ID")]
    #[param(pattern = r"^[0-9]{1,19}-[0-9]{1,10}$")]
    pub last_event_id: Option<String>,
}

/// One server-sent event, as the stream frames it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SseFrame {
    /// The log position `SEQ-INDEX`; send it back as `Last-Event-ID`.
    pub id: Option<String>,
    /// The kind: `started`, `finished`, `tray_down`, ...
    pub event: Option<String>,
    /// JSON: `{"id":..,"at":<campus seconds>,"<kind>":{...}}`.
    pub data: String,
}

struct Cursor {
    st: AppState,
    scope: Option<String>,
    /// The caller's token id: checked before each event is sent.
    token: String,
    rx: broadcast::Receiver<StreamEvent>,
    backlog: VecDeque<StreamEvent>,
    last: EventId,
    done: bool,
}

/// The event stream
///
/// `text/event-stream`: each event's `id` is its log position, its
/// `event` the kind (`started`, `finished`, `preempted`, `tray_down`,
/// `power_cap`, ...), its `data` JSON. An `events_lost` event ends the
/// stream when events the client asked for are no longer kept.
#[utoipa::path(get, path = "/v1/events", tag = "events",
    params(EventsQuery, ResumeHeader),
    responses((status = 200, description = "The stream", content_type = "text/event-stream", body = SseFrame),
        (status = 410, description = "The events after that id are no longer kept", body = super::error::ErrorBody),
        super::ReadErrors))]
async fn events(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    q: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    caller.may(crate::auth::Action::Read)?;
    let Query(q) = q?;
    let parse = |s: &str, field: &str| {
        s.parse::<EventId>()
            .map_err(|why| ApiError::bad("bad_event_id", field, why))
    };
    // Each given form must read; the query wins over the header.
    let from_header = match headers.get("last-event-id") {
        Some(v) => Some(parse(v.to_str().unwrap_or("?"), "Last-Event-ID")?),
        None => None,
    };
    let from_query = match &q.after {
        Some(s) => Some(parse(s, "after")?),
        None => None,
    };
    let asked = from_query.or(from_header);
    // Subscribe first, then read what is kept: nothing falls between.
    let rx = st.events.subscribe();
    let (backlog, last) = {
        let e = st.read();
        match asked {
            None => (VecDeque::new(), e.last_event_id()),
            Some(after) => {
                match e.events_after(after) {
                    Ok(v) => (v.into(), after),
                    Err(oldest) => {
                        return Err(ApiError::new(
                        axum::http::StatusCode::GONE,
                        "events_lost",
                        format!("events after {after} are no longer kept; the oldest kept is {oldest}"),
                    )
                    .field("Last-Event-ID"));
                    }
                }
            }
        }
    };
    let cursor = Cursor {
        scope: caller.scope.clone(),
        token: caller.id.clone(),
        st,
        rx,
        backlog,
        last,
        done: false,
    };
    let stream = stream::unfold(cursor, |mut c| async move {
        let e = next_event(&mut c).await?;
        Some((Ok(e), c))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// The next live event, or None when the server shuts down.
async fn recv_or_shutdown(c: &mut Cursor) -> Option<Result<StreamEvent, RecvError>> {
    let mut shutdown = c.st.shutdown.clone();
    if *shutdown.borrow() {
        return None;
    }
    tokio::select! {
        r = c.rx.recv() => Some(r),
        _ = shutdown.changed() => None,
    }
}

fn token_valid(c: &Cursor) -> bool {
    let tokens = c.st.tokens.read().unwrap_or_else(|p| p.into_inner());
    tokens
        .get(&c.token)
        .is_some_and(|t| t.live(crate::clock::wall_ms()))
}

fn visible(c: &Cursor, e: &StreamEvent) -> bool {
    match &c.scope {
        None => true,
        Some(scope) => e
            .project
            .as_deref()
            .is_some_and(|p| c.st.read().sched.tenant_is_under(p, scope)),
    }
}

async fn next_event(c: &mut Cursor) -> Option<SseEvent> {
    if c.done {
        return None;
    }
    loop {
        let e = match c.backlog.pop_front() {
            Some(e) => e,
            None => match recv_or_shutdown(c).await? {
                Ok(e) => e,
                Err(RecvError::Lagged(_)) => {
                    // Too slow for the live channel: catch up from what is kept.
                    let kept = c.st.read().events_after(c.last);
                    match kept {
                        Ok(v) => {
                            c.backlog = v.into();
                            continue;
                        }
                        Err(oldest) => {
                            c.done = true;
                            return Some(SseEvent::default().event("events_lost").data(format!(
                                "{{\"after\":\"{}\",\"oldest_kept\":\"{oldest}\"}}",
                                c.last
                            )));
                        }
                    }
                }
                Err(RecvError::Closed) => return None,
            },
        };
        if e.id <= c.last {
            continue;
        }
        c.last = e.id;
        if !visible(c, &e) {
            continue;
        }
        // A stream ends when its token is revoked or expires: it carries
        // nothing its holder could no longer ask for.
        if !token_valid(c) {
            c.done = true;
            return None;
        }
        return Some(
            SseEvent::default()
                .id(e.id.to_string())
                .event(e.kind)
                .data(e.data.as_ref()),
        );
    }
}
