//! When a logged call or message starts and ends, in the form Redtail's activity dates take.

use callbridge_core::{CallDuration, ConnectorError, ErrorKind, StartTime};
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

/// The start and end of a call: the end is the start plus the duration (zero while the duration is pending).
/// A call without a start time starts now, as in the reference; one whose start time cannot be read is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CallTimes {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl CallTimes {
    pub fn of(start: Option<&StartTime>, duration: Option<&CallDuration>) -> Result<Self, ConnectorError> {
        let start = match start {
            None => Utc::now(),
            Some(start) => start
                .to_utc()
                .ok_or_else(|| ConnectorError::new(ErrorKind::Rejected, "the call's start time cannot be read"))?,
        };
        let seconds = duration.and_then(CallDuration::seconds).filter(|it| it.is_finite() && *it > 0.0).unwrap_or(0.0);
        // A duration beyond a day is bad data; the activity still gets a sane end.
        let seconds = seconds.min(86_400.0).round() as i64;
        Ok(Self { start, end: start + TimeDelta::seconds(seconds) })
    }
}

/// `2024-01-15T10:30:00.000Z`: UTC with milliseconds, as the reference sends activity dates.
pub(crate) fn iso(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}
