//! The validator's ed25519 signer and verifier for consensus messages.

use async_trait::async_trait;
use bytes::Bytes;
use malachitebft_app_channel::app::types::core::{
    SignedExtension, SignedMessage, SignedProposal, SignedVote, ValidatorProof, VoteExtensionScope,
};
use malachitebft_signing::{Error, Signer, VerificationResult, Verifier};

use crate::context::{JunctionContext as Ctx, PrivateKey, Proposal, PublicKey, Signature, Vote};
use junction_spec::encoding::Put;

/// Extension sign bytes bind the extension to the precommit it rides on, so an extension
/// cannot be replayed onto another height, round, block or validator.
pub fn extension_sign_bytes(scope: &VoteExtensionScope<Ctx>, extension: &Bytes) -> Vec<u8> {
    let mut w = Vec::new();
    w.put_raw(b"junction/vote-extension/v1");
    w.put_u64(scope.height.0);
    w.put_i64(scope.round.as_i64());
    w.put_raw(&scope.value_id.0);
    w.put_raw(&scope.validator_address.0);
    w.put_bytes(extension);
    w
}

/// Checks consensus signatures.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ed25519Verifier;

fn verdict(key: &PublicKey, msg: &[u8], sig: &Signature) -> VerificationResult {
    VerificationResult::from_bool(key.verify(msg, sig).is_ok())
}

#[async_trait]
impl Verifier<Ctx> for Ed25519Verifier {
    async fn verify_signed_vote(
        &self,
        vote: &Vote,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, Error> {
        Ok(verdict(public_key, &vote.to_sign_bytes(), signature))
    }

    async fn verify_signed_proposal(
        &self,
        proposal: &Proposal,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, Error> {
        Ok(verdict(public_key, &proposal.to_sign_bytes(), signature))
    }

    async fn verify_signed_vote_extension(
        &self,
        scope: &VoteExtensionScope<Ctx>,
        extension: &Bytes,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, Error> {
        Ok(verdict(
            public_key,
            &extension_sign_bytes(scope, extension),
            signature,
        ))
    }

    async fn verify_validator_proof(
        &self,
        proof: &ValidatorProof<Ctx>,
    ) -> Result<VerificationResult, Error> {
        let key = proof
            .decoded_public_key()
            .map_err(|e| Error::from_source(format!("bad key in validator proof: {e}")))?;
        Ok(verdict(&key, &proof.preimage(), &proof.signature))
    }
}

/// Signs with the validator's consensus key: the key file's, in process, or an external
/// signer's over its socket (`junction-signer`), which refuses to sign twice.
#[derive(Debug, Clone)]
pub enum Ed25519Signer {
    /// The key, from `config/validator_key.json`.
    Local(Box<PrivateKey>),
    /// An external signer.
    Remote(std::sync::Arc<junction_signer::RemoteSigner>),
}

impl Ed25519Signer {
    /// A signer for `key`.
    pub fn new(key: PrivateKey) -> Self {
        Self::Local(Box::new(key))
    }

    /// Signs canonical sign bytes (proposal parts, and every message below).
    pub async fn sign(&self, msg: &[u8]) -> Result<Signature, Error> {
        match self {
            Self::Local(key) => Ok(key.sign(msg)),
            Self::Remote(remote) => remote
                .sign(msg)
                .await
                .map(Signature::from_bytes)
                .map_err(|e| Error::from_source(e.to_string())),
        }
    }
}

#[async_trait]
impl Signer<Ctx> for Ed25519Signer {
    async fn sign_vote(&self, vote: Vote) -> Result<SignedVote<Ctx>, Error> {
        let s = self.sign(&vote.to_sign_bytes()).await?;
        Ok(SignedVote::new(vote, s))
    }

    async fn sign_proposal(&self, proposal: Proposal) -> Result<SignedProposal<Ctx>, Error> {
        let s = self.sign(&proposal.to_sign_bytes()).await?;
        Ok(SignedProposal::new(proposal, s))
    }

    async fn sign_vote_extension(
        &self,
        scope: VoteExtensionScope<Ctx>,
        extension: Bytes,
    ) -> Result<SignedExtension<Ctx>, Error> {
        let s = self.sign(&extension_sign_bytes(&scope, &extension)).await?;
        Ok(SignedMessage::new(extension, s))
    }

    async fn sign_validator_proof(
        &self,
        public_key: Vec<u8>,
        peer_id: Vec<u8>,
    ) -> Result<ValidatorProof<Ctx>, Error> {
        let preimage = ValidatorProof::<Ctx>::signing_bytes(&public_key, &peer_id);
        let s = self.sign(&preimage).await?;
        Ok(ValidatorProof::new(public_key, peer_id, s))
    }
}
