//! The adapter conformance kit (`junction adapter test`).
//!
//! It asks one chain's adapter (built-in, or a plugin of `spec/adapter-protocol.md`) what the
//! relayer asks of it, and judges the answers the way the hub and the gateways will:
//! headers go to the hub's own light client of the chain's kind, in process; proofs are
//! verified by that client; events are checked for completeness and order, again after the
//! plugin restarts; deliveries, bad requests and bounds are tried on purpose. Each check has
//! a stable name and passes, fails with the reason, or is skipped with the reason (a check
//! that does not apply to the adapter, never one that failed).
//!
//! For attested kinds the kit starts the client from a header the adapter returns and signs
//! later headers with its own test attesters (keys from public seeds): what it tests is the
//! adapter's header, not the members' attestation.

use std::collections::{BTreeMap, BTreeSet};

use junction_adapters::plugin::CallError;
use junction_adapters::plugin_adapter::{PluginAdapter, MAX_CLAIMS, MAX_RANGE};
use junction_adapters::{
    Adapter, AdapterError, CheckpointProof, EntryProof, ProofClaim, SentPacket,
};
use junction_hub_app::clients::{AnyClient, PacketSlot};
use junction_light_clients::evm::attested::{testkit, AttestedHeader, SignedAttestedHeader};
use junction_light_clients::evm::codec::AttestedTrustRoot;
use junction_light_clients::Timestamp;
use junction_spec::gov::{ChainRegistration, Fraction, LightClientParams};
use junction_spec::log::{EntryKind, LogEntry};
use junction_spec::{
    ChainId, Checkpoint, Decode, Encode, LedgerKind, Packet, SourceProof, Timeout,
};
use serde_json::json;

/// How a check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The adapter did what the check asks.
    Pass,
    /// It did not; the detail says how.
    Fail,
    /// The check does not apply to this adapter; the detail says why.
    Skip,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "skip",
        }
    }
}

/// One named check and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// Its stable name.
    pub name: &'static str,
    /// Pass, fail or skip.
    pub verdict: Verdict,
    /// What was seen, or why it failed or was skipped.
    pub detail: String,
}

/// Every check of one run, in the order run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The checks.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether no check failed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.verdict != Verdict::Fail)
    }

    /// The check of this name.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// The names of the failed checks.
    pub fn failed(&self) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter(|c| c.verdict == Verdict::Fail)
            .map(|c| c.name)
            .collect()
    }

    /// The table printed to the operator.
    pub fn table(&self) -> String {
        let width = self.checks.iter().map(|c| c.name.len()).max().unwrap_or(5);
        let mut out = format!("{:<6}{:<width$}  detail\n", "", "check");
        for c in &self.checks {
            out.push_str(&format!(
                "{:<6}{:<width$}  {}\n",
                c.verdict.label(),
                c.name,
                c.detail
            ));
        }
        let count = |v| self.checks.iter().filter(|c| c.verdict == v).count();
        out.push_str(&format!(
            "{} checks: {} passed, {} failed, {} skipped\n",
            self.checks.len(),
            count(Verdict::Pass),
            count(Verdict::Fail),
            count(Verdict::Skip)
        ));
        out
    }

    fn push(&mut self, name: &'static str, result: Result<String, Outcome>) {
        let (verdict, detail) = match result {
            Ok(d) => (Verdict::Pass, d),
            Err(Outcome::Fail(d)) => (Verdict::Fail, d),
            Err(Outcome::Skip(d)) => (Verdict::Skip, d),
        };
        self.checks.push(Check {
            name,
            verdict,
            detail,
        });
    }
}

/// Why a check did not pass.
enum Outcome {
    Fail(String),
    Skip(String),
}

fn fail<T>(why: impl Into<String>) -> Result<T, Outcome> {
    Err(Outcome::Fail(why.into()))
}

fn skip<T>(why: impl Into<String>) -> Result<T, Outcome> {
    Err(Outcome::Skip(why.into()))
}

