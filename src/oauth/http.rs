//! The HTTP client for token requests: ureq over the same rustls
//! configuration as the mail probes (so `[tls] extra_ca_files` apply), with
//! timeouts and no redirects. Unlike oauth2's built-in ureq glue, an HTTP error
//! status still hands its body over, so `invalid_grant` and the AADSTS codes
//! reach the diagnosis.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use oauth2::{HttpClientError, HttpRequest, HttpResponse, SyncHttpClient};

/// Largest token response accepted (Microsoft token sets are a few KB).
const MAX_BODY: u64 = 1024 * 1024;

/// Which proxy sign-in and token requests take: the config's `[network]`, else the
/// environment's (`https_proxy`, `HTTPS_PROXY`, `all_proxy`, `ALL_PROXY`; `no_proxy`) —
/// see [`route_for`]; no process-wide state, each request is given its route.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxyRoute {
    /// The proxy's address; the config's carries at most a user name.
    pub proxy: Option<String>,
    pub no_proxy: Vec<String>,
    /// The config's proxy's password, from the OS credential store.
    pub password: Option<crate::secret::Secret>,
}

/// The proxy by its scheme, host and port only: its address may carry a password.
impl std::fmt::Debug for ProxyRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyRoute")
            .field("proxy", &self.proxy.as_deref().map(crate::secret::without_userinfo))
            .field("no_proxy", &self.no_proxy)
            .field("password", &self.password)
            .finish()
    }
}

/// The proxy sign-in and token requests take for `network`: its proxy (a password it
/// asks for read from the OS credential store — `network set --proxy-password-stdin`, or
/// the window's Network — never from the config), else the environment's. Built by each
/// command and job from the config it works with, and handed to every [`TokenHttp`].
pub(crate) fn route_for(network: &crate::model::NetworkConfig, secrets: &crate::store::Secrets) -> ProxyRoute {
    let configured = network.proxy.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let Some(proxy) = configured else { return environment_route() };
    let has_user = url::Url::parse(proxy).is_ok_and(|url| !url.username().is_empty());
    ProxyRoute {
        proxy: Some(proxy.to_owned()),
        no_proxy: split_no_proxy(network.no_proxy.as_deref().unwrap_or("")),
        password: if has_user { proxy_password(secrets) } else { None },
    }
}

fn proxy_password(secrets: &crate::store::Secrets) -> Option<crate::secret::Secret> {
    // Once per process: every check of `check --all` goes through the proxy.
    match secrets.get_remembered(crate::store::SecretOwner::Proxy, crate::store::SecretKind::ProxyPassword) {
        Ok(password) => password.filter(|p| !p.is_empty()),
        Err(err) => {
            tracing::warn!("the proxy's password could not be read: {err}");
            None
        }
    }
}

/// The address ureq connects through: the user name and the stored password put
/// together here, at the last moment, and never shown.
fn proxy_address(route: &ProxyRoute, proxy: &str) -> String {
    let Ok(url) = url::Url::parse(proxy) else {
        return proxy.to_owned();
    };
    let host_port = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => return proxy.to_owned(),
    };
    // A user name without its password is not sent at all: the proxy's refusal then
    // says a password is wanted (ureq also refuses "user@" without one).
    if url.username().is_empty() || url.password().is_some() {
        return proxy.to_owned(); // none asked for, or the environment's own
    }
    match &route.password {
        Some(password) => format!("{}://{}:{}@{host_port}", url.scheme(), url.username(), password.expose()),
        None => format!("{}://{host_port}", url.scheme()),
    }
}

/// `text` with the proxy's user information and stored password taken out: a
/// transport error may quote the address it was given.
fn without_secrets_of(text: &str, proxy: &str, route: Option<&ProxyRoute>) -> String {
    let mut text = text.to_owned();
    if let Some((userinfo, _)) = proxy.rsplit_once('@') {
        let userinfo = userinfo.split_once("://").map_or(userinfo, |(_, rest)| rest);
        for part in [userinfo, userinfo.split_once(':').map_or("", |(_, password)| password)] {
            if !part.is_empty() {
                text = text.replace(part, crate::secret::REDACTED);
            }
        }
    }
    if let Some(password) = route.and_then(|route| route.password.as_ref()).filter(|p| !p.expose().is_empty()) {
        text = text.replace(password.expose(), crate::secret::REDACTED);
    }
    text
}

