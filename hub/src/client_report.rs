//! Where each registered chain's light client stands: its status, how old its latest
//! header is and how long it has before it expires. The `client_state` RPC (and so
//! `junction chain show`) answers with it, and `/metrics` shows it per chain, so that an
//! operator sees an expiry coming while a relayer can still prevent it.
//!
//! Everything is read at the hub time of the last committed block: the same answer on
//! every validator, and the time the client's own status is judged at.

use junction_governance::Council;
use junction_hub_app::clients::AnyClient;
use junction_hub_app::relay::{RelayError, RelayExec};
use junction_hub_app::{Overlay, StateReader};
use junction_light_clients::{ClientStatus, Timestamp};
use junction_spec::ChainId;

use crate::node::Shared;
use crate::sync::read;

/// A chain's client at a hub time.
#[derive(Debug)]
pub struct ClientReport {
    /// The client as the state holds it (frozen or not).
    pub client: AnyClient,
    /// `active`, `expired` or `frozen` (by misbehaviour or by a council vote).
    pub status: &'static str,
    /// Frozen by a council vote.
    pub frozen_by_vote: bool,
    /// Time of the latest verified header, ms (none for a Fabric channel, whose blocks
    /// carry no signed time).
    pub latest_time_ms: Option<u64>,
    /// The registration's trusting period, ms.
    pub trusting_period_ms: Option<u64>,
    /// The clock it was judged at.
    pub ages: ClientAges,
    /// Where misbehaviour froze the client, if it did.
    pub frozen_height: Option<u64>,
    /// The evidence that last froze the chain's client (height-prefixed as stored, the
    /// prefix removed here).
    pub evidence: Option<Vec<u8>>,
}

/// A client's age and the time left before it expires, in whole seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientAges {
    /// Hub time minus the latest header's time (0 for a header ahead of the hub).
    pub age_secs: Option<u64>,
    /// The latest header's time plus the trusting period, minus hub time; 0 once expired.
    pub expires_in_secs: Option<u64>,
}

impl ClientAges {
    /// The ages at hub time `now_ms` of a client whose latest header is at
    /// `latest_time_ms`; `expired` is the client's own verdict, which wins over the
    /// arithmetic (a client may count its period in coarser units).
    pub fn at(
        now_ms: u64,
        latest_time_ms: Option<u64>,
        trusting_period_ms: Option<u64>,
        expired: bool,
    ) -> Self {
        let age_secs = latest_time_ms.map(|t| now_ms.saturating_sub(t) / 1000);
        let expires_in_secs = match (latest_time_ms, trusting_period_ms) {
            _ if expired => Some(0),
            (Some(t), Some(p)) => Some(t.saturating_add(p).saturating_sub(now_ms) / 1000),
            _ => None,
        };
        ClientAges {
            age_secs,
            expires_in_secs,
        }
    }
}

/// The name of a client status.
pub fn status_name(status: ClientStatus) -> &'static str {
    match status {
        ClientStatus::Active => "active",
        ClientStatus::Expired => "expired",
        ClientStatus::Frozen { .. } => "frozen",
    }
}

/// The report of chain `id`'s client in `state` (whose council is `council`) at hub time
/// `now_ms`.
pub fn report(
    state: &dyn StateReader,
    council: &Council,
    id: &ChainId,
    now_ms: u64,
) -> Result<ClientReport, RelayError> {
    let mut view = Overlay::new(state);
    let mut packets = junction_packets::PacketState::default();
    let mut council_copy = council.clone();
    let exec = RelayExec::new(&mut view, &mut council_copy, &mut packets, now_ms);
    let client = exec.client_even_frozen(id)?;
    let registration = council.chain(id);
    let frozen_by_vote = registration.is_some_and(|c| c.frozen);
    let own = client.status(Timestamp::from_millis(now_ms));
    let status = if frozen_by_vote {
        "frozen"
    } else {
        status_name(own)
    };
    let frozen_height = match own {
        ClientStatus::Frozen { height } => Some(height),
        _ => None,
    };
    let evidence = state
        .get(&evidence_key(id))
        .and_then(|v| v.get(8..).map(<[u8]>::to_vec));
    let latest_time_ms = client.time_ms_at(client.latest_height());
    let trusting_period_ms = registration.map(|c| c.registration.params.trusting_period_ms);
    // Ages count from when the client's trust was last renewed: its latest header's
    // time, or for a Fabric channel the hub time it last took a block.
    let ages = ClientAges::at(
        now_ms,
        client.renewed_ms(),
        trusting_period_ms,
        own == ClientStatus::Expired,
    );
    Ok(ClientReport {
        client,
        status,
        frozen_by_vote,
        latest_time_ms,
        trusting_period_ms,
        ages,
        frozen_height,
        evidence,
    })
}

/// The state key of the evidence that froze chain `id`'s client.
fn evidence_key(id: &ChainId) -> Vec<u8> {
    let mut k = junction_hub_app::relay::EVIDENCE_PREFIX.to_vec();
    k.extend_from_slice(id.as_str().as_bytes());
    k
}

/// Sets the per-chain client gauges from the committed state (at a scrape: the ages move
/// with hub time even when no client changes, so they are read when asked for).
pub fn refresh_client_gauges(shared: &Shared) {
    let (state, now_ms) = {
        let chain = read(&shared.chain);
        (std::sync::Arc::clone(&chain.state), chain.tip.time_ms)
    };
    let Ok(council) = junction_hub_app::load_council(|k| state.get(k)) else {
        return;
    };
    for c in council.chains() {
        let id = &c.registration.chain_id;
        let (status, ages) = match report(state.as_ref(), &council, id, now_ms) {
            Ok(r) => (r.status, r.ages),
            // A registration the hub has no client of (an older store's) or a client
            // that does not load: shown as such rather than left out.
            Err(_) => ("unavailable", ClientAges::default()),
        };
        shared
            .metrics
            .set_client(id.as_str(), status, ages.age_secs, ages.expires_in_secs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_count_from_the_latest_header_and_end_at_expiry() {
        // A header 90 s old under a one-hour trusting period.
        let a = ClientAges::at(1_000_000, Some(910_000), Some(3_600_000), false);
        assert_eq!(a.age_secs, Some(90));
        assert_eq!(a.expires_in_secs, Some(3_510));
        // Past the period the arithmetic stops at zero.
        let a = ClientAges::at(10_000_000, Some(910_000), Some(3_600_000), false);
        assert_eq!(a.expires_in_secs, Some(0));
        // The client's own verdict wins: expired means no time left.
        let a = ClientAges::at(1_000_000, Some(910_000), Some(3_600_000), true);
        assert_eq!(a.expires_in_secs, Some(0));
        assert_eq!(a.age_secs, Some(90));
        // A header ahead of the hub (within the drift a client allows) is no age.
        let a = ClientAges::at(1_000_000, Some(1_002_000), Some(10_000), false);
        assert_eq!(a.age_secs, Some(0));
        assert_eq!(a.expires_in_secs, Some(12));
        // Without a header time nothing is claimed.
        assert_eq!(
            ClientAges::at(1_000_000, None, Some(10_000), false),
            ClientAges::default()
        );
    }
}
