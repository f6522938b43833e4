//! Finding our labels at the start of a line, for the plain-text and Markdown bodies.
//!
//! Hand-written scans rather than regular expressions: every part of every composed body looks up its label, and a
//! scan over line starts costs a fraction of a regex search on bodies this small. Case-insensitive labels compare
//! ASCII letters in any case (a regex's Unicode case folding would also take `ſ` for `s` and the Kelvin sign for
//! `k`, which no body we or the reference write contains).

use std::ops::Range;

/// A label matched at the start of a line: `text` exactly, or with ASCII letters in any case.
#[derive(Clone, Copy)]
pub(crate) struct LinePrefix {
    pub text: &'static str,
    pub ignore_case: bool,
}

impl LinePrefix {
    pub(crate) const fn exact(text: &'static str) -> Self {
        LinePrefix { text, ignore_case: false }
    }

    pub(crate) const fn any_case(text: &'static str) -> Self {
        LinePrefix { text, ignore_case: true }
    }

    /// True when `text` starts with the prefix.
    pub(crate) fn starts(&self, text: &str) -> bool {
        starts_with(text.as_bytes(), self.text.as_bytes(), self.ignore_case)
    }

    /// The first line at or after `from` that starts with the prefix: the extent of the prefix.
    pub(crate) fn find_at(&self, body: &str, from: usize) -> Option<Range<usize>> {
        line_starts(body, from).find(|at| self.starts(&body[*at..])).map(|at| at..at + self.text.len())
    }

    /// [`LinePrefix::find_at`] from the start of the body.
    pub(crate) fn find(&self, body: &str) -> Option<Range<usize>> {
        self.find_at(body, 0)
    }

    /// The first line starting with the prefix, without its line end.
    pub(crate) fn find_line(&self, body: &str) -> Option<Range<usize>> {
        self.find(body).map(|found| found.start..line_end(body, found.end))
    }

    /// The first line starting with the prefix and the empty lines after it; and the value after the prefix.
    pub(crate) fn find_with_blank_run(&self, body: &str) -> Option<(Range<usize>, Range<usize>)> {
        let found = self.find(body)?;
        let value_end = line_end(body, found.end);
        Some((found.start..after_line_ends(body, value_end), found.end..value_end))
    }
}

/// True when `bytes` starts with `prefix`; ASCII letters in any case when `ignore_case`.
pub(crate) fn starts_with(bytes: &[u8], prefix: &[u8], ignore_case: bool) -> bool {
    // Most lines a lookup visits differ from the label within its first eight bytes: comparing those as one word
    // turns them away without the call to `memcmp` that comparing the whole label costs.
    if !ignore_case
        && let (Some(head), Some(wanted)) = (bytes.first_chunk::<8>(), prefix.first_chunk::<8>())
        && head != wanted
    {
        return false;
    }
    match bytes.get(..prefix.len()) {
        Some(head) if ignore_case => head.eq_ignore_ascii_case(prefix),
        Some(head) => head == prefix,
        None => false,
    }
}

/// The offsets at or after `from` where a line starts: the body's start and every offset after a `\n`.
pub(crate) fn line_starts(body: &str, from: usize) -> impl Iterator<Item = usize> + '_ {
    let bytes = body.as_bytes();
    let first = if from == 0 || bytes.get(from - 1) == Some(&b'\n') {
        Some(from)
    } else {
        memchr::memchr(b'\n', &bytes[from..]).map(|at| from + at + 1)
    };
    std::iter::successors(first, move |at| memchr::memchr(b'\n', &bytes[*at..]).map(|next| at + next + 1))
        .filter(move |at| *at <= bytes.len())
}

/// The offset of the line end (`\n`) at or after `at`, or the body's end.
fn line_end(body: &str, at: usize) -> usize {
    memchr::memchr(b'\n', &body.as_bytes()[at..]).map_or(body.len(), |end| at + end)
}

/// The offset after the run of `\n` that starts at `at`.
fn after_line_ends(body: &str, at: usize) -> usize {
    at + body.as_bytes()[at..].iter().take_while(|byte| **byte == b'\n').count()
}

/// The first line at or after `from` that is exactly `line` (followed by `\n` or the body's end): its extent.
pub(crate) fn find_whole_line(body: &str, from: usize, line: &str) -> Option<Range<usize>> {
    line_starts(body, from)
        .find(|at| body[*at..].starts_with(line) && matches!(body.as_bytes().get(at + line.len()), None | Some(b'\n')))
        .map(|at| at..at + line.len())
}
