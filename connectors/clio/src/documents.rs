//! Fax and MMS files as Clio documents: the file is downloaded from RingCentral, then uploaded with Clio's
//! three-step document upload (create the document, `PUT` the bytes to the signed URL Clio returns, mark the
//! version fully uploaded). Only then does the document show in the matter or contact.

use callbridge_core::{ConnectorError, ErrorKind, Secret};
use serde_json::{Value, json};
use url::Url;

use crate::client::{ClioClient, id_text};

/// Where a document is filed: the chosen matter, else the contact.
#[derive(Clone, Debug)]
pub(crate) enum Parent {
    Matter(Value),
    Contact(u64),
}

impl Parent {
    fn reference(&self) -> Value {
        match self {
            Parent::Matter(id) => json!({ "id": id, "type": "Matter" }),
            Parent::Contact(id) => json!({ "id": id, "type": "Contact" }),
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Parent::Matter(_) => "matter",
            Parent::Contact(_) => "contact",
        }
    }
}

/// One file to file in Clio.
pub(crate) struct Upload<'a> {
    /// The file's name in Clio.
    pub name: String,
    /// RingCentral's download link (it carries its own access token).
    pub source: &'a str,
    pub parent: Parent,
    /// RFC 3339: when the message was sent.
    pub received_at: String,
}

/// The link to a document in Clio's web app.
pub(crate) fn document_link(host: &str, document_id: &str) -> String {
    format!("https://{host}/nc/#/documents/{document_id}/details")
}

/// Downloads the file and files it in Clio; the document's id once Clio confirms the upload is complete.
pub(crate) async fn upload(
    client: &ClioClient,
    host: &str,
    auth: &Secret,
    upload: Upload<'_>,
) -> Result<String, ConnectorError> {
    let source = ringcentral_media(upload.source)?;
    let file = client.download(source.as_str()).await?;
    let body = json!({ "data": {
        "name": upload.name,
        "parent": upload.parent.reference(),
        "received_at": upload.received_at,
    }});
    let document = client.create_document(host, auth, &body).await?;
    let document_id = id_text(&document.id);
    let version = document.latest_document_version.unwrap_or_default();
    let (Some(uuid), Some(put_url)) = (version.uuid, version.put_url) else {
        return Err(ConnectorError::upstream("clio created a document without an upload URL"));
    };
    let headers: Vec<(String, String)> = version.put_headers.into_iter().map(|it| (it.name, it.value)).collect();
    client.put_file(&put_url, &headers, file).await?;
    let completed = client.complete_document(host, auth, &document_id, &uuid).await?;
    if completed.latest_document_version.and_then(|it| it.fully_uploaded) != Some(true) {
        return Err(ConnectorError::upstream("clio did not confirm the document upload"));
    }
    Ok(document_id)
}

/// The download link, if it is RingCentral's over https: the server fetches it, so a request must not be able to
/// point it at any other host.
fn ringcentral_media(link: &str) -> Result<Url, ConnectorError> {
    let url =
        Url::parse(link.trim()).map_err(|_| ConnectorError::new(ErrorKind::Rejected, "the media link is not a URL"))?;
    let host = url.host_str().unwrap_or_default();
    if url.scheme() == "https" && (host == "ringcentral.com" || host.ends_with(".ringcentral.com")) {
        Ok(url)
    } else {
        Err(ConnectorError::new(ErrorKind::Rejected, format!("media from `{host}` is not RingCentral's")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ringcentral_https_media_is_downloaded() {
        assert!(
            ringcentral_media("https://media.ringcentral.com/restapi/v1.0/account/1/content/2?access_token=x").is_ok()
        );
        for refused in [
            "http://media.ringcentral.com/a",
            "https://ringcentral.com.evil.example/a",
            "https://169.254.169.254/latest",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(ringcentral_media(refused).is_err(), "{refused}");
        }
    }
}
