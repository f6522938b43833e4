//! Bodies for the tests that check each hand-written scan against the regular expression it replaced.

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

/// Whole labels as we and the reference write them, in other cases, and the pieces and near misses around them.
const FRAGMENTS: &[&str] = &[
    // HTML items and links.
    "<li><b>Summary</b>: ",
    "<b>SUMMARY</b>:",
    "<li><b>Session Id</b>:",
    "<b>Caller phone number</b>: ",
    "<LI><B>Recipient phone number</B>:",
    "<b>Date/time</b>: ",
    "<li><b>Call recording link</b>: ",
    "<b>ACE recording link</b>:",
    "<a target=\"_blank\" href=\"x\">open</a>",
    "<A href=y>",
    "</a>",
    "</li>",
    "</LI>",
    "<b>",
    "</b>",
    "<li>",
    // Plain-text lines and blocks.
    "- Session Id: ",
    "- Summary: ",
    "- Date/Time:",
    "- Call score:",
    "- CALL SCORE:",
    "- Note: ",
    "- Agent notes: ",
    "--- END",
    "--- END ",
    "- ",
    // Markdown fields and headings.
    "**RingCentral user name**: ",
    "**ringcentral USER name**: ",
    "**Summary**:",
    "**Call score**: ",
    "### ",
    "## Agent notes",
    "## call DETAILS",
    "## Call details ",
    "**",
    // Values, spaces and line ends.
    "(pending...)",
    "x",
    "é",
    " ",
    "\n",
    "\n\n",
    "\u{a0}",
    "\t",
    ":",
    "<",
    ">",
];

/// 20,000 bodies of 1 to 14 fragments, the same on every run.
pub(super) fn random_bodies() -> impl Iterator<Item = String> {
    let mut rng = StdRng::seed_from_u64(0x5ca1_ab1e);
    (0..20_000).map(move |_| {
        let count = rng.random_range(1..=14);
        (0..count).map(|_| FRAGMENTS[rng.random_range(0..FRAGMENTS.len())]).collect()
    })
}
