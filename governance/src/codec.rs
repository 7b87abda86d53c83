//! Encoding helpers for the council state: sorted sequences decode only when their keys
//! strictly increase, so every state has exactly one encoding.

use junction_spec::{DecodeError, Reader};

/// Reads a `u32` count (at most `max`) and that many items with `item`, and rejects the
/// sequence unless `key` strictly increases from one item to the next.
pub(crate) fn decode_sorted<T, K: Ord + ?Sized>(
    r: &mut Reader<'_>,
    max: usize,
    unsorted: &'static str,
    mut item: impl FnMut(&mut Reader<'_>) -> Result<T, DecodeError>,
    key: impl Fn(&T) -> &K,
) -> Result<Vec<T>, DecodeError> {
    let count = r.read_len(max)?;
    let mut items: Vec<T> = Vec::with_capacity(count.min(r.remaining()));
    for _ in 0..count {
        let next = item(r)?;
        if let Some(last) = items.last() {
            if key(last) >= key(&next) {
                return Err(DecodeError::NonCanonical(unsorted));
            }
        }
        items.push(next);
    }
    Ok(items)
}
