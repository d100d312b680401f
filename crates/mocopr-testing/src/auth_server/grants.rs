//! The test authorization server's client registration (RFC 7591), authorization endpoint
//! (approving at once, for the configured subject) and token endpoint (authorization code with
//! PKCE S256, refresh tokens when `offline_access` was asked for), each checking what a real
//! server checks: registered redirect URIs, single-use codes, the verifier, the client, the
//! `resource`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Shared, now, sign};

/// Most clients, codes and refresh tokens each kept (a test makes a handful).
const MAX_ENTRIES: usize = 1024;

struct Client {
    redirect_uris: Vec<String>,
    secret: Option<String>,
}

/// What a code or a refresh token stands for.
#[derive(Clone)]
struct Grant {
    client_id: String,
    scope: String,
    resource: String,
    subject: String,
    /// For a code: where it was sent, and the PKCE challenge.
    redirect_uri: String,
    challenge: String,
}

pub(super) struct Grants {
    clients: Mutex<HashMap<String, Client>>,
    codes: Mutex<HashMap<String, Grant>>,
    refresh_tokens: Mutex<HashMap<String, Grant>>,
    pub(super) subject: Mutex<String>,
    pub(super) lifetime: AtomicU64,
    pub(super) authorizations: Mutex<Vec<String>>,
    pub(super) refreshes: AtomicUsize,
}

impl Default for Grants {
    fn default() -> Self {
        Grants {
            clients: Mutex::default(),
            codes: Mutex::default(),
            refresh_tokens: Mutex::default(),
            subject: Mutex::new("alice".to_owned()),
            lifetime: AtomicU64::new(3600),
            authorizations: Mutex::default(),
            refreshes: AtomicUsize::new(0),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn random() -> String {
    format!("{:032x}", fastrand::u128(..))
}

/// Inserts into a bounded map (the oldest arbitrary entry goes when it is full).
fn keep<T>(map: &Mutex<HashMap<String, T>>, key: String, value: T) {
    let mut map = lock(map);
    if map.len() >= MAX_ENTRIES
        && let Some(any) = map.keys().next().cloned()
    {
        map.remove(&any);
    }
    map.insert(key, value);
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({"error": error}))).into_response()
}

/// RFC 7591: a client with the redirect URIs it names; a secret unless it asks for `none`.
pub(super) async fn register(State(shared): State<Arc<Shared>>, Json(body): Json<Value>) -> Response {
    let redirect_uris: Vec<String> = body
        .get("redirect_uris")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let method = body.get("token_endpoint_auth_method").and_then(Value::as_str).unwrap_or("client_secret_basic");
    if !["none", "client_secret_basic", "client_secret_post"].contains(&method) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_client_metadata");
    }
    let client_id = format!("client-{}", random());
    let secret = (method != "none").then(random);
    keep(
        &shared.grants.clients,
        client_id.clone(),
        Client { redirect_uris: redirect_uris.clone(), secret: secret.clone() },
    );
    let mut answer = json!({
        "client_id": client_id,
        "redirect_uris": redirect_uris,
        "token_endpoint_auth_method": method,
    });
    if let Some(secret) = secret {
        answer["client_secret"] = json!(secret);
    }
    (StatusCode::CREATED, Json(answer)).into_response()
}

