//! TLP from STIX marking references: the well-known ids, plus marking-definition objects found in
//! the same bundle.
//!
//! Ids (reference/microsoft-apis.md §1.7 and addendum point 5): the four TLP 1.0 ids from the STIX
//! 2.1 specification (OpenCTI uses the WHITE id for CLEAR), the five OASIS TLP 2.0 extension ids,
//! and OpenCTI's own AMBER+STRICT id.

use crate::json::Value;
use crate::model::Tlp;

const KNOWN: [(&str, Tlp); 10] = [
    // TLP 1.0 (STIX 2.1 spec, §7.2.1.4); OpenCTI's standard ids for CLEAR/GREEN/AMBER/RED.
    ("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", Tlp::Clear),
    ("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", Tlp::Green),
    ("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", Tlp::Amber),
    ("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", Tlp::Red),
    // OpenCTI's TLP:AMBER+STRICT.
    ("marking-definition--826578e1-40ad-459f-bc73-ede076f81f37", Tlp::AmberStrict),
    // TLP 2.0 (OASIS extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d).
    ("marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", Tlp::Clear),
    ("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", Tlp::Green),
    ("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", Tlp::Amber),
    ("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", Tlp::AmberStrict),
    ("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", Tlp::Red),
];

const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// The TLP of a well-known marking-definition id.
pub(crate) fn known(id: &str) -> Option<Tlp> {
    KNOWN.iter().find(|(known, _)| *known == id).map(|(_, tlp)| *tlp)
}

/// Marking definitions found in a bundle, by id.
#[derive(Default)]
pub(crate) struct Markings<'a> {
    by_id: crate::fasthash::FastMap<&'a str, Tlp>,
}

impl<'a> Markings<'a> {
    /// Reads a `marking-definition` object; returns whether it was a TLP marking.
    pub(crate) fn learn(&mut self, object: &Value<'a>) -> bool {
        let Some(id) = object.get_str("id") else { return false };
        if let Some(tlp) = tlp_of_definition(object) {
            self.by_id.insert(id, tlp);
            return true;
        }
        false
    }

    /// The TLP of a marking reference: a bundle definition, else a well-known id.
    pub(crate) fn resolve(&self, id: &str) -> Option<Tlp> {
        self.by_id.get(id).copied().or_else(|| known(id))
    }

    /// The most restrictive TLP among references (unknown references are not TLP markings).
    pub(crate) fn strictest<'r>(&self, refs: impl IntoIterator<Item = &'r str>) -> Option<Tlp> {
        refs.into_iter().filter_map(|r| self.resolve(r)).max()
    }
}

/// TLP 1.0 `{"definition_type":"tlp","definition":{"tlp":"amber"}}`, TLP 2.0
/// `{"extensions":{<tlp2>:{"tlp_2_0":"amber+strict"}}}`, or a `name` like `TLP:RED` (OpenCTI).
fn tlp_of_definition(object: &Value<'_>) -> Option<Tlp> {
    if let Some(tlp) = Some(object)
        .filter(|o| o.get_str("definition_type") == Some("tlp"))
        .and_then(|o| o.get("definition"))
        .and_then(|d| d.get_str("tlp"))
        .and_then(Tlp::from_name)
    {
        return Some(tlp);
    }
    if let Some(tlp) = object
        .get("extensions")
        .and_then(|e| e.get(TLP2_EXTENSION))
        .and_then(|e| e.get_str("tlp_2_0"))
        .and_then(Tlp::from_name)
    {
        return Some(tlp);
    }
    let is_tlp_type = matches!(object.get_str("definition_type"), Some("tlp" | "TLP") | None)
        || object.get_str("x_opencti_definition_type").is_some_and(|t| t.eq_ignore_ascii_case("tlp"));
    let name = object.get_str("name").or_else(|| object.get_str("x_opencti_definition"))?;
    if is_tlp_type && name.to_ascii_lowercase().starts_with("tlp") { Tlp::from_name(name) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ids_and_bundle_definitions() {
        let defs = Value::parse_leaked(
            r#"[{"type":"marking-definition","id":"marking-definition--aaaa","definition_type":"tlp","definition":{"tlp":"red"}},
                {"type":"marking-definition","id":"marking-definition--bbbb","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber+strict"}}},
                {"type":"marking-definition","id":"marking-definition--cccc","definition_type":"TLP","name":"TLP:GREEN"},
                {"type":"marking-definition","id":"marking-definition--dddd","definition_type":"statement","definition":{"statement":"Copyright"}}]"#,
        )
        .unwrap();
        let mut m = Markings::default();
        let Value::Array(defs) = &defs else { panic!() };
        let learned: Vec<bool> = defs.iter().map(|d| m.learn(d)).collect();
        assert_eq!(learned, [true, true, true, false]);
        assert_eq!(m.resolve("marking-definition--aaaa"), Some(Tlp::Red));
        assert_eq!(m.resolve("marking-definition--bbbb"), Some(Tlp::AmberStrict));
        assert_eq!(m.resolve("marking-definition--cccc"), Some(Tlp::Green));
        assert_eq!(m.resolve("marking-definition--dddd"), None);
        assert_eq!(m.resolve("marking-definition--826578e1-40ad-459f-bc73-ede076f81f37"), Some(Tlp::AmberStrict));
        assert_eq!(
            m.strictest(["marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "marking-definition--aaaa", "x"]),
            Some(Tlp::Red)
        );
    }
}
