//! An in-process mock Pipedrive for the load generator: fixed answers after a fixed delay, with a ledger of every
//! activity created (to check exactly-once) and per-user CRM timing (to subtract the CRM's share of a latency).
//!
//! Users are numbered 1..=N. The authorization code `user-<n>` logs in user n, whose access token is
//! `load-access-<n>` and refresh token `load-refresh-<n>`; every data call is attributed to a user by its bearer
//! token. The driver keeps at most one request in flight per user, so a user's CRM time during a request belongs to
//! that request.
//!
//! An outage window ([`MockPipedrive::set_outage`]) makes every data endpoint answer 503 with `Retry-After`, the way
//! a CRM under maintenance does; the OAuth token endpoint (another host at Pipedrive) stays up.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Every activity subject the driver writes starts with this word, followed by the call's session id.
pub const SUBJECT_PREFIX: &str = "callbridge-load";

/// Pipedrive user ids are `USER_ID_BASE + n`, so they never look like small counters.
pub const USER_ID_BASE: u64 = 70_000;

/// The company every mock user belongs to; its domain is the user's Pipedrive host name.
const COMPANY_ID: u64 = 4_242;

/// The CRM endpoints the call-log flow uses; anything else is counted as unexpected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Endpoint {
    OAuthToken,
    UsersMe,
    PersonsSearch,
    Deals,
    Leads,
    ActivityTypes,
    Person,
    ActivityCreate,
    ActivityUpdate,
    ActivityGet,
    ActivityList,
}

impl Endpoint {
    const ALL: [Endpoint; 11] = [
        Endpoint::OAuthToken,
        Endpoint::UsersMe,
        Endpoint::PersonsSearch,
        Endpoint::Deals,
        Endpoint::Leads,
        Endpoint::ActivityTypes,
        Endpoint::Person,
        Endpoint::ActivityCreate,
        Endpoint::ActivityUpdate,
        Endpoint::ActivityGet,
        Endpoint::ActivityList,
    ];

    /// The request line as Pipedrive documents it.
    pub fn label(self) -> &'static str {
        match self {
            Endpoint::OAuthToken => "POST /oauth/token",
            Endpoint::UsersMe => "GET /v1/users/me",
            Endpoint::PersonsSearch => "GET /api/v2/persons/search",
            Endpoint::Deals => "GET /api/v2/deals",
            Endpoint::Leads => "GET /v1/leads",
            Endpoint::ActivityTypes => "GET /v1/activityTypes",
            Endpoint::Person => "GET /api/v2/persons/{id}",
            Endpoint::ActivityCreate => "POST /api/v2/activities",
            Endpoint::ActivityUpdate => "PATCH /api/v2/activities/{id}",
            Endpoint::ActivityGet => "GET /api/v2/activities/{id}",
            Endpoint::ActivityList => "GET /api/v2/activities",
        }
    }
}

/// Per session: when its activity was created, and the subject of every update applied to it with when.
pub type Deliveries = HashMap<String, (Instant, Vec<(String, Instant)>)>;

/// One activity as the mock stores it.
#[derive(Clone, Debug)]
pub struct MockActivity {
    pub id: u64,
    pub user: Option<usize>,
    pub subject: String,
    pub note: String,
    pub person_id: Option<u64>,
    /// The session id read from the subject, when it carries one.
    pub session: Option<String>,
    pub updates: u32,
    /// When the create was applied.
    pub created_at: Instant,
    /// The subject of every update applied, with when it was applied (the load marks each update's subject).
    pub applied_updates: Vec<(String, Instant)>,
    /// Every field written by the create and later updates, for reading the activity back.
    pub fields: serde_json::Map<String, Value>,
}

/// What the mock saw during a run, for the report and the exactly-once check.
#[derive(Clone, Debug, Default)]
pub struct MockLedger {
    /// Activity ids created per session id (in creation order).
    pub creates_by_session: HashMap<String, Vec<u64>>,
    /// Activities whose subject carried no session id.
    pub creates_without_session: u64,
    pub calls_by_endpoint: BTreeMap<&'static str, u64>,
    /// Requests the mock does not serve (`METHOD path` -> count): a sign the connector calls something new.
    pub unexpected: BTreeMap<String, u64>,
    /// Requests with a missing or unknown bearer token.
    pub unauthorized: u64,
}

