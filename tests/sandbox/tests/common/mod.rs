//! Shared helpers: start a sandbox on port 0 and talk to it over real HTTP.

#![allow(dead_code)]

use fs_sandbox::{RunningSandbox, SandboxConfig};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub const KEY: &str = "sandbox-key";

pub struct Sb {
    pub sb: RunningSandbox,
    pub http: reqwest::Client,
    pub base: String,
    pub key: String,
}

/// A response: status, JSON body (Null when empty or not JSON), headers.
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    }

    pub fn messages(&self) -> String {
        self.body["errors"]["message"].to_string()
    }
}

pub fn seed_json() -> Value {
    json!({
        "users": [
            {"email": "pat@agency.example", "display_name": "Pat Owner", "is_active": true},
            {"email": "sam@agency.example", "display_name": "Sam Second", "is_active": false}
        ],
        "fields": {
            "contacts": [
                {"label": "Anniversary", "type": "date", "choices": []},
                {"label": "Preferred Contact", "type": "dropdown", "choices": ["Email", "Phone"]},
                {"label": "Interests", "type": "multi_select", "choices": ["Golf", "Tennis", "Chess"]},
                {"label": "Score", "type": "number"},
                {"label": "Newsletter?", "type": "checkbox"},
                {"label": "Bio", "type": "paragraph"},
                {"label": "Nickname", "type": "text"}
            ],
            "sales_accounts": [
                {"label": "Tier", "type": "dropdown", "choices": ["Gold", "Silver"]}
            ]
        },
        "contacts": [],
        "sales_accounts": []
    })
}

pub fn seeded_config() -> SandboxConfig {
    SandboxConfig {
        seed: Some(serde_json::from_value(seed_json()).expect("seed parses")),
        state_api: true,
        hourly_limit: 0,
        per_minute_limit: 0,
        ..Default::default()
    }
}

pub async fn start(config: SandboxConfig) -> Sb {
    let key = config.api_key.clone();
    let sb = fs_sandbox::start(config, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("sandbox starts");
    let base = sb.base_url();
    Sb {
        sb,
        http: reqwest::Client::new(),
        base,
        key,
    }
}

impl Sb {
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("/__sandbox") || path.starts_with("/api") {
            format!("{}{path}", self.sb.root_url())
        } else {
            format!("{}{path}", self.base)
        }
    }

    pub async fn send_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> reqwest::Result<Resp> {
        let mut req = self.http.request(method, self.url(path));
        if let Some(k) = key {
            req = req.header("Authorization", format!("Token token={k}"));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Resp {
            status,
            body,
            headers,
        })
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Resp {
        self.send_raw(method, path, body, Some(&self.key.clone()))
            .await
            .expect("request completes")
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    /// Creates a contact and returns its id.
    pub async fn contact(&self, body: Value) -> u64 {
        let r = self.post("/contacts", json!({ "contact": body })).await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["contact"]["id"].as_u64().expect("id")
    }

    /// Creates an account and returns its id.
    pub async fn account(&self, name: &str) -> u64 {
        let r = self
            .post("/sales_accounts", json!({"sales_account": {"name": name}}))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["sales_account"]["id"].as_u64().expect("id")
    }

    pub async fn state(&self) -> Value {
        let r = self.get("/__sandbox/state").await;
        assert_eq!(r.status, 200);
        r.body
    }
}
