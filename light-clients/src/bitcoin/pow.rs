//! Proof of work: compact targets, chain work and the difficulty rules.
//!
//! The arithmetic follows Bitcoin Core's `arith_uint256` (`SetCompact`, `GetCompact`,
//! `GetBlockProof`) and `pow.cpp` (`GetNextWorkRequired`, `CalculateNextWorkRequired`), so
//! the `nBits` a header must carry is computed bit for bit, not approximated.

use alloy_primitives::U256;

use super::header::BlockHeader;
use super::{display_hex, BitcoinError};

/// The consensus parameters that shape proof of work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// Compact encoding of the easiest target allowed.
    pub pow_limit_bits: u32,
    /// Blocks per retarget period (2,016).
    pub retarget_interval: u64,
    /// Intended seconds per period (two weeks).
    pub target_timespan: u64,
    /// Intended seconds per block (ten minutes).
    pub target_spacing: u64,
    /// Testnet/regtest rule: a block 20 minutes after its parent may use the pow limit.
    pub allow_min_difficulty_blocks: bool,
    /// Regtest rule: the target never changes.
    pub no_retargeting: bool,
}

impl Params {
    /// Bitcoin mainnet.
    pub const MAINNET: Self = Self {
        pow_limit_bits: 0x1d00_ffff,
        retarget_interval: 2016,
        target_timespan: 14 * 24 * 60 * 60,
        target_spacing: 600,
        allow_min_difficulty_blocks: false,
        no_retargeting: false,
    };
    /// Bitcoin testnet3 (the 20-minute minimum-difficulty rule, Core's retarget from the
    /// last block's bits).
    pub const TESTNET3: Self = Self {
        allow_min_difficulty_blocks: true,
        ..Self::MAINNET
    };
    /// Regtest: trivial targets that never change.
    pub const REGTEST: Self = Self {
        pow_limit_bits: 0x207f_ffff,
        allow_min_difficulty_blocks: true,
        no_retargeting: true,
        ..Self::MAINNET
    };

    /// The easiest target allowed, as a number.
    pub fn pow_limit(&self) -> U256 {
        // The constants above are well-formed; a malformed custom value yields zero, which
        // then refuses every header rather than accepting any.
        decode_compact(self.pow_limit_bits).unwrap_or(U256::ZERO)
    }
}

/// Decodes `nBits` as Bitcoin Core's `SetCompact`, refusing what `CheckProofOfWork` refuses:
/// negative, overflowing and zero targets.
pub fn decode_compact(bits: u32) -> Result<U256, BitcoinError> {
    let exponent = bits >> 24;
    // Core tests sign and overflow on the mantissa after the small-exponent shift.
    let word = if exponent <= 3 {
        (bits & 0x007f_ffff) >> (8 * (3 - exponent))
    } else {
        bits & 0x007f_ffff
    };
    if word != 0 && bits & 0x0080_0000 != 0 {
        return Err(BitcoinError::NegativeTarget { bits });
    }
    if word != 0
        && (exponent > 34 || (word > 0xff && exponent > 33) || (word > 0xffff && exponent > 32))
    {
        return Err(BitcoinError::OverflowingTarget { bits });
    }
    let value = if exponent <= 3 {
        U256::from(word)
    } else {
        U256::from(word) << (8 * (exponent as usize - 3))
    };
    if value.is_zero() {
        return Err(BitcoinError::ZeroTarget { bits });
    }
    Ok(value)
}

/// Decodes `nBits` and also refuses targets above the network's limit.
pub fn target_from_bits(bits: u32, params: &Params) -> Result<U256, BitcoinError> {
    let target = decode_compact(bits)?;
    if target > params.pow_limit() {
        return Err(BitcoinError::TargetAboveLimit { bits });
    }
    Ok(target)
}

/// Encodes a target as `nBits`, as Bitcoin Core's `GetCompact` (the rounding a retarget goes
/// through before it is compared with the header).
pub fn encode_compact(target: U256) -> u32 {
    let mut size = target.bit_len().div_ceil(8);
    let mut compact: u64 = if size <= 3 {
        target.as_limbs()[0] << (8 * (3 - size))
    } else {
        (target >> (8 * (size - 3))).as_limbs()[0]
    };
    if compact & 0x0080_0000 != 0 {
        compact >>= 8;
        size += 1;
    }
    // size ≤ 33 for a 256-bit value and compact < 2^23, so both fit.
    (compact as u32 & 0x007f_ffff) | ((size as u32) << 24)
}

/// The expected number of hashes to find a block at `target`: 2^256 / (target + 1), computed
/// as Core does, as `~target / (target + 1) + 1`.
pub fn work_from_target(target: U256) -> U256 {
    if target == U256::MAX {
        return U256::from(1u8);
    }
    let denom = target + U256::from(1u8);
    (!target) / denom + U256::from(1u8)
}

