//! Every route the App Connect extension calls (app-connect-client.md section 3) answers 2xx for a well-formed
//! request, through the real binary over TCP with the sandbox connector and a mock RingCentral, in the order a user's day calls them; and
//! every interface `/implementedInterfaces` reports is one of those routes' work.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::binary::{http, serving, stop};

const ADMIN_TOKEN: &str = "rc-admin-token";

/// A RingCentral whose `ADMIN_TOKEN` belongs to an admin of account 37439510; it runs on `runtime`.
fn mock_ringcentral(runtime: &tokio::runtime::Runtime) -> MockServer {
    runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/restapi/v1.0/account/~/extension/~"))
            .and(header("authorization", format!("Bearer {ADMIN_TOKEN}").as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "id": 62001, "extensionNumber": "101", "name": "Ann Admin", "account": {"id": "37439510"},
                "permissions": {"admin": {"enabled": true}},
            })))
            .mount(&server)
            .await;
        server
    })
}

/// Sends one request and asserts the extension would take it as a success: 2xx and, for a business answer,
/// `successful` not false.
fn call(addr: SocketAddr, method: &str, target: &str, body: &Value) -> Value {
    let body = if body.is_null() { String::new() } else { body.to_string() };
    let (status, answer) = http(addr, method, target, &body).unwrap();
    assert!((200..300).contains(&status), "{method} {target}: {status} {answer}");
    let answer = serde_json::from_str(&answer).unwrap_or(Value::String(answer));
    assert_ne!(answer["successful"], false, "{method} {target}: {answer}");
    answer
}

