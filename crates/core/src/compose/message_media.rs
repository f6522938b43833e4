//! The links of a RingCentral message's attachments, as App Connect hands them to a connector: a voicemail's
//! recording, a fax's document (and its download link), an MMS picture and video, and a voicemail transcript.
//!
//! The rules are the reference's: an `AudioRecording` attachment's `link` is the recording link; a
//! `RenderedDocument`'s `link` is the fax document link and its `uri` plus `?access_token=<RingCentral token>` the
//! download link; the first `MmsAttachment` whose content type is `image/...` or `video/...` gives the picture
//! (media-reader link, download link, content type) and the video (media-reader link). Where the extension sent a
//! `uri` but no `link`, the media-reader link of the `uri` stands in. Unlike the reference, every link is checked:
//! a link that is not an absolute `http(s)` URL is refused, so nothing else is ever written into a CRM body.

use serde::Deserialize;
use serde_json::Value;

use crate::connector::{Message, MessageMedia};

/// The page that plays or shows RingCentral media: `MEDIA_READER` + the percent-encoded media URI.
pub const MEDIA_READER: &str = "https://ringcentral.github.io/ringcentral-media-reader/?media=";

/// The longest RingCentral access token accepted for download links.
const MAX_TOKEN_LENGTH: usize = 4096;

/// One attachment as the extension sends it (RingCentral's message-store attachment plus the extension's `link`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Attachment {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    link: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
}

/// The media of `message`; `rc_access_token` (the conversation's `rcAccessToken`) makes the download links.
///
/// An error names what is wrong with the request: attachments that are not a list of objects, a link or URI that
/// is not an `http(s)` URL, a token that cannot go into a URL, a transcript that is not text.
pub fn media_of(message: &Message, rc_access_token: Option<&str>) -> Result<MessageMedia, String> {
    let token = match rc_access_token.filter(|it| !it.is_empty()) {
        Some(token)
            if token.len() > MAX_TOKEN_LENGTH
                || !token.bytes().all(|it| it.is_ascii_graphic() && !b"&#?%".contains(&it)) =>
        {
            return Err("rcAccessToken is not a RingCentral access token".to_owned());
        }
        other => other,
    };
    let attachments: Vec<Attachment> = match message.extra.get("attachments") {
        None | Some(Value::Null) => Vec::new(),
        Some(value) => serde_json::from_value(value.clone())
            .map_err(|error| format!("message attachments must be a list of attachment objects: {error}"))?,
    };
    let transcript = match message.extra.get("transcript") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => return Err("message transcript must be text".to_owned()),
    };
    let mut media = MessageMedia { transcript, ..MessageMedia::default() };
    let of_kind = |kind: &str| attachments.iter().find(|it| it.kind.as_deref() == Some(kind));
    if let Some(recording) = of_kind("AudioRecording") {
        media.recording_link = page_link(recording)?;
    }
    if let Some(document) = of_kind("RenderedDocument") {
        media.fax_doc_link = page_link(document)?;
        media.fax_download_link = download_link(document, token)?;
    }
    let mms = |prefix: &str| {
        attachments.iter().find(|it| {
            it.kind.as_deref() == Some("MmsAttachment")
                && it.content_type.as_deref().is_some_and(|it| it.starts_with(prefix))
        })
    };
    if let Some(image) = mms("image/") {
        media.image_link = reader_link(image)?;
        media.image_download_link = download_link(image, token)?;
        media.image_content_type = image.content_type.clone();
    }
    if let Some(video) = mms("video/") {
        media.video_link = reader_link(video)?;
    }
    Ok(media)
}

/// The attachment's `link`, else the media-reader page of its `uri`.
fn page_link(attachment: &Attachment) -> Result<Option<String>, String> {
    match attachment.link.as_deref().filter(|it| !it.is_empty()) {
        Some(link) => checked(link).map(|it| Some(it.to_owned())),
        None => reader_link(attachment),
    }
}

/// The media-reader page of the attachment's `uri`.
fn reader_link(attachment: &Attachment) -> Result<Option<String>, String> {
    let Some(uri) = attachment.uri.as_deref().filter(|it| !it.is_empty()) else { return Ok(None) };
    Ok(Some(format!("{MEDIA_READER}{}", encode_uri_component(checked(uri)?))))
}

/// The attachment's `uri` with the RingCentral token, when both are there.
fn download_link(attachment: &Attachment, token: Option<&str>) -> Result<Option<String>, String> {
    let (Some(uri), Some(token)) = (attachment.uri.as_deref().filter(|it| !it.is_empty()), token) else {
        return Ok(None);
    };
    let separator = if checked(uri)?.contains('?') { '&' } else { '?' };
    Ok(Some(format!("{uri}{separator}access_token={token}")))
}

