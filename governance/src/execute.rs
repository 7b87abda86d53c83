//! Execution of passed proposals. Each executor checks the state it needs first and
//! returns the reason when the change cannot apply; the caller then restores the state
//! from before the attempt and records the proposal as failed.

use junction_spec::{ChainId, MemberStatus, OrgId, ProposalKind, Role, RouteId, RoutePolicy};

use crate::event::{hex, GovEvent};
use crate::member::Member;
use crate::registry::{total_power, validator_change_allowed, ClientState, ScheduledUpgrade};
use crate::route::{Route, RouteState, TokenBucket};
use crate::state::Council;
use crate::{MAX_ACCOUNTS, MAX_CHAINS, MAX_MEMBERS, MAX_RELAYERS, MAX_ROUTES, MAX_VALIDATORS};

/// Either the effect events, or why the change cannot apply.
type Executed = Result<Vec<GovEvent>, String>;

fn effect(action: &str, id: u64, detail: String) -> Executed {
    Ok(vec![GovEvent::new(action, Some(id), None, detail)])
}

impl Council {
    /// Applies `kind`, the content of passed proposal `id`, at `now_ms`.
    pub(crate) fn apply_kind(&mut self, id: u64, kind: &ProposalKind, now_ms: u64) -> Executed {
        kind.check().map_err(|e| e.to_string())?;
        match kind {
            ProposalKind::AddMember {
                org,
                name,
                weight,
                role,
                keys,
            } => self.add_member(id, org, name, *weight, *role, keys),
            ProposalKind::SuspendMember { org } => self.set_member_status(
                id,
                org,
                MemberStatus::Suspended,
                &[MemberStatus::Active],
                "member_suspended",
            ),
            ProposalKind::RemoveMember { org } => self.set_member_status(
                id,
                org,
                MemberStatus::Exited,
                &[MemberStatus::Active, MemberStatus::Suspended],
                "member_removed",
            ),
            ProposalKind::ChangeWeight { org, weight } => {
                let member = self.live_member_mut(org)?;
                let old = member.weight;
                member.weight = *weight;
                effect(
                    "weight_changed",
                    id,
                    format!("org={org} from={old} to={weight}"),
                )
            }
            ProposalKind::ResetMemberKey { org, keys } => {
                self.ensure_keys_free(org, keys)?;
                let member = self.live_member_mut(org)?;
                member.keys = keys.clone();
                effect(
                    "member_key_reset",
                    id,
                    format!("org={org} keys={}", keys.len()),
                )
            }
            ProposalKind::RegisterChain(registration) => {
                let chain = registration.chain_id.clone();
                if self.chains.contains_key(&chain) {
                    return Err(format!("chain {chain} is already registered"));
                }
                if self.chains.len() + self.remote_chains.len() >= MAX_CHAINS {
                    return Err(format!("the chain registry is full ({MAX_CHAINS})"));
                }
                self.chains.insert(
                    chain.clone(),
                    ClientState {
                        registration: registration.clone(),
                        frozen: false,
                    },
                );
                effect(
                    "chain_registered",
                    id,
                    format!("chain={chain} kind={}", registration.kind),
                )
            }
            ProposalKind::RegisterRemoteChain { chain, via } => {
                if self.chains.len() + self.remote_chains.len() >= MAX_CHAINS {
                    return Err(format!("the chain registry is full ({MAX_CHAINS})"));
                }
                self.remote_chains.insert(chain.clone(), via.clone());
                effect(
                    "remote_chain_registered",
                    id,
                    format!("chain={chain} via={via}"),
                )
            }
            ProposalKind::RetireGateway { chain, successor } => {
                if self.retired.contains_key(chain) {
                    return Err(format!("the gateway of {chain} is already retired"));
                }
                self.retired.insert(
                    chain.clone(),
                    crate::state::Retirement {
                        proposal_id: id,
                        successor: successor.clone(),
                        log_index: None,
                    },
                );
                effect(
                    "gateway_retired",
                    id,
                    format!(
                        "chain={chain} successor={}",
                        successor.as_ref().map_or("none", |s| s.as_str())
                    ),
                )
            }
            ProposalKind::FreezeClient { chain } => self.set_frozen(id, chain, true),
            ProposalKind::RecoverClient { chain } => self.set_frozen(id, chain, false),
            ProposalKind::OpenRoute { route, policy } => self.open_route(id, route, policy, now_ms),
            ProposalKind::UpdateRoute { route, policy } => {
                self.update_route(id, route, policy, now_ms)
            }
            ProposalKind::PauseRoute { route } => self.set_route_state(
                id,
                route,
                RouteState::Paused,
                &[RouteState::Open],
                "route_paused",
            ),
            ProposalKind::ResumeRoute { route } => self.set_route_state(
                id,
                route,
                RouteState::Open,
                &[RouteState::Paused],
                "route_resumed",
            ),
            ProposalKind::CloseRoute { route } => self.set_route_state(
                id,
                route,
                RouteState::Closed,
                &[RouteState::Open, RouteState::Paused],
                "route_closed",
            ),
            ProposalKind::AddValidator {
                pub_key,
                power,
                attestation_address,
            } => self.change_validator(id, pub_key, Some(*power), Some(attestation_address)),
            ProposalKind::RemoveValidator { pub_key } => {
                self.change_validator(id, pub_key, None, None)
            }
            ProposalKind::ChangePower { pub_key, power } => {
                self.change_validator(id, pub_key, Some(*power), None)
            }
            ProposalKind::SetParams(params) => {
                self.params = params.clone();
                effect(
                    "params_set",
                    id,
                    format!(
                        "voting_period_ms={} threshold={}/{} quorum={}/{}",
                        params.voting_period_ms,
                        params.threshold.num,
                        params.threshold.den,
                        params.quorum.num,
                        params.quorum.den
                    ),
                )
            }
            ProposalKind::RegisterRelayer { account } => match self.relayers.binary_search(account)
            {
                Ok(_) => Err("the relayer is already registered".to_owned()),
                Err(_) if self.relayers.len() >= MAX_RELAYERS => {
                    Err(format!("the relayer registry is full ({MAX_RELAYERS})"))
                }
                Err(at) => {
                    self.relayers.insert(at, *account);
                    effect(
                        "relayer_registered",
                        id,
                        format!("account={}", hex(account)),
                    )
                }
            },
            ProposalKind::PenalizeRelayer { account, amount } => {
                if !self.is_relayer(account) {
                    return Err("the account is not a registered relayer".to_owned());
                }
                let total = match self.penalties.binary_search_by(|(k, _)| k.cmp(account)) {
                    Ok(at) => match self.penalties.get_mut(at) {
                        Some((_, sum)) => {
                            *sum = sum.saturating_add(*amount);
                            *sum
                        }
                        None => *amount,
                    },
                    Err(at) => {
                        self.penalties.insert(at, (*account, *amount));
                        *amount
                    }
                };
                effect(
                    "relayer_penalized",
                    id,
                    format!("account={} amount={amount} total={total}", hex(account)),
                )
            }
            ProposalKind::ReplaceClient {
                chain,
                params,
                trust_root,
            } => {
                let client = self
                    .chains
                    .get_mut(chain)
                    .ok_or_else(|| format!("chain {chain} is not registered"))?;
                client.registration.params = params.clone();
                client.registration.trust_root = trust_root.clone();
                let was_frozen = client.frozen;
                client.frozen = false;
                self.freeze_signatures.remove(chain);
                effect(
                    "client_replaced",
                    id,
                    format!("chain={chain} was_frozen={was_frozen}"),
                )
            }
            ProposalKind::AdmitAccount { account } => match self.accounts.binary_search(account) {
                Ok(_) => Err("the account is already admitted".to_owned()),
                Err(_) if self.accounts.len() >= MAX_ACCOUNTS => {
                    Err(format!("the account registry is full ({MAX_ACCOUNTS})"))
                }
                Err(at) => {
                    self.accounts.insert(at, *account);
                    effect("account_admitted", id, format!("account={}", hex(account)))
                }
            },
            ProposalKind::RemoveAccount { account } => match self.accounts.binary_search(account) {
                Ok(at) => {
                    self.accounts.remove(at);
                    effect("account_removed", id, format!("account={}", hex(account)))
                }
                Err(_) => Err("the account is not admitted".to_owned()),
            },
            ProposalKind::ScheduleUpgrade { name, height } => {
                self.upgrade = Some(ScheduledUpgrade {
                    name: name.clone(),
                    height: *height,
                    proposal_id: id,
                });
                effect(
                    "upgrade_scheduled",
                    id,
                    format!("name={name} height={height}"),
                )
            }
        }
    }