/// A user's CRM clock: how long at least one of their CRM calls was in progress (the union of the intervals, so
/// calls the server makes in parallel are not counted twice), and how many calls they made.
#[derive(Debug, Default)]
struct UserClock {
    in_flight: u32,
    busy_since: Option<Instant>,
    busy_total: Duration,
    calls: u64,
}

/// A user's CRM usage so far; the difference of two snapshots is one request's share.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CrmUsage {
    pub calls: u64,
    pub busy: Duration,
}

impl CrmUsage {
    pub fn since(self, earlier: CrmUsage) -> CrmUsage {
        CrmUsage { calls: self.calls.saturating_sub(earlier.calls), busy: self.busy.saturating_sub(earlier.busy) }
    }
}

struct MockState {
    delay: Duration,
    clocks: Vec<Mutex<UserClock>>,
    endpoint_calls: [AtomicU64; Endpoint::ALL.len()],
    unauthorized: AtomicU64,
    unexpected: Mutex<BTreeMap<String, u64>>,
    activities: Mutex<ActivityBook>,
    next_activity_id: AtomicU64,
    /// `[start, end)` of the outage, when one is set.
    outage: Mutex<Option<(Instant, Instant)>>,
    outage_refusals: AtomicU64,
}

#[derive(Default)]
struct ActivityBook {
    by_id: HashMap<u64, MockActivity>,
    creates_by_session: HashMap<String, Vec<u64>>,
    creates_without_session: u64,
}

/// Locks a mutex even if a handler panicked while holding it: the mock's data stays usable for the report.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl MockState {
    /// Counts the call, attributes it to its user and returns a guard that stops that user's CRM clock on drop.
    fn enter(self: &Arc<Self>, endpoint: Endpoint, user: Option<usize>) -> CallGuard {
        self.endpoint_calls[endpoint as usize].fetch_add(1, Ordering::Relaxed);
        if let Some(clock) = user.and_then(|n| self.clocks.get(n)) {
            let mut clock = lock(clock);
            clock.calls += 1;
            if clock.in_flight == 0 {
                clock.busy_since = Some(Instant::now());
            }
            clock.in_flight += 1;
        }
        CallGuard { state: Arc::clone(self), user }
    }

    /// Enters the call and waits the configured CRM delay.
    async fn serve(self: &Arc<Self>, endpoint: Endpoint, user: Option<usize>) -> CallGuard {
        let guard = self.enter(endpoint, user);
        if !self.delay.is_zero() {
            // sleep-ok: the mock CRM answers slowly on purpose (its configured delay)
            tokio::time::sleep(self.delay).await;
        }
        guard
    }
}

/// Stops the user's CRM clock when the handler has produced its response (or was cancelled).
struct CallGuard {
    state: Arc<MockState>,
    user: Option<usize>,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        if let Some(clock) = self.user.and_then(|n| self.state.clocks.get(n)) {
            let mut clock = lock(clock);
            clock.in_flight = clock.in_flight.saturating_sub(1);
            if clock.in_flight == 0
                && let Some(since) = clock.busy_since.take()
            {
                clock.busy_total += since.elapsed();
            }
        }
    }
}

/// A running mock Pipedrive; dropping it stops the server.
pub struct MockPipedrive {
    addr: SocketAddr,
    state: Arc<MockState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MockPipedrive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockPipedrive").field("addr", &self.addr).field("delay", &self.state.delay).finish()
    }
}