/// The authorization endpoint: checks the request, approves it at once and redirects back with
/// a code, the `state` and `iss` (RFC 9207).
pub(super) async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let get = |name: &str| query.get(name).cloned().unwrap_or_default();
    let client_id = get("client_id");
    let redirect_uri = get("redirect_uri");
    let known = lock(&shared.grants.clients).get(&client_id).is_some_and(|c| c.redirect_uris.contains(&redirect_uri));
    if !known {
        // Never redirect to a URI the client did not register.
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    let Ok(mut back) = url::Url::parse(&redirect_uri) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    };
    let valid = get("response_type") == "code"
        && get("code_challenge_method") == "S256"
        && !get("code_challenge").is_empty()
        && !get("resource").is_empty();
    {
        let mut pairs = back.query_pairs_mut();
        if valid {
            let code = random();
            let grant = Grant {
                client_id,
                scope: get("scope"),
                resource: get("resource"),
                subject: lock(&shared.grants.subject).clone(),
                redirect_uri: redirect_uri.clone(),
                challenge: get("code_challenge"),
            };
            lock(&shared.grants.authorizations).push(grant.scope.clone());
            keep(&shared.grants.codes, code.clone(), grant);
            pairs.append_pair("code", &code);
        } else {
            pairs.append_pair("error", "invalid_request");
        }
        if let Some(state) = query.get("state") {
            pairs.append_pair("state", state);
        }
        pairs.append_pair("iss", &shared.issuer);
    }
    (StatusCode::FOUND, [(header::LOCATION, back.to_string())]).into_response()
}

/// The client a token request authenticates as: HTTP Basic, or `client_id` (with
/// `client_secret` for a confidential client) in the form.
fn authenticated_client(shared: &Shared, headers: &HeaderMap, form: &HashMap<String, String>) -> Option<String> {
    let (id, secret) = match headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(basic) => {
            let decoded = STANDARD.decode(basic.strip_prefix("Basic ")?).ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (id, secret) = text.split_once(':')?;
            let decode = |part: &str| {
                url::form_urlencoded::parse(format!("x={part}").as_bytes()).next().map(|(_, v)| v.into_owned())
            };
            (decode(id)?, Some(decode(secret)?))
        }
        None => (form.get("client_id")?.clone(), form.get("client_secret").cloned()),
    };
    let clients = lock(&shared.grants.clients);
    let client = clients.get(&id)?;
    (client.secret == secret).then_some(id)
}

/// The token endpoint: `authorization_code` (PKCE checked) and `refresh_token` grants.
pub(super) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(client_id) = authenticated_client(&shared, &headers, &form) else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    };
    let get = |name: &str| form.get(name).cloned().unwrap_or_default();
    let grant = match get("grant_type").as_str() {
        "authorization_code" => {
            // A code is good once.
            let Some(grant) = lock(&shared.grants.codes).remove(&get("code")) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            let verified = URL_SAFE_NO_PAD.encode(Sha256::digest(get("code_verifier").as_bytes())) == grant.challenge;
            if grant.client_id != client_id
                || grant.redirect_uri != get("redirect_uri")
                || !verified
                || grant.resource != get("resource")
            {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            grant
        }
        "refresh_token" => {
            // Rotated: the old refresh token goes.
            let Some(grant) = lock(&shared.grants.refresh_tokens).remove(&get("refresh_token")) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            let resource = get("resource");
            if grant.client_id != client_id || !(resource.is_empty() || resource == grant.resource) {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            shared.grants.refreshes.fetch_add(1, Ordering::AcqRel);
            grant
        }
        _ => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    };
    let lifetime = shared.grants.lifetime.load(Ordering::Acquire);
    let now = now();
    let scopes: Vec<&str> = grant.scope.split_ascii_whitespace().filter(|s| *s != "offline_access").collect();
    let claims = json!({
        "iss": shared.issuer,
        "sub": grant.subject,
        "aud": grant.resource,
        "client_id": grant.client_id,
        "scope": scopes.join(" "),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
    });
    let Ok(access_token) = sign(&shared, &claims) else {
        return oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error");
    };
    let mut answer = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": grant.scope,
    });
    if grant.scope.split_ascii_whitespace().any(|s| s == "offline_access") {
        let refresh_token = random();
        keep(&shared.grants.refresh_tokens, refresh_token.clone(), grant);
        answer["refresh_token"] = json!(refresh_token);
    }
    ([(header::CACHE_CONTROL, "no-store")], Json(answer)).into_response()
}