    /// Fails when another member already holds one of `keys`.
    fn ensure_keys_free(&self, org: &OrgId, keys: &[[u8; 32]]) -> Result<(), String> {
        let taken = self
            .members
            .iter()
            .filter(|m| &m.org != org)
            .any(|m| keys.iter().any(|k| m.holds_key(k)));
        if taken {
            Err("an account key is held by another member".to_owned())
        } else {
            Ok(())
        }
    }

    /// The member `org`, unless it is unknown or exited.
    fn live_member_mut(&mut self, org: &OrgId) -> Result<&mut Member, String> {
        let at = self
            .member_index(org)
            .ok_or_else(|| format!("{org} is not a member"))?;
        match self.members.get_mut(at) {
            Some(m) if m.status != MemberStatus::Exited => Ok(m),
            _ => Err(format!("{org} has exited")),
        }
    }

    /// Admits `org`, or re-admits it when it is suspended or exited (with the new name,
    /// weight, role and keys).
    fn add_member(
        &mut self,
        id: u64,
        org: &OrgId,
        name: &str,
        weight: u64,
        role: Role,
        keys: &[[u8; 32]],
    ) -> Executed {
        self.ensure_keys_free(org, keys)?;
        let member = Member {
            org: org.clone(),
            name: name.to_owned(),
            weight,
            role,
            status: MemberStatus::Active,
            keys: keys.to_vec(),
        };
        let action = match self.members.binary_search_by(|m| m.org.cmp(org)) {
            Ok(at) => match self.members.get_mut(at) {
                Some(existing) if existing.status == MemberStatus::Active => {
                    return Err(format!("{org} is already an active member"));
                }
                Some(existing) => {
                    *existing = member;
                    "member_readmitted"
                }
                None => return Err(format!("{org} is not a member")),
            },
            Err(_) if self.members.len() >= MAX_MEMBERS => {
                return Err(format!("the council is full ({MAX_MEMBERS} members)"));
            }
            Err(at) => {
                self.members.insert(at, member);
                "member_added"
            }
        };
        effect(action, id, format!("org={org} weight={weight} role={role}"))
    }

