//! Cloud profiles: for each Microsoft cloud, the Entra login host and, per destination API, the
//! API base URL and the token scope. Facts from reference/microsoft-apis.md §1.2, §2.1, §3 and §4;
//! the peers hard-code the global cloud, which is how GCC High and DoD tenants ended up with
//! AADSTS900382 (peers.md §4, misp2sentinel#124).

use std::fmt;

/// The legacy Sentinel upload API's host (reference §1.3: the only one documented, in any cloud).
pub const SENTINEL_LEGACY_BASE_URL: &str = "https://sentinelus.azure-api.net";

/// A Microsoft cloud.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cloud {
    /// The commercial cloud.
    Global,
    /// US Government Community Cloud (GCC, "moderate"): global login and Graph, its own Defender
    /// host; Azure (and so Sentinel) in whichever cloud the subscription lives — global here.
    Usgov,
    /// US Government GCC High (L4).
    UsgovHigh,
    /// US Department of Defense (L5).
    Dod,
    /// Azure China (21Vianet).
    China,
}

/// The APIs a destination talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Api {
    /// Sentinel's threat-intelligence upload APIs.
    Sentinel,
    /// Defender for Endpoint's indicators API.
    Defender,
    /// Graph `tiIndicators` (beta, deprecated).
    Graph,
}

/// Where one API lives in one cloud.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `https://host` without a trailing slash.
    pub base_url: &'static str,
    /// The client-credentials scope (`<resource>/.default`).
    pub scope: &'static str,
    /// The resource (audience) as the managed-identity endpoint wants it (no `/.default`).
    pub resource: &'static str,
}

impl Cloud {
    /// Every cloud.
    pub const ALL: [Self; 5] = [Self::Global, Self::Usgov, Self::UsgovHigh, Self::Dod, Self::China];

    /// The configuration name (`global`, `usgov`, `usgov-high`, `dod`, `china`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Usgov => "usgov",
            Self::UsgovHigh => "usgov-high",
            Self::Dod => "dod",
            Self::China => "china",
        }
    }

    /// Parses a configuration name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The Entra ID login host. China: the Entra documentation and the Graph documentation
    /// disagree (`login.partner.microsoftonline.cn` vs `login.chinacloudapi.cn`); this is MSAL's
    /// Azure China authority, and a destination can override it.
    pub const fn login_host(self) -> &'static str {
        match self {
            Self::Global | Self::Usgov => "login.microsoftonline.com",
            Self::UsgovHigh | Self::Dod => "login.microsoftonline.us",
            Self::China => "login.chinacloudapi.cn",
        }
    }

    /// The token endpoint for `tenant`.
    pub fn token_url(self, tenant: &str) -> String {
        format!("https://{}/{tenant}/oauth2/v2.0/token", self.login_host())
    }

    /// Where `api` lives in this cloud; `None` where Microsoft offers no such API (Defender in
    /// China; Graph `tiIndicators` outside the global cloud and GCC).
    pub const fn endpoint(self, api: Api) -> Option<Endpoint> {
        const ARM_GLOBAL: (&str, &str) = ("https://management.azure.com/.default", "https://management.azure.com/");
        const ARM_GOV: (&str, &str) =
            ("https://management.usgovcloudapi.net/.default", "https://management.usgovcloudapi.net/");
        match (self, api) {
            (Self::Global | Self::Usgov, Api::Sentinel) => Some(Endpoint {
                base_url: "https://api.ti.sentinel.azure.com",
                scope: ARM_GLOBAL.0,
                resource: ARM_GLOBAL.1,
            }),
            (Self::UsgovHigh | Self::Dod, Api::Sentinel) => {
                Some(Endpoint { base_url: "https://api.ti.sentinel.azure.us", scope: ARM_GOV.0, resource: ARM_GOV.1 })
            }
            (Self::China, Api::Sentinel) => Some(Endpoint {
                base_url: "https://api.ti.sentinel.azure.cn",
                scope: "https://management.chinacloudapi.cn/.default",
                resource: "https://management.chinacloudapi.cn/",
            }),
            // The securitycenter audience carries the Ti.* roles on both API hosts (addendum 3).
            (Self::Global, Api::Defender) => Some(Endpoint {
                base_url: "https://api.securitycenter.microsoft.com",
                scope: "https://api.securitycenter.microsoft.com/.default",
                resource: "https://api.securitycenter.microsoft.com",
            }),
            (Self::Usgov, Api::Defender) => Some(Endpoint {
                base_url: "https://api-gcc.securitycenter.microsoft.us",
                scope: "https://api-gcc.securitycenter.microsoft.us/.default",
                resource: "https://api-gcc.securitycenter.microsoft.us",
            }),
            (Self::UsgovHigh | Self::Dod, Api::Defender) => Some(Endpoint {
                base_url: "https://api-gov.securitycenter.microsoft.us",
                scope: "https://api-gov.securitycenter.microsoft.us/.default",
                resource: "https://api-gov.securitycenter.microsoft.us",
            }),
            (Self::Global | Self::Usgov, Api::Graph) => Some(Endpoint {
                base_url: "https://graph.microsoft.com",
                scope: "https://graph.microsoft.com/.default",
                resource: "https://graph.microsoft.com",
            }),
            (Self::China, Api::Defender) | (Self::UsgovHigh | Self::Dod | Self::China, Api::Graph) => None,
        }
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for cloud in Cloud::ALL {
            assert_eq!(Cloud::from_name(cloud.as_str()), Some(cloud));
        }
        assert_eq!(Cloud::from_name("gcc"), None);
    }

    #[test]
    fn each_cloud_has_its_own_hosts() {
        assert_eq!(
            Cloud::Global.token_url("contoso.onmicrosoft.com"),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(Cloud::Dod.token_url("t"), "https://login.microsoftonline.us/t/oauth2/v2.0/token");
        let sentinel = Cloud::UsgovHigh.endpoint(Api::Sentinel).unwrap();
        assert_eq!(sentinel.base_url, "https://api.ti.sentinel.azure.us");
        assert_eq!(sentinel.scope, "https://management.usgovcloudapi.net/.default");
        assert_eq!(
            Cloud::Usgov.endpoint(Api::Defender).unwrap().base_url,
            "https://api-gcc.securitycenter.microsoft.us"
        );
        assert_eq!(Cloud::China.endpoint(Api::Defender), None);
        assert_eq!(Cloud::Dod.endpoint(Api::Graph), None);
        for cloud in Cloud::ALL {
            for api in [Api::Sentinel, Api::Defender, Api::Graph] {
                if let Some(e) = cloud.endpoint(api) {
                    assert!(e.base_url.starts_with("https://") && !e.base_url.ends_with('/'));
                    assert!(e.scope.ends_with("/.default") && e.scope.starts_with(e.resource.trim_end_matches('/')));
                }
            }
        }
    }
}