/// `no_proxy` as curl reads it: comma- (or space-) separated; `*` alone is every host;
/// `*.corp.example` and `.corp.example` are the domain; a `:port` after a name is
/// ignored (curl matches names whatever the port); IP addresses with `/bits` (CIDR).
fn split_no_proxy(list: &str) -> Vec<String> {
    list.split([',', ' '])
        .map(|entry| {
            let entry = entry.trim().to_ascii_lowercase();
            if entry == "*" { entry } else { entry.trim_start_matches('*').to_owned() }
        })
        .filter(|entry| !entry.is_empty())
        .collect()
}

/// Whether one `no_proxy` entry names `host` (lower case, without brackets).
fn no_proxy_entry_names(entry: &str, host: &str) -> bool {
    if entry == "*" {
        return true;
    }
    let address: Option<std::net::IpAddr> = host.parse().ok();
    if let Some((network, bits)) = entry.split_once('/') {
        let (Ok(network), Ok(bits), Some(address)) =
            (network.parse::<std::net::IpAddr>(), bits.parse::<u32>(), address)
        else {
            return false;
        };
        return in_network(address, network, bits);
    }
    let entry = entry.trim_matches(['[', ']']);
    if let Ok(ip) = entry.parse::<std::net::IpAddr>() {
        return address == Some(ip);
    }
    // A name, perhaps with a port (`proxy.corp.example:8080`, `[::1]:80` handled above).
    let name = match entry.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => entry,
    };
    let domain = name.trim_start_matches('.');
    !domain.is_empty() && (host == domain || host.ends_with(&format!(".{domain}")))
}

