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

#[derive(Debug, Clone)]
pub struct TokenHttp {
    agent: ureq::Agent,
    /// Refuses further requests once cancelled (a device sign-in polls until told to stop).
    cancel: Option<crate::cancel::CancelToken>,
}

impl TokenHttp {
    pub fn new(tls: Arc<rustls::ClientConfig>, timeout: Duration) -> Self {
        let agent = ureq::AgentBuilder::new()
            .tls_config(tls)
            .timeout_connect(timeout)
            .timeout(timeout * 2)
            .redirects(0)
            .user_agent(concat!("mailsettings/", env!("CARGO_PKG_VERSION")))
            .build();
        Self { agent, cancel: None }
    }

    /// The same client, refusing requests once `cancel` is cancelled.
    pub fn cancelled_by(mut self, cancel: &crate::cancel::CancelToken) -> Self {
        self.cancel = Some(cancel.clone());
        self
    }

    /// GET with a bearer token (userinfo). Returns the status and body.
    pub fn get_bearer(&self, url: &str, token: &str) -> Result<(u16, Vec<u8>), String> {
        let result = self.agent.get(url).set("Authorization", &format!("Bearer {token}")).call();
        let response = match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(transport)) => return Err(transport.to_string()),
        };
        let status = response.status();
        let mut body = Vec::new();
        response.into_reader().take(MAX_BODY).read_to_end(&mut body).map_err(|e| e.to_string())?;
        Ok((status, body))
    }
}

impl SyncHttpClient for TokenHttp {
    type Error = HttpClientError<ureq::Error>;

    fn call(&self, request: HttpRequest) -> Result<HttpResponse, Self::Error> {
        if self.cancel.as_ref().is_some_and(crate::cancel::CancelToken::is_cancelled) {
            return Err(HttpClientError::Other("cancelled".to_owned()));
        }
        let uri = request.uri().to_string();
        let mut call =
            if request.method() == oauth2::http::Method::POST { self.agent.post(&uri) } else { self.agent.get(&uri) };
        for (name, value) in request.headers() {
            let value = value.to_str().map_err(|_| HttpClientError::Other(format!("header {name} is not text")))?;
            call = call.set(name.as_str(), value);
        }
        let result =
            if request.method() == oauth2::http::Method::POST { call.send_bytes(request.body()) } else { call.call() };
        let response = match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(err) => return Err(HttpClientError::Reqwest(Box::new(err))),
        };
        let mut builder = oauth2::http::Response::builder().status(response.status());
        if let Some(content_type) = response.header("content-type") {
            builder = builder.header(oauth2::http::header::CONTENT_TYPE, content_type);
        }
        let mut body = Vec::new();
        response.into_reader().take(MAX_BODY).read_to_end(&mut body)?;
        builder.body(body).map_err(HttpClientError::Http)
    }
}
