//! The permission matrix: which role may do what. Kept here, in one table, because it is the first thing
//! an auditor asks for; the README renders the same table.
//!
//! Canopy denies by default: a permission not granted below is refused with 403.

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// Something a caller may be allowed to do. API-key scopes are these same names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    /// Look up and read customer profiles (and their notes).
    #[serde(rename = "customers:read")]
    CustomersRead,
    /// Create and edit customers, add notes.
    #[serde(rename = "customers:write")]
    CustomersWrite,
    /// Check customers in to the register queue and serve them.
    #[serde(rename = "checkin:write")]
    CheckIn,
    /// Ring up sales (checkout, quotes, returns of one's own store).
    #[serde(rename = "orders:write")]
    OrdersWrite,
    /// Read order summaries (the recent purchases a budtender needs).
    #[serde(rename = "orders:read")]
    OrdersRead,
    /// Read a customer's full purchase history (audited).
    #[serde(rename = "orders:history")]
    PurchaseHistoryFull,
    /// Ban and unban customers.
    #[serde(rename = "customers:ban")]
    CustomersBan,
    /// Merge duplicate profiles, undo merges, and work the duplicates review list.
    #[serde(rename = "customers:merge")]
    CustomersMerge,
    /// Adjust loyalty points by hand (a reason is required).
    #[serde(rename = "loyalty:adjust")]
    LoyaltyAdjust,
    /// Override a warn-mode purchase-limit decision.
    #[serde(rename = "limits:override")]
    LimitsOverride,
    /// View scanned ID images (audited).
    #[serde(rename = "id_images:read")]
    IdImagesRead,
    /// Read the audit log.
    #[serde(rename = "audit:read")]
    AuditRead,
    /// Manage groups and their discounts, products and stores.
    #[serde(rename = "catalog:write")]
    CatalogWrite,
    /// Manage staff accounts.
    #[serde(rename = "staff:manage")]
    StaffManage,
    /// Create and revoke API keys.
    #[serde(rename = "apikeys:manage")]
    ApiKeysManage,
    /// Change settings (loyalty program, SMS templates, webhooks, limits enforcement).
    #[serde(rename = "settings:write")]
    SettingsWrite,
    /// Charge a price different from the catalogue's (a reason is required; stored and audited).
    #[serde(rename = "orders:price_override")]
    PriceOverride,
    /// Sell lines without a SKU, described by the caller (an external POS with its own catalogue);
    /// such orders are marked caller-asserted.
    #[serde(rename = "orders:external_lines")]
    ExternalLines,
    /// A state tracking system integration: at a `state`-scope store its remaining allotments
    /// replace local purchase history. Held only by API keys that name it (never by a role, and
    /// not included in `all`).
    #[serde(rename = "limits:state_sync")]
    StateSync,
    /// Answer a right-to-know request: export everything held about a customer (logged).
    #[serde(rename = "privacy:export")]
    PrivacyExport,
    /// Erase a customer's personal data at their request (logged, irreversible).
    #[serde(rename = "privacy:erase")]
    PrivacyErase,
    /// Read medical card data where it is not needed for a sale (exports; audited).
    #[serde(rename = "medical:read")]
    MedicalRead,
    /// Submit a customer's ID or medical-card photos for review (an online store's key).
    #[serde(rename = "documents:submit")]
    DocumentsSubmit,
    /// Work the document review queue: see the photos (audited), approve or reject.
    #[serde(rename = "documents:review")]
    DocumentsReview,
}

impl Permission {
    pub const ALL: [Permission; 24] = [
        Permission::CustomersRead,
        Permission::CustomersWrite,
        Permission::CheckIn,
        Permission::OrdersWrite,
        Permission::OrdersRead,
        Permission::PurchaseHistoryFull,
        Permission::CustomersBan,
        Permission::CustomersMerge,
        Permission::LoyaltyAdjust,
        Permission::LimitsOverride,
        Permission::IdImagesRead,
        Permission::AuditRead,
        Permission::CatalogWrite,
        Permission::StaffManage,
        Permission::ApiKeysManage,
        Permission::SettingsWrite,
        Permission::PriceOverride,
        Permission::ExternalLines,
        Permission::StateSync,
        Permission::PrivacyExport,
        Permission::PrivacyErase,
        Permission::MedicalRead,
        Permission::DocumentsSubmit,
        Permission::DocumentsReview,
    ];

    /// The scope name, e.g. `customers:read`.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::CustomersRead => "customers:read",
            Permission::CustomersWrite => "customers:write",
            Permission::CheckIn => "checkin:write",
            Permission::OrdersWrite => "orders:write",
            Permission::OrdersRead => "orders:read",
            Permission::PurchaseHistoryFull => "orders:history",
            Permission::CustomersBan => "customers:ban",
            Permission::CustomersMerge => "customers:merge",
            Permission::LoyaltyAdjust => "loyalty:adjust",
            Permission::LimitsOverride => "limits:override",
            Permission::IdImagesRead => "id_images:read",
            Permission::AuditRead => "audit:read",
            Permission::CatalogWrite => "catalog:write",
            Permission::StaffManage => "staff:manage",
            Permission::ApiKeysManage => "apikeys:manage",
            Permission::SettingsWrite => "settings:write",
            Permission::PriceOverride => "orders:price_override",
            Permission::ExternalLines => "orders:external_lines",
            Permission::StateSync => "limits:state_sync",
            Permission::PrivacyExport => "privacy:export",
            Permission::PrivacyErase => "privacy:erase",
            Permission::MedicalRead => "medical:read",
            Permission::DocumentsSubmit => "documents:submit",
            Permission::DocumentsReview => "documents:review",
        }
    }

    /// Scopes of their own for one kind of integration: no role holds them and `all` does not
    /// include them; an API key has them only when they are named.
    pub fn is_dedicated(self) -> bool {
        matches!(self, Permission::StateSync)
    }

    pub fn parse(name: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == name)
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of permissions: what a role grants, or the scopes an API key was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PermissionSet(u32);

