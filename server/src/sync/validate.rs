//! Structural pre-validation of lib0 v1 payloads (document updates, state vectors and
//! awareness updates) before they are handed to yrs.
//!
//! yrs decoders pre-allocate from counts declared in the payload (`try_reserve(count)` on
//! hash maps and vectors), so a few bytes claiming 2^28 clients make it reserve hundreds of
//! megabytes, and they decode nested `Any` values recursively, so deeply nested input can
//! exhaust the stack. This hand-written pass walks the bytes once, without allocating and
//! with bounded recursion, and checks that every declared count is backed by enough bytes,
//! that every element is actually present, and that `Any` nesting stays within
//! [`MAX_ANY_DEPTH`]. It mirrors the v1 decoders of yrs 0.28.1 (features: `sync`, without
//! `weak` or `small-client`) byte for byte, including its quirks, and must be re-checked
//! against the yrs source whenever yrs is upgraded.

use std::fmt;

/// Why a payload was rejected before decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// The payload ended in the middle of a value.
    Truncated,
    /// A declared count or length is larger than the remaining bytes could possibly hold.
    CountTooLarge {
        /// Which count was too large.
        what: &'static str,
        /// The declared count.
        count: u64,
        /// Bytes left in the payload after the count.
        remaining: usize,
    },
    /// `Any` values (or embedded JSON) are nested deeper than [`MAX_ANY_DEPTH`].
    TooDeep,
    /// A tag, info byte or type ref has a value the decoder does not accept.
    BadTag {
        /// Which tag was bad.
        what: &'static str,
        /// The tag value found.
        tag: u64,
    },
    /// Bytes are left over after the complete payload.
    Trailing,
    /// A variable-length integer is longer than 10 bytes or does not fit in 64 bits.
    BadVarInt,
    /// An integer does not fit the range yrs reads it into (e.g. a `u32` clock above
    /// `u32::MAX`, or a client id of 2^53 or more).
    OutOfRange {
        /// Which field was out of range.
        what: &'static str,
        /// The value found.
        value: u64,
    },
    /// A string is not valid UTF-8.
    BadUtf8 {
        /// Which string was invalid.
        what: &'static str,
    },
    /// A GC or Skip block has length 0 (yrs rejects these).
    EmptyBlock,
    /// A clock range (block run or delete-set range) extends past `u32::MAX`.
    ClockOverflow,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Invalid::Truncated => "malformed payload: truncated",
            Invalid::CountTooLarge { .. } => "malformed payload: declared size exceeds payload",
            Invalid::TooDeep => "malformed payload: nested too deeply",
            Invalid::BadTag { .. } => "malformed payload: unknown tag",
            Invalid::Trailing => "malformed payload: trailing bytes",
            Invalid::BadVarInt => "malformed payload: bad integer encoding",
            Invalid::OutOfRange { .. } => "malformed payload: integer out of range",
            Invalid::BadUtf8 { .. } => "malformed payload: invalid UTF-8",
            Invalid::EmptyBlock => "malformed payload: empty block",
            Invalid::ClockOverflow => "malformed payload: clock overflow",
        };
        f.write_str(text)
    }
}

impl std::error::Error for Invalid {}

/// Maximum nesting of `Any` containers (maps/arrays), and of `[`/`{` in embedded JSON strings
/// that yrs parses while decoding. A top-level container counts as depth 1.
pub const MAX_ANY_DEPTH: usize = 64;

/// lib0 varUint/varInt are at most 10 bytes for 64-bit values.
const MAX_VARINT_LEN: usize = 10;
/// yrs client ids are 53-bit (`ClientID::new` masks/asserts the upper bits).
const MAX_CLIENT: u64 = (1 << 53) - 1;

// Block info byte (yrs `block.rs`).
const BLOCK_GC: u8 = 0;
const BLOCK_SKIP: u8 = 10;
const HAS_ORIGIN: u8 = 0b1000_0000;
const HAS_RIGHT_ORIGIN: u8 = 0b0100_0000;
const HAS_PARENT_SUB: u8 = 0b0010_0000;
/// yrs dispatches item content on `info & 0b1111`; this bit is ignored by yrs but makes
/// Yjs fail (`contentRefs[info & 31]` is undefined), so no valid encoder sets it.
const INFO_UNUSED_BIT: u8 = 0b0001_0000;

// Item content refs.
const CONTENT_DELETED: u8 = 1;
const CONTENT_JSON: u8 = 2;
const CONTENT_BINARY: u8 = 3;
const CONTENT_STRING: u8 = 4;
const CONTENT_EMBED: u8 = 5;
const CONTENT_FORMAT: u8 = 6;
const CONTENT_TYPE: u8 = 7;
const CONTENT_ANY: u8 = 8;
const CONTENT_DOC: u8 = 9;

// Type refs accepted by yrs 0.28.1 `TypeRef::decode` (without the `weak` feature).
const TYPE_ARRAY: u8 = 0;
const TYPE_MAP: u8 = 1;
const TYPE_TEXT: u8 = 2;
const TYPE_XML_ELEMENT: u8 = 3;
const TYPE_XML_FRAGMENT: u8 = 4;
const TYPE_XML_HOOK: u8 = 5;
const TYPE_XML_TEXT: u8 = 6;
const TYPE_DOC: u8 = 9;
const TYPE_UNDEFINED: u8 = 15;

// lib0 `Any` tags.
const ANY_UNDEFINED: u8 = 127;
const ANY_NULL: u8 = 126;
const ANY_VARINT: u8 = 125;
const ANY_FLOAT32: u8 = 124;
const ANY_FLOAT64: u8 = 123;
const ANY_BIGINT: u8 = 122;
const ANY_FALSE: u8 = 121;
const ANY_TRUE: u8 = 120;
const ANY_STRING: u8 = 119;
const ANY_MAP: u8 = 118;
const ANY_ARRAY: u8 = 117;
const ANY_BUFFER: u8 = 116;

/// Checks a lib0 v1-encoded Yjs update (blocks + delete set). Ok means yrs can decode it without
/// count-driven over-allocation or deep recursion; it does not mean the update applies.
///
/// The whole buffer must be consumed: yrs's `Update::decode_v1` silently ignores trailing bytes,
/// but neither yrs nor Yjs ever produce them, so they are rejected as [`Invalid::Trailing`].
///
/// # Errors
///
/// Returns the first structural problem found; see [`Invalid`].
pub fn check_update_v1(buf: &[u8]) -> Result<(), Invalid> {
    let mut r = Reader::new(buf);
    walk_update(&mut r)?;
    r.finish()
}

/// Checks a v1-encoded state vector (varUint count, then count × (client varUint, clock varUint)).
///
/// # Errors
///
/// Returns the first structural problem found; see [`Invalid`].
pub fn check_state_vector_v1(buf: &[u8]) -> Result<(), Invalid> {
    let mut r = Reader::new(buf);
    // yrs: `read_var::<u32>()` count, then `read_var::<u64>()` client and `u32` clock.
    let count = r.count_u32("state vector entries", 2)?;
    for _ in 0..count {
        r.client("state vector client")?;
        r.var_u32("state vector clock")?;
    }
    r.finish()
}

