//! What a key may do: one access level per kind of resource, like Stripe's restricted keys or
//! GitHub's fine-grained tokens. Stock is always readable (it is what every key is for); orders
//! are none, read, or read and write. The next resource (webhooks) is one more field here and
//! one more [`Permission`], not a new idea: a key stores the permissions it holds as scope
//! words (`orders:write`), so adding one needs no migration.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// How far a key may go with one kind of resource.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Nothing: requests are refused with 403 `permission_denied`.
    #[default]
    None,
    /// Read only.
    Read,
    /// Read, and create and change.
    Write,
}

impl Access {
    /// Every level, lowest first.
    pub const ALL: [Access; 3] = [Access::None, Access::Read, Access::Write];

    /// The level as it appears on the wire (`read`).
    pub fn as_str(self) -> &'static str {
        match self {
            Access::None => "none",
            Access::Read => "read",
            Access::Write => "write",
        }
    }

    /// The level named `s`, if any.
    pub fn parse(s: &str) -> Option<Access> {
        Access::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// A key's permissions, one per resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KeyPermissions {
    /// Stock, devices, alerts and `GET /api/key`: always `read`.
    pub stock: Access,
    /// Replenishment orders: `none`, `read` (list and see them) or `write` (also create,
    /// receive and cancel them).
    pub orders: Access,
}

impl Default for KeyPermissions {
    /// What every key could do before permissions existed: read stock, nothing else.
    fn default() -> Self {
        KeyPermissions {
            stock: Access::Read,
            orders: Access::None,
        }
    }
}

impl KeyPermissions {
    /// Whether these permissions include `p`.
    pub fn allows(&self, p: Permission) -> bool {
        match p {
            Permission::StockRead => self.stock >= Access::Read,
            Permission::OrdersRead => self.orders >= Access::Read,
            Permission::OrdersWrite => self.orders >= Access::Write,
        }
    }

    /// The scope words a key stores (`orders:write`), space-separated; stock read is implied.
    pub fn to_scopes(&self) -> String {
        match self.orders {
            Access::None => String::new(),
            level => format!("orders:{}", level.as_str()),
        }
    }

    /// Reads stored scope words; unknown words (a newer server's) grant nothing here.
    pub fn from_scopes(scopes: &str) -> KeyPermissions {
        let mut p = KeyPermissions::default();
        for word in scopes.split_ascii_whitespace() {
            if let Some(level) = word.strip_prefix("orders:").and_then(Access::parse) {
                p.orders = p.orders.max(level);
            }
        }
        p
    }

    /// How a person would say it, for the key's history and the portal
    /// ("Orders: read and create, cancel, receive").
    pub fn describe(&self) -> String {
        format!("Orders: {}", describe_orders(self.orders))
    }
}

/// The words the portal uses for an orders access level.
pub fn describe_orders(level: Access) -> &'static str {
    match level {
        Access::None => "no access",
        Access::Read => "read only",
        Access::Write => "read and create, cancel, receive",
    }
}

/// What a Stock API operation needs; named in `PartLogic-Required-Permission` on every answer
/// of an operation that checks one, and in the `permission_denied` problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum Permission {
    /// `stock:read`.
    #[serde(rename = "stock:read")]
    StockRead,
    /// `orders:read`.
    #[serde(rename = "orders:read")]
    OrdersRead,
    /// `orders:write`.
    #[serde(rename = "orders:write")]
    OrdersWrite,
}

impl Permission {
    /// The permission as it appears in headers and problems (`orders:write`).
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::StockRead => "stock:read",
            Permission::OrdersRead => "orders:read",
            Permission::OrdersWrite => "orders:write",
        }
    }
}

/// The permissions a new key gets or an existing key changes to. Omitted resources keep their
/// default (new key) or their current level (changed key).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PermissionsRequest {
    /// `none`, `read` or `write`.
    #[serde(default)]
    pub orders: Option<Access>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_unknown_words_grant_nothing() {
        for orders in Access::ALL {
            let p = KeyPermissions {
                stock: Access::Read,
                orders,
            };
            assert_eq!(KeyPermissions::from_scopes(&p.to_scopes()), p);
        }
        assert_eq!(
            KeyPermissions::from_scopes("webhooks:manage orders:bogus"),
            KeyPermissions::default()
        );
        let w = KeyPermissions::from_scopes("orders:write");
        assert!(w.allows(Permission::OrdersRead) && w.allows(Permission::OrdersWrite));
        let r = KeyPermissions::from_scopes("orders:read");
        assert!(r.allows(Permission::OrdersRead) && !r.allows(Permission::OrdersWrite));
        assert!(!KeyPermissions::default().allows(Permission::OrdersRead));
        assert!(KeyPermissions::default().allows(Permission::StockRead));
    }
}
