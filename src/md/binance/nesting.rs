//! A nesting-depth guard run before the general (recursive) JSON path, so a
//! hostile frame such as `[` x 20000 cannot overflow the stack. One linear
//! pass over the bytes; brackets inside strings (with escapes) do not count.
//! The fast scanner never needs it: it reads a fixed, shallow shape.

/// True when no object or array in `bytes` is nested deeper than `max`.
pub(super) fn within(bytes: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::within;

    #[test]
    fn counts_brackets_outside_strings_only() {
        assert!(within(br#"{"a":[[1,2]]}"#, 3));
        assert!(!within(br#"{"a":[[1,2]]}"#, 2));
        assert!(within(br#"{"a":"[[[[[[","b":"\"[[["}"#, 1));
        assert!(!within(&[b'['; 20_000], 16));
        assert!(within(b"", 0));
    }
}
