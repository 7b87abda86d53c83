//! Protocol versions and the upgrades the council schedules (`spec/upgrades.md`).
//!
//! Every block names the protocol version whose rules made it. A hub starts at
//! [`GENESIS_PROTOCOL_VERSION`]; an executed `ScheduleUpgrade` names a height, and the block
//! at exactly that height carries the next version and first runs that version's
//! migration. A node whose binary does not know a version stops before the height that
//! needs it (the node checks [`version_at`] against what it supports) rather than decide
//! blocks by rules it does not have.

use junction_governance::Council;
use junction_spec::GENESIS_PROTOCOL_VERSION;

use crate::state::StateReader;

/// State key of the current protocol version (`u32`, big-endian); absent at genesis.
pub const VERSION_KEY: &[u8] = b"protocol/version";

/// The newest protocol version whose rules and migration this build has.
pub const MAX_SUPPORTED_VERSION: u32 = 2;

/// State key of the record of the upgrade that took effect at `height` (its name).
pub fn upgrade_record_key(height: u64) -> Vec<u8> {
    let mut k = b"protocol/upgrade/".to_vec();
    k.extend_from_slice(&height.to_be_bytes());
    k
}

/// The protocol version of the state's latest block.
pub fn current_version(state: &dyn StateReader) -> Result<u32, String> {
    match state.get(VERSION_KEY) {
        None => Ok(GENESIS_PROTOCOL_VERSION),
        Some(b) => <[u8; 4]>::try_from(b.as_slice())
            .map(u32::from_be_bytes)
            .map_err(|_| "the stored protocol version is not 4 bytes".to_string()),
    }
}

/// The version block `height` must carry, over the state after block `height - 1` and the
/// council as that state holds it, with the name of the upgrade that starts there.
pub fn version_at(
    state: &dyn StateReader,
    council: Option<&Council>,
    height: u64,
) -> Result<(u32, Option<String>), String> {
    let current = current_version(state)?;
    match council.and_then(Council::scheduled_upgrade) {
        Some(u) if u.height == height => Ok((current.saturating_add(1), Some(u.name.clone()))),
        _ => Ok((current, None)),
    }
}

/// The state writes of the migration to `version` at `height` (the upgrade `name`).
pub fn migrate(
    version: u32,
    height: u64,
    name: &str,
) -> Result<Vec<crate::validators::StateWrite>, String> {
    match version {
        // Version 2 changes no rule yet; its migration records the version and the
        // upgrade, which every later block's header and every auditor can see.
        2 => Ok(vec![
            (VERSION_KEY.to_vec(), version.to_be_bytes().to_vec()),
            (upgrade_record_key(height), name.as_bytes().to_vec()),
        ]),
        v => Err(format!(
            "this build has no migration to protocol version {v}"
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::state::AppState;

    #[test]
    fn versions_start_at_genesis_and_only_known_migrations_run() {
        let state = AppState::default();
        assert_eq!(current_version(&state).unwrap(), GENESIS_PROTOCOL_VERSION);
        assert_eq!(version_at(&state, None, 7).unwrap(), (1, None));
        let writes = migrate(2, 7, "v2").unwrap();
        let mut after = AppState::default();
        after.apply(
            &writes
                .into_iter()
                .map(|(k, v)| (k, Some(v)))
                .collect::<Vec<_>>(),
        );
        assert_eq!(current_version(&after).unwrap(), 2);
        assert_eq!(after.get(&upgrade_record_key(7)).unwrap(), b"v2");
        assert!(migrate(3, 9, "v3").is_err());
    }
}