impl MockPipedrive {
    /// Starts the mock on `127.0.0.1:<port>` (0 picks a free port) for users 1..=`users`.
    pub async fn start(port: u16, users: usize, delay: Duration) -> anyhow::Result<Self> {
        let state = Arc::new(MockState {
            delay,
            clocks: (0..=users).map(|_| Mutex::new(UserClock::default())).collect(),
            endpoint_calls: std::array::from_fn(|_| AtomicU64::new(0)),
            unauthorized: AtomicU64::new(0),
            unexpected: Mutex::new(BTreeMap::new()),
            activities: Mutex::new(ActivityBook::default()),
            next_activity_id: AtomicU64::new(1),
            outage: Mutex::new(None),
            outage_refusals: AtomicU64::new(0),
        });
        let router = Router::new()
            .route("/oauth/token", post(oauth_token))
            .route("/v1/users/me", get(users_me))
            .route("/api/v2/persons/search", get(persons_search))
            .route("/api/v2/persons/{id}", get(person))
            .route("/api/v2/deals", get(deals))
            .route("/v1/leads", get(leads))
            .route("/v1/activityTypes", get(activity_types))
            .route("/api/v2/activities", post(create_activity).get(list_activities))
            .route("/api/v2/activities/{id}", get(get_activity).patch(update_activity))
            .fallback(unexpected)
            .layer(axum::middleware::from_fn_with_state(Arc::clone(&state), outage_gate))
            .with_state(Arc::clone(&state));
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, router).with_graceful_shutdown(async move {
                let _ = stopped.await;
            });
            if let Err(error) = server.await {
                eprintln!("mock Pipedrive stopped: {error}");
            }
        });
        Ok(Self { addr, state, shutdown: Some(shutdown), task: Some(task) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`, the value for `CALLBRIDGE_PIPEDRIVE_BASE_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn delay(&self) -> Duration {
        self.state.delay
    }

    /// The number of users the mock attributes calls to.
    pub fn users(&self) -> usize {
        self.state.clocks.len().saturating_sub(1)
    }

    /// User n's CRM usage so far (calls and busy time); zero for an unknown user.
    pub fn usage(&self, user: usize) -> CrmUsage {
        match self.state.clocks.get(user) {
            Some(clock) => {
                let clock = lock(clock);
                let running = clock.busy_since.map(|since| since.elapsed()).unwrap_or_default();
                CrmUsage { calls: clock.calls, busy: clock.busy_total + running }
            }
            None => CrmUsage::default(),
        }
    }

    /// A copy of everything the mock recorded.
    pub fn ledger(&self) -> MockLedger {
        let book = lock(&self.state.activities);
        let calls_by_endpoint = Endpoint::ALL
            .iter()
            .map(|&endpoint| (endpoint.label(), self.state.endpoint_calls[endpoint as usize].load(Ordering::Relaxed)))
            .collect();
        MockLedger {
            creates_by_session: book.creates_by_session.clone(),
            creates_without_session: book.creates_without_session,
            calls_by_endpoint,
            unexpected: lock(&self.state.unexpected).clone(),
            unauthorized: self.state.unauthorized.load(Ordering::Relaxed),
        }
    }

    /// From `start` for `length`, every data endpoint answers 503 with `Retry-After: 1`.
    pub fn set_outage(&self, start: Instant, length: Duration) {
        *lock(&self.state.outage) = Some((start, start + length));
    }

    /// Requests refused because of the outage.
    pub fn outage_refusals(&self) -> u64 {
        self.state.outage_refusals.load(Ordering::Relaxed)
    }

    /// Per session: when its (first) activity was created and every update applied to it since.
    pub fn deliveries(&self) -> Deliveries {
        let book = lock(&self.state.activities);
        book.creates_by_session
            .iter()
            .filter_map(|(session, ids)| {
                let activity = book.by_id.get(ids.first()?)?;
                Some((session.clone(), (activity.created_at, activity.applied_updates.clone())))
            })
            .collect()
    }

    /// The activity with this id, as last written.
    pub fn activity(&self, id: u64) -> Option<MockActivity> {
        lock(&self.state.activities).by_id.get(&id).cloned()
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockPipedrive {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// The user a bearer token `load-access-<n>` belongs to.
fn bearer_user(headers: &HeaderMap) -> Option<usize> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?;
    token.trim().strip_prefix("load-access-")?.parse().ok().filter(|&n| n > 0)
}

/// Refuses every data call during the outage window; the refusal is all the CRM does (nothing is applied).
async fn outage_gate(
    State(state): State<Arc<MockState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let window = *lock(&state.outage);
    let now = Instant::now();
    if window.is_some_and(|(start, end)| start <= now && now < end) && request.uri().path() != "/oauth/token" {
        state.outage_refusals.fetch_add(1, Ordering::Relaxed);
        let mut response = pipedrive_error(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable (maintenance)");
        response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
        return response;
    }
    next.run(request).await
}

fn pipedrive_error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "success": false, "error": message, "error_info": "callbridge-load mock" })))
        .into_response()
}

fn success(data: Value) -> Response {
    (
        [("x-ratelimit-remaining", "79"), ("x-ratelimit-limit", "80"), ("x-ratelimit-reset", "2")],
        axum::Json(json!({ "success": true, "data": data })),
    )
        .into_response()
}