#[test]
fn every_route_the_extension_calls_answers_2xx() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ringcentral = mock_ringcentral(&runtime);
    let dir = tempfile::tempdir().unwrap();
    let (addr, child) = serving(
        dir.path(),
        &[("CALLBRIDGE_CONNECTORS", "sandbox"), ("CALLBRIDGE_RINGCENTRAL_BASE_URL", &ringcentral.uri())],
    );
    let none = Value::Null;
    let mut done = BTreeSet::new();

    // Start-up, before the CRM is connected.
    call(addr, "GET", "/isAlive", &none);
    let manifest = call(addr, "GET", "/crmManifest", &none);
    let hashes = call(addr, "GET", "/userInfoHash?extensionId=62001&accountId=37439510", &none);
    let account = hashes["accountId"].as_str().unwrap().to_owned();
    call(addr, "GET", &format!("/user/preloadSettings?rcAccountId={account}"), &none);
    call(addr, "GET", "/releaseNotes", &none);
    assert_eq!(call(addr, "GET", "/serverVersionInfo", &none)["version"], manifest["version"]);
    call(addr, "GET", "/licenseStatus?jwtToken=undefined", &none);
    let interfaces = call(addr, "GET", "/implementedInterfaces?platform=sandbox", &none);

    // Connecting.
    let login = json!({"platform": "sandbox", "apiKey": "extension-routes-key", "hostname": "sandbox.test",
                       "additionalInfo": {"apiKey": "extension-routes-key"}});
    let jwt =
        call(addr, "POST", "/apiKeyLogin?state=platform=sandbox", &login)["jwtToken"].as_str().unwrap().to_owned();
    done.extend(["getAuthType", "getBasicAuth", "getUserInfo"]);
    let token = format!("jwtToken={jwt}");
    call(addr, "GET", &format!("/user/settings?{token}&rcAccountId={account}"), &none);
    let settings = json!({"userSettings": {"autoLogCall": {"value": false}, "selectedRegion": {"value": "US"}}});
    call(addr, "POST", &format!("/user/settings?{token}"), &settings);
    call(addr, "GET", &format!("/licenseStatus?{token}"), &none);
    call(addr, "GET", &format!("/authValidation?{token}"), &none);
    call(addr, "GET", &format!("/hostname?{token}"), &none);

    // Contacts.
    let found = call(
        addr,
        "GET",
        &format!("/contact?{token}&phoneNumber=+14155550123&overridingFormat=&isExtension=false"),
        &none,
    );
    let contact_id = found["contact"][0]["id"].clone();
    done.insert("findContact");
    let new_contact = json!({"phoneNumber": "+15105550111", "newContactName": "Katherine Johnson", "newContactType": "contact", "additionalSubmission": {}});
    call(addr, "POST", &format!("/contact?{token}"), &new_contact);
    done.insert("createContact");
    call(addr, "GET", &format!("/custom/contact/search?{token}&name=Katherine%20Johnson"), &none);
    done.insert("findContactWithName");

    // A call: the note typed during it, the log, its edit and disposition, read back.
    let session_id = "extension-routes-session";
    call(addr, "POST", &format!("/callLog/cacheNote?{token}"), &json!({"sessionId": session_id, "note": "Typed"}));
    done.insert("cacheCallNote");
    call(addr, "GET", &format!("/callLog?{token}&sessionIds={session_id}&requireDetails=false"), &none);
    let create = json!({"logInfo": crate::support::call_record(session_id, "+14155550123"), "contactId": contact_id,
                        "contactType": "contact", "contactName": "Grace Hopper", "note": "", "additionalSubmission": {}, "overridingFormat": []});
    call(addr, "POST", &format!("/callLog?{token}"), &create);
    done.extend(["createCallLog", "getLogFormatType"]);
    let update = json!({"sessionId": session_id, "note": "Follow up", "subject": "Pricing", "duration": 120, "result": "Call connected"});
    call(addr, "PATCH", &format!("/callLog?{token}"), &update);
    done.insert("updateCallLog");
    let disposition = json!({"sessionId": session_id, "dispositions": {"category": "sales", "note": "Follow up"}, "additionalSubmission": {}});
    call(addr, "PUT", &format!("/callDisposition?{token}"), &disposition);
    done.insert("upsertCallDisposition");
    let details = call(addr, "GET", &format!("/callLog?{token}&sessionIds={session_id}&requireDetails=true"), &none);
    assert_eq!(details["logs"][0]["logData"]["dispositions"]["category"], "sales", "{details}");
    done.insert("getCallLog");

    // A conversation: its first message creates the log, the next one updates it.
    let message = |id: &str, text: &str| {
        json!({"id": id, "direction": "Inbound", "subject": text, "creationTime": "2024-05-01T10:00:00Z",
               "from": {"phoneNumber": "+14155550123"}, "to": [{"phoneNumber": "+16505550999"}]})
    };
    let conversation = |messages: Vec<Value>| {
        json!({"logInfo": {"conversationId": "conv-1", "conversationLogId": "conv-1-day", "type": "SMS", "messages": messages,
                           "correspondents": [{"phoneNumber": "+14155550123"}]},
               "contactId": contact_id, "contactType": "contact", "contactName": "Grace Hopper", "additionalSubmission": {}})
    };
    call(addr, "POST", &format!("/messageLog?{token}"), &conversation(vec![message("m-1", "Hello")]));
    call(
        addr,
        "POST",
        &format!("/messageLog?{token}"),
        &conversation(vec![message("m-2", "Friday?"), message("m-1", "Hello")]),
    );
    done.extend(["createMessageLog", "updateMessageLog"]);

    // The admin's page: settings, user mapping through the CRM's user list, server-side logging. (`/accountData`
    // answers what a connector declares, e.g. Pipedrive's activity types: tests/it/admin.rs; the sandbox has none.)
    let admin = format!("{token}&rcAccessToken={ADMIN_TOKEN}");
    call(addr, "GET", &format!("/admin/settings?{admin}"), &none);
    let admin_settings = json!({"adminSettings": {"userSettings": {"addCallLogNote": {"value": true, "customizable": true}},
                                                  "userMappings": []}});
    call(addr, "POST", &format!("/admin/settings?{admin}"), &admin_settings);
    let extensions = json!({"rcExtensionList": [{"id": 62001, "name": "Ann Admin", "extensionNumber": "101",
                                                  "contact": {"email": "ann@acme.test"}}]});
    call(addr, "POST", &format!("/admin/userMapping?{admin}"), &extensions);
    call(addr, "POST", &format!("/admin/reinitializeUserMapping?{admin}"), &extensions);
    done.insert("getUserList");
    let logging = format!("/admin/serverLoggingSettings?{token}&rcAccountId={account}");
    call(addr, "GET", &logging, &none);
    call(addr, "POST", &logging, &json!({"additionalFieldValues": {}}));

    // Logging out; `/oauth-callback` is an OAuth connector's login (the checklist tests it against a mock CRM).
    call(addr, "POST", &format!("/unAuthorize?{token}"), &none);
    done.insert("unAuthorize");

    let advertised: Vec<&str> = interfaces
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, implemented)| **implemented == json!(true))
        .map(|(name, _)| name.as_str())
        .collect();
    for name in advertised {
        assert!(done.contains(name), "{name} is advertised but no route here ran it");
    }
    stop(child);
}
