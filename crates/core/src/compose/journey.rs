//! The call journey: one line per call leg (`Received call at ...`, `Transferred to ..., duration: 50 seconds`).

use crate::schema::{CallLeg, Party};

use super::duration::{duration_as_typed, duration_value};

/// The journey for `legs`: one line per leg, in order, joined by `\n`; empty when there are no legs.
///
/// Written into one string rather than a string per line and per party: this runs for every composed call log.
pub(crate) fn journey_text(legs: &[CallLeg]) -> String {
    let mut text = String::with_capacity(64 * legs.len());
    for (index, leg) in legs.iter().enumerate() {
        if index > 0 {
            text.push('\n');
        }
        let outbound = leg.direction.as_deref() == Some("Outbound");
        if index == 0 {
            if outbound {
                text.push_str("Made call from ");
                push_party(&mut text, leg.from.as_ref());
            } else {
                text.push_str("Received call at ");
                push_party(&mut text, leg.to.as_ref());
            }
            continue;
        }
        // A later outbound leg names its caller, except a PSTN-to-SIP leg, which names where it went.
        let party = if outbound && leg.leg_type.as_deref() != Some("PstnToSip") { &leg.from } else { &leg.to };
        text.push_str("Transferred to ");
        push_party(&mut text, party.as_ref());
        // The reference prints `undefined` when a leg has no length; a leg without one just has none.
        if let Some(duration) = &leg.duration {
            text.push_str(", duration: ");
            text.push_str(&duration_as_typed(duration));
            text.push_str(if duration_value(duration).is_some_and(|seconds| seconds > 1.0) {
                " seconds"
            } else {
                " second"
            });
        }
    }
    text
}

/// Pushes `Name, +1650..., ext 101` with missing parts left out; nothing when the party has neither number nor
/// extension.
fn push_party(out: &mut String, party: Option<&Party>) {
    let Some(party) = party else { return };
    let phone = party.phone_number.as_deref().filter(|it| !it.is_empty());
    let extension = party.extension_number.as_deref().filter(|it| !it.is_empty());
    if phone.is_none() && extension.is_none() {
        return;
    }
    if let Some(name) = party.name.as_deref().filter(|it| !it.is_empty()) {
        out.push_str(name);
        out.push_str(", ");
    }
    match (phone, extension) {
        (Some(phone), Some(extension)) => super::push_all(out, &[phone, ", ext ", extension]),
        (Some(phone), None) => out.push_str(phone),
        (None, Some(extension)) => super::push_all(out, &["ext ", extension]),
        (None, None) => {}
    }
}

/// The party as the journey shows it ([`push_party`]), on its own.
#[cfg(test)]
pub(crate) fn party_text(party: Option<&Party>) -> String {
    let mut text = String::new();
    push_party(&mut text, party);
    text
}
