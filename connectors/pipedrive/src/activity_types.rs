//! The activity type a call or an SMS is logged as, from the account's active types cached per company.
//!
//! Every log needs the key of an activity type. Asking Pipedrive each time would double the requests of the
//! busiest operation, so the active types are kept per company for a day, as App Connect does, and fetched again
//! once when the wanted type is missing (an admin may have just created or chosen it).

use std::sync::Arc;

use callbridge_core::cache::AccountCache;
use callbridge_core::{ConnectorError, ErrorKind, MessageType, ReturnMessage};

use crate::api::ActivityType;
use crate::client::Api;

/// Active activity types by company.
pub(crate) type ActivityTypes = AccountCache<Arc<Vec<ActivityType>>>;

/// What is logged: the admin setting naming its type, and the keyword (any case) of a fit type when none is chosen.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ActivityKind {
    pub setting_id: &'static str,
    pub keyword: &'static str,
    /// `Call` or `Message`, for the error.
    what: &'static str,
}

pub(crate) const CALL: ActivityKind =
    ActivityKind { setting_id: "pipedriveCallActivityType", keyword: "call", what: "Call" };
pub(crate) const SMS: ActivityKind =
    ActivityKind { setting_id: "pipedriveSMSActivityType", keyword: "sms", what: "Message" };

impl ActivityKind {
    /// The reference's error when the account has no fitting type.
    pub fn missing(self) -> ConnectorError {
        let (what, keyword) = (self.what, self.keyword);
        let text = format!(
            "{what} logging requires an active activity type containing the word \"{keyword}\" (case insensitive), or one explicitly assigned by an admin under Admin > Account settings."
        );
        ConnectorError::new(ErrorKind::Rejected, format!("no active {keyword} activity type"))
            .with_return_message(ReturnMessage::new(MessageType::Error, text, 2000))
    }

    /// The admin-chosen type when it is active (`strict`: and only then), else the first active type whose name
    /// contains the keyword.
    pub fn pick(self, types: &[ActivityType], admin_choice: Option<&str>, strict: bool) -> Option<String> {
        match admin_choice {
            Some(choice) if types.iter().any(|it| it.key_string == choice) => return Some(choice.to_owned()),
            Some(_) if strict => return None,
            _ => {}
        }
        types.iter().find(|it| it.name.to_lowercase().contains(self.keyword)).map(|it| it.key_string.clone())
    }
}

/// The company's active activity types.
pub(crate) async fn active_types(api: &Api) -> Result<Arc<Vec<ActivityType>>, ConnectorError> {
    let types: Vec<ActivityType> = api.get("/v1/activityTypes", &[]).await?.body;
    Ok(Arc::new(types.into_iter().filter(|it| it.active_flag).collect()))
}
