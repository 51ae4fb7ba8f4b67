//! Webhook connections only to permitted addresses, checked where it counts: on the addresses a name
//! resolved to, right before connecting (see `canopy_domain::net`). Checking the URL when it is saved
//! is not enough: a name can resolve to `10.0.0.1` tomorrow, or to a different address on every lookup
//! (DNS rebinding), and the lookup reqwest does is the one whose answer it connects to.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use canopy_domain::OutboundPolicy;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The connection was refused by Canopy itself: the destination is not a permitted address.
#[derive(Debug, thiserror::Error)]
#[error("the destination address is not allowed (private or reserved network)")]
pub struct DestinationNotAllowed;

/// Resolves with the system resolver, then keeps only permitted addresses; none left is an error.
pub struct GuardedResolver {
    pub policy: Arc<OutboundPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let permitted: Vec<SocketAddr> = resolved.filter(|a| policy.permits(a.ip())).collect();
            if permitted.is_empty() {
                return Err(
                    Box::new(DestinationNotAllowed) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

/// An HTTP client for webhooks: no proxy from the environment (a proxy would resolve names itself,
/// past the check) and the guarded resolver.
pub fn webhook_client(
    policy: Arc<OutboundPolicy>,
    timeout: std::time::Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(GuardedResolver { policy })
        .user_agent(concat!("canopy-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A URL whose host is an IP literal is connected to without any lookup, so the resolver never sees
/// it: such a host is checked here. Names are left to the resolver.
pub fn literal_host_permitted(url: &str, policy: &OutboundPolicy) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    let Some(host) = parsed.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => policy.permits(ip),
        Err(_) => true,
    }
}

/// What a failed delivery records: a coarse reason only. The response body is not kept (a partner's
/// error page, or whatever an internal service answered, is not Canopy's to store or show), and
/// "refused", "reset" and "timed out" read the same, so the attempts log is no port scanner.
pub fn describe_failure(err: &reqwest::Error) -> String {
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        if s.is::<DestinationNotAllowed>() {
            return DestinationNotAllowed.to_string();
        }
        source = s.source();
    }
    if err.is_timeout() || err.is_connect() {
        "no response: could not connect, or timed out".to_string()
    } else {
        "request failed".to_string()
    }
}