fn named(e: &AdapterError) -> String {
    format!("{}: {e}", e.name())
}

/// The adapter under test.
#[derive(Clone, Copy)]
pub enum Subject<'a> {
    /// A plugin, which also answers the protocol's own checks (handshake, restarts, bad
    /// requests, bounds).
    Plugin(&'a PluginAdapter),
    /// A built-in adapter.
    BuiltIn(&'a dyn Adapter),
}

impl std::fmt::Debug for Subject<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Plugin(p) => write!(f, "Plugin({})", p.chain()),
            Subject::BuiltIn(a) => write!(f, "BuiltIn({})", a.chain()),
        }
    }
}

impl<'a> Subject<'a> {
    fn adapter(&self) -> &'a dyn Adapter {
        match *self {
            Subject::Plugin(p) => p,
            Subject::BuiltIn(a) => a,
        }
    }
}

/// Names of the checks, in the order they run.
pub const CHECKS: [&str; 13] = [
    "handshake",
    "latest_height",
    "headers_accepted",
    "events_complete",
    "events_across_restart",
    "commitment_proofs_verify",
    "absence_proofs_verify",
    "mutated_proofs_refused",
    "deliveries_named",
    "deliveries_per_entry",
    "bad_requests_answered",
    "limits_respected",
    "still_answering",
];

/// Packets proven by the proof checks.
const PROVEN: usize = 16;

/// The report of a plugin that could not be started (its hello failed): the handshake
/// fails with `why`, every other check is skipped.
pub fn not_started(why: &str) -> Report {
    let mut report = Report::default();
    report.push("handshake", fail(why.to_owned()));
    for name in &CHECKS[1..] {
        report.push(name, skip("the plugin did not start"));
    }
    report
}

/// What the checks learn and later checks use.
struct Kit<'a> {
    subject: Subject<'a>,
    now: Timestamp,
    latest: u64,
    client: Option<(AnyClient, u64)>,
    sent: Vec<SentPacket>,
    proven: Option<(Packet, SourceProof)>,
}

/// Entries the hub logged for the chain, proven under its latest signed checkpoint, which
/// the kit delivers again (`deliveries_per_entry`); `None` when the kit has no hub.
pub type Logged = Option<(CheckpointProof, Vec<EntryProof>)>;

/// Runs every check against `subject` at `now_secs` (the kit's clock, for the light
/// client); `logged` are entries the hub logged for the chain, when the kit has a hub.
pub async fn run(subject: Subject<'_>, now_secs: u64, logged: Logged) -> Report {
    let mut kit = Kit {
        subject,
        now: Timestamp::from_secs(now_secs),
        latest: 0,
        client: None,
        sent: Vec::new(),
        proven: None,
    };
    let mut report = Report::default();
    report.push("handshake", kit.handshake());
    report.push("latest_height", kit.latest_height(now_secs).await);
    report.push("headers_accepted", kit.headers_accepted().await);
    report.push("events_complete", kit.events_complete().await);
    report.push("events_across_restart", kit.events_across_restart().await);
    report.push("commitment_proofs_verify", kit.commitment_proofs().await);
    report.push("absence_proofs_verify", kit.absence_proofs().await);
    report.push("mutated_proofs_refused", kit.mutated_proofs());
    report.push("deliveries_named", kit.deliveries().await);
    report.push(
        "deliveries_per_entry",
        kit.deliveries_per_entry(logged).await,
    );
    report.push("bad_requests_answered", kit.bad_requests().await);
    report.push("limits_respected", kit.limits().await);
    report.push("still_answering", kit.still_answering().await);
    report
}

