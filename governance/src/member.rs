//! Council members: organizations with a weight, a role, a status and account keys.

use junction_spec::encoding::{decode_string, decode_vec, encode_str, encode_vec};
use junction_spec::{
    check_member_fields, Decode, DecodeError, Encode, MemberStatus, OrgId, ParamsError, Reader,
    Role, MAX_MEMBER_KEYS, MAX_MEMBER_NAME_LEN,
};
use serde::{Deserialize, Serialize};

/// A council member (an organization).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The organization's id (unique in the council).
    pub org: OrgId,
    /// Display name (1 to 128 bytes).
    pub name: String,
    /// Voting weight (`1..=MAX_WEIGHT`).
    pub weight: u64,
    /// What the member may do.
    pub role: Role,
    /// Where the member is in its lifecycle.
    pub status: MemberStatus,
    /// ed25519 account keys that sign for the member (1 to 8, unique across the council).
    #[serde(with = "junction_spec::serde_lists::keys")]
    pub keys: Vec<[u8; 32]>,
}

impl Member {
    /// True when the member is active and its role votes (`Member` or `Regulator`): it
    /// may propose, vote and sign emergency actions, and it is in the snapshot of new
    /// proposals.
    pub fn is_active_voter(&self) -> bool {
        self.status == MemberStatus::Active && self.role.votes()
    }

    /// True when `key` is one of the member's account keys.
    pub fn holds_key(&self, key: &[u8; 32]) -> bool {
        self.keys.iter().any(|k| k == key)
    }

    /// Checks the member's own fields: name, weight, keys.
    pub fn check(&self) -> Result<(), ParamsError> {
        check_member_fields(&self.name, self.weight, &self.keys)
    }
}

/// `org || name (cap 128) || weight (u64) || role (u8) || status (u8) || keys (count cap 8,
/// 32 bytes each)`.
impl Encode for Member {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.org.encode_to(out);
        encode_str(&self.name, out);
        self.weight.encode_to(out);
        self.role.encode_to(out);
        self.status.encode_to(out);
        encode_vec(&self.keys, out);
    }
}

impl Decode for Member {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            org: Decode::decode_from(r)?,
            name: decode_string(r, MAX_MEMBER_NAME_LEN)?,
            weight: Decode::decode_from(r)?,
            role: Decode::decode_from(r)?,
            status: Decode::decode_from(r)?,
            keys: decode_vec(r, MAX_MEMBER_KEYS)?,
        })
    }
}
