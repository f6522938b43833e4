//! Fax PDFs and MMS pictures filed as Clio documents: the download from RingCentral, Clio's three-step upload, and
//! the log's text when the upload works, is not confirmed, or is not allowed.

use callbridge_core::{CreateMessageLogRequest, LogContact, Message, MessageMedia, RecordKey};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{clio, context, data, mount_fallback, received, start};

const FOOTER: &str = "--- Created via RingCentral App Connect";
const FAX_DOC: &str = "https://media.ringcentral.com/restapi/v1.0/account/1/extension/2/message-store/3/content/4";
/// The file bytes: not UTF-8, so any text round trip would show.
const FILE: &[u8] = &[0x25, 0x50, 0x44, 0x46, 0x2d, 0x00, 0xff, 0x80];

fn fax_request(additional_submission: Value) -> CreateMessageLogRequest {
    CreateMessageLogRequest {
        record_key: RecordKey("message:m-1".into()),
        contact: LogContact {
            id: "101".into(),
            phone_number: Some("+14155550100".into()),
            kind: "Person".into(),
            name: "Ada Lovelace".into(),
        },
        message: Message {
            id: Some("m-1".into()),
            creation_time: Some("2024-05-01T13:30:00Z".into()),
            direction: Some("Inbound".into()),
            message_status: Some("Received".into()),
            fax_page_count: Some(json!(2)),
            ..Default::default()
        },
        additional_submission: additional_submission.as_object().cloned().unwrap_or_default(),
        media: MessageMedia {
            fax_doc_link: Some(FAX_DOC.into()),
            fax_download_link: Some(format!("{FAX_DOC}?access_token=rc-token")),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// RingCentral's file, Clio's document (id 700) with its signed upload URL, the file store, and who_am_i.
async fn mount_upload(server: &MockServer, fully_uploaded: bool) {
    Mock::given(method("GET"))
        .and(path("/restapi/v1.0/account/1/extension/2/message-store/3/content/4"))
        .and(query_param("access_token", "rc-token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(FILE.to_vec(), "application/pdf"))
        .expect(1)
        .mount(server)
        .await;
    clio("POST", "/api/v4/documents")
        .and(query_param("fields", "id,latest_document_version{uuid,put_url,put_headers}"))
        .respond_with(data(json!({ "id": 700, "latest_document_version": {
            "uuid": "u-700",
            "put_url": "https://clio-documents.s3.amazonaws.com/uploads/700?signature=abc",
            "put_headers": [
                { "name": "Content-Type", "value": "application/pdf" },
                { "name": "x-amz-server-side-encryption", "value": "AES256" }
            ]
        }})))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/uploads/700"))
        .and(query_param("signature", "abc"))
        .and(header("content-type", "application/pdf"))
        .and(header("x-amz-server-side-encryption", "AES256"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(server)
        .await;
    clio("PATCH", "/api/v4/documents/700")
        .and(query_param("fields", "id,latest_document_version{fully_uploaded}"))
        .and(body_json(json!({ "data": { "uuid": "u-700", "fully_uploaded": true } })))
        .respond_with(data(json!({ "id": 700, "latest_document_version": { "fully_uploaded": fully_uploaded } })))
        .expect(1)
        .mount(server)
        .await;
    clio("GET", "/api/v4/users/who_am_i.json")
        .respond_with(data(json!({ "id": 12345, "name": "Grace Hopper" })))
        .mount(server)
        .await;
    clio("POST", "/api/v4/communications.json").respond_with(data(json!({ "id": 8810 }))).mount(server).await;
    mount_fallback(server).await;
}

/// The requests to RingCentral and to the file store: neither may carry the user's Clio token.
async fn assert_no_clio_token_outside_clio(server: &MockServer) {
    for request in server.received_requests().await.unwrap() {
        if !request.url.path().starts_with("/api/v4/") {
            assert!(request.headers.get("authorization").is_none(), "{} {} got the token", request.method, request.url);
        }
    }
}

#[tokio::test]
async fn a_fax_pdf_is_filed_in_the_matter_and_the_log_links_the_document() {
    let (server, connector) = start().await;
    mount_upload(&server, true).await;

    let created = connector.create_message_log(&context(), fax_request(json!({ "matters": 555 }))).await.unwrap();

    assert_eq!(created.log_id, "8810");
    assert_eq!(
        received(&server, "POST", "/api/v4/documents").await,
        [json!({ "data": {
            "name": "Fax m-1.pdf",
            "parent": { "id": 555, "type": "Matter" },
            "received_at": "2024-05-01T13:30:00Z"
        }})]
    );
    let requests = server.received_requests().await.unwrap();
    let put = requests.iter().find(|it| it.method.as_str() == "PUT").unwrap();
    assert_eq!(put.body, FILE, "the downloaded bytes, unchanged");
    assert_no_clio_token_outside_clio(&server).await;
    let communication = &received(&server, "POST", "/api/v4/communications.json").await[0];
    assert_eq!(
        communication["data"]["body"],
        format!(
            "Fax uploaded to Clio successfully.\nFax status: Received\nPage count: 2\n\
             Document: https://app.clio.com/nc/#/documents/700/details\nFiled under the matter.\n\n{FOOTER}"
        )
    );
}

#[tokio::test]
async fn an_upload_clio_does_not_confirm_logs_the_fax_with_ringcentrals_link() {
    let (server, connector) = start().await;
    mount_upload(&server, false).await;

    let created = connector.create_message_log(&context(), fax_request(json!({}))).await.unwrap();

    assert_eq!(created.log_id, "8810", "the fax is logged either way");
    let document = &received(&server, "POST", "/api/v4/documents").await[0];
    assert_eq!(document["data"]["parent"], json!({ "id": 101, "type": "Contact" }), "no matter: the contact");
    let communication = &received(&server, "POST", "/api/v4/communications.json").await[0];
    assert_eq!(
        communication["data"]["body"],
        format!("Fax failed to be uploaded to Clio.\nFax document link: {FAX_DOC}\n\n{FOOTER}")
    );
}

#[tokio::test]
async fn an_mms_picture_is_filed_and_linked_and_media_from_elsewhere_is_never_fetched() {
    let (server, connector) = start().await;
    mount_upload(&server, true).await;
    let picture = |download: &str| MessageMedia {
        image_link: Some("https://ringcentral.github.io/ringcentral-media-reader/?media=x".into()),
        image_download_link: Some(download.into()),
        image_content_type: Some("image/png".into()),
        ..Default::default()
    };
    let mut request = fax_request(json!({}));
    request.message.subject = Some("See attached".into());
    request.media = picture(&format!("{FAX_DOC}?access_token=rc-token"));

    connector.create_message_log(&context(), request.clone()).await.unwrap();

    assert_eq!(received(&server, "POST", "/api/v4/documents").await[0]["data"]["name"], "Image m-1.png");
    let body = received(&server, "POST", "/api/v4/communications.json").await[0]["data"]["body"].clone();
    assert!(
        body.as_str().unwrap().contains("See attached\n[Image]: https://app.clio.com/nc/#/documents/700/details\n"),
        "{body}"
    );

    // A download link that is not RingCentral's is not fetched: the picture's link is logged instead.
    let before = server.received_requests().await.unwrap().len();
    request.media = picture("https://169.254.169.254/latest/meta-data");
    connector.create_message_log(&context(), request).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let paths: Vec<&str> = requests[before..].iter().map(|it| it.url.path()).collect();
    assert_eq!(paths, ["/api/v4/users/who_am_i.json", "/api/v4/communications.json"]);
    let body = received(&server, "POST", "/api/v4/communications.json").await[1]["data"]["body"].clone();
    assert!(
        body.as_str()
            .unwrap()
            .contains("[Image - failed to upload]: https://ringcentral.github.io/ringcentral-media-reader/?media=x\n"),
        "{body}"
    );
}