/// Checks a v1 awareness update (varUint count, count × (client varUint, clock varUint,
/// varString json)). The JSON text is only checked to be UTF-8; yrs does not parse it while
/// decoding.
///
/// # Errors
///
/// Returns the first structural problem found; see [`Invalid`].
pub fn check_awareness_v1(buf: &[u8]) -> Result<(), Invalid> {
    let mut r = Reader::new(buf);
    // yrs: `read_var::<usize>()` count (not u32), then u64 client, u32 clock, string.
    let count = r.count("awareness entries", 3)?;
    for _ in 0..count {
        r.client("awareness client")?;
        r.var_u32("awareness clock")?;
        r.string("awareness state")?;
    }
    r.finish()
}

/// A bounds-checked cursor over the payload. Never allocates.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Bit `n` set when a struct with info kind `n` was seen (GC = 0, content refs 1..=9,
    /// Skip = 10). Only read by tests, to prove the fixtures cover every kind.
    #[cfg(test)]
    kinds_seen: u32,
    /// Bit `n` set when type ref `n` was seen. Only read by tests.
    #[cfg(test)]
    type_refs_seen: u32,
    /// Bit `tag - 116` set when an `Any` with that tag was seen. Only read by tests.
    #[cfg(test)]
    any_tags_seen: u32,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            #[cfg(test)]
            kinds_seen: 0,
            #[cfg(test)]
            type_refs_seen: 0,
            #[cfg(test)]
            any_tags_seen: 0,
        }
    }

    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn finish(&self) -> Result<(), Invalid> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(Invalid::Trailing)
        }
    }

    fn u8(&mut self) -> Result<u8, Invalid> {
        let b = *self.buf.get(self.pos).ok_or(Invalid::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    /// Takes exactly `n` bytes.
    fn take(&mut self, n: usize) -> Result<&'a [u8], Invalid> {
        let end = self.pos.checked_add(n).ok_or(Invalid::Truncated)?;
        let slice = self.buf.get(self.pos..end).ok_or(Invalid::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    /// lib0 varUint: LEB128, at most 10 bytes, value must fit in 64 bits.
    fn var_u64(&mut self) -> Result<u64, Invalid> {
        let mut value: u64 = 0;
        let mut shift = 0u32;
        for _ in 0..MAX_VARINT_LEN {
            let b = self.u8()?;
            let payload = u64::from(b & 0x7f);
            if shift == 63 && payload > 1 {
                return Err(Invalid::BadVarInt);
            }
            value |= payload << shift;
            shift += 7;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Invalid::BadVarInt)
    }

    /// A varUint that yrs reads as `u32` (yrs wraps larger values; we reject them).
    fn var_u32(&mut self, what: &'static str) -> Result<u32, Invalid> {
        let value = self.var_u64()?;
        u32::try_from(value).map_err(|_| Invalid::OutOfRange { what, value })
    }

    /// lib0 varInt (yrs `read_var::<i64>`): first byte holds continuation, sign and 6 bits,
    /// then 7 bits per byte. At most 10 bytes; the magnitude must fit in 63 bits so yrs's
    /// shifts and negation stay exact.
    fn var_i64(&mut self) -> Result<(), Invalid> {
        let first = self.u8()?;
        if first & 0x80 == 0 {
            return Ok(());
        }
        let mut shift = 6u32;
        for _ in 1..MAX_VARINT_LEN {
            let b = self.u8()?;
            if shift == 62 && (b & 0x7f) > 1 {
                return Err(Invalid::BadVarInt);
            }
            if b & 0x80 == 0 {
                return Ok(());
            }
            shift += 7;
        }
        Err(Invalid::BadVarInt)
    }

    /// A client id (yrs reads `u64` and requires it to be 53-bit).
    fn client(&mut self, what: &'static str) -> Result<u64, Invalid> {
        let value = self.var_u64()?;
        if value > MAX_CLIENT {
            return Err(Invalid::OutOfRange { what, value });
        }
        Ok(value)
    }

    /// An ID: client + u32 clock.
    fn id(&mut self, what: &'static str) -> Result<(), Invalid> {
        self.client(what)?;
        self.var_u32(what)?;
        Ok(())
    }

    /// Reads a count whose elements each need at least `min_each` bytes, and checks the
    /// remaining bytes could hold them.
    fn count(&mut self, what: &'static str, min_each: u64) -> Result<u64, Invalid> {
        let count = self.var_u64()?;
        self.ensure_room(what, count, min_each)?;
        Ok(count)
    }

    /// Like [`Reader::count`] for counts yrs reads as `u32`.
    fn count_u32(&mut self, what: &'static str, min_each: u64) -> Result<u64, Invalid> {
        let count = self.count(what, min_each)?;
        if count > u64::from(u32::MAX) {
            return Err(Invalid::OutOfRange { what, value: count });
        }
        Ok(count)
    }

    fn ensure_room(&self, what: &'static str, count: u64, min_each: u64) -> Result<(), Invalid> {
        let remaining = self.remaining();
        let needed = u128::from(count) * u128::from(min_each);
        if needed > remaining as u128 {
            return Err(Invalid::CountTooLarge { what, count, remaining });
        }
        Ok(())
    }

    /// yrs `read_buf`: `u32` varUint length, then that many bytes.
    fn buf(&mut self, what: &'static str) -> Result<&'a [u8], Invalid> {
        let len = self.var_u64()?;
        if len > u64::from(u32::MAX) {
            return Err(Invalid::OutOfRange { what, value: len });
        }
        let remaining = self.remaining();
        match usize::try_from(len) {
            Ok(n) if n <= remaining => self.take(n),
            _ => Err(Invalid::CountTooLarge { what, count: len, remaining }),
        }
    }

    /// yrs `read_string`: a `read_buf` that must be UTF-8.
    fn string(&mut self, what: &'static str) -> Result<&'a str, Invalid> {
        let bytes = self.buf(what)?;
        std::str::from_utf8(bytes).map_err(|_| Invalid::BadUtf8 { what })
    }

    /// yrs `read_json`: a string that yrs immediately parses with `serde_json`.
    fn json(&mut self, what: &'static str) -> Result<(), Invalid> {
        let s = self.string(what)?;
        check_json_depth(s)
    }
}

/// `Update::decode`: clients with their block runs, then the delete set.
fn walk_update(r: &mut Reader<'_>) -> Result<(), Invalid> {
    // Per client: numStructs, client, clock = at least 3 bytes.
    let clients = r.count_u32("update clients", 3)?;
    for _ in 0..clients {
        // Every struct is at least 2 bytes (GC/Skip: info + len; items are longer).
        let structs = r.count_u32("update structs", 2)?;
        r.client("update client")?;
        let mut clock = u64::from(r.var_u32("update clock")?);
        for _ in 0..structs {
            clock += walk_struct(r)?;
            if clock > u64::from(u32::MAX) {
                return Err(Invalid::ClockOverflow);
            }
        }
    }
    walk_delete_set(r)
}

/// `Update::decode_block`. Returns the clock length yrs assigns to the block.
fn walk_struct(r: &mut Reader<'_>) -> Result<u64, Invalid> {
    let info = r.u8()?;
    // yrs matches the *whole* info byte for GC/Skip, not `info & 0x1F`.
    if info == BLOCK_GC || info == BLOCK_SKIP {
        #[cfg(test)]
        {
            r.kinds_seen |= 1 << info;
        }
        let len = r.var_u32(if info == BLOCK_GC { "gc length" } else { "skip length" })?;
        if len == 0 {
            return Err(Invalid::EmptyBlock);
        }
        return Ok(u64::from(len));
    }
    let content_ref = info & 0b1111;
    if info & INFO_UNUSED_BIT != 0 || !(CONTENT_DELETED..=CONTENT_DOC).contains(&content_ref) {
        return Err(Invalid::BadTag { what: "struct info", tag: u64::from(info) });
    }
    #[cfg(test)]
    {
        r.kinds_seen |= 1 << content_ref;
    }
    if info & HAS_ORIGIN != 0 {
        r.id("origin")?;
    }
    if info & HAS_RIGHT_ORIGIN != 0 {
        r.id("right origin")?;
    }
    if info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) == 0 {
        // yrs `read_parent_info`: u32 varUint, `== 1` means a root type name.
        if r.var_u32("parent info")? == 1 {
            r.string("parent name")?;
        } else {
            r.id("parent id")?;
        }
        if info & HAS_PARENT_SUB != 0 {
            r.string("parent sub")?;
        }
    }
    walk_content(r, content_ref)
}

/// `ItemContent::decode`. Returns the item length (`ItemContent::len_utf16`).
fn walk_content(r: &mut Reader<'_>, content_ref: u8) -> Result<u64, Invalid> {
    match content_ref {
        CONTENT_DELETED => Ok(u64::from(r.var_u32("deleted length")?)),
        CONTENT_JSON => {
            // yrs quirk: it reads `len` and then loops `while remaining >= 0`, i.e. it reads
            // len + 1 strings (Yjs writes and reads len). Mirror yrs, or the two walks diverge.
            let len = r.var_u32("json count")?;
            if len > i32::MAX as u32 {
                // yrs casts to i32 and fails; reject the same way.
                return Err(Invalid::OutOfRange { what: "json count", value: u64::from(len) });
            }
            let strings = u64::from(len) + 1;
            r.ensure_room("json count", strings, 1)?;
            for _ in 0..strings {
                r.string("json")?;
            }
            Ok(strings)
        }
        CONTENT_BINARY => {
            r.buf("binary")?;
            Ok(1)
        }
        CONTENT_STRING => {
            let s = r.string("string")?;
            Ok(s.encode_utf16().count() as u64)
        }
        CONTENT_EMBED => {
            r.json("embed")?;
            Ok(1)
        }
        CONTENT_FORMAT => {
            r.string("format key")?;
            r.json("format value")?;
            Ok(1)
        }
        CONTENT_TYPE => {
            // yrs `read_type_ref` reads a single byte, not a varUint.
            let type_ref = r.u8()?;
            match type_ref {
                // yrs reads no hook name for XmlHook (Yjs writes one, which yrs then misparses).
                TYPE_ARRAY | TYPE_MAP | TYPE_TEXT | TYPE_XML_FRAGMENT | TYPE_XML_HOOK | TYPE_XML_TEXT
                | TYPE_DOC | TYPE_UNDEFINED => {}
                TYPE_XML_ELEMENT => {
                    r.string("xml element name")?;
                }
                // 7 (weak link) only decodes with yrs's `weak` feature, which is off.
                _ => return Err(Invalid::BadTag { what: "type ref", tag: u64::from(type_ref) }),
            }
            #[cfg(test)]
            {
                r.type_refs_seen |= 1 << type_ref;
            }
            Ok(1)
        }
        CONTENT_ANY => {
            let count = r.count_u32("any count", 1)?;
            for _ in 0..count {
                walk_any(r, 0)?;
            }
            Ok(count)
        }
        CONTENT_DOC => {
            // `Options::decode`: guid string, then one Any (the options map).
            r.string("doc guid")?;
            walk_any(r, 0)?;
            Ok(1)
        }
        _ => Err(Invalid::BadTag { what: "content", tag: u64::from(content_ref) }),
    }
}

/// `Any::decode`. `depth` is the number of containers enclosing this value; recursion is
/// bounded by [`MAX_ANY_DEPTH`].
fn walk_any(r: &mut Reader<'_>, depth: usize) -> Result<(), Invalid> {
    let tag = r.u8()?;
    #[cfg(test)]
    if (ANY_BUFFER..=ANY_UNDEFINED).contains(&tag) {
        r.any_tags_seen |= 1 << (tag - ANY_BUFFER);
    }
    match tag {
        ANY_UNDEFINED | ANY_NULL | ANY_FALSE | ANY_TRUE => Ok(()),
        ANY_VARINT => r.var_i64(),
        ANY_FLOAT32 => r.take(4).map(|_| ()),
        ANY_FLOAT64 | ANY_BIGINT => r.take(8).map(|_| ()),
        ANY_STRING => r.string("any string").map(|_| ()),
        ANY_BUFFER => r.buf("any buffer").map(|_| ()),
        ANY_MAP => {
            if depth >= MAX_ANY_DEPTH {
                return Err(Invalid::TooDeep);
            }
            // Each entry: key string (>= 1 byte) + value (>= 1 byte).
            let count = r.count("any map entries", 2)?;
            for _ in 0..count {
                r.string("any map key")?;
                walk_any(r, depth + 1)?;
            }
            Ok(())
        }
        ANY_ARRAY => {
            if depth >= MAX_ANY_DEPTH {
                return Err(Invalid::TooDeep);
            }
            let count = r.count("any array items", 1)?;
            for _ in 0..count {
                walk_any(r, depth + 1)?;
            }
            Ok(())
        }
        _ => Err(Invalid::BadTag { what: "any", tag: u64::from(tag) }),
    }
}

/// `IdSet::decode` (v1): clients, each with a list of (clock, len) ranges.
fn walk_delete_set(r: &mut Reader<'_>) -> Result<(), Invalid> {
    // Per client: client + numRanges = at least 2 bytes.
    let clients = r.count_u32("delete set clients", 2)?;
    for _ in 0..clients {
        r.client("delete set client")?;
        let ranges = r.count_u32("delete set ranges", 2)?;
        for _ in 0..ranges {
            let clock = r.var_u32("delete set clock")?;
            let len = r.var_u32("delete set length")?;
            // yrs computes `clock..(clock + len)` in u32.
            if u64::from(clock) + u64::from(len) > u64::from(u32::MAX) {
                return Err(Invalid::ClockOverflow);
            }
        }
    }
    Ok(())
}

/// Bounds `[`/`{` nesting in a JSON string that yrs parses with `serde_json` during decoding.
/// Does not validate JSON otherwise (`serde_json` reports syntax errors itself).
fn check_json_depth(s: &str) -> Result<(), Invalid> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for b in s.bytes() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_ANY_DEPTH {
                    return Err(Invalid::TooDeep);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::collections::HashMap;
    use std::sync::Arc;
    use yrs::sync::Awareness;
    use yrs::types::Attrs;
    use yrs::updates::decoder::Decode;
    use yrs::updates::encoder::Encode;
    use yrs::{
        Any, Array, ArrayPrelim, Doc, GetString, Map, MapPrelim, Number, Options, ReadTxn, StateVector, Text,
        TextPrelim, Transact, Update, Xml, XmlElementPrelim, XmlFragment, XmlTextPrelim,
    };

    // ---------- helpers ----------

    fn full_update(doc: &Doc) -> Vec<u8> {
        doc.transact().encode_state_as_update_v1(&StateVector::default())
    }

    /// Walks an update and returns which struct kinds and type refs it contained.
    fn kinds_of(buf: &[u8]) -> (u32, u32, u32) {
        let mut r = Reader::new(buf);
        walk_update(&mut r).unwrap();
        r.finish().unwrap();
        (r.kinds_seen, r.type_refs_seen, r.any_tags_seen)
    }

    fn var(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn string(out: &mut Vec<u8>, s: &str) {
        var(out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }

    /// A one-client, one-item update whose item is a root-level item in "r" with the given
    /// content ref and content bytes, followed by an empty delete set.
    fn single_item_update(content_ref: u8, content: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        var(&mut out, 1); // clients
        var(&mut out, 1); // structs
        var(&mut out, 7); // client
        var(&mut out, 0); // clock
        out.push(content_ref); // info: no origins, no parent sub
        var(&mut out, 1); // parent info: root name
        string(&mut out, "r");
        out.extend_from_slice(content);
        var(&mut out, 0); // delete set: no clients
        out
    }

    fn yrs_decodes(buf: &[u8]) -> bool {
        Update::decode_v1(buf).is_ok()
    }

    fn text_doc() -> Doc {
        let doc = Doc::with_client_id(1);
        let text = doc.get_or_insert_text("text");
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 0, "hello world, ünïcødé 😀 text");
        let bold: Attrs = HashMap::from([(Arc::from("bold"), Any::Bool(true))]);
        let link: Attrs = HashMap::from([(
            Arc::from("link"),
            Any::Map(Arc::new(HashMap::from([(
                "href".to_string(),
                Any::String("https://example.org/\"q\"".into()),
            )]))),
        )]);
        text.insert_with_attributes(&mut txn, 5, " bold", bold.clone());
        text.format(&mut txn, 0, 3, link);
        text.insert_embed(
            &mut txn,
            2,
            Any::Map(Arc::new(HashMap::from([
                ("image".to_string(), Any::String("cat.png".into())),
                ("size".to_string(), Any::Array(Arc::from(vec![Any::from(3), Any::from(4.5)]))),
            ]))),
        );
        text.insert_embed(&mut txn, 1, vec![1u8, 2, 3]);
        text.insert_embed(&mut txn, 3, TextPrelim::new("nested text"));
        drop(txn);
        doc
    }

    fn rich_any() -> Any {
        Any::Map(Arc::new(HashMap::from([
            ("null".to_string(), Any::Null),
            ("undefined".to_string(), Any::Undefined),
            ("t".to_string(), Any::Bool(true)),
            ("f".to_string(), Any::Bool(false)),
            ("int".to_string(), Any::from(-42)),
            ("bigint".to_string(), Any::Number(Number::Int((1i64 << 60) + 1))),
            ("big f32".to_string(), Any::Number(Number::Int(1i64 << 40))),
            ("big f64".to_string(), Any::Number(Number::Int((1i64 << 40) + 1))),
            ("float32".to_string(), Any::from(1.5f64)),
            ("float64".to_string(), Any::from(0.1f64)),
            ("nan".to_string(), Any::from(f64::NAN)),
            ("str".to_string(), Any::String("ßtring".into())),
            ("bin".to_string(), Any::Buffer(Arc::from(vec![0u8, 255, 7]))),
            (
                "arr".to_string(),
                Any::Array(Arc::from(vec![
                    Any::from(1),
                    Any::Array(Arc::from(vec![Any::Null, Any::String("x".into())])),
                    Any::Map(Arc::new(HashMap::from([("deep".to_string(), Any::from(2))]))),
                ])),
            ),
            ("empty map".to_string(), Any::Map(Arc::new(HashMap::new()))),
            ("empty arr".to_string(), Any::Array(Arc::from(Vec::<Any>::new()))),
        ])))
    }

    fn map_doc() -> Doc {
        let doc = Doc::with_client_id(2);
        let map = doc.get_or_insert_map("map");
        let mut txn = doc.transact_mut();
        map.insert(&mut txn, "rich", rich_any());
        map.insert(&mut txn, "n", 12);
        map.insert(&mut txn, "s", "plain");
        map.insert(&mut txn, "b", false);
        map.insert(&mut txn, "nested map", MapPrelim::from([("k", Any::from(1))]));
        map.insert(&mut txn, "nested array", ArrayPrelim::from([Any::from("a"), Any::Null]));
        map.insert(&mut txn, "overwritten", 1);
        map.insert(&mut txn, "overwritten", 2);
        drop(txn);
        doc
    }

    fn array_doc() -> Doc {
        let doc = Doc::with_client_id(3);
        let array = doc.get_or_insert_array("array");
        let mut txn = doc.transact_mut();
        array.insert_range(&mut txn, 0, [Any::from(1), Any::from("two"), Any::from(3.5)]);
        array.push_back(&mut txn, rich_any());
        array.push_back(&mut txn, vec![9u8, 8, 7]);
        array.insert(&mut txn, 1, ArrayPrelim::from([Any::from(true)]));
        drop(txn);
        doc
    }

    fn xml_doc() -> Doc {
        let doc = Doc::with_client_id(4);
        let frag = doc.get_or_insert_xml_fragment("xml");
        let mut txn = doc.transact_mut();
        let div = frag.insert(&mut txn, 0, XmlElementPrelim::empty("div"));
        div.insert_attribute(&mut txn, "class", "note");
        let p = div.insert(&mut txn, 0, XmlElementPrelim::empty("p"));
        let t = p.insert(&mut txn, 0, XmlTextPrelim::new("para"));
        let italic: Attrs = HashMap::from([(Arc::from("i"), Any::Bool(true))]);
        t.format(&mut txn, 0, 2, italic);
        frag.insert(&mut txn, 1, XmlTextPrelim::new("tail"));
        drop(txn);
        // A nested XmlFragment (type ref 4) can only live inside a non-XML container.
        let map = doc.get_or_insert_map("frags");
        let mut txn = doc.transact_mut();
        map.insert(&mut txn, "frag", yrs::XmlFragmentPrelim::default());
        drop(txn);
        doc
    }

    fn subdoc_doc() -> Doc {
        let doc = Doc::with_client_id(5);
        let map = doc.get_or_insert_map("docs");
        let mut txn = doc.transact_mut();
        let mut opts = Options::with_client_id(yrs::ClientID::new(55));
        opts.collection_id = Some("collection".into());
        opts.auto_load = true;
        map.insert(&mut txn, "sub", Doc::with_options(opts));
        map.insert(&mut txn, "sub2", Doc::new());
        drop(txn);
        doc
    }

    /// Edits from two clients, then deletions: produces a delete set, ContentDeleted items and
    /// GC blocks (children of a deleted nested type are garbage-collected into GC blocks).
    fn deletes_doc() -> Doc {
        let doc = Doc::with_client_id(6);
        let other = Doc::with_client_id(66);
        {
            let text = other.get_or_insert_text("text");
            let array = other.get_or_insert_array("array");
            let mut txn = other.transact_mut();
            text.insert(&mut txn, 0, "other client text");
            array.insert(&mut txn, 0, MapPrelim::from([("a", Any::from(1)), ("b", Any::from(2))]));
        }
        doc.transact_mut().apply_update(Update::decode_v1(&full_update(&other)).unwrap()).unwrap();
        let text = doc.get_or_insert_text("text");
        let array = doc.get_or_insert_array("array");
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 0, "abcdefghijklmnop");
        text.remove_range(&mut txn, 2, 5);
        text.remove_range(&mut txn, 20, 3);
        array.push_back(&mut txn, MapPrelim::from([("x", Any::from("y"))]));
        array.remove_range(&mut txn, 0, 1);
        drop(txn);
        doc
    }

    /// Merging non-adjacent updates of one client produces Skip blocks for the gap.
    fn skip_update() -> Vec<u8> {
        let doc = Doc::with_client_id(7);
        let text = doc.get_or_insert_text("text");
        let mut updates = Vec::new();
        for chunk in ["aaa", "bbb", "ccc"] {
            let sv = doc.transact().state_vector();
            let mut txn = doc.transact_mut();
            let len = text.len(&txn);
            text.insert(&mut txn, len, chunk);
            drop(txn);
            updates.push(doc.transact().encode_state_as_update_v1(&sv));
        }
        yrs::merge_updates_v1([&updates[0], &updates[2]]).unwrap()
    }

    fn valid_updates() -> Vec<Vec<u8>> {
        let mut all = Vec::new();
        let docs = [text_doc(), map_doc(), array_doc(), xml_doc(), subdoc_doc(), deletes_doc()];
        for doc in &docs {
            all.push(full_update(doc));
        }
        all.push(skip_update());
        // Incremental updates against a partial state vector.
        let doc = text_doc();
        let sv = doc.transact().state_vector();
        {
            let text = doc.get_or_insert_text("text");
            let mut txn = doc.transact_mut();
            text.insert(&mut txn, 0, "more");
            text.remove_range(&mut txn, 0, 2);
        }
        all.push(doc.transact().encode_state_as_update_v1(&sv));
        // Everything merged together.
        all.push(yrs::merge_updates_v1(all.clone()).unwrap());
        // The empty update.
        all.push(Doc::new().transact().encode_state_as_update_v1(&StateVector::default()));
        all
    }

    // ---------- payloads produced by Yjs 13.6.33 / y-protocols 1.0.7 ----------
    //
    // Generated with node from the e2e dependencies: text with formats/embeds/deletes, a map
    // holding every Any kind plus a Uint8Array (ContentBinary) and nested types, XmlElement /
    // XmlText / nested XmlFragment, a subdoc, GC blocks from a deleted nested map, Skip blocks
    // from `Y.mergeUpdates` of non-adjacent updates, two clients with 32-bit ids.

    const YJS_TEXT: &[&str] = &[
        "0116650004010474657874026865846501016c846502016c81650301816504028465060f6f726c6420c3bc6e",
        "c3af20f09f988046650004626f6c640474727565c665126500046c696e6b0c7b2268726566223a2278227dc6",
        "6504650504626f6c64046e756c6cc665146505046c696e6b046e756c6cc66502650304626f6c64046e756c6c",
        "c665166503046c696e6b046e756c6cc565176503227b22696d616765223a226361742e706e67222c2273697a",
        "65223a5b312c322e355d7dc66518650304626f6c640474727565c665196503046c696e6b0c7b226872656622",
        "3a2278227dc665016502066974616c69630474727565c6651b650204626f6c64046e756c6cc6651c6502046c",
        "696e6b046e756c6cc4651d650203696e73c665206502066974616c6963046e756c6cc66521650204626f6c64",
        "0474727565c665226502046c696e6b0c7b2268726566223a2278227d0165010403",
    ];
    const YJS_MAP: &[&str] = &[
        "011466002101036d6170016e012801036d6170036e6567017d452801036d617003626967017c538000002801",
        "036d61700166017b3fb999999999999a2801036d617003663332017c3fc000002801036d617006626967696e",
        "74017a10000000000000002101036d61700173012801036d6170016201782801036d6170036e756c017e2801",
        "036d617005756e646566017f2801036d6170036f626a017602016175027d01760101627e0163740201022301",
        "036d61700362696e030908072701036d617004796d6170012800660c016b017701762701036d617004796172",
        "72000800660e027d01770374776f83661001032701036d61700579746578740204006612066e6573746564a8",
        "6600017d0201660200010601",
    ];
    const YJS_XML: &[&str] = &[
        "01076700070103786d6c03036469762800670005636c6173730177046e6f7465070067000604006702027061",
        "84670402726146670301690474727565c6670467050169046e756c6c00",
    ];
    const YJS_XMLHOOK: &[&str] = &["01016800070103786d6c0508686f6f6b6e616d6500"];
    const YJS_XMLFRAG: &[&str] = &["010169002701016d04667261670400"];
    const YJS_SUBDOC: &[&str] =
        &["01016a00290104646f63730373756203672d317602086175746f4c6f616478046d657461760101787d0100"];
    const YJS_GC: &[&str] = &["01036b00010103617272010002886b000177046b656570016b010003"];
    const YJS_SKIP: &[&str] = &["01036c0004010174036161610a03846c050363636300"];
    const YJS_SV: &[&str] = &["016c09"];
    const YJS_TWOCLIENTS: &[&str] = &[
        "0201ffffffff0f00c4858080800802858080800803014203858080800800010101740284858080800801016f",
        "84858080800802036d2061018580808008010002",
    ];
    const YJS_SV2: &[&str] = &["02ffffffff0f01858080800806"];
    const YJS_EMPTY: &[&str] = &["0000"];
    const YJS_SVEMPTY: &[&str] = &["00"];
    const YJS_AWARENESS: &[&str] = &[
        "016d01347b2275736572223a7b226e616d65223a22416461222c22636f6c6f72223a2223663030227d2c2263",
        "7572736f72223a6e756c6c7d",
    ];
    const YJS_AWARENESS_REMOVED: &[&str] = &["016d02046e756c6c"];

    fn unhex(parts: &[&str]) -> Vec<u8> {
        let hex: String = parts.concat();
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn valid_yjs_payloads_pass() {
        let updates = [
            YJS_TEXT,
            YJS_MAP,
            YJS_XML,
            YJS_XMLFRAG,
            YJS_SUBDOC,
            YJS_GC,
            YJS_SKIP,
            YJS_TWOCLIENTS,
            YJS_EMPTY,
        ];
        let mut kinds = 0u32;
        for (i, parts) in updates.iter().enumerate() {
            let update = unhex(parts);
            assert_eq!(check_update_v1(&update), Ok(()), "Yjs fixture {i}");
            assert!(yrs_decodes(&update), "Yjs fixture {i}");
            kinds |= kinds_of(&update).0;
        }
        // Yjs fixtures include Binary content, GC and Skip blocks.
        for kind in [0u8, 3, 10] {
            assert!(kinds & (1 << kind) != 0, "no Yjs fixture contains struct kind {kind}");
        }
        for parts in [YJS_SV, YJS_SV2, YJS_SVEMPTY] {
            let sv = unhex(parts);
            assert_eq!(check_state_vector_v1(&sv), Ok(()));
            assert!(StateVector::decode_v1(&sv).is_ok());
        }
        for parts in [YJS_AWARENESS, YJS_AWARENESS_REMOVED] {
            let aw = unhex(parts);
            assert_eq!(check_awareness_v1(&aw), Ok(()));
            assert!(yrs::sync::AwarenessUpdate::decode_v1(&aw).is_ok());
        }
    }

    #[test]
    fn yjs_xml_hook_is_rejected_like_yrs() {
        // Yjs writes the hook name after type ref 5; yrs 0.28.1 reads no name, misaligns and
        // fails. The walk must follow yrs (not Yjs) or the two would diverge, so it rejects too.
        let update = unhex(YJS_XMLHOOK);
        assert!(check_update_v1(&update).is_err());
        assert!(!yrs_decodes(&update));
    }

    // ---------- (1) valid payloads pass ----------

    #[test]
    fn valid_yrs_updates_pass() {
        let mut kinds = 0u32;
        let mut type_refs = 0u32;
        let mut any_tags = 0u32;
        for (i, update) in valid_updates().iter().enumerate() {
            assert!(yrs_decodes(update), "fixture {i} must decode in yrs");
            assert_eq!(check_update_v1(update), Ok(()), "fixture {i}");
            let (k, t, a) = kinds_of(update);
            kinds |= k;
            type_refs |= t;
            any_tags |= a;
        }
        // Every Any tag, 116 (buffer) ..= 127 (undefined).
        assert_eq!(any_tags, (1 << 12) - 1, "Any tags seen: {any_tags:#b}");
        // Every struct kind yrs produces: GC, Deleted, String, Embed, Format, Type, Any, Doc,
        // Skip. (yrs never creates JSON or Binary content, which Yjs writes; both are covered
        // by `hand_built_content_kinds_pass`.)
        for kind in [0u8, 1, 4, 5, 6, 7, 8, 9, 10] {
            assert!(kinds & (1 << kind) != 0, "no fixture contains struct kind {kind}");
        }
        // Array, Map, Text, XmlElement, XmlFragment, XmlText, Doc type refs.
        for type_ref in [0u8, 1, 2, 3, 4, 6] {
            assert!(type_refs & (1 << type_ref) != 0, "no fixture contains type ref {type_ref}");
        }
    }

    #[test]
    fn updates_roundtrip_through_yrs_encoder_pass() {
        for update in valid_updates() {
            let reencoded = Update::decode_v1(&update).unwrap().encode_v1();
            assert_eq!(check_update_v1(&reencoded), Ok(()));
        }
    }

    #[test]
    fn hand_built_content_kinds_pass() {
        // JSON content, yrs layout: count n followed by n + 1 strings.
        let mut json = Vec::new();
        var(&mut json, 1);
        string(&mut json, "{\"a\":1}");
        string(&mut json, "[2]");
        let update = single_item_update(CONTENT_JSON, &json);
        assert_eq!(check_update_v1(&update), Ok(()));
        assert!(yrs_decodes(&update));

        // Binary content (Yjs writes it for a Uint8Array in a Y.Array / Y.Map).
        let update = single_item_update(CONTENT_BINARY, &[3, 1, 2, 3]);
        assert_eq!(check_update_v1(&update), Ok(()));
        assert!(yrs_decodes(&update));
        let update = single_item_update(CONTENT_BINARY, &[0]);
        assert_eq!(check_update_v1(&update), Ok(()));
        assert!(yrs_decodes(&update));

        // Type refs yrs accepts that its encoder rarely produces: XmlHook (no name in yrs),
        // Undefined, SubDoc.
        for type_ref in [TYPE_XML_HOOK, TYPE_UNDEFINED, TYPE_DOC] {
            let update = single_item_update(CONTENT_TYPE, &[type_ref]);
            assert_eq!(check_update_v1(&update), Ok(()), "type ref {type_ref}");
            assert!(yrs_decodes(&update), "type ref {type_ref}");
        }

        // Parent given by ID, a parent sub key, origins.
        let mut out = Vec::new();
        var(&mut out, 1);
        var(&mut out, 3);
        var(&mut out, 9);
        var(&mut out, 0);
        out.push(CONTENT_TYPE); // root map item
        var(&mut out, 1);
        string(&mut out, "m");
        out.push(TYPE_MAP);
        out.push(CONTENT_STRING | HAS_PARENT_SUB); // child keyed "k" of item (9,0)
        var(&mut out, 0);
        var(&mut out, 9);
        var(&mut out, 0);
        string(&mut out, "k");
        string(&mut out, "v");
        out.push(CONTENT_ANY | HAS_ORIGIN | HAS_RIGHT_ORIGIN);
        var(&mut out, 9);
        var(&mut out, 1);
        var(&mut out, 9);
        var(&mut out, 0);
        var(&mut out, 2);
        out.extend_from_slice(&[ANY_FLOAT32, 0, 0, 0, 0, ANY_VARINT, 0xff, 0x7f]);
        var(&mut out, 1); // delete set: one client, one range
        var(&mut out, 9);
        var(&mut out, 1);
        var(&mut out, 0);
        var(&mut out, 2);
        assert_eq!(check_update_v1(&out), Ok(()));
        assert!(yrs_decodes(&out));
    }

    #[test]
    fn yrs_quirks_are_mirrored() {
        // Yjs layout for JSON content (count n, n strings) is misread by yrs (it wants n + 1).
        let mut json = Vec::new();
        var(&mut json, 1);
        string(&mut json, "{}");
        let update = single_item_update(CONTENT_JSON, &json);
        assert!(check_update_v1(&update).is_err());
        assert!(!yrs_decodes(&update));

        // yrs ignores trailing bytes; we do not.
        let mut update = full_update(&text_doc());
        update.push(0);
        assert!(yrs_decodes(&update));
        assert_eq!(check_update_v1(&update), Err(Invalid::Trailing));

        // A u32 clock of 2^32 wraps to 0 in yrs; we reject it.
        let mut out = Vec::new();
        var(&mut out, 1);
        var(&mut out, 1);
        var(&mut out, 1);
        var(&mut out, 1 << 32);
        out.extend_from_slice(&[BLOCK_GC, 1, 0]);
        assert!(yrs_decodes(&out));
        assert!(matches!(check_update_v1(&out), Err(Invalid::OutOfRange { .. })));

        // Client ids of 2^53 and above alias in yrs; we reject them.
        let mut out = Vec::new();
        var(&mut out, 1);
        var(&mut out, 1);
        var(&mut out, 1 << 53);
        var(&mut out, 0);
        out.extend_from_slice(&[BLOCK_GC, 1, 0]);
        assert!(matches!(check_update_v1(&out), Err(Invalid::OutOfRange { .. })));

        // Empty GC/Skip blocks, unknown content refs, the unused info bit, weak type ref.
        assert_eq!(check_update_v1(&[1, 1, 1, 0, BLOCK_GC, 0, 0]), Err(Invalid::EmptyBlock));
        assert_eq!(check_update_v1(&[1, 1, 1, 0, BLOCK_SKIP, 0, 0]), Err(Invalid::EmptyBlock));
        for info in [11u8, 15, 0x10 | CONTENT_STRING, HAS_ORIGIN] {
            let mut out = vec![1, 1, 1, 0, info, 1, 1];
            out.extend_from_slice(&[1, b'r', 0, 0]);
            assert!(matches!(check_update_v1(&out), Err(Invalid::BadTag { .. })), "info {info}");
        }
        let update = single_item_update(CONTENT_TYPE, &[7]);
        assert!(matches!(check_update_v1(&update), Err(Invalid::BadTag { .. })));
        assert!(!yrs_decodes(&update));

        // Delete-set range past u32::MAX.
        let mut out = vec![0, 1, 1, 1];
        var(&mut out, u64::from(u32::MAX));
        var(&mut out, 1);
        assert_eq!(check_update_v1(&out), Err(Invalid::ClockOverflow));

        // Varints longer than 10 bytes, or over 64 bits.
        let mut out = vec![0x80; 10];
        out.push(0);
        assert_eq!(check_state_vector_v1(&out), Err(Invalid::BadVarInt));
        let mut out = vec![0xff; 9];
        out.push(0x02);
        assert_eq!(check_state_vector_v1(&out), Err(Invalid::BadVarInt));

        // Invalid UTF-8 in a string.
        let update = single_item_update(CONTENT_STRING, &[2, 0xc3, 0x28]);
        assert!(matches!(check_update_v1(&update), Err(Invalid::BadUtf8 { .. })));
        assert!(!yrs_decodes(&update));
    }

    #[test]
    fn valid_state_vectors_pass() {
        let mut docs = vec![Doc::new(), text_doc(), deletes_doc(), skip_doc_with_pending()];
        let merged = Doc::with_client_id(1 << 52);
        for doc in &docs {
            merged.transact_mut().apply_update(Update::decode_v1(&full_update(doc)).unwrap()).unwrap();
        }
        docs.push(merged);
        for doc in &docs {
            let sv = doc.transact().state_vector().encode_v1();
            assert_eq!(check_state_vector_v1(&sv), Ok(()));
            assert!(StateVector::decode_v1(&sv).is_ok());
        }
        assert_eq!(check_state_vector_v1(&[0]), Ok(()));
        assert_eq!(check_state_vector_v1(&[]), Err(Invalid::Truncated));
        assert_eq!(check_state_vector_v1(&[0, 0]), Err(Invalid::Trailing));
    }

    fn skip_doc_with_pending() -> Doc {
        let doc = Doc::new();
        doc.transact_mut().apply_update(Update::decode_v1(&skip_update()).unwrap()).unwrap();
        doc
    }

    #[test]
    fn valid_awareness_updates_pass() {
        let mut a = Awareness::new(Doc::with_client_id(10));
        let mut b = Awareness::new(Doc::with_client_id(20));
        a.set_local_state_raw(r##"{"user":{"name":"Ada","color":"#f00"},"cursor":{"anchor":[1,2]}}"##);
        b.set_local_state_raw(r#"{"user":{"name":"Bob ✓"}}"#);
        let ua = a.update().unwrap().encode_v1();
        assert_eq!(check_awareness_v1(&ua), Ok(()));
        b.apply_update(yrs::sync::AwarenessUpdate::decode_v1(&ua).unwrap()).unwrap();
        let ub = b.update().unwrap().encode_v1();
        assert_eq!(check_awareness_v1(&ub), Ok(()));
        // A removal (state "null").
        b.clean_local_state();
        let removed = b.update_with_clients([b.client_id()]).unwrap().encode_v1();
        assert_eq!(check_awareness_v1(&removed), Ok(()));
        assert!(yrs::sync::AwarenessUpdate::decode_v1(&removed).is_ok());
        // Empty update.
        assert_eq!(check_awareness_v1(&[0]), Ok(()));
    }

    // ---------- (2) bombs are rejected cheaply ----------

    const HUGE: [u8; 5] = [0x80, 0x80, 0x80, 0x80, 0x01]; // 2^28

    fn assert_count_too_large(result: Result<(), Invalid>, expected_what: &str) {
        match result {
            Err(Invalid::CountTooLarge { what, count, .. }) => {
                assert_eq!(what, expected_what);
                assert!(count >= 1 << 28);
            }
            other => panic!("expected CountTooLarge({expected_what}), got {other:?}"),
        }
    }

    #[test]
    fn bombs_are_rejected() {
        // 2^28 clients.
        let mut b = HUGE.to_vec();
        b.extend_from_slice(&[0; 16]);
        assert_count_too_large(check_update_v1(&b), "update clients");

        // One client, 2^28 structs.
        let mut b = vec![1];
        b.extend_from_slice(&HUGE);
        b.extend_from_slice(&[1, 0, 0, 1, 0]);
        assert_count_too_large(check_update_v1(&b), "update structs");

        // 2^28 delete-set clients, and 2^28 ranges.
        let mut b = vec![0];
        b.extend_from_slice(&HUGE);
        assert_count_too_large(check_update_v1(&b), "delete set clients");
        let mut b = vec![0, 1, 5];
        b.extend_from_slice(&HUGE);
        b.extend_from_slice(&[0, 1]);
        assert_count_too_large(check_update_v1(&b), "delete set ranges");

        // Any content claiming 2^28 values, an Any map and an Any array claiming 2^28 entries.
        let mut c = HUGE.to_vec();
        c.push(ANY_NULL);
        assert_count_too_large(check_update_v1(&single_item_update(CONTENT_ANY, &c)), "any count");
        let mut c = vec![1, ANY_MAP];
        c.extend_from_slice(&HUGE);
        assert_count_too_large(check_update_v1(&single_item_update(CONTENT_ANY, &c)), "any map entries");
        let mut c = vec![1, ANY_ARRAY];
        c.extend_from_slice(&HUGE);
        assert_count_too_large(check_update_v1(&single_item_update(CONTENT_ANY, &c)), "any array items");
        // The same map inside subdoc options.
        let mut c = vec![1, b'g', ANY_MAP];
        c.extend_from_slice(&HUGE);
        assert_count_too_large(check_update_v1(&single_item_update(CONTENT_DOC, &c)), "any map entries");
        // JSON content claiming 2^28 strings.
        assert_count_too_large(check_update_v1(&single_item_update(CONTENT_JSON, &HUGE)), "json count");
        // A string claiming 2^28 bytes.
        assert_count_too_large(check_update_v1(&single_item_update(CONTENT_STRING, &HUGE)), "string");

        // State vector claiming 2^28 entries; awareness update claiming 2^28 clients.
        assert_count_too_large(check_state_vector_v1(&HUGE), "state vector entries");
        let mut a = HUGE.to_vec();
        a.extend_from_slice(&[1, 1, 2, b'{', b'}']);
        assert_count_too_large(check_awareness_v1(&a), "awareness entries");

        // Counts just above what the bytes could hold (not only absurd ones) are rejected.
        // 2 state-vector entries need >= 4 bytes, 3 are present.
        assert!(matches!(check_state_vector_v1(&[2, 1, 1, 1]), Err(Invalid::CountTooLarge { .. })));
    }

    #[test]
    fn deep_nesting_is_rejected_without_stack_overflow() {
        // ~100 kB: 10,000 nested arrays, each [string "abcdef", <next array>].
        let depth = 10_000;
        let mut c = vec![1];
        for _ in 0..depth {
            c.extend_from_slice(&[ANY_ARRAY, 2, ANY_STRING, 6]);
            c.extend_from_slice(b"abcdef");
        }
        // Every level's second element is the next array; the innermost is null.
        c.push(ANY_NULL);
        let update = single_item_update(CONTENT_ANY, &c);
        assert!(update.len() >= 100_000);
        // Run on a small stack to prove recursion is bounded.
        let result = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || check_update_v1(&update))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(result, Err(Invalid::TooDeep));

        // Same for maps, and for JSON in an embed.
        let mut c = vec![1];
        for _ in 0..depth {
            c.extend_from_slice(&[ANY_MAP, 1, 1, b'k']);
        }
        c.push(ANY_NULL);
        assert_eq!(check_update_v1(&single_item_update(CONTENT_ANY, &c)), Err(Invalid::TooDeep));
        let json = "[".repeat(depth) + &"]".repeat(depth);
        let mut c = Vec::new();
        string(&mut c, &json);
        assert_eq!(check_update_v1(&single_item_update(CONTENT_EMBED, &c)), Err(Invalid::TooDeep));
        // Brackets inside JSON strings do not count.
        let json = format!("{{\"k\":\"{}\"}}", "[".repeat(1000));
        let mut c = Vec::new();
        string(&mut c, &json);
        assert_eq!(check_update_v1(&single_item_update(CONTENT_EMBED, &c)), Ok(()));
    }

    #[test]
    fn depth_limit_boundary() {
        let nested = |levels: usize| {
            let mut c = vec![1];
            for _ in 0..levels {
                c.extend_from_slice(&[ANY_ARRAY, 1]);
            }
            c.push(ANY_TRUE);
            single_item_update(CONTENT_ANY, &c)
        };
        let ok = nested(MAX_ANY_DEPTH);
        assert_eq!(check_update_v1(&ok), Ok(()));
        assert!(yrs_decodes(&ok));
        assert_eq!(check_update_v1(&nested(MAX_ANY_DEPTH + 1)), Err(Invalid::TooDeep));
    }

    // ---------- (3) truncations and mutations ----------

    #[test]
    fn truncated_prefixes_never_pass_unless_yrs_decodes() {
        for update in valid_updates() {
            for end in 0..update.len() {
                let prefix = &update[..end];
                if check_update_v1(prefix).is_ok() {
                    assert!(yrs_decodes(prefix), "prefix of len {end} passed but yrs fails");
                }
            }
        }
        let sv = text_doc().transact().state_vector().encode_v1();
        for end in 0..sv.len() {
            if check_state_vector_v1(&sv[..end]).is_ok() {
                assert!(StateVector::decode_v1(&sv[..end]).is_ok());
            }
        }
    }

    /// xorshift64*, deterministic.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    #[test]
    fn random_mutations_never_crash_yrs_when_accepted() {
        let fixtures = valid_updates();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut accepted = 0usize;
        let mut accepted_but_yrs_failed = 0usize;
        for i in 0..4000 {
            let base = &fixtures[i % fixtures.len()];
            if base.is_empty() {
                continue;
            }
            let mut mutated = base.clone();
            let pos = (rng.next() % mutated.len() as u64) as usize;
            mutated[pos] = match rng.next() % 4 {
                0 => rng.next() as u8,
                1 => mutated[pos] ^ (1 << (rng.next() % 8)),
                2 => 0xff,
                _ => mutated[pos].wrapping_add(1),
            };
            if check_update_v1(&mutated).is_ok() {
                accepted += 1;
                let outcome = std::panic::catch_unwind(|| Update::decode_v1(&mutated).is_ok());
                match outcome {
                    Ok(true) => {}
                    Ok(false) => accepted_but_yrs_failed += 1,
                    Err(_) => panic!("yrs panicked decoding an accepted mutation: {mutated:?}"),
                }
            }
        }
        // Sanity: the mutations exercise the accept path too.
        assert!(accepted > 100, "only {accepted} mutations were accepted");
        // Accepted-but-failing cases are limited to things yrs checks that we do not
        // (e.g. JSON syntax inside embeds/formats).
        assert!(
            accepted_but_yrs_failed * 10 < accepted,
            "{accepted_but_yrs_failed} of {accepted} accepted mutations failed in yrs"
        );
    }

    #[test]
    fn random_mutations_of_state_vectors_and_awareness() {
        let sv = deletes_doc().transact().state_vector().encode_v1();
        let mut aw = Awareness::new(Doc::with_client_id(10));
        aw.set_local_state_raw(r#"{"user":"x"}"#);
        let au = aw.update().unwrap().encode_v1();
        let mut rng = Rng(42);
        for _ in 0..2000 {
            let mut s = sv.clone();
            let p = (rng.next() % s.len() as u64) as usize;
            s[p] = rng.next() as u8;
            if check_state_vector_v1(&s).is_ok() {
                assert!(StateVector::decode_v1(&s).is_ok());
            }
            let mut a = au.clone();
            let p = (rng.next() % a.len() as u64) as usize;
            a[p] = rng.next() as u8;
            if check_awareness_v1(&a).is_ok() {
                assert!(yrs::sync::AwarenessUpdate::decode_v1(&a).is_ok());
            }
        }
    }

    #[test]
    fn display_is_short_and_generic() {
        let all = [
            Invalid::Truncated,
            Invalid::CountTooLarge { what: "x", count: u64::MAX, remaining: usize::MAX },
            Invalid::TooDeep,
            Invalid::BadTag { what: "x", tag: 1 },
            Invalid::Trailing,
            Invalid::BadVarInt,
            Invalid::OutOfRange { what: "x", value: 1 },
            Invalid::BadUtf8 { what: "x" },
            Invalid::EmptyBlock,
            Invalid::ClockOverflow,
        ];
        for e in all {
            let s = e.to_string();
            assert!(!s.is_empty() && s.len() < 100, "{s}");
            assert!(!s.contains("18446744073709551615"), "{s}");
        }
    }

    #[test]
    fn text_fixture_is_meaningful() {
        // Guard against fixtures silently becoming trivial.
        let doc = text_doc();
        let text = doc.get_or_insert_text("text");
        assert!(text.get_string(&doc.transact()).contains("world"));
    }
}