impl Kit<'_> {
    fn adapter(&self) -> &dyn Adapter {
        self.subject.adapter()
    }

    fn handshake(&self) -> Result<String, Outcome> {
        match self.subject {
            Subject::Plugin(p) => {
                let (version, capabilities) = p.hello();
                if version != junction_adapters::plugin::PROTOCOL_VERSION {
                    return fail(format!("the plugin answered version {version}"));
                }
                Ok(format!(
                    "version {version}, chain {}, kind {}, capabilities {}",
                    p.chain(),
                    p.kind().as_str(),
                    capabilities.join(" ")
                ))
            }
            Subject::BuiltIn(a) => Ok(format!(
                "built-in adapter of chain {} (kind {}): no handshake",
                a.chain(),
                a.kind().as_str()
            )),
        }
    }

    async fn latest_height(&mut self, now_secs: u64) -> Result<String, Outcome> {
        let latest = self
            .adapter()
            .latest_height()
            .await
            .map_err(|e| Outcome::Fail(named(&e)))?;
        let info = self
            .adapter()
            .header_info(latest)
            .await
            .map_err(|e| Outcome::Fail(format!("header_info({latest}): {}", named(&e))))?;
        self.latest = latest;
        if info.height != latest {
            return fail(format!("asked for {latest}, answered {}", info.height));
        }
        if info.time_secs == 0 || info.time_secs > now_secs.saturating_add(15) {
            return fail(format!(
                "height {latest} has time {} (the kit's clock: {now_secs})",
                info.time_secs
            ));
        }
        Ok(format!("height {latest}, time {}", info.time_secs))
    }

    async fn attested_header(&self, height: u64) -> Result<AttestedHeader, Outcome> {
        let bytes = self
            .adapter()
            .header_to_attest(height)
            .await
            .map_err(|e| Outcome::Fail(format!("header {height}: {}", named(&e))))?;
        let header = AttestedHeader::from_bytes(&bytes)
            .map_err(|e| Outcome::Fail(format!("header {height} does not decode: {e}")))?;
        if header.number != height {
            return fail(format!("asked for header {height}, got {}", header.number));
        }
        Ok(header)
    }

    async fn headers_accepted(&mut self) -> Result<String, Outcome> {
        let adapter = self.adapter();
        if adapter.kind() != LedgerKind::EvmAttested {
            return skip(format!(
                "the kit starts clients of evm_attested chains; a {} chain's client needs its registration",
                adapter.kind().as_str()
            ));
        }
        let latest = self.latest;
        if latest < 3 {
            return fail(format!(
                "the chain is at height {latest}: the kit needs 3 blocks"
            ));
        }
        let (trusted, target) = (latest - 2, latest);
        let start = self.attested_header(trusted).await?;
        let header = self.attested_header(target).await?;
        let parent = self.attested_header(target - 1).await?;
        if header.parent_hash != parent.hash {
            return fail(format!(
                "header {target} names parent 0x{}, header {} hashes to 0x{}",
                hex::encode(header.parent_hash),
                target - 1,
                hex::encode(parent.hash)
            ));
        }
        if header.chain_id != start.chain_id {
            return fail("the headers name two EVM chain ids");
        }
        let Some(gateway) = adapter.gateway_id() else {
            return fail("the adapter names no gateway (hello field `gateway`)");
        };
        let Ok(gateway) = <[u8; 20]>::try_from(gateway.as_slice()) else {
            return fail(format!(
                "the gateway 0x{} is not 20 bytes",
                hex::encode(&gateway)
            ));
        };
        let keys = testkit::attester_keys(3);
        let root = AttestedTrustRoot {
            evm_chain_id: start.chain_id,
            gateway,
            attesters: keys.iter().map(testkit::address).collect(),
            trusted: start,
        };
        let registration = ChainRegistration {
            chain_id: adapter.chain().clone(),
            kind: LedgerKind::EvmAttested,
            params: LightClientParams {
                trust_level: Fraction { num: 2, den: 3 },
                trusting_period_ms: 86_400_000,
                max_clock_drift_ms: 15_000,
                min_confirmations: 0,
                threshold: Fraction { num: 2, den: 3 },
            },
            trust_root: root.to_bytes(),
        };
        let mut client = AnyClient::from_registration(&registration)
            .map_err(|e| Outcome::Fail(format!("header {trusted} starts no client: {e}")))?;
        let signed = SignedAttestedHeader {
            header,
            signatures: keys.iter().map(|k| testkit::sign(k, &header)).collect(),
            full_header: None,
        };
        let height = client
            .update(&signed.to_bytes(), self.now)
            .map_err(|e| Outcome::Fail(format!("header {target} refused: {e}")))?;
        if height != target {
            return fail(format!("the client moved to {height}, not {target}"));
        }
        self.client = Some((client, target));
        Ok(format!(
            "client started at {trusted}, header {target} accepted (signed by the kit's 3 attesters)"
        ))
    }

    async fn events_complete(&mut self) -> Result<String, Outcome> {
        let sent = self
            .adapter()
            .sent_packets(0, self.latest)
            .await
            .map_err(|e| Outcome::Fail(named(&e)))?;
        // What a later read (after a restart) must repeat, whatever is found wrong here.
        self.sent = sent.clone();
        // A gateway numbers each app's packets to each destination 1, 2, 3, ...: read from
        // its deployment on, a space with a gap lost an event and one with a repeat
        // reported it twice.
        let mut spaces: BTreeMap<(Vec<u8>, String), Vec<u64>> = BTreeMap::new();
        let mut keys = BTreeSet::new();
        let mut last_height = 0;
        for s in &sent {
            if s.height < last_height {
                return fail(format!(
                    "packet {} at height {} after one at {last_height}: not in chain order",
                    s.packet.sequence, s.height
                ));
            }
            last_height = s.height;
            if !keys.insert(s.packet.key().hash()) {
                return fail(format!(
                    "packet {} of app 0x{} reported twice",
                    s.packet.sequence,
                    hex::encode(&s.packet.source_app)
                ));
            }
            spaces
                .entry((s.packet.source_app.clone(), s.packet.dest_chain.to_string()))
                .or_default()
                .push(s.packet.sequence);
        }
        for ((app, dest), sequences) in &spaces {
            for (i, seq) in sequences.iter().enumerate() {
                let expected = i as u64 + 1;
                if *seq != expected {
                    return fail(format!(
                        "app 0x{} to {dest}: sequence {expected} is missing (next reported: {seq})",
                        hex::encode(app)
                    ));
                }
            }
        }
        let outcomes = self
            .adapter()
            .outcomes(0, self.latest)
            .await
            .map_err(|e| Outcome::Fail(format!("outcomes: {}", named(&e))))?;
        let mut outcome_keys = BTreeSet::new();
        for o in &outcomes {
            if !outcome_keys.insert(o.key) {
                return fail(format!(
                    "the outcome of 0x{} reported twice",
                    hex::encode(o.key)
                ));
            }
            if !keys.contains(&o.key) {
                return fail(format!(
                    "an outcome of 0x{}, which no reported packet has",
                    hex::encode(o.key)
                ));
            }
        }
        // The packets still pending are read from the gateway's state, not its events:
        // each must be among the events (a skipped last event leaves no gap to see).
        let pending = self
            .adapter()
            .pending_packets()
            .await
            .map_err(|e| Outcome::Fail(format!("pending packets: {}", named(&e))))?;
        if let Some(missing) = pending
            .iter()
            .find(|p| !keys.contains(&p.packet.key().hash()))
        {
            return fail(format!(
                "packet {} of app 0x{} to {} is pending on the gateway but was never reported sent",
                missing.packet.sequence,
                hex::encode(&missing.packet.source_app),
                missing.packet.dest_chain
            ));
        }
        let n = sent.len();
        Ok(format!(
            "{n} packets in {} sequence spaces, each 1..n without a gap; the {} pending on the gateway among them; {} outcomes of them",
            spaces.len(),
            pending.len(),
            outcomes.len()
        ))
    }

    async fn events_across_restart(&self) -> Result<String, Outcome> {
        let how = match self.subject {
            Subject::Plugin(p) => {
                p.restart().await;
                "after a restart of the plugin"
            }
            Subject::BuiltIn(_) => "(a built-in adapter has no process to restart)",
        };
        // Read again in three ranges: a cursor at any height must see the same events.
        let cut1 = self.latest / 3;
        let cut2 = cut1 * 2;
        let mut again = Vec::new();
        for (from, to) in [(0, cut1), (cut1 + 1, cut2), (cut2 + 1, self.latest)] {
            if from > to {
                continue;
            }
            again.extend(
                self.adapter()
                    .sent_packets(from, to)
                    .await
                    .map_err(|e| Outcome::Fail(format!("{from}..={to}: {}", named(&e))))?,
            );
        }
        if again != self.sent {
            let first_diff = again
                .iter()
                .zip(&self.sent)
                .position(|(a, b)| a != b)
                .unwrap_or(again.len().min(self.sent.len()));
            return fail(format!(
                "read again in three ranges {how}: {} packets, not {} (first difference at #{first_diff})",
                again.len(),
                self.sent.len()
            ));
        }
        Ok(format!(
            "the same {} packets, in the same order, read in three ranges {how}",
            again.len()
        ))
    }

    async fn commitment_proofs(&mut self) -> Result<String, Outcome> {
        let Some((client, height)) = &self.client else {
            return skip("no client (headers_accepted did not pass)");
        };
        let pending = self
            .adapter()
            .pending_packets()
            .await
            .map_err(|e| Outcome::Fail(format!("pending packets: {}", named(&e))))?;
        if pending.is_empty() {
            return fail("no pending packet to prove: send a packet that is not yet delivered");
        }
        let chosen: Vec<&Packet> = pending.iter().take(PROVEN).map(|s| &s.packet).collect();
        let claims: Vec<(ProofClaim, &Packet)> = chosen
            .iter()
            .map(|p| (ProofClaim::Commitment, *p))
            .collect();
        let proofs = self.adapter().prove_claims(&claims, *height).await;
        if proofs.len() != claims.len() {
            return fail(format!(
                "{} proofs for {} claims",
                proofs.len(),
                claims.len()
            ));
        }
        for (packet, proof) in chosen.iter().zip(proofs) {
            let proof = proof
                .map_err(|e| Outcome::Fail(format!("packet {}: {}", packet.sequence, named(&e))))?;
            if proof.height != *height {
                return fail(format!(
                    "packet {}: asked at {height}, proven at {}",
                    packet.sequence, proof.height
                ));
            }
            client
                .verify_packet_slot(
                    proof.height,
                    &proof.proof,
                    PacketSlot::Commitment,
                    &packet.key().hash(),
                    Some(&packet.hash()),
                    &packet.source_app,
                )
                .map_err(|e| {
                    Outcome::Fail(format!(
                        "packet {}: the hub's client refuses the proof: {e}",
                        packet.sequence
                    ))
                })?;
            self.proven.get_or_insert(((*packet).clone(), proof));
        }
        // A packet with an outcome has no commitment: the adapter must say so by name.
        let pending_keys: BTreeSet<_> = pending.iter().map(|s| s.packet.key().hash()).collect();
        let mut settled_note = String::new();
        if let Some(done) = self
            .sent
            .iter()
            .find(|s| !pending_keys.contains(&s.packet.key().hash()))
        {
            match self.adapter().prove_commitment(&done.packet, *height).await {
                Err(e) if e.name() == "not_committed" => {
                    settled_note = format!(
                        "; packet {} (settled) answered not_committed",
                        done.packet.sequence
                    )
                }
                Err(e) => {
                    return fail(format!(
                        "settled packet {}: {} (not_committed expected)",
                        done.packet.sequence,
                        named(&e)
                    ))
                }
                Ok(_) => {
                    return fail(format!(
                        "settled packet {} was proven committed",
                        done.packet.sequence
                    ))
                }
            }
        }
        Ok(format!(
            "{} of {} pending packets proven at {height} and verified by the hub's client{settled_note}",
            chosen.len(),
            pending.len()
        ))
    }

    async fn absence_proofs(&self) -> Result<String, Outcome> {
        let adapter = self.adapter();
        if !adapter.is_destination() {
            return skip("a source-only chain proves no receipts");
        }
        let Some((client, height)) = &self.client else {
            return skip("no client (headers_accepted did not pass)");
        };
        // A packet no one sent: its receipt place is empty on every honest gateway.
        let packet = absent_packet(adapter.chain(), self.now);
        let proof = adapter
            .prove_no_receipt(&packet, *height)
            .await
            .map_err(|e| Outcome::Fail(named(&e)))?;
        client
            .verify_packet_slot(
                proof.height,
                &proof.proof,
                PacketSlot::Receipt,
                &packet.key().hash(),
                None,
                &packet.source_app,
            )
            .map_err(|e| Outcome::Fail(format!("the hub's client refuses the proof: {e}")))?;
        match adapter.prove_receipt(&packet, *height).await {
            Err(e) if e.name() == "no_receipt" => Ok(format!(
                "an unsent packet's absence proven at {height} and verified; its receipt answered no_receipt"
            )),
            Err(e) => fail(format!("the receipt of an unsent packet: {} (no_receipt expected)", named(&e))),
            Ok(_) => fail("the receipt of an unsent packet was proven"),
        }
    }

    fn mutated_proofs(&self) -> Result<String, Outcome> {
        let (Some((client, _)), Some((packet, proof))) = (&self.client, &self.proven) else {
            return skip("no verified proof to mutate (commitment_proofs_verify did not pass)");
        };
        let mut mutations: Vec<(&str, Vec<u8>)> = Vec::new();
        for at in [
            proof.proof.len() / 2,
            proof.proof.len() * 3 / 4,
            proof.proof.len().saturating_sub(1),
        ] {
            let mut m = proof.proof.clone();
            if let Some(b) = m.get_mut(at) {
                *b ^= 0x01;
                mutations.push(("a flipped bit", m));
            }
        }
        mutations.push((
            "a truncated proof",
            proof.proof[..proof.proof.len() / 2].to_vec(),
        ));
        for (what, bytes) in &mutations {
            let verdict = client.verify_packet_slot(
                proof.height,
                bytes,
                PacketSlot::Commitment,
                &packet.key().hash(),
                Some(&packet.hash()),
                &packet.source_app,
            );
            if verdict.is_ok() {
                return fail(format!("the client accepted {what}"));
            }
        }
        // The right proof of another packet's place does not prove this one.
        let mut other = packet.clone();
        other.payload.push(0);
        if client
            .verify_packet_slot(
                proof.height,
                &proof.proof,
                PacketSlot::Commitment,
                &other.key().hash(),
                Some(&other.hash()),
                &other.source_app,
            )
            .is_ok()
        {
            return fail("the proof also proved an altered packet");
        }
        Ok(format!(
            "{} mutations of a verified proof and an altered packet refused",
            mutations.len()
        ))
    }

    async fn deliveries(&self) -> Result<String, Outcome> {
        let adapter = self.adapter();
        if !adapter.is_destination() {
            return skip("a source-only chain takes no deliveries");
        }
        // A checkpoint the gateway never held, one entry: the gateway must refuse it by
        // name, and the adapter must report that batch's refusal as such.
        let packet = absent_packet(adapter.chain(), self.now);
        let checkpoint = Checkpoint {
            hub_chain_id: ChainId::new("kit-hub").map_err(|e| Outcome::Fail(e.to_string()))?,
            height: 1,
            time_ms: 1,
            log_size: 1,
            log_root: [0x4b; 32],
            attestation_set_hash: [0x4b; 32],
            next_attestation_set_hash: [0x4b; 32],
        };
        let entry = EntryProof {
            entry: LogEntry::new(EntryKind::Packet, [0; 32], 0, packet, Vec::new()),
            index: 0,
            proof: Vec::new(),
        };
        let results = adapter
            .deliver_batches(
                &CheckpointProof::held(checkpoint),
                &[std::slice::from_ref(&entry), std::slice::from_ref(&entry)],
            )
            .await;
        if results.len() != 2 {
            return fail(format!("{} results for 2 batches", results.len()));
        }
        for r in &results {
            match r {
                Err(AdapterError::GatewayRevert { revert, .. }) if *revert != "unknown" => {}
                Err(e) => {
                    return fail(format!(
                        "an unheld checkpoint: {} (a named gateway refusal expected)",
                        named(e)
                    ))
                }
                Ok(d) => {
                    return fail(format!(
                        "a batch under an unheld checkpoint was delivered in 0x{}",
                        hex::encode(d.tx_hash)
                    ))
                }
            }
        }
        let revert = results
            .first()
            .and_then(|r| r.as_ref().err())
            .and_then(AdapterError::revert_name)
            .unwrap_or("unknown");
        Ok(format!(
            "one result per batch: both refused by the gateway as {revert}"
        ))
    }

    /// Entries the hub logged for the chain, delivered again: each gets its own result (the
    /// app ran, an outcome was delivered, or it was skipped with the gateway's reason: most
    /// are `AlreadyDelivered`).
    async fn deliveries_per_entry(&self, logged: Logged) -> Result<String, Outcome> {
        let adapter = self.adapter();
        if !adapter.is_destination() {
            return skip("a source-only chain takes no deliveries");
        }
        let Some((checkpoint, entries)) = logged else {
            return skip(
                "no entries logged for the chain on a hub the kit can ask (--config, or --hub-rpc)",
            );
        };
        let delivered = match adapter.deliver(&checkpoint, &entries).await {
            Ok(d) => d,
            // A gateway refuses a batch in which every entry is skipped, by the first
            // entry's reason: every logged entry was acted on already.
            Err(AdapterError::GatewayRevert { revert, .. })
                if revert == "AlreadyDelivered" || revert == "PacketNotPending" =>
            {
                return Ok(format!(
                    "all {} logged entries acted on already: the batch refused as a whole ({revert}); nothing to deliver one by one",
                    entries.len()
                ))
            }
            Err(e) => {
                return fail(format!("{} logged entries: {}", entries.len(), named(&e)))
            }
        };
        let mut skipped_at = BTreeSet::new();
        for s in &delivered.skipped {
            if s.index >= entries.len() as u64 || !skipped_at.insert(s.index) {
                return fail(format!(
                    "entry {} reported skipped out of the batch or twice",
                    s.index
                ));
            }
        }
        let accounted =
            delivered.received.len() + delivered.outcomes.len() + delivered.skipped.len();
        if accounted != entries.len() {
            return fail(format!(
                "{} entries, {accounted} results ({} received, {} outcomes, {} skipped)",
                entries.len(),
                delivered.received.len(),
                delivered.outcomes.len(),
                delivered.skipped.len()
            ));
        }
        let reasons: BTreeSet<&str> = delivered.skipped.iter().map(|s| s.reason).collect();
        Ok(format!(
            "{} logged entries delivered again in 0x{}: {} received, {} outcomes, {} skipped ({})",
            entries.len(),
            hex::encode(&delivered.tx_hash[..4]),
            delivered.received.len(),
            delivered.outcomes.len(),
            delivered.skipped.len(),
            reasons.into_iter().collect::<Vec<_>>().join(", ")
        ))
    }

    async fn bad_requests(&self) -> Result<String, Outcome> {
        let Subject::Plugin(p) = self.subject else {
            return skip("a built-in adapter takes no requests");
        };
        let asks = [
            ("an unknown method", "chain_noSuchMethod", json!({})),
            (
                "a height that is text",
                "chain_headerInfo",
                json!({"height": "tall"}),
            ),
            (
                "claims that are not a list",
                "chain_prove",
                json!({"height": 1, "claims": 7}),
            ),
            (
                "a packet that is not hex",
                "chain_prove",
                json!({"height": 1, "claims": [{"claim": "commitment", "packet": "zz"}]}),
            ),
        ];
        for (what, method, params) in asks {
            match p.call_raw(method, params).await {
                Err(CallError::Method(_)) => {}
                // A JSON-RPC error of its own (the plugin could not read the request): the
                // host stops such a plugin, so the kit starts it again for the next ask.
                Err(CallError::Failure(f)) if f.name() == "plugin_protocol" => p.restart().await,
                Err(CallError::Failure(f)) => return fail(format!("{what}: {} ({f})", f.name())),
                Ok(v) => return fail(format!("{what} was answered as if valid: {v}")),
            }
        }
        Ok("4 bad requests answered with errors, none crashed the plugin".into())
    }

    async fn limits(&self) -> Result<String, Outcome> {
        let Subject::Plugin(p) = self.subject else {
            return skip("a built-in adapter's bounds are the relayer's own");
        };
        let too_large = |r: Result<serde_json::Value, CallError>, what: &str| match r {
            Err(CallError::Method(m)) if m.name == "too_large" => Ok(()),
            Err(e) => fail(format!("{what}: {e} (too_large expected)")),
            Ok(_) => fail(format!("{what} was answered")),
        };
        // Whatever the checks before did to the process, the bounds are asked of a fresh one.
        p.restart().await;
        too_large(
            p.call_raw("chain_sentPackets", json!({"from": 0, "to": MAX_RANGE * 2}))
                .await,
            "a range of 20,000 heights",
        )?;
        let packet = hex::encode(absent_packet(p.chain(), self.now).to_bytes());
        let claims: Vec<_> = (0..=MAX_CLAIMS)
            .map(|_| json!({"claim": "commitment", "packet": packet}))
            .collect();
        too_large(
            p.call_raw(
                "chain_prove",
                json!({"height": self.latest, "claims": claims}),
            )
            .await,
            "257 claims",
        )?;
        Ok("a range of 20,000 heights and 257 claims refused as too_large".into())
    }

    async fn still_answering(&self) -> Result<String, Outcome> {
        let h = self
            .adapter()
            .latest_height()
            .await
            .map_err(|e| Outcome::Fail(named(&e)))?;
        if h < self.latest {
            return fail(format!("height went back from {} to {h}", self.latest));
        }
        Ok(format!("height {h} after every check"))
    }
}

