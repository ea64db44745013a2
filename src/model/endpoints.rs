//! Whether a sign-in app's addresses may be used: https, or plain http only on this
//! computer; a loopback redirect host. Read by validation, by import and by the
//! sign-in itself before any request is sent.

/// Why a sign-in endpoint may not be used: it must be https, except on this
/// computer (127.0.0.0/8, ::1, localhost) where local test servers run.
pub(crate) fn endpoint_problem(what: &str, address: &str) -> Option<String> {
    let Ok(url) = url::Url::parse(address.trim()) else {
        return Some(format!("{what} \"{address}\" is not a web address"));
    };
    match url.scheme() {
        "https" => None,
        "http" if url.host().is_some_and(|host| is_loopback_host(&host)) => None,
        _ => Some(format!(
            "{what} \"{address}\" must use https (plain http is allowed only for this computer, e.g. 127.0.0.1)"
        )),
    }
}

/// Why a proxy address may not be kept in the config: it is an `http://host:port`
/// address (the proxy is spoken to in plain HTTP; requests go through it with
/// CONNECT), with at most a user name — its password belongs in the OS credential
/// store, and a config file is copied, exported and read by support.
pub(crate) fn proxy_problem(address: &str) -> Option<String> {
    let shown = crate::secret::without_userinfo(address);
    let wrong = || {
        Some(format!(
            "the proxy \"{shown}\" is not an address like http://proxy.corp.example:3128 (with name@ before the host \
             when it asks for a password; the password is stored on its own, never in the config)"
        ))
    };
    let Ok(url) = url::Url::parse(address.trim()) else { return wrong() };
    if url.password().is_some() {
        return Some(format!(
            "the proxy \"{shown}\" carries a password: keep only the user name in the address and store the \
             password on its own (network set --proxy-password-stdin, or the window's Network)"
        ));
    }
    if url.scheme() != "http" || url.host_str().is_none_or(str::is_empty) {
        return wrong();
    }
    None
}

/// Why a Microsoft tenant value may not go into a sign-in address: it becomes a path
/// segment of login.microsoftonline.com, so it is a directory (tenant) id — a GUID —,
/// a domain name (`contoso.com`, `contoso.onmicrosoft.com`) or one of Microsoft's own
/// words (`organizations`, `common`, `consumers`); `/`, `?`, `#`, `..` never.
pub(crate) fn tenant_problem(what: &str, tenant: &str) -> Option<String> {
    let tenant = tenant.trim();
    let words = ["organizations", "common", "consumers"];
    let ok = words.contains(&tenant.to_ascii_lowercase().as_str()) || is_guid(tenant) || is_domain_name(tenant);
    (!ok).then(|| {
        format!(
            "{what} \"{}\" is not a tenant: enter the directory (tenant) id, a GUID, or the organisation's domain \
             such as contoso.com",
            crate::printable::printable(tenant)
        )
    })
}

fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A DNS name of two labels or more: letters, digits and inner hyphens, each label 1–63.
fn is_domain_name(text: &str) -> bool {
    let labels: Vec<&str> = text.split('.').collect();
    text.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_is_a_guid_a_domain_or_microsofts_word() {
        for good in [
            "contoso.com",
            "contoso.onmicrosoft.com",
            "2f1d4c1e-0000-4000-8000-000000000001",
            "organizations",
            "Common",
        ] {
            assert_eq!(tenant_problem("Tenant", good), None, "{good}");
        }
        for bad in [
            "contoso.com/oauth2/v2.0/token?",
            "../common",
            "evil.example#",
            "contoso",
            "a b.com",
            "-x.com",
            "x..com",
            "",
        ] {
            assert!(tenant_problem("Tenant", bad).is_some_and(|p| p.starts_with("Tenant \"")), "{bad}");
        }
    }

    #[test]
    fn sign_in_endpoints_must_be_https_except_on_this_computer() {
        for good in [
            "https://login.microsoftonline.com/x/oauth2/v2.0/token",
            "http://127.0.0.1:8080/token",
            "http://127.9.9.9/token",
            "http://localhost:9000/auth",
            "http://[::1]:9000/auth",
        ] {
            assert_eq!(endpoint_problem("token_url", good), None, "{good}");
        }
        for bad in ["http://idp.example.com/token", "ftp://idp.example.com/", "http://10.0.0.1/token", "token", ""] {
            assert!(endpoint_problem("token_url", bad).is_some(), "{bad}");
        }
        let provider = crate::model::OAuthProvider {
            id: "corp".into(),
            authorize_url: "https://idp.example.com/auth".into(),
            token_url: "http://idp.example.com/token".into(),
            redirect_host: Some("evil.example.com".into()),
            ..Default::default()
        };
        let problems = provider.problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("token_url") && problems[0].contains("must use https"));
        assert!(problems[1].contains("redirect_host"));
    }
}
