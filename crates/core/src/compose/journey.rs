//! The call journey: one line per call leg (`Received call at ...`, `Transferred to ..., duration: 50 seconds`).

use crate::schema::{CallLeg, Party};

use super::duration::{duration_as_typed, duration_value};

/// The journey lines for `legs`, in order; empty when there are no legs.
pub(crate) fn journey_lines(legs: &[CallLeg]) -> Vec<String> {
    legs.iter()
        .enumerate()
        .map(|(index, leg)| {
            let outbound = leg.direction.as_deref() == Some("Outbound");
            if index == 0 {
                return if outbound {
                    format!("Made call from {}", party_text(leg.from.as_ref()))
                } else {
                    format!("Received call at {}", party_text(leg.to.as_ref()))
                };
            }
            // A later outbound leg names its caller, except a PSTN-to-SIP leg, which names where it went.
            let party = if outbound && leg.leg_type.as_deref() != Some("PstnToSip") { &leg.from } else { &leg.to };
            let target = party_text(party.as_ref());
            match &leg.duration {
                Some(duration) => {
                    let plural = if duration_value(duration).is_some_and(|seconds| seconds > 1.0) { "s" } else { "" };
                    format!("Transferred to {target}, duration: {} second{plural}", duration_as_typed(duration))
                }
                // The reference prints `undefined` here; a leg without a length just has none.
                None => format!("Transferred to {target}"),
            }
        })
        .collect()
}

/// `Name, +1650..., ext 101` with missing parts left out; empty when the party has neither number nor extension.
pub(crate) fn party_text(party: Option<&Party>) -> String {
    let Some(party) = party else { return String::new() };
    let phone = party.phone_number.as_deref().filter(|it| !it.is_empty());
    let extension = party.extension_number.as_deref().filter(|it| !it.is_empty());
    let number = match (phone, extension) {
        (None, None) => return String::new(),
        (Some(phone), Some(extension)) => format!("{phone}, ext {extension}"),
        (Some(phone), None) => phone.to_owned(),
        (None, Some(extension)) => format!("ext {extension}"),
    };
    match party.name.as_deref().filter(|it| !it.is_empty()) {
        Some(name) => format!("{name}, {number}"),
        None => number,
    }
}