/// A packet to `chain` that no one sent (its source is the kit's own name).
fn absent_packet(chain: &ChainId, now: Timestamp) -> Packet {
    Packet {
        version: Packet::VERSION,
        source_chain: ChainId::new("conformance-kit").unwrap_or_else(|_| chain.clone()),
        source_app: vec![0x4b; 20],
        sequence: now.secs().max(1),
        dest_chain: chain.clone(),
        dest_app: vec![0x4b; 20],
        payload: b"conformance kit".to_vec(),
        timeout: Timeout {
            height: 0,
            time_ms: 1,
        },
        gas_limit: 100_000,
        fee: 0,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_every_check_and_counts_them() {
        let mut r = Report::default();
        r.push("handshake", Ok("version 1".into()));
        r.push("events_complete", fail("sequence 2 is missing"));
        r.push("limits_respected", skip("built-in"));
        assert!(!r.passed());
        assert_eq!(r.failed(), vec!["events_complete"]);
        let t = r.table();
        assert!(t.contains("FAIL  events_complete"), "{t}");
        assert!(t.contains("3 checks: 1 passed, 1 failed, 1 skipped"), "{t}");
        let unstarted = not_started("plugin_version");
        assert_eq!(unstarted.checks.len(), CHECKS.len());
        assert_eq!(unstarted.failed(), vec!["handshake"]);
    }
}