    fn set_member_status(
        &mut self,
        id: u64,
        org: &OrgId,
        to: MemberStatus,
        from: &[MemberStatus],
        action: &str,
    ) -> Executed {
        let at = self
            .member_index(org)
            .ok_or_else(|| format!("{org} is not a member"))?;
        let member = self
            .members
            .get_mut(at)
            .ok_or_else(|| format!("{org} is not a member"))?;
        if !from.contains(&member.status) {
            return Err(format!("{org} is {}", member.status));
        }
        member.status = to;
        effect(action, id, format!("org={org}"))
    }

    fn set_frozen(&mut self, id: u64, chain: &ChainId, frozen: bool) -> Executed {
        let client = self
            .chains
            .get_mut(chain)
            .ok_or_else(|| format!("chain {chain} is not registered"))?;
        if client.frozen == frozen {
            let state = if frozen { "frozen" } else { "not frozen" };
            return Err(format!("the client of {chain} is already {state}"));
        }
        client.frozen = frozen;
        self.freeze_signatures.remove(chain);
        let action = if frozen {
            "client_frozen"
        } else {
            "client_recovered"
        };
        effect(action, id, format!("chain={chain}"))
    }

    /// Opens a route. Its chains need not be registered yet (a chain registration may be
    /// voted at the same time); until they are, every packet is rejected as
    /// `unknown_chain`. Route ids are never reused.
    fn open_route(
        &mut self,
        id: u64,
        route: &RouteId,
        policy: &RoutePolicy,
        now_ms: u64,
    ) -> Executed {
        if self.routes.contains_key(route) {
            return Err(format!("route id {route} is already used"));
        }
        if self.routes.len() >= MAX_ROUTES {
            return Err(format!("the route table is full ({MAX_ROUTES})"));
        }
        self.routes.insert(
            route.clone(),
            Route {
                id: route.clone(),
                policy: policy.clone(),
                state: RouteState::Open,
                bucket: TokenBucket::full(&policy.rate, now_ms),
                app_buckets: Vec::new(),
            },
        );
        effect(
            "route_opened",
            id,
            format!(
                "route={route} source={} dest={}",
                policy.source_chain, policy.dest_chain
            ),
        )
    }

