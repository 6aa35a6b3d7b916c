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
    /// Webhooks: whether the key may register endpoints that receive its events
    /// (`webhooks:manage`).
    #[serde(default)]
    pub webhooks: bool,
}

impl Default for KeyPermissions {
    /// What every key could do before permissions existed: read stock, nothing else.
    fn default() -> Self {
        KeyPermissions {
            stock: Access::Read,
            orders: Access::None,
            webhooks: false,
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
            Permission::WebhooksManage => self.webhooks,
        }
    }

    /// The scope words a key stores (`orders:write`), space-separated; stock read is implied.
    pub fn to_scopes(&self) -> String {
        let mut words = Vec::new();
        if self.orders != Access::None {
            words.push(format!("orders:{}", self.orders.as_str()));
        }
        if self.webhooks {
            words.push(Permission::WebhooksManage.as_str().to_owned());
        }
        words.join(" ")
    }

    /// Reads stored scope words; unknown words (a newer server's) grant nothing here.
    pub fn from_scopes(scopes: &str) -> KeyPermissions {
        let mut p = KeyPermissions::default();
        for word in scopes.split_ascii_whitespace() {
            if let Some(level) = word.strip_prefix("orders:").and_then(Access::parse) {
                p.orders = p.orders.max(level);
            } else if word == Permission::WebhooksManage.as_str() {
                p.webhooks = true;
            }
        }
        p
    }

    /// How a person would say it, for the key's history and the portal
    /// ("Orders: read and create, cancel, receive").
    pub fn describe(&self) -> String {
        let orders = format!("Orders: {}", describe_orders(self.orders));
        if self.webhooks {
            format!("{orders}; Webhooks: manage")
        } else {
            orders
        }
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

/// The words the portal uses for the webhooks permission.
pub fn describe_webhooks(manage: bool) -> &'static str {
    if manage {
        "add and change endpoints that receive this key's events"
    } else {
        "no access"
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
    /// `webhooks:manage`.
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
}

impl Permission {
    /// The permission as it appears in headers and problems (`orders:write`).
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::StockRead => "stock:read",
            Permission::OrdersRead => "orders:read",
            Permission::OrdersWrite => "orders:write",
            Permission::WebhooksManage => "webhooks:manage",
        }
    }
}

/// The permissions a new key gets or an existing key changes to. Omitted resources keep their
/// default (new key) or their current level (changed key).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
// For the schema (no other fields); reading is the `Deserialize` below.
#[serde(deny_unknown_fields)]
pub struct PermissionsRequest {
    /// `none`, `read` or `write`.
    #[serde(default)]
    pub orders: Option<Access>,
    /// Whether the key may manage webhook endpoints.
    #[serde(default)]
    pub webhooks: Option<bool>,
}

/// Read from a JSON object only: serde's derived struct reading also takes an array of the
/// fields in order (`[null, null]`), which no schema calls valid.
impl<'de> Deserialize<'de> for PermissionsRequest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Fields {
            #[serde(default)]
            orders: Option<Access>,
            #[serde(default)]
            webhooks: Option<bool>,
        }
        struct ObjectOnly;
        impl<'de> serde::de::Visitor<'de> for ObjectOnly {
            type Value = PermissionsRequest;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object with `orders` and `webhooks`")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<PermissionsRequest, A::Error> {
                let f = Fields::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(PermissionsRequest {
                    orders: f.orders,
                    webhooks: f.webhooks,
                })
            }
        }
        d.deserialize_map(ObjectOnly)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_unknown_words_grant_nothing() {
        for orders in Access::ALL {
            for webhooks in [false, true] {
                let p = KeyPermissions {
                    stock: Access::Read,
                    orders,
                    webhooks,
                };
                assert_eq!(KeyPermissions::from_scopes(&p.to_scopes()), p);
            }
        }
        assert_eq!(
            KeyPermissions::from_scopes("webhooks:read orders:bogus"),
            KeyPermissions::default()
        );
        assert!(KeyPermissions::from_scopes("orders:read webhooks:manage").webhooks);
        let w = KeyPermissions::from_scopes("orders:write");
        assert!(w.allows(Permission::OrdersRead) && w.allows(Permission::OrdersWrite));
        let r = KeyPermissions::from_scopes("orders:read");
        assert!(r.allows(Permission::OrdersRead) && !r.allows(Permission::OrdersWrite));
        assert!(!KeyPermissions::default().allows(Permission::OrdersRead));
        assert!(KeyPermissions::default().allows(Permission::StockRead));
    }

    #[test]
    fn a_permissions_request_is_an_object() {
        let r: PermissionsRequest =
            serde_json::from_str(r#"{"orders": "read", "webhooks": true}"#).unwrap_or_default();
        assert_eq!(r.orders, Some(Access::Read));
        assert_eq!(r.webhooks, Some(true));
        assert!(serde_json::from_str::<PermissionsRequest>("[null, null]").is_err());
        assert!(serde_json::from_str::<PermissionsRequest>(r#"{"stock": "write"}"#).is_err());
    }
}