/// Authenticates a data call: the user behind the bearer token, or `None` (counted) when it is missing or unknown.
fn authenticate(state: &Arc<MockState>, headers: &HeaderMap) -> Option<usize> {
    let user = bearer_user(headers).filter(|&n| n < state.clocks.len());
    if user.is_none() {
        state.unauthorized.fetch_add(1, Ordering::Relaxed);
    }
    user
}

/// Pipedrive's answer to a bad token.
fn unauthorized() -> Response {
    pipedrive_error(StatusCode::UNAUTHORIZED, "Unauthorized")
}

fn token_set(user: usize) -> Value {
    json!({
        "access_token": format!("load-access-{user}"),
        "token_type": "Bearer",
        "refresh_token": format!("load-refresh-{user}"),
        "expires_in": 3599,
        "scope": "base,deals:full,contacts:full,activities:full,leads:full",
        "api_domain": format!("https://load-company-{user}.pipedrive.com"),
    })
}

/// `POST /oauth/token`: the authorization-code grant (`code=user-<n>`) and the refresh grant.
async fn oauth_token(
    State(state): State<Arc<MockState>>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    let user = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => form.get("code").and_then(|code| code.strip_prefix("user-")),
        Some("refresh_token") => form.get("refresh_token").and_then(|token| token.strip_prefix("load-refresh-")),
        _ => None,
    }
    .and_then(|n| n.parse::<usize>().ok())
    .filter(|&n| n > 0 && n < state.clocks.len());
    let _guard = state.serve(Endpoint::OAuthToken, user).await;
    match user {
        Some(user) => axum::Json(token_set(user)).into_response(),
        None => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": "invalid_grant", "message": "Invalid grant: unknown code or refresh token" })),
        )
            .into_response(),
    }
}

async fn users_me(State(state): State<Arc<MockState>>, headers: HeaderMap) -> Response {
    let Some(user) = authenticate(&state, &headers) else {
        return unauthorized();
    };
    let _guard = state.serve(Endpoint::UsersMe, Some(user)).await;
    success(json!({
        "id": USER_ID_BASE + user as u64,
        "name": format!("Load User {user}"),
        "email": format!("load-user-{user}@example.com"),
        "lang": 1,
        "locale": "en_US",
        "company_id": COMPANY_ID,
        "company_name": "Load Test Inc",
        "company_domain": format!("load-company-{user}"),
        "timezone_name": "Europe/Berlin",
        "timezone_offset": "+01:00",
        "default_currency": "EUR",
        "active_flag": true,
        "is_admin": 1,
    }))
}

/// A stable person id for a search term, so the same number always finds the same person.
pub fn person_for_term(term: &str) -> u64 {
    let digits: String = term.chars().filter(char::is_ascii_digit).collect();
    let tail = digits.get(digits.len().saturating_sub(9)..).unwrap_or_default();
    100_000 + tail.parse::<u64>().unwrap_or(0) % 900_000
}

async fn persons_search(
    State(state): State<Arc<MockState>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(user) = authenticate(&state, &headers) else {
        return unauthorized();
    };
    let _guard = state.serve(Endpoint::PersonsSearch, Some(user)).await;
    let term = query.get("term").map(String::as_str).unwrap_or_default();
    let id = person_for_term(term);
    success(json!({
        "items": [{
            "result_score": 1.0,
            "item": {
                "id": id,
                "type": "person",
                "name": format!("Person {id}"),
                "phones": [term],
                "emails": [],
                "visible_to": 3,
                "owner": { "id": USER_ID_BASE + user as u64 },
                "organization": { "id": 9_000 + id % 100, "name": format!("Org {}", id % 100), "address": null },
                "custom_fields": [],
                "notes": [],
                "update_time": "2025-01-02T03:04:05Z",
                "add_time": "2024-06-07T08:09:10Z",
            }
        }]
    }))
}

async fn person(State(state): State<Arc<MockState>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Some(user) = authenticate(&state, &headers) else {
        return unauthorized();
    };
    let _guard = state.serve(Endpoint::Person, Some(user)).await;
    match id.parse::<u64>() {
        Ok(id) => success(json!({
            "id": id,
            "name": format!("Person {id}"),
            "owner_id": USER_ID_BASE + user as u64,
            "org_id": 9_000 + id % 100,
            "phones": [{ "value": "+14155550100", "primary": true, "label": "work" }],
            "add_time": "2024-06-07T08:09:10Z",
            "update_time": "2025-01-02T03:04:05Z",
        })),
        Err(_) => pipedrive_error(StatusCode::NOT_FOUND, "Person not found"),
    }
}

