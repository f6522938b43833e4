//! SMS, voicemail and fax logs as Insightly events. Not written yet: waits for the core message-log composer.

use callbridge_core::{
    ConnectorError, CreateMessageLogRequest, MessageLogCreated, MessageLogUpdated, Operation, RequestContext,
    UpdateMessageLogRequest,
};

use crate::client::UserApi;

pub(crate) async fn create(
    _api: &UserApi<'_>,
    _ctx: &RequestContext,
    _request: &CreateMessageLogRequest,
) -> Result<MessageLogCreated, ConnectorError> {
    Err(ConnectorError::unsupported(Operation::CreateMessageLog))
}

pub(crate) async fn update(
    _api: &UserApi<'_>,
    _ctx: &RequestContext,
    _request: &UpdateMessageLogRequest,
) -> Result<MessageLogUpdated, ConnectorError> {
    Err(ConnectorError::unsupported(Operation::UpdateMessageLog))
}