/// Checks a header's own proof of work: a well-formed target that its hash meets, within the
/// pow limit. Returns the work it adds. A hash above its own target is reported before a
/// target above the limit, so a header that fails both is named for the missing work.
pub fn check_proof_of_work(header: &BlockHeader, params: &Params) -> Result<U256, BitcoinError> {
    let target = decode_compact(header.bits)?;
    let hash = header.block_hash();
    if U256::from_le_bytes(hash) > target {
        return Err(BitcoinError::InsufficientProofOfWork {
            hash: display_hex(&hash),
            bits: header.bits,
        });
    }
    if target > params.pow_limit() {
        return Err(BitcoinError::TargetAboveLimit { bits: header.bits });
    }
    Ok(work_from_target(target))
}

/// The retarget at a period boundary: the last block's target scaled by the period's actual
/// timespan (time of its last block minus time of its first), clamped to a factor of four,
/// capped at the pow limit and rounded through the compact encoding.
pub fn retarget(
    last_bits: u32,
    period_first_time: u32,
    period_last_time: u32,
    params: &Params,
) -> Result<u32, BitcoinError> {
    // A zero timespan is a malformed custom parameter set; treat it as no retargeting
    // rather than divide by zero.
    if params.no_retargeting || params.target_timespan == 0 {
        return Ok(last_bits);
    }
    let span = i64::from(period_last_time) - i64::from(period_first_time);
    let t = i64::try_from(params.target_timespan).unwrap_or(i64::MAX);
    let span = span.clamp(t / 4, t.saturating_mul(4)).unsigned_abs();
    let old = decode_compact(last_bits)?;
    let limit = params.pow_limit();
    // On mainnet (limit < 2^224, span < 2^23) the product fits, as in Core. With easier
    // limits (test networks) it may not: split old = q·t + r so the quotient is exact, and
    // saturate where it exceeds 2^256, which is above any limit anyway.
    let new = match old.checked_mul(U256::from(span)) {
        Some(product) => product / U256::from(params.target_timespan),
        None => {
            let t = U256::from(params.target_timespan);
            let s = U256::from(span);
            (old / t)
                .saturating_mul(s)
                .saturating_add((old % t) * s / t)
        }
    };
    let new = if new > limit { limit } else { new };
    Ok(encode_compact(new))
}

/// What the parent tells the next header about its difficulty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DifficultyContext {
    /// Height of the parent.
    pub parent_height: u64,
    /// The parent's `nBits`.
    pub parent_bits: u32,
    /// The parent's timestamp.
    pub parent_time: u32,
    /// Timestamp of the first block of the parent's retarget period.
    pub period_first_time: u32,
    /// The `nBits` of the nearest ancestor-or-self that is either a period start or not a
    /// minimum-difficulty block (what Core's testnet walk-back finds).
    pub last_normal_bits: u32,
}

/// The `nBits` the child of `ctx` must carry, given the child's timestamp
/// (Core's `GetNextWorkRequired`).
pub fn next_work_required(
    ctx: &DifficultyContext,
    child_time: u32,
    params: &Params,
) -> Result<u32, BitcoinError> {
    let child_height = ctx.parent_height.saturating_add(1);
    if params.retarget_interval == 0 || !child_height.is_multiple_of(params.retarget_interval) {
        if params.allow_min_difficulty_blocks {
            let deadline =
                u64::from(ctx.parent_time).saturating_add(params.target_spacing.saturating_mul(2));
            if u64::from(child_time) > deadline {
                return Ok(params.pow_limit_bits);
            }
            return Ok(ctx.last_normal_bits);
        }
        return Ok(ctx.parent_bits);
    }
    retarget(
        ctx.parent_bits,
        ctx.period_first_time,
        ctx.parent_time,
        params,
    )
}

/// Whether a hash (internal byte order, read as a little-endian number) is at or below a
/// target.
pub fn hash_meets_target(hash: &super::Hash32, target: U256) -> bool {
    U256::from_le_bytes(*hash) <= target
}

/// Difficulty relative to the difficulty-1 target (`0x1d00ffff`), rounded down, as RPCs and
/// summa-tx report it.
pub fn difficulty(target: U256) -> U256 {
    let diff1 = U256::from(0xffffu64) << 208;
    if target.is_zero() {
        return U256::ZERO;
    }
    diff1 / target
}

/// Checks concatenated headers (at most `max`) for links and each header's own proof of
/// work, without difficulty context (summa-tx's `validateHeaderChain`). Returns the summed
/// difficulty.
pub fn validate_header_chain(
    bytes: &[u8],
    params: &Params,
    max: usize,
) -> Result<U256, BitcoinError> {
    let headers = super::header::decode_header_chain(bytes, max)?;
    let mut total = U256::ZERO;
    for header in &headers {
        check_proof_of_work(header, params)?;
        let target = target_from_bits(header.bits, params)?;
        total = total.saturating_add(difficulty(target));
    }
    Ok(total)
}
