//! The channel configuration a Fabric light client trusts: which MSPs are orderer orgs and
//! which are application (peer) orgs, read from a config block.

use std::collections::BTreeMap;

use super::block::{self, HEADER_TYPE_CONFIG, HEADER_TYPE_ORDERER_TRANSACTION};
use super::msp::Msp;
use super::proto::{Block, ConfigEnvelope, ConfigGroup, FabricMspConfig, MspConfig};
use super::{bound, decode_bounded, FabricError, MAX_BLOCK_BYTES, MAX_ID_LEN, MAX_ORGS};

/// `MSPConfig.type` of a Fabric X.509 MSP.
const MSP_TYPE_FABRIC: i32 = 0;

/// The channel's organizations and their certificate authorities.
#[derive(Clone, Debug)]
pub struct ChannelConfig {
    /// The channel id (`ChannelHeader.channel_id` of the config envelope).
    pub channel_id: String,
    /// `Config.sequence`: how many config updates preceded this config.
    pub sequence: u64,
    /// Orderer orgs by MSP id (from the `Orderer` group).
    pub orderer_orgs: BTreeMap<String, Msp>,
    /// Application (peer) orgs by MSP id (from the `Application` group, or the consortium's
    /// orgs in a system-channel config).
    pub application_orgs: BTreeMap<String, Msp>,
}

/// Read the channel config from a config block's bytes.
pub fn channel_config_from_block_bytes(bytes: &[u8]) -> Result<ChannelConfig, FabricError> {
    channel_config_from_block(&block::decode_block(bytes)?)
}

/// Read the channel config from a decoded block whose single envelope is a CONFIG
/// transaction (or an ORDERER_TRANSACTION wrapping one, as the system channel holds).
pub fn channel_config_from_block(block: &Block) -> Result<ChannelConfig, FabricError> {
    let envs = block::envelopes(block);
    if envs.len() != 1 {
        return Err(FabricError::Malformed {
            what: "config block envelope count",
        });
    }
    let first = envs.first().ok_or(FabricError::MissingField {
        what: "config envelope",
    })?;
    channel_config_from_envelope(first, 1)
}

/// Read the channel config from a CONFIG envelope.
pub fn channel_config_from_envelope(bytes: &[u8], depth: u8) -> Result<ChannelConfig, FabricError> {
    let opened = block::open_envelope(bytes)?;
    match opened.channel_header.r#type {
        HEADER_TYPE_CONFIG => {}
        HEADER_TYPE_ORDERER_TRANSACTION if depth > 0 => {
            return channel_config_from_envelope(&opened.payload.data, depth - 1);
        }
        got => return Err(FabricError::WrongHeaderType { got }),
    }
    bound(
        "channel id",
        opened.channel_header.channel_id.len(),
        MAX_ID_LEN,
    )?;
    let env: ConfigEnvelope =
        decode_bounded(&opened.payload.data, "config envelope", MAX_BLOCK_BYTES)?;
    let config = env
        .config
        .ok_or(FabricError::MissingField { what: "config" })?;
    let root = config.channel_group.ok_or(FabricError::MissingField {
        what: "channel group",
    })?;
    let orderer = root
        .groups
        .get("Orderer")
        .ok_or(FabricError::MissingField {
            what: "Orderer group",
        })?;
    let orderer_orgs = org_msps(orderer)?;
    let mut application_orgs = BTreeMap::new();
    if let Some(app) = root.groups.get("Application") {
        application_orgs = org_msps(app)?;
    } else if let Some(consortiums) = root.groups.get("Consortiums") {
        bound("consortiums", consortiums.groups.len(), MAX_ORGS)?;
        for consortium in consortiums.groups.values() {
            for (id, msp) in org_msps(consortium)? {
                bound(
                    "application orgs",
                    application_orgs.len().saturating_add(1),
                    MAX_ORGS,
                )?;
                application_orgs.insert(id, msp);
            }
        }
    }
    if orderer_orgs.is_empty() {
        return Err(FabricError::MissingField {
            what: "orderer orgs",
        });
    }
    Ok(ChannelConfig {
        channel_id: opened.channel_header.channel_id,
        sequence: config.sequence,
        orderer_orgs,
        application_orgs,
    })
}

/// The MSPs of the org sub-groups of `group` (each org group holds an `MSP` value).
fn org_msps(group: &ConfigGroup) -> Result<BTreeMap<String, Msp>, FabricError> {
    bound("orgs in config group", group.groups.len(), MAX_ORGS)?;
    let mut out = BTreeMap::new();
    for org in group.groups.values() {
        let Some(value) = org.values.get("MSP") else {
            continue;
        };
        let cfg: MspConfig = decode_bounded(&value.value, "MSP config", MAX_BLOCK_BYTES)?;
        // Idemix and other non-X.509 MSPs cannot sign anything this client checks; leaving
        // them out means their signatures never count.
        if cfg.r#type != MSP_TYPE_FABRIC {
            continue;
        }
        let fabric: FabricMspConfig =
            decode_bounded(&cfg.config, "Fabric MSP config", MAX_BLOCK_BYTES)?;
        let msp = Msp::from_fabric_config(&fabric)?;
        if out.insert(msp.id().to_string(), msp).is_some() {
            return Err(FabricError::Malformed {
                what: "MSP id declared twice",
            });
        }
    }
    Ok(out)
}