/// Whether `address` is in `network`/`bits` (both of one family).
fn in_network(address: std::net::IpAddr, network: std::net::IpAddr, bits: u32) -> bool {
    use std::net::IpAddr;
    let (address, network, width) = match (address, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u128::from(u32::from(a)), u128::from(u32::from(n)), 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    if bits > width {
        return false;
    }
    let shift = width - bits;
    (address >> shift.min(127)) == (network >> shift.min(127)) || bits == 0
}

/// Whether `host` names this computer (localhost, 127.0.0.0/8, ::1).
fn is_this_computer(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The environment's proxy (`https_proxy`, `HTTPS_PROXY`, `all_proxy`, `ALL_PROXY`; `no_proxy`).
fn environment_route() -> ProxyRoute {
    let env = |names: &[&str]| names.iter().find_map(|n| std::env::var(n).ok()).filter(|v| !v.trim().is_empty());
    ProxyRoute {
        proxy: env(&["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]),
        no_proxy: split_no_proxy(&env(&["no_proxy", "NO_PROXY"]).unwrap_or_default()),
        password: None,
    }
}

impl ProxyRoute {
    /// The proxy for a request to `host`, unless `no_proxy` names it (as curl reads
    /// it) or the host is this computer and the proxy is not: a proxy elsewhere cannot
    /// reach this computer's servers, and would only see what is sent to them.
    pub(crate) fn for_host(&self, host: &str) -> Option<&str> {
        let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
        let local_only = is_this_computer(&host) && !self.proxy_is_this_computer();
        let bypass = local_only || self.no_proxy.iter().any(|entry| no_proxy_entry_names(entry, &host));
        if bypass { None } else { self.proxy.as_deref() }
    }

    /// A proxy on this computer (a local agent, a test proxy) can reach its servers.
    fn proxy_is_this_computer(&self) -> bool {
        let host = self.proxy.as_deref().map(crate::secret::without_userinfo).and_then(|shown| {
            url::Url::parse(&shown).ok().and_then(|url| url.host_str().map(|h| h.trim_matches(['[', ']']).to_owned()))
        });
        host.is_some_and(|host| is_this_computer(&host.to_ascii_lowercase()))
    }
}

/// Why a request of the app's own (a webhook, userinfo) did not get an answer. The
/// proxy is named by scheme, host and port only; its words carry no password.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HttpError {
    /// The proxy that should carry it cannot be used (an `https://` proxy).
    #[error("{0}")]
    UnusableProxy(String),
    #[error("the proxy {proxy} failed: {reason}")]
    Proxy { proxy: String, reason: String },
    #[error("{0}")]
    Transport(String),
}

#[derive(Clone)]
pub struct TokenHttp {
    agent: ureq::Agent,
    /// The same through the proxy in effect, when there is one.
    proxied: Option<(ureq::Agent, ProxyRoute)>,
    /// Why the proxy in effect cannot be used (an `https://` proxy, a scheme ureq does
    /// not speak): requests it would carry fail with these words instead of quietly
    /// going direct past the organisation's proxy.
    unusable_proxy: Option<String>,
    /// The proxy in effect when the client was made.
    route: ProxyRoute,
    /// Refuses further requests once cancelled (a device sign-in polls until told to stop).
    cancel: Option<crate::cancel::CancelToken>,
    /// The status of the last answer, and how long it asked to wait: oauth2's error
    /// types keep neither, and a 429 or 503 is to be tried again, not reconnected.
    last: Arc<std::sync::Mutex<Option<StatusSeen>>>,
}

/// An HTTP answer's status and its `Retry-After`, as seen by [`TokenHttp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusSeen {
    pub status: u16,
    pub retry_after: Option<Duration>,
}

/// The longest wait a provider's `Retry-After` is taken at its word for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// `Retry-After` in seconds (the HTTP-date form is treated as absent: a minute's
/// guess is no better than the caller's own backoff).
fn retry_after(header: Option<&str>) -> Option<Duration> {
    let seconds: u64 = header?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// Microsoft's throttling text names a wait ("… Suggested Backoff Time: 30 seconds" or
/// "SuggestedBackoffTime 00:00:30"): the seconds in it, when there are any.
pub(crate) fn suggested_backoff(text: &str) -> Option<Duration> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find("suggested backoff time").or_else(|| lower.find("suggestedbackofftime"))?;
    let rest = &text[at..];
    let start = rest.find(|c: char| c.is_ascii_digit())?;
    let number: String = rest[start..].chars().take_while(|c| c.is_ascii_digit() || *c == ':').collect();
    let seconds = number.split(':').try_fold(0_u64, |total, part| {
        part.parse::<u64>().ok().map(|value| total.saturating_mul(60).saturating_add(value))
    })?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// ureq's agents print their proxy with its password: shown here by the route alone.
impl std::fmt::Debug for TokenHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenHttp")
            .field("proxied", &self.proxied.as_ref().map(|(_, route)| route))
            .field("cancel", &self.cancel)
            .finish_non_exhaustive()
    }
}

impl TokenHttp {
    #[allow(clippy::needless_pass_by_value, reason = "callers hand over their Arc, as ureq's tls_config takes one")]
    pub fn new(tls: Arc<rustls::ClientConfig>, timeout: Duration, route: &ProxyRoute) -> Self {
        let builder = || {
            ureq::AgentBuilder::new()
                .tls_config(tls.clone())
                .timeout_connect(timeout)
                .timeout(timeout * 2)
                .redirects(0)
                .user_agent(concat!("mailsettings/", env!("CARGO_PKG_VERSION")))
        };
        let route = route.clone();
        let mut unusable_proxy = None;
        let proxied = route.proxy.as_deref().and_then(|proxy| match ureq::Proxy::new(proxy_address(&route, proxy)) {
            Ok(proxy) => Some((builder().proxy(proxy).build(), route.clone())),
            Err(_) => {
                // ureq's words can quote the address: name it by its parts.
                unusable_proxy = Some(format!(
                    "the proxy {} cannot be used: give its address as http://host:port (requests go through it \
                     with CONNECT, still encrypted end to end)",
                    crate::secret::without_userinfo(proxy)
                ));
                None
            }
        });
        Self { agent: builder().build(), proxied, unusable_proxy, route, cancel: None, last: Arc::default() }
    }

    /// The agent for `url`: through the proxy unless `no_proxy` names its host; an
    /// error when the proxy that should carry it cannot be used.
    fn agent_for(&self, url: &str) -> Result<&ureq::Agent, HttpError> {
        let parsed = url::Url::parse(url).ok();
        // Plain http (allowed only to this computer) never goes through a proxy: a
        // token in it would cross the proxy in clear.
        if parsed.as_ref().is_some_and(|u| u.scheme() == "http") {
            return Ok(&self.agent);
        }
        let host = parsed.and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
        match (&self.proxied, &self.unusable_proxy) {
            (Some((agent, route)), _) if route.for_host(&host).is_some() => Ok(agent),
            (None, Some(unusable)) if self.route.for_host(&host).is_some() => {
                Err(HttpError::UnusableProxy(unusable.clone()))
            }
            _ => Ok(&self.agent),
        }
    }

    /// POST `body` as JSON (the alert webhook): the answer's status, or the transport's
    /// failure in words. The address is the caller's to keep out of those words.
    pub(crate) fn post_json(&self, url: &str, body: &str) -> Result<u16, HttpError> {
        let agent = self.agent_for(url)?;
        match agent.post(url).set("Content-Type", "application/json").send_string(body) {
            Ok(response) | Err(ureq::Error::Status(_, response)) => Ok(response.status()),
            Err(ureq::Error::Transport(transport)) => {
                let through = self.proxied.as_ref().filter(|(proxied, _)| std::ptr::eq(proxied, agent));
                let words = transport.message().map_or_else(|| transport.kind().to_string(), str::to_owned);
                Err(match through.and_then(|(_, route)| route.proxy.as_deref()) {
                    Some(proxy) => HttpError::Proxy {
                        proxy: crate::secret::without_userinfo(proxy),
                        reason: without_secrets_of(&words, proxy, through.map(|(_, route)| route)),
                    },
                    None => HttpError::Transport(words),
                })
            }
        }
    }

    /// The status of the last answer (and its `Retry-After`), if one came.
    pub(crate) fn last_status(&self) -> Option<StatusSeen> {
        self.last.lock().ok().and_then(|last| *last)
    }

    /// The same client, refusing requests once `cancel` is cancelled.
    pub(crate) fn cancelled_by(mut self, cancel: &crate::cancel::CancelToken) -> Self {
        self.cancel = Some(cancel.clone());
        self
    }

    /// GET with a bearer token (userinfo). Returns the status and body.
    pub(crate) fn get_bearer(&self, url: &str, token: &str) -> Result<(u16, Vec<u8>), HttpError> {
        let answer = self.call_api(url, token, None)?;
        Ok((answer.status, answer.body))
    }

    /// A request to a mail API with a bearer token: GET, or POST of `body` with its
    /// content type. The answer's status, `Retry-After` and body (at most
    /// [`MAX_BODY`]); the transport's failure in words, a proxy's named without secrets.
    pub(crate) fn call_api(&self, url: &str, token: &str, body: Option<(&str, &[u8])>) -> Result<ApiAnswer, HttpError> {
        if self.cancel.as_ref().is_some_and(crate::cancel::CancelToken::is_cancelled) {
            return Err(HttpError::Transport("cancelled".to_owned()));
        }
        let agent = self.agent_for(url)?;
        let bearer = format!("Bearer {token}");
        let result = match body {
            Some((content_type, bytes)) => {
                agent.post(url).set("Authorization", &bearer).set("Content-Type", content_type).send_bytes(bytes)
            }
            None => agent.get(url).set("Authorization", &bearer).set("Accept", "application/json").call(),
        };
        let response = match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(transport)) => {
                let through = self.proxied.as_ref().filter(|(proxied, _)| std::ptr::eq(proxied, agent));
                let words = transport.to_string();
                return Err(match through.and_then(|(_, route)| route.proxy.as_deref()) {
                    Some(proxy) => HttpError::Proxy {
                        proxy: crate::secret::without_userinfo(proxy),
                        reason: without_secrets_of(&words, proxy, through.map(|(_, route)| route)),
                    },
                    None => HttpError::Transport(words),
                });
            }
        };
        let status = response.status();
        let retry_after = retry_after(response.header("retry-after"));
        let mut body = Vec::new();
        response
            .into_reader()
            .take(MAX_BODY)
            .read_to_end(&mut body)
            .map_err(|e| HttpError::Transport(e.to_string()))?;
        Ok(ApiAnswer { status, retry_after, body })
    }
}

