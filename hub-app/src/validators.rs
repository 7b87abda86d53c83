//! Which validators sign which height. The council's validator list changes when a
//! validator proposal executes; that list signs from two heights after the block that
//! executed it (DESIGN §3), and the header in between names it as its next set, so that
//! gateways and hub light clients can follow the change one checkpoint ahead.
//!
//! The state keeps the schedule of every height at which it changed: the heights in
//! [`VALIDATOR_CHANGES_KEY`] and each height's [`ValidatorSchedule`] under
//! [`schedule_key`]. A height before the first change is signed by the genesis
//! validators. Old schedules stay readable from the newest state, so the checkpoint of any
//! height can be rebuilt without historical state.

use junction_spec::{Decode, Encode, HubValidator, ValidatorSchedule};

use crate::state::StateReader;

/// State key of the heights at which the schedule changed (`u32 count ‖ u64*`, increasing).
pub const VALIDATOR_CHANGES_KEY: &[u8] = b"consensus/validator_changes";

/// Most changes remembered; past it the oldest is forgotten (its checkpoints can then no
/// longer be rebuilt by a node that starts from this state).
pub const MAX_VALIDATOR_CHANGES: usize = 65_536;

/// State key of the schedule that starts at `height`.
pub fn schedule_key(height: u64) -> Vec<u8> {
    let mut k = b"consensus/validators/".to_vec();
    k.extend_from_slice(&height.to_be_bytes());
    k
}

/// The heights at which the schedule changed.
pub fn validator_changes(state: &dyn StateReader) -> Result<Vec<u64>, String> {
    let Some(bytes) = state.get(VALIDATOR_CHANGES_KEY) else {
        return Ok(Vec::new());
    };
    let mut r = junction_spec::Reader::new(&bytes);
    let n = r
        .read_len(MAX_VALIDATOR_CHANGES)
        .map_err(|e| format!("validator changes: {e}"))?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(u64::decode_from(&mut r).map_err(|e| format!("validator changes: {e}"))?);
    }
    r.finish().map_err(|e| format!("validator changes: {e}"))?;
    if out.windows(2).any(|w| w[0] >= w[1]) {
        return Err("validator changes are not increasing".into());
    }
    Ok(out)
}

fn encode_changes(changes: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 8 * changes.len());
    out.extend_from_slice(&(changes.len() as u32).to_be_bytes());
    for h in changes {
        h.encode_to(&mut out);
    }
    out
}

/// The genesis schedule: the genesis validators sign every height until a change.
pub fn genesis_schedule(genesis: &[HubValidator]) -> ValidatorSchedule {
    ValidatorSchedule {
        current: genesis.to_vec(),
        next: genesis.to_vec(),
    }
}

/// The validators of block `height` (`current`) and of the block after it (`next`), as the
/// state after block `height - 1` or any later one holds them.
pub fn schedule_at(
    state: &dyn StateReader,
    genesis: &[HubValidator],
    height: u64,
) -> Result<ValidatorSchedule, String> {
    let changes = validator_changes(state)?;
    let at = changes.partition_point(|h| *h <= height);
    let Some(start) = at.checked_sub(1).and_then(|i| changes.get(i)) else {
        return Ok(genesis_schedule(genesis));
    };
    let bytes = state
        .get(&schedule_key(*start))
        .ok_or_else(|| format!("the schedule of height {start} is missing"))?;
    ValidatorSchedule::from_bytes(&bytes).map_err(|e| format!("schedule of height {start}: {e}"))
}

/// One key and the value written to it.
pub type StateWrite = (Vec<u8>, Vec<u8>);

/// The writes that record the schedule of block `height + 1`, after block `height` ran with
/// `schedule` and left the council's list `council`: none when it is the same.
pub fn schedule_writes(
    state: &dyn StateReader,
    height: u64,
    schedule: &ValidatorSchedule,
    council: &[HubValidator],
) -> Result<Vec<StateWrite>, String> {
    let following = ValidatorSchedule {
        current: schedule.next.clone(),
        next: council.to_vec(),
    };
    if &following == schedule {
        return Ok(Vec::new());
    }
    let mut changes = validator_changes(state)?;
    if changes.len() >= MAX_VALIDATOR_CHANGES {
        changes.remove(0);
    }
    changes.push(height + 1);
    Ok(vec![
        (schedule_key(height + 1), following.to_bytes()),
        (VALIDATOR_CHANGES_KEY.to_vec(), encode_changes(&changes)),
    ])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::state::AppState;

    fn v(k: u8) -> HubValidator {
        HubValidator {
            pub_key: [k; 32],
            power: 10,
            attestation_address: [k; 20],
        }
    }

    /// Applies `council` lists block after block; returns the schedule of each height and
    /// the state after the last block.
    fn run(
        genesis: &[HubValidator],
        councils: &[Vec<HubValidator>],
    ) -> (Vec<ValidatorSchedule>, AppState) {
        let mut state = AppState::default();
        let mut out = Vec::new();
        for (i, council) in councils.iter().enumerate() {
            let height = i as u64 + 1;
            let schedule = schedule_at(&state, genesis, height).unwrap();
            let writes = schedule_writes(&state, height, &schedule, council).unwrap();
            state.apply(
                &writes
                    .into_iter()
                    .map(|(k, v)| (k, Some(v)))
                    .collect::<Vec<_>>(),
            );
            out.push(schedule);
        }
        (out, state)
    }

    #[test]
    fn a_change_signs_two_heights_after_the_block_that_made_it() {
        let g = vec![v(1), v(2), v(3)];
        let added = vec![v(1), v(2), v(3), v(4)];
        // The council's list changes in block 3.
        let councils = [
            g.clone(),
            g.clone(),
            added.clone(),
            added.clone(),
            added.clone(),
        ];
        let (s, _) = run(&g, &councils);
        assert_eq!(
            (s[2].current.clone(), s[2].next.clone()),
            (g.clone(), g.clone())
        );
        // Block 4 is still signed by the old set and names the new one as next.
        assert_eq!(
            (s[3].current.clone(), s[3].next.clone()),
            (g.clone(), added.clone())
        );
        // Block 5 (= 3 + 2) is the first the new set signs.
        assert_eq!(
            (s[4].current.clone(), s[4].next.clone()),
            (added.clone(), added.clone())
        );
    }

    #[test]
    fn old_schedules_stay_readable_from_the_newest_state() {
        let g = vec![v(1), v(2), v(3)];
        let added = vec![v(1), v(2), v(3), v(4)];
        let removed = vec![v(2), v(3), v(4)];
        let councils = [
            g.clone(),
            added.clone(),
            added.clone(),
            removed.clone(),
            removed.clone(),
            removed,
        ];
        let (_, state) = run(&g, &councils);
        assert_eq!(validator_changes(&state).unwrap(), vec![3, 4, 5, 6]);
        assert_eq!(schedule_at(&state, &g, 1).unwrap().current, g);
        assert_eq!(schedule_at(&state, &g, 3).unwrap().next, added);
        assert_eq!(schedule_at(&state, &g, 4).unwrap().current, added);
        assert_eq!(
            schedule_at(&state, &g, 5).unwrap().next,
            vec![v(2), v(3), v(4)]
        );
        assert_eq!(
            schedule_at(&state, &g, 100).unwrap().current,
            vec![v(2), v(3), v(4)]
        );
    }
}