/// `link` when it is an absolute `http(s)` URL.
fn checked(link: &str) -> Result<&str, String> {
    match url::Url::parse(link) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(link),
        _ => Err(format!("attachment link {:?} is not an http(s) URL", truncated(link))),
    }
}

fn truncated(text: &str) -> &str {
    text.char_indices().nth(80).map_or(text, |(at, _)| &text[..at])
}

/// Percent-encodes as JavaScript's `encodeURIComponent`, so media-reader links equal the reference's.
pub fn encode_uri_component(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message(attachments: Value) -> Message {
        serde_json::from_value(json!({ "id": 1, "attachments": attachments })).unwrap()
    }

    #[test]
    fn voicemail_fax_and_mms_links_follow_the_reference_rules() {
        let voicemail = message(json!([{ "type": "AudioRecording", "uri": "https://media.rc.test/vm/1",
            "link": "https://ringcentral.github.io/ringcentral-media-reader/?media=x" }]));
        let media = media_of(&voicemail, Some("tok")).unwrap();
        assert_eq!(
            media.recording_link.as_deref(),
            Some("https://ringcentral.github.io/ringcentral-media-reader/?media=x")
        );
        assert_eq!((media.fax_doc_link, media.image_link), (None, None));

        let fax = message(json!([{ "type": "RenderedDocument", "uri": "https://media.rc.test/fax/2?x=1",
            "link": "https://app.rc.test/fax/2" }]));
        let media = media_of(&fax, Some("tok")).unwrap();
        assert_eq!(media.fax_doc_link.as_deref(), Some("https://app.rc.test/fax/2"));
        assert_eq!(media.fax_download_link.as_deref(), Some("https://media.rc.test/fax/2?x=1&access_token=tok"));
        assert_eq!(media_of(&fax, None).unwrap().fax_download_link, None, "no token, no download link");

        let mms = message(json!([
            { "type": "Text", "uri": "https://media.rc.test/t" },
            { "type": "MmsAttachment", "contentType": "video/mp4", "uri": "https://media.rc.test/v 1" },
            { "type": "MmsAttachment", "contentType": "image/png", "uri": "https://media.rc.test/i/1" },
        ]));
        let media = media_of(&mms, Some("tok")).unwrap();
        assert_eq!(media.image_link.as_deref(), Some(&*format!("{MEDIA_READER}https%3A%2F%2Fmedia.rc.test%2Fi%2F1")));
        assert_eq!(media.image_download_link.as_deref(), Some("https://media.rc.test/i/1?access_token=tok"));
        assert_eq!(media.image_content_type.as_deref(), Some("image/png"));
        assert_eq!(media.video_link.as_deref(), Some(&*format!("{MEDIA_READER}https%3A%2F%2Fmedia.rc.test%2Fv%201")));
        assert_eq!(media.recording_link, None);
    }

    #[test]
    fn a_recording_without_a_link_gets_the_media_reader_page_of_its_uri() {
        let voicemail = message(json!([{ "type": "AudioRecording", "uri": "https://media.rc.test/vm/1" }]));
        let media = media_of(&voicemail, None).unwrap();
        assert_eq!(media.recording_link.unwrap(), format!("{MEDIA_READER}https%3A%2F%2Fmedia.rc.test%2Fvm%2F1"));
    }

    #[test]
    fn bad_attachments_links_tokens_and_transcripts_are_refused() {
        assert!(media_of(&message(json!("not a list")), None).unwrap_err().contains("attachments"));
        let script = message(json!([{ "type": "AudioRecording", "link": "javascript:alert(1)" }]));
        assert!(media_of(&script, None).unwrap_err().contains("not an http(s) URL"));
        let fax = message(json!([{ "type": "RenderedDocument", "uri": "https://media.rc.test/f" }]));
        assert!(media_of(&fax, Some("a&b")).is_err());
        assert!(media_of(&fax, Some(&"x".repeat(5000))).is_err());
        let transcript: Message = serde_json::from_value(json!({ "transcript": 5 })).unwrap();
        assert!(media_of(&transcript, None).unwrap_err().contains("transcript"));
        let fine: Message = serde_json::from_value(json!({ "transcript": "Call me back" })).unwrap();
        assert_eq!(media_of(&fine, None).unwrap().transcript.as_deref(), Some("Call me back"));
    }

    #[test]
    fn encoding_matches_encode_uri_component() {
        assert_eq!(encode_uri_component("a b/c?d=é&(x)!*'~"), "a%20b%2Fc%3Fd%3D%C3%A9%26(x)!*'~");
    }
}
