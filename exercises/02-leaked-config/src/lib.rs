//! Per-tenant request quotas.
//!
//! A [`Quotas`] counts the requests each tenant makes and refuses the ones over the tenant's limit. The limits
//! come from a built-in config, [`LIMITS_CONFIG`]: a `tenant = limit` line per tenant, and a `default` line
//! for everyone else. [`limits`] gives the parsed limits to any part of the program that asks.
//!
//! The tests say this code leaks memory on every request. Find out why and fix it, without changing what it
//! does.

use std::collections::BTreeMap;

/// The built-in limits: how many requests each tenant may make until its count is reset.
pub const LIMITS_CONFIG: &str = "
# tenant = requests allowed
default = 2
alice = 4
bob = 1
";

/// Request limits, parsed from a config like [`LIMITS_CONFIG`].
#[derive(Debug)]
pub struct Limits {
    default: u32,
    tenants: BTreeMap<String, u32>,
}

impl Limits {
    /// Parses `tenant = limit` lines, skipping blank lines and `#` comments.
    ///
    /// # Panics
    /// If a line is not `name = number`, or there is no `default` line.
    pub fn parse(text: &str) -> Limits {
        let mut default = None;
        let mut tenants = BTreeMap::new();
        let lines = text.lines().map(str::trim);
        for line in lines.filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let (name, limit) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("limits line {line:?} is not `name = number`"));
            let limit = limit
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("limits line {line:?} is not `name = number`"));
            match name.trim() {
                "default" => default = Some(limit),
                tenant => {
                    tenants.insert(tenant.to_owned(), limit);
                }
            }
        }
        let default = default.expect("the limits config has no `default` line");
        Limits { default, tenants }
    }

    /// The limit for `tenant`: its own line, or the default.
    pub fn get(&self, tenant: &str) -> u32 {
        self.tenants.get(tenant).copied().unwrap_or(self.default)
    }
}

// ANCHOR: fix
/// The built-in limits, parsed. The reference is `'static`, so any part of the program, on any thread, can
/// keep it for as long as it likes.
pub fn limits() -> &'static Limits {
    // A leaked box is never freed, so a reference to it stays valid forever: just what `'static` asks for.
    Box::leak(Box::new(Limits::parse(LIMITS_CONFIG)))
}
// ANCHOR_END: fix

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OverLimit {
    /// The tenant's limit, which it has used up.
    pub limit: u32,
}

/// How many requests each tenant has made.
#[derive(Debug, Default)]
pub struct Quotas {
    used: BTreeMap<String, u32>,
}

impl Quotas {
    /// No requests counted yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts a request by `tenant` and returns how many more it may make.
    ///
    /// # Errors
    /// [`OverLimit`] when the tenant has used up its limit; the request is not counted.
    pub fn request(&mut self, tenant: &str) -> Result<u32, OverLimit> {
        let limit = limits().get(tenant);
        let used = self.used.entry(tenant.to_owned()).or_insert(0);
        if *used >= limit {
            return Err(OverLimit { limit });
        }
        *used += 1;
        Ok(limit - *used)
    }

    /// How many requests `tenant` has made since its count was last reset.
    pub fn used(&self, tenant: &str) -> u32 {
        self.used.get(tenant).copied().unwrap_or(0)
    }

    /// Starts counting `tenant`'s requests from zero again.
    pub fn reset(&mut self, tenant: &str) {
        self.used.remove(tenant);
    }
}