impl PermissionSet {
    pub const EMPTY: PermissionSet = PermissionSet(0);

    /// Every permission a role can hold (what `all` grants a key): not the dedicated scopes.
    pub fn all() -> PermissionSet {
        Permission::ALL
            .into_iter()
            .filter(|p| !p.is_dedicated())
            .collect()
    }

    pub fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    pub fn insert(&mut self, permission: Permission) {
        self.0 |= permission.bit();
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when every permission in `other` is also in `self`.
    pub fn includes(self, other: PermissionSet) -> bool {
        self.0 & other.0 == other.0
    }

    /// The permissions in matrix order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }

    /// The scope names, e.g. `["customers:read", "orders:write"]`.
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Permission::as_str).collect()
    }

    /// Reads scope names as an admin types them: `all`, or names separated by commas or spaces.
    /// An unknown name is an error (a typo must not silently grant less, or more, than intended).
    pub fn parse_scopes<'a>(
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<PermissionSet, FieldError> {
        let mut set = PermissionSet::EMPTY;
        for raw in names {
            for name in raw
                .split([',', ' '])
                .map(str::trim)
                .filter(|n| !n.is_empty())
            {
                if name == "all" {
                    set = PermissionSet::all();
                    continue;
                }
                let permission = Permission::parse(name).ok_or_else(|| {
                    FieldError::new(
                        "scopes",
                        "unknown_scope",
                        format!(
                            "unknown scope '{name}'; use 'all' or one of: {}",
                            PermissionSet::all().names().join(", ")
                        ),
                    )
                })?;
                set.insert(permission);
            }
        }
        if set.is_empty() {
            return Err(FieldError::new(
                "scopes",
                "required",
                "give at least one scope (or 'all')",
            ));
        }
        Ok(set)
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = PermissionSet::EMPTY;
        for p in iter {
            set.insert(p);
        }
        set
    }
}

impl Serialize for PermissionSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.names())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Budtender,
    Manager,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Budtender, Role::Manager, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Budtender => "budtender",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "budtender" => Some(Role::Budtender),
            "manager" => Some(Role::Manager),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Everything this role may do.
    pub fn permissions(self) -> PermissionSet {
        Permission::ALL
            .into_iter()
            .filter(|p| self.permits(*p))
            .collect()
    }

    /// The matrix. Each role includes everything the role before it may do.
    pub fn permits(self, permission: Permission) -> bool {
        use Permission::*;
        let budtender = matches!(
            permission,
            CustomersRead | CustomersWrite | CheckIn | OrdersWrite | OrdersRead | DocumentsSubmit
        );
        let manager = budtender
            || matches!(
                permission,
                PurchaseHistoryFull
                    | CustomersBan
                    | CustomersMerge
                    | LoyaltyAdjust
                    | LimitsOverride
                    | IdImagesRead
                    | AuditRead
                    | CatalogWrite
                    | PriceOverride
                    | PrivacyExport
                    | MedicalRead
                    | DocumentsReview
            );
        match self {
            Role::Budtender => budtender,
            Role::Manager => manager,
            Role::Admin => {
                manager
                    || matches!(
                        permission,
                        StaffManage | ApiKeysManage | SettingsWrite | ExternalLines | PrivacyErase
                    )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
    }

    #[test]
    fn budtenders_cannot_ban_or_adjust_points_and_managers_cannot_manage_staff() {
        assert!(!Role::Budtender.permits(Permission::CustomersBan));
        assert!(!Role::Budtender.permits(Permission::LoyaltyAdjust));
        assert!(Role::Manager.permits(Permission::CustomersBan));
        assert!(!Role::Manager.permits(Permission::StaffManage));
        assert!(
            Permission::ALL
                .iter()
                .all(|p| Role::Admin.permits(*p) != p.is_dedicated())
        );
        assert!(Role::Manager.permits(Permission::PriceOverride));
        assert!(!Role::Budtender.permits(Permission::PriceOverride));
        assert!(!Role::Manager.permits(Permission::ExternalLines));
    }

    #[test]
    fn all_grants_every_scope_and_a_typo_is_refused() {
        assert_eq!(
            PermissionSet::parse_scopes(["all"]),
            Ok(PermissionSet::all())
        );
        let set = PermissionSet::parse_scopes(["customers:read, orders:write"]).unwrap();
        assert_eq!(set.names(), ["customers:read", "orders:write"]);
        let err = PermissionSet::parse_scopes(["customers:raed"]).unwrap_err();
        assert_eq!((err.field.as_str(), err.code), ("scopes", "unknown_scope"));
        assert_eq!(
            PermissionSet::parse_scopes([""]).unwrap_err().code,
            "required"
        );
    }

    #[test]
    fn each_role_includes_the_one_below() {
        assert!(
            Role::Manager
                .permissions()
                .includes(Role::Budtender.permissions())
        );
        assert!(
            Role::Admin
                .permissions()
                .includes(Role::Manager.permissions())
        );
        assert_eq!(Role::Admin.permissions(), PermissionSet::all());
    }
}