async fn deals(
    State(state): State<Arc<MockState>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(user) = authenticate(&state, &headers) else {
        return unauthorized();
    };
    let _guard = state.serve(Endpoint::Deals, Some(user)).await;
    let person = query.get("person_id").and_then(|id| id.parse::<u64>().ok()).unwrap_or(0);
    success(json!([{ "id": person * 10 + 1, "title": format!("Deal of person {person}"), "status": "open" }]))
}

async fn leads(
    State(state): State<Arc<MockState>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(user) = authenticate(&state, &headers) else {
        return unauthorized();
    };
    let _guard = state.serve(Endpoint::Leads, Some(user)).await;
    let person = query.get("person_id").map(String::as_str).unwrap_or("0");
    success(json!([{
        "id": format!("adf21080-0e10-11eb-879b-{person:0>12}"),
        "title": format!("Lead of person {person}"),
        "person_id": person.parse::<u64>().ok(),
    }]))
}

async fn activity_types(State(state): State<Arc<MockState>>, headers: HeaderMap) -> Response {
    let Some(user) = authenticate(&state, &headers) else {
        return unauthorized();
    };
    let _guard = state.serve(Endpoint::ActivityTypes, Some(user)).await;
    success(json!([
        { "id": 1, "order_nr": 1, "name": "Call", "key_string": "call", "icon_key": "call", "active_flag": true, "is_custom_flag": false },
        { "id": 2, "order_nr": 2, "name": "Meeting", "key_string": "meeting", "icon_key": "meeting", "active_flag": true, "is_custom_flag": false },
        { "id": 3, "order_nr": 3, "name": "Old call", "key_string": "old_call", "icon_key": "call", "active_flag": false, "is_custom_flag": true },
        { "id": 4, "order_nr": 4, "name": "SMS", "key_string": "sms", "icon_key": "sms", "active_flag": true, "is_custom_flag": true },
    ]))
}

/// The session id in a subject `callbridge-load <session> ...`.
pub fn session_in_subject(subject: &str) -> Option<&str> {
    let rest = subject.trim_start().strip_prefix(SUBJECT_PREFIX)?;
    rest.split_whitespace().next().filter(|session| !session.is_empty())
}

fn activity_json(activity: &MockActivity) -> Value {
    let field = |name: &str| activity.fields.get(name).cloned().unwrap_or(Value::Null);
    let mut data = json!({
        "id": activity.id,
        "subject": activity.subject,
        "note": activity.note,
        "type": field("type"),
        "owner_id": field("owner_id"),
        "deal_id": field("deal_id"),
        "lead_id": field("lead_id"),
        "org_id": field("org_id"),
        "person_id": activity.person_id,
        "participants": activity.person_id.map(|id| json!([{ "person_id": id, "primary": true }])).unwrap_or(json!([])),
        "done": true,
        "due_date": field("due_date"),
        "due_time": field("due_time"),
        "duration": field("duration"),
        "public_description": field("public_description"),
        "add_time": "2025-01-02T03:04:05Z",
        "update_time": "2025-01-02T03:04:05Z",
    });
    if let (Some(object), Some(person)) = (data.as_object_mut(), activity.person_id) {
        object.insert("person_name".into(), json!(format!("Person {person}")));
    }
    data
}

async fn create_activity(State(state): State<Arc<MockState>>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let Some(user) = authenticate(&state, &headers) else {
        return unauthorized();
    };
    let _guard = state.serve(Endpoint::ActivityCreate, Some(user)).await;
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return pipedrive_error(StatusCode::BAD_REQUEST, "Request body is not JSON");
    };
    let subject = body.get("subject").and_then(Value::as_str).unwrap_or_default().to_owned();
    let person_id = body
        .get("participants")
        .and_then(|participants| participants.get(0))
        .and_then(|participant| participant.get("person_id"))
        .and_then(Value::as_u64);
    let id = state.next_activity_id.fetch_add(1, Ordering::Relaxed);
    let activity = MockActivity {
        id,
        user: Some(user),
        note: body.get("note").and_then(Value::as_str).unwrap_or_default().to_owned(),
        session: session_in_subject(&subject).map(str::to_owned),
        subject,
        person_id,
        updates: 0,
        created_at: Instant::now(),
        applied_updates: Vec::new(),
        fields: body.as_object().cloned().unwrap_or_default(),
    };
    let data = activity_json(&activity);
    {
        let mut book = lock(&state.activities);
        match &activity.session {
            Some(session) => book.creates_by_session.entry(session.clone()).or_default().push(id),
            None => book.creates_without_session += 1,
        }
        book.by_id.insert(id, activity);
    }
    success(data)
}

