//! Attachments over HTTP: what identifies her is gone before a file is stored, files are sealed
//! at rest, only she adds them, handlers' reads are audited and shown to her, and bad files are
//! refused with the field named.

mod common;

use common::{TestApp, get_json, send};
use serde_json::{Value, json};

fn seg(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xFF, marker];
    v.extend_from_slice(&u16::try_from(body.len() + 2).expect("len").to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A photo as a phone writes it: JFIF, EXIF with GPS and the camera, then the image.
fn photo() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8];
    v.extend(seg(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    v.extend(seg(
        0xE1,
        b"Exif\0\0MM\0*GPSLatitude 43.2389 GPSLongitude 76.8897 Samsung SM-A515F",
    ));
    v.extend(seg(0xDB, &[0u8; 65]));
    v.extend(seg(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
    v.extend(seg(0xDA, &[1, 1, 0, 0, 63, 0]));
    v.extend_from_slice(&[0x12, 0x34, 0x56, 0x78]);
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

fn has(h: &[u8], n: &[u8]) -> bool {
    h.windows(n.len()).any(|w| w == n)
}

fn form(bytes: Vec<u8>, name: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    )
}

async fn file_report(app: &TestApp, c: &reqwest::Client, mode: &str) -> String {
    let (s, r) = send(c.post(app.url("/api/v1/reports")).json(&json!({
        "mode": mode, "types": ["physical.assault"], "perpetrator": "patient",
        "occurred_local": "2026-03-21T03:00", "narrative": "He hit me; photo attached."
    })))
    .await;
    assert_eq!(s, 201, "{r}");
    r["id"].as_str().expect("id").to_owned()
}

both!(
    a_photo_loses_its_gps_and_camera_before_it_is_stored,
    |app| {
        let worker = app.login("worker").await;
        let investigator = app.login("investigator").await;
        let id = file_report(&app, &worker, "named").await;
        let url = app.url(&format!("/api/v1/reports/{id}/attachments"));

        let r = worker
            .post(&url)
            .multipart(form(photo(), "IMG_20260321_Aigerim.jpg"))
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status(), 201);
        let a: Value = r.json().await.expect("json");
        assert_eq!(a["name"], "attachment-1.jpg", "her file's name is not kept");
        assert_eq!(a["content_type"], "image/jpeg");
        let att = a["id"].as_str().expect("att").to_owned();

        // Sealed at rest: the database holds neither the image nor what was removed.
        let row = app
            .db
            .fetch_one(
                "SELECT sealed FROM report_attachments WHERE report_id = $1",
                qorgau::args![uuid::Uuid::parse_str(&id).expect("uuid")],
            )
            .await
            .expect("row");
        let sealed: Vec<u8> = row.get("sealed").expect("sealed");
        assert!(!has(&sealed, b"JFIF") && !has(&sealed, b"GPS"));

        // What handlers get: the image without the metadata; their read is in her access log.
        let (s, list) = get_json(&investigator, url.clone()).await;
        assert_eq!(s, 200);
        assert_eq!(list[0]["id"], att.as_str());
        let r = investigator
            .get(app.url(&format!("/api/v1/reports/{id}/attachments/{att}")))
            .send()
            .await
            .expect("download");
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/jpeg");
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .expect("cd")
                .starts_with("attachment;")
        );
        let body = r.bytes().await.expect("bytes");
        assert!(!has(&body, b"GPSLatitude") && !has(&body, b"Samsung"));
        assert!(has(&body, &[0x12, 0x34, 0x56, 0x78]) && has(&body, b"JFIF"));
        let (_, log) = get_json(
            &worker,
            app.url(&format!("/api/v1/reports/{id}/access-log")),
        )
        .await;
        assert!(log.to_string().contains("report.attachment.read"), "{log}");

        // Only she adds files; outside the scope nothing is found.
        let r = investigator
            .post(&url)
            .multipart(form(photo(), "x.jpg"))
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status(), 404);
        let guard = app.login("security_guard").await;
        let (s, _) = get_json(
            &guard,
            app.url(&format!("/api/v1/reports/{id}/attachments/{att}")),
        )
        .await;
        assert_eq!(s, 404);

        // Bad files: the field is named.
        for (bytes, name) in [
            (b"just some text".to_vec(), "note.txt"),
            (vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00], "broken.jpg"),
        ] {
            let r = worker
                .post(&url)
                .multipart(form(bytes, name))
                .send()
                .await
                .expect("upload");
            assert_eq!(r.status(), 422, "{name}");
            let p: Value = r.json().await.expect("problem");
            assert_eq!(p["errors"][0]["field"], "file", "{name}");
        }
        let r = worker
            .post(&url)
            .multipart(reqwest::multipart::Form::new().text("other", "x"))
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status(), 422);
        // Over the limit. A client of its own: the server answers 413 without reading the rest
        // and closes that connection, which a pooled client would try to reuse.
        let big = vec![0xFFu8; 10 * 1024 * 1024 + 128 * 1024];
        let once = app.fresh_login("worker").await;
        let r = once
            .post(&url)
            .multipart(form(big, "big.jpg"))
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status(), 413);
        let r = worker
            .post(&url)
            .json(&json!({"file": "x"}))
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status(), 400, "not multipart");

        // At most ten.
        for _ in 0..9 {
            let r = worker
                .post(&url)
                .multipart(form(photo(), "p.jpg"))
                .send()
                .await
                .expect("upload");
            assert_eq!(r.status(), 201);
        }
        let r = worker
            .post(&url)
            .multipart(form(photo(), "p.jpg"))
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status(), 422);

        // The page form.
        let other = file_report(&app, &worker, "confidential").await;
        let r = worker
            .post(app.url(&format!("/reports/{other}/attachments")))
            .multipart(form(photo(), "p.jpg"))
            .send()
            .await
            .expect("page upload");
        assert_eq!(r.status(), 303);
        assert_eq!(
            r.headers()["location"],
            format!("/reports/{other}?done=attached").as_str()
        );
    }
);

both!(an_anonymous_reporter_attaches_with_her_receipt, |app| {
    let facility = app.demo_facility().await;
    let anon = app.client();
    let (s, r) = send(
        anon.post(app.url("/api/v1/reports/anonymous"))
            .json(&json!({
                "types": ["physical.assault"], "perpetrator": "patient", "facility_id": facility,
                "occurred_local": "2026-03-21T03:00", "narrative": "Hit in the corridor."
            })),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let receipt = r["receipt"].as_str().expect("receipt").to_owned();
    let url = app.url("/api/v1/reports/anonymous/attachments");
    let with = |receipt: &str| form(photo(), "me.jpg").text("receipt", receipt.to_owned());
    let r = anon
        .post(&url)
        .multipart(with("0000000000000000"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 404);
    let r = anon
        .post(&url)
        .multipart(with(&receipt))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 201);
    let a: Value = r.json().await.expect("json");
    assert!(
        a["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with("T00:00:00Z")),
        "the day only: {a}"
    );
    let (s, v) = send(
        anon.post(app.url("/api/v1/reports/anonymous/lookup"))
            .json(&json!({"receipt": receipt})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["attachments"][0]["name"], "attachment-1.jpg");
});
