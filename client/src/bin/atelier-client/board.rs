//! Board content as JSON (print) and scripted edits (edit).

use anyhow::{anyhow, bail, Context};
use serde_json::{Map as JsonMap, Value};
use yrs::types::ToJson;
use yrs::{Any, ArrayRef, Doc, GetString, Map, MapRef, Out, ReadTxn, Transact};

/// The kind of a root type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Map,
    Array,
    Text,
    Xml,
}

/// Parses `name` or `name:kind`.
pub fn parse_roots(specs: &[String]) -> anyhow::Result<Vec<(String, Kind)>> {
    let mut roots = Vec::new();
    for spec in specs.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let (name, kind) = match spec.rsplit_once(':') {
            Some((name, kind)) => {
                let kind = match kind {
                    "map" => Kind::Map,
                    "array" => Kind::Array,
                    "text" => Kind::Text,
                    "xml" => Kind::Xml,
                    other => bail!("unknown root kind {other:?} in {spec:?} (map, array, text or xml)"),
                };
                (name, kind)
            }
            None => (spec, Kind::Map),
        };
        if name.is_empty() {
            bail!("empty root name in {spec:?}");
        }
        roots.push((name.to_owned(), kind));
    }
    Ok(roots)
}

fn any_to_json(any: &Any) -> Value {
    serde_json::to_value(any).unwrap_or(Value::Null)
}

/// Every named root (with its kind) and every other root found in the document, as JSON.
pub fn to_json(doc: &Doc, roots: &[(String, Kind)]) -> Value {
    // Defining a root type needs a write transaction: do it before reading.
    enum Root {
        Map(MapRef),
        Array(ArrayRef),
        Text(yrs::TextRef),
        Xml(yrs::XmlFragmentRef),
    }
    let named: Vec<(String, Root)> = roots
        .iter()
        .map(|(name, kind)| {
            let root = match kind {
                Kind::Map => Root::Map(doc.get_or_insert_map(name.as_str())),
                Kind::Array => Root::Array(doc.get_or_insert_array(name.as_str())),
                Kind::Text => Root::Text(doc.get_or_insert_text(name.as_str())),
                Kind::Xml => Root::Xml(doc.get_or_insert_xml_fragment(name.as_str())),
            };
            (name.clone(), root)
        })
        .collect();
    let txn = doc.transact();
    let mut out = JsonMap::new();
    for (name, root) in &named {
        let value = match root {
            Root::Map(m) => any_to_json(&m.to_json(&txn)),
            Root::Array(a) => any_to_json(&a.to_json(&txn)),
            Root::Text(t) => Value::String(t.get_string(&txn)),
            Root::Xml(x) => Value::String(x.get_string(&txn)),
        };
        out.insert(name.clone(), value);
    }
    for (name, value) in txn.root_refs() {
        if out.contains_key(name) {
            continue;
        }
        let json = match value {
            Out::UndefinedRef(branch) => {
                // A root nobody defined locally: entries with keys make a map, else a sequence.
                let map = MapRef::from(branch);
                if map.len(&txn) > 0 {
                    any_to_json(&map.to_json(&txn))
                } else {
                    any_to_json(&ArrayRef::from(branch).to_json(&txn))
                }
            }
            other => any_to_json(&other.to_json(&txn)),
        };
        out.insert(name.to_owned(), json);
    }
    Value::Object(out)
}

/// Parses `key=json`.
pub fn parse_set(spec: &str) -> anyhow::Result<(String, Any)> {
    let (key, json) = spec.split_once('=').ok_or_else(|| anyhow!("--set expects KEY=JSON, got {spec:?}"))?;
    if key.is_empty() {
        bail!("empty key in --set {spec:?}");
    }
    let value: Any = serde_json::from_str(json).with_context(|| {
        format!("the value of --set {key} is not JSON (quote strings: {key}='\"text\"'): {json:?}")
    })?;
    Ok((key.to_owned(), value))
}

/// Applies the edit in one transaction; returns how many keys it touched.
pub fn apply_edit(doc: &Doc, map: &str, sets: &[(String, Any)], deletes: &[String]) -> usize {
    let root = doc.get_or_insert_map(map);
    let mut txn = doc.transact_mut();
    let mut changed = 0;
    for (key, value) in sets {
        root.insert(&mut txn, key.as_str(), value.clone());
        changed += 1;
    }
    for key in deletes {
        if root.remove(&mut txn, key).is_some() {
            changed += 1;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_named_and_discovered_roots() {
        let doc = Doc::new();
        let sets = vec![parse_set(r#"n1={"text":"hi","x":10}"#).unwrap(), parse_set("n2=3.5").unwrap()];
        assert_eq!(apply_edit(&doc, "notes", &sets, &[]), 2);
        let text = doc.get_or_insert_text("title");
        {
            let mut txn = doc.transact_mut();
            yrs::Text::insert(&text, &mut txn, 0, "Atelier");
        }
        // A copy that never defined the types locally still finds them.
        let copy = Doc::new();
        {
            let update = doc.transact().encode_state_as_update_v1(&yrs::StateVector::default());
            let update = yrs::updates::decoder::Decode::decode_v1(&update).unwrap();
            copy.transact_mut().apply_update(update).unwrap();
        }
        let json = to_json(&copy, &parse_roots(&["notes".into(), "title:text".into()]).unwrap());
        assert_eq!(json["notes"]["n1"]["text"], "hi");
        assert_eq!(json["notes"]["n2"], 3.5);
        assert_eq!(json["title"], "Atelier");
        assert!(parse_set("k=not json").is_err());
        assert!(parse_roots(&["x:tree".into()]).is_err());
    }
}
