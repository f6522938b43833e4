//! What a call's record will say once its queued create reaches the CRM: the `logData` of `GET /callLog`
//! (`requireDetails=true`) for a session the CRM has not got yet, so the extension's edit form shows the subject,
//! note and dispositions the user saved rather than an empty form.

use serde_json::{Map, Value, json};

use super::call::{CallCreatePayload, CallEditPayload, DispositionPayload};
use crate::store::{JobOp, OpKind};

/// The record as the pending operations will leave it, applied in order: the create's subject and note, then each
/// update's subject and note and each disposition. `None` when no pending operation could be read.
pub fn queued_call_details(ops: &[JobOp]) -> Option<Value> {
    let mut subject = None;
    let mut note = None;
    let mut contact_name = None;
    let mut dispositions: Option<Map<String, Value>> = None;
    let mut read_any = false;
    for op in ops {
        match op.kind {
            OpKind::CreateCall => {
                let Ok(create) = serde_json::from_str::<CallCreatePayload>(&op.payload) else { continue };
                let name = create.body.contact_name.clone().unwrap_or_default();
                subject = Some(create.body.log_info.subject(&name));
                note = Some(create.body.note.unwrap_or_default());
                contact_name = Some(name);
            }
            OpKind::UpdateCall => {
                let Ok(edit) = serde_json::from_str::<CallEditPayload>(&op.payload) else { continue };
                subject = edit.body.subject.or(subject);
                note = edit.body.note.or(note);
            }
            OpKind::Disposition => {
                let Ok(disposition) = serde_json::from_str::<DispositionPayload>(&op.payload) else { continue };
                dispositions.get_or_insert_with(Map::new).extend(disposition.dispositions);
            }
            OpKind::MessageLog => continue,
        }
        read_any = true;
    }
    read_any.then(|| {
        json!({
            "subject": subject,
            "note": note,
            "contactName": contact_name,
            "dispositions": dispositions,
        })
    })
}
