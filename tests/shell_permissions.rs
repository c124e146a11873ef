//! What the shipped desktop shell allows its page, read from its configuration: the capability that ships
//! (src-tauri/capabilities) grants no start-up-trace command, and the content security policy allows no inline
//! style. Both are checked here, at the root, because `cargo test` never builds the shell.

use serde_json::Value;
use std::path::Path;

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{} is readable: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is JSON: {e}", path.display()))
}

#[test]
fn no_shipped_capability_grants_the_startup_trace() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri/capabilities");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("the shell has a capabilities folder") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        seen += 1;
        let cap = json(&path);
        let permissions = cap["permissions"]
            .as_array()
            .unwrap_or_else(|| panic!("{} lists its permissions", path.display()));
        for p in permissions {
            // A permission is a string or {"identifier": ..}.
            let id = p
                .as_str()
                .or_else(|| p["identifier"].as_str())
                .unwrap_or("");
            assert!(
                !id.contains("startup"),
                "{} grants {id}: the start-up trace is only for a build with the startup-trace feature",
                path.display()
            );
        }
    }
    assert!(
        seen > 0,
        "the capabilities folder holds the shipped capability"
    );
}

#[test]
fn the_content_security_policy_allows_no_inline_style_or_script() {
    let conf = json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tauri.conf.json"));
    let csp = &conf["app"]["security"]["csp"];
    for directive in ["style-src", "script-src", "default-src"] {
        let value = csp[directive]
            .as_str()
            .unwrap_or_else(|| panic!("the CSP sets {directive}"));
        assert!(
            !value.contains("unsafe-inline") && !value.contains("unsafe-eval"),
            "{directive} is {value:?}: the UI's styles are files and Svelte sets dynamic ones through \
             element.style, which CSP allows, so no inline style or script needs allowing"
        );
    }
    assert!(
        conf["app"]["security"]["dangerousDisableAssetCspModification"].is_null(),
        "Tauri may add its nonces and hashes to every directive: with no 'unsafe-inline' to keep, nothing \
         needs it to hold back"
    );
}
