//! The devices ticked on a key.

use std::collections::BTreeSet;

use partlogic_types::FieldError;

use crate::domain::field_error;

/// A non-empty set of device ids, each 1 or more, sorted and without repeats. Whether the user
/// may use them is decided against the database afterwards (a 403, not a 422: the list is well
/// formed, the permission is missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeviceSelection(Vec<i64>);

impl DeviceSelection {
    /// Parses the `device_ids` field.
    pub(crate) fn parse(ids: &[i64]) -> Result<Self, FieldError> {
        if ids.is_empty() {
            return Err(field_error("device_ids", "tick at least one device"));
        }
        if let Some(bad) = ids.iter().find(|id| **id < 1) {
            return Err(field_error(
                "device_ids",
                format!("{bad} is not a device id (ids start at 1)"),
            ));
        }
        let set: BTreeSet<i64> = ids.iter().copied().collect();
        Ok(Self(set.into_iter().collect()))
    }

    /// The ids, ascending.
    pub(crate) fn ids(&self) -> &[i64] {
        &self.0
    }
}