/// What a mail API answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiAnswer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

impl SyncHttpClient for TokenHttp {
    type Error = HttpClientError<ureq::Error>;

    fn call(&self, request: HttpRequest) -> Result<HttpResponse, Self::Error> {
        if self.cancel.as_ref().is_some_and(crate::cancel::CancelToken::is_cancelled) {
            return Err(HttpClientError::Other("cancelled".to_owned()));
        }
        let uri = request.uri().to_string();
        let agent = self.agent_for(&uri).map_err(|err| HttpClientError::Other(err.to_string()))?;
        let mut call = if request.method() == oauth2::http::Method::POST { agent.post(&uri) } else { agent.get(&uri) };
        for (name, value) in request.headers() {
            let value = value.to_str().map_err(|_| HttpClientError::Other(format!("header {name} is not text")))?;
            call = call.set(name.as_str(), value);
        }
        let result =
            if request.method() == oauth2::http::Method::POST { call.send_bytes(request.body()) } else { call.call() };
        let response = match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            // Through a proxy, its failure is named as the proxy's, not the provider's.
            Err(err) => {
                let proxy = self.proxied.as_ref().filter(|(proxied, _)| std::ptr::eq(proxied, agent));
                return Err(match proxy.and_then(|(_, route)| route.proxy.as_deref()) {
                    Some(proxy) => HttpClientError::Other(format!(
                        "the proxy {} failed: {}",
                        crate::secret::without_userinfo(proxy),
                        without_secrets_of(&err.to_string(), proxy, self.proxied.as_ref().map(|(_, route)| route))
                    )),
                    None => HttpClientError::Reqwest(Box::new(err)),
                });
            }
        };
        if let Ok(mut last) = self.last.lock() {
            *last = Some(StatusSeen {
                status: response.status(),
                retry_after: retry_after(response.header("retry-after")),
            });
        }
        let mut builder = oauth2::http::Response::builder().status(response.status());
        if let Some(content_type) = response.header("content-type") {
            builder = builder.header(oauth2::http::header::CONTENT_TYPE, content_type);
        }
        let mut body = Vec::new();
        response.into_reader().take(MAX_BODY).read_to_end(&mut body)?;
        builder.body(body).map_err(HttpClientError::Http)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A proxy's password never prints: not from the environment's raw address (no
    /// scheme, a `#` in it), not from the stored one, not through `{:?}` of the client
    /// (ureq's agent would print it), not in a failure's words.
    #[test]
    fn a_proxy_password_never_prints() {
        for raw in ["arteam:Winter2026@127.0.0.1:9", "http://arteam:Win#ter2026@127.0.0.1:9"] {
            let route = ProxyRoute {
                proxy: Some(raw.to_owned()),
                password: Some("Stored-Pa55".into()),
                ..ProxyRoute::default()
            };
            let tls = crate::tls::client_config(&[]).unwrap();
            let mut http = TokenHttp::new(tls, Duration::from_secs(1), &ProxyRoute::default());
            let agent = ureq::AgentBuilder::new().proxy(ureq::Proxy::new(raw).unwrap()).build();
            http.proxied = Some((agent, route.clone()));
            let printed = format!("{http:?} {http:#?} {route:?}");
            assert!(!printed.contains("Winter2026") && !printed.contains("Win#ter2026"), "{printed}");
            assert!(!printed.contains("Stored-Pa55") && printed.contains("127.0.0.1:9"), "{printed}");
            let quoted = format!("connecting to {raw} with Stored-Pa55 failed");
            let cleaned = without_secrets_of(&quoted, raw, Some(&route));
            assert!(!cleaned.contains("Winter2026") && !cleaned.contains("Win#ter2026"), "{cleaned}");
            assert!(!cleaned.contains("Stored-Pa55") && !cleaned.contains("arteam:"), "{cleaned}");
        }
    }

    #[test]
    fn the_stored_password_joins_the_user_name_only_on_the_way_out() {
        let stored = ProxyRoute { password: Some("pw".into()), ..ProxyRoute::default() };
        assert_eq!(proxy_address(&stored, "http://arteam@proxy:3128"), "http://arteam:pw@proxy:3128");
        assert_eq!(proxy_address(&ProxyRoute::default(), "http://arteam@proxy:3128"), "http://proxy:3128");
        assert_eq!(proxy_address(&stored, "http://env:own@proxy:3128"), "http://env:own@proxy:3128");
        assert_eq!(proxy_address(&stored, "http://proxy:3128"), "http://proxy:3128");
        assert!(!format!("{stored:?}").contains("pw"), "the route's Debug keeps the password out");
    }

    #[test]
    fn no_proxy_names_hosts_and_domains_as_curl_reads_it() {
        let route = ProxyRoute {
            proxy: Some("http://proxy:3128".into()),
            no_proxy: split_no_proxy("*.corp.example, 10.0.0.5 ,localhost"),
            password: None,
        };
        assert_eq!(route.for_host("login.microsoftonline.com"), Some("http://proxy:3128"));
        assert_eq!(route.for_host("auth.corp.example"), None);
        assert_eq!(route.for_host("corp.example"), None);
        assert_eq!(route.for_host("10.0.0.5"), None);
        assert_eq!(route.for_host("notcorp.example"), Some("http://proxy:3128"));
        // This computer is never reached through a proxy elsewhere, whatever no_proxy says…
        for local in ["127.0.0.1", "127.3.4.5", "[::1]", "LOCALHOST", "oauth.localhost"] {
            assert_eq!(ProxyRoute { no_proxy: Vec::new(), ..route.clone() }.for_host(local), None, "{local}");
        }
        // …but a proxy on this computer reaches its servers.
        let local_proxy = ProxyRoute { proxy: Some("http://127.0.0.1:8888".into()), ..ProxyRoute::default() };
        assert_eq!(local_proxy.for_host("127.0.0.1"), Some("http://127.0.0.1:8888"));
        let every = ProxyRoute { no_proxy: split_no_proxy("*"), ..route.clone() };
        assert_eq!(every.for_host("login.microsoftonline.com"), None, "no_proxy=* is every host");
        let curl = ProxyRoute { no_proxy: split_no_proxy("10.0.0.0/8,fd00::/8,intranet.example:8443"), ..route };
        assert_eq!(curl.for_host("10.20.30.40"), None, "CIDR");
        assert_eq!(curl.for_host("11.0.0.1"), Some("http://proxy:3128"));
        assert_eq!(curl.for_host("[fd12::1]"), None, "IPv6 CIDR");
        assert_eq!(curl.for_host("login.intranet.example"), None, "a name's port is ignored, as curl does");
        assert_eq!(curl.for_host("intranet.example.com"), Some("http://proxy:3128"));
    }

    /// An https:// proxy ureq cannot speak to is an error for what it should carry —
    /// never a silent direct connection past the organisation's proxy.
    #[test]
    fn an_unusable_proxy_is_an_error_not_a_direct_connection() {
        let tls = crate::tls::client_config(&[]).unwrap();
        let mut http = TokenHttp::new(tls, Duration::from_secs(1), &ProxyRoute::default());
        http.proxied = None;
        http.unusable_proxy = Some("the proxy https://proxy:3128 cannot be used".into());
        http.route = ProxyRoute { proxy: Some("https://proxy:3128".into()), ..ProxyRoute::default() };
        let refused = http.post_json("https://hooks.example.com/x", "{}").unwrap_err().to_string();
        assert!(refused.contains("cannot be used"), "{refused}");
        assert!(http.agent_for("http://127.0.0.1:9/token").is_ok(), "this computer is reached directly");
        assert!(ureq::Proxy::new("https://proxy:3128").is_err(), "ureq 2 speaks to proxies in plain http only");
    }

    #[test]
    fn waits_are_read_from_retry_after_and_microsofts_words_and_capped() {
        assert_eq!(retry_after(Some(" 7 ")), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(Some("Wed, 21 Oct 2026 07:28:00 GMT")), None);
        assert_eq!(retry_after(Some("99999")), Some(MAX_RETRY_AFTER));
        assert_eq!(
            suggested_backoff("AADSTS50196: throttled. Suggested Backoff Time: 30 seconds"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(suggested_backoff("SuggestedBackoffTime 00:01:05"), Some(Duration::from_secs(65)));
        assert_eq!(suggested_backoff("invalid_grant: AADSTS70043"), None);
    }
}