/// `GET /api/v2/activities?person_id=&owner_id=&sort_by=id&sort_direction=desc&limit=&cursor=`: the
/// reconciliation lookup after a create whose outcome the server could not know. Newest first, paged by cursor.
async fn list_activities(
    State(state): State<Arc<MockState>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(user) = authenticate(&state, &headers) else {
        return unauthorized();
    };
    let _guard = state.serve(Endpoint::ActivityList, Some(user)).await;
    let number = |name: &str| query.get(name).and_then(|it| it.parse::<u64>().ok());
    let (person, owner) = (number("person_id"), number("owner_id"));
    let limit = number("limit").unwrap_or(100).clamp(1, 500) as usize;
    let before = number("cursor").unwrap_or(u64::MAX);
    let book = lock(&state.activities);
    let mut matching: Vec<&MockActivity> = book
        .by_id
        .values()
        .filter(|it| it.id < before)
        .filter(|it| person.is_none() || it.person_id == person)
        .filter(|it| owner.is_none() || it.user.map(|n| USER_ID_BASE + n as u64) == owner)
        .collect();
    matching.sort_by_key(|it| std::cmp::Reverse(it.id));
    let more = matching.len() > limit;
    let page: Vec<Value> = matching.iter().take(limit).map(|it| activity_json(it)).collect();
    let next_cursor = more.then(|| matching[limit - 1].id.to_string());
    let body = json!({ "success": true, "data": page, "additional_data": { "next_cursor": next_cursor } });
    drop(book);
    axum::Json(body).into_response()
}

async fn update_activity(
    State(state): State<Arc<MockState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let Some(user) = authenticate(&state, &headers) else {
        return unauthorized();
    };
    let _guard = state.serve(Endpoint::ActivityUpdate, Some(user)).await;
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return pipedrive_error(StatusCode::BAD_REQUEST, "Request body is not JSON");
    };
    let mut book = lock(&state.activities);
    let Some(activity) = id.parse::<u64>().ok().and_then(|id| book.by_id.get_mut(&id)) else {
        return pipedrive_error(StatusCode::NOT_FOUND, "Activity not found");
    };
    if let Some(note) = body.get("note").and_then(Value::as_str) {
        activity.note = note.to_owned();
    }
    if let Some(subject) = body.get("subject").and_then(Value::as_str) {
        activity.subject = subject.to_owned();
    }
    activity.applied_updates.push((activity.subject.clone(), Instant::now()));
    if let Some(fields) = body.as_object() {
        activity.fields.extend(fields.iter().map(|(key, value)| (key.clone(), value.clone())));
    }
    activity.updates += 1;
    let data = activity_json(activity);
    drop(book);
    success(data)
}

async fn get_activity(State(state): State<Arc<MockState>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let Some(user) = authenticate(&state, &headers) else {
        return unauthorized();
    };
    let _guard = state.serve(Endpoint::ActivityGet, Some(user)).await;
    let activity = id.parse::<u64>().ok().and_then(|id| lock(&state.activities).by_id.get(&id).cloned());
    match activity {
        Some(activity) => {
            let related = activity.person_id.map(|person| {
                json!({ "person": { person.to_string(): { "id": person, "name": format!("Person {person}") } } })
            });
            let body = json!({
                "success": true,
                "data": activity_json(&activity),
                "related_objects": related,
            });
            (
                [("x-ratelimit-remaining", "79"), ("x-ratelimit-limit", "80"), ("x-ratelimit-reset", "2")],
                axum::Json(body),
            )
                .into_response()
        }
        None => pipedrive_error(StatusCode::NOT_FOUND, "Activity not found"),
    }
}

async fn unexpected(State(state): State<Arc<MockState>>, method: Method, uri: Uri) -> Response {
    *lock(&state.unexpected).entry(format!("{method} {}", uri.path())).or_default() += 1;
    pipedrive_error(StatusCode::NOT_FOUND, "Unknown endpoint (callbridge-load mock)")
}