    /// Replaces the policy of an open or paused route. The chains and the ordering cannot
    /// change (that would be another route); the buckets keep their whole tokens, capped at
    /// the new capacities.
    fn update_route(
        &mut self,
        id: u64,
        route: &RouteId,
        policy: &RoutePolicy,
        now_ms: u64,
    ) -> Executed {
        let r = self
            .routes
            .get_mut(route)
            .ok_or_else(|| format!("unknown route {route}"))?;
        if r.state == RouteState::Closed {
            return Err(format!("route {route} is closed"));
        }
        if r.policy.source_chain != policy.source_chain
            || r.policy.dest_chain != policy.dest_chain
            || r.policy.ordered != policy.ordered
        {
            return Err("a route's chains and ordering cannot change".to_owned());
        }
        r.rescale_to(policy, now_ms);
        r.policy = policy.clone();
        effect("route_updated", id, format!("route={route}"))
    }

    fn set_route_state(
        &mut self,
        id: u64,
        route: &RouteId,
        to: RouteState,
        from: &[RouteState],
        action: &str,
    ) -> Executed {
        let r = self
            .routes
            .get_mut(route)
            .ok_or_else(|| format!("unknown route {route}"))?;
        if !from.contains(&r.state) {
            return Err(format!("route {route} is {}", r.state.name()));
        }
        r.state = to;
        self.pause_signatures.remove(route);
        effect(action, id, format!("route={route}"))
    }

    /// Adds (with its attestation address), changes (`Some(power)`) or removes (`None`) a
    /// validator. Each change must move less than a third of the power before it; no two
    /// validators share an attestation address (each signs checkpoints for one).
    fn change_validator(
        &mut self,
        id: u64,
        key: &[u8; 32],
        power: Option<u64>,
        add: Option<&[u8; 20]>,
    ) -> Executed {
        let total = total_power(&self.validators);
        let found = self.validators.binary_search_by(|v| v.pub_key.cmp(key));
        if let Some(address) = add {
            if self
                .validators
                .iter()
                .any(|v| &v.attestation_address == address)
            {
                return Err(format!(
                    "attestation address {} already signs for another validator",
                    hex(address)
                ));
            }
        }
        let add = add.copied();
        let (old, new) = match (found, power, add) {
            (Ok(_), _, Some(_)) => return Err("the validator is already in the set".to_owned()),
            (Err(_), _, None) => return Err("the validator is not in the set".to_owned()),
            (Err(_), _, Some(_)) if self.validators.len() >= MAX_VALIDATORS => {
                return Err(format!("the validator set is full ({MAX_VALIDATORS})"));
            }
            (Err(_), Some(p), Some(_)) => (0, p),
            (Err(_), None, Some(_)) => return Err("a new validator needs a power".to_owned()),
            (Ok(at), p, None) => (
                self.validators.get(at).map_or(0, |v| v.power),
                p.unwrap_or(0),
            ),
        };
        let delta = old.abs_diff(new);
        if !validator_change_allowed(total, delta) {
            return Err(format!(
                "the change moves {delta} of {total} power: each change must move less than 1/3"
            ));
        }
        let action = match (found, new) {
            (Ok(at), 0) => {
                self.validators.remove(at);
                "validator_removed"
            }
            (Ok(at), p) => {
                if let Some(entry) = self.validators.get_mut(at) {
                    entry.power = p;
                }
                "power_changed"
            }
            (Err(at), p) => {
                self.validators.insert(
                    at,
                    junction_spec::HubValidator {
                        pub_key: *key,
                        power: p,
                        attestation_address: add.unwrap_or_default(),
                    },
                );
                "validator_added"
            }
        };
        effect(
            action,
            id,
            format!("key={} from={old} to={new} total_before={total}", hex(key)),
        )
    }
}
