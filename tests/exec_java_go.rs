//! Java and Go programs under `awsguard exec`, with their standard HTTP stacks and no set-up of
//! their own. The JDK ignores `HTTPS_PROXY`: exec gives it the proxy and a trust store (system
//! roots plus the awsguard CA) through `JAVA_TOOL_OPTIONS`, which `HttpsURLConnection` and
//! `java.net.http.HttpClient` (its default proxy selector) follow. Go's `net/http` reads
//! `HTTPS_PROXY` and `SSL_CERT_FILE` itself. Each program calls STS (moto over TLS under its
//! amazonaws.com name) and must be captured: its calls recorded and the exit code and summary
//! right. Programs are compiled at test time; without `javac` or `go` a test says so and passes
//! (tools/test installs both, so CI runs them).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// `awsguard exec` routing AWS hosts to moto (trusting `pki`), `extra` options, then `cmd`.
fn exec(dir: &Path, pki: &Pki, moto: &Moto, extra: &[&str], cmd: &[&str]) -> Output {
    run(Command::new(env!("CARGO_BIN_EXE_awsguard"))
        .arg("exec")
        .arg("--ca-dir")
        .arg(dir.join("ca"))
        .arg("--events")
        .arg(dir.join("events.jsonl"))
        .arg("--connect-to")
        .arg(format!("*.amazonaws.com=127.0.0.1:{}", moto.port))
        .arg("--upstream-ca")
        .arg(&pki.ca_pem)
        .args(extra)
        .arg("--")
        .args(cmd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir))
}

fn api_calls(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["eventType"] == "api-call")
        .collect()
}

fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("-version")
        .output()
        .or_else(|_| Command::new(program).arg("version").output())
        .is_ok()
}

/// GetCallerIdentity twice: with `HttpsURLConnection`, then with a default `HttpClient`. The
/// `Authorization` header names STS in its scope (moto routes by it; nothing checks the
/// signature).
const JAVA_PROGRAM: &str = r#"
import java.io.OutputStream;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.HttpsURLConnection;

public class StsCall {
    static final String URL_TEXT = "https://sts.us-east-1.amazonaws.com/";
    static final String FORM = "Action=GetCallerIdentity&Version=2011-06-15";
    static final String AUTH = "AWS4-HMAC-SHA256 Credential=AKIA2OGYBAH6TESTKEY7/20250101/"
        + "us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00";

    static String account(String xml) {
        Matcher m = Pattern.compile("<Account>(\\d+)</Account>").matcher(xml);
        return m.find() ? m.group(1) : "none";
    }

    public static void main(String[] args) throws Exception {
        HttpsURLConnection c = (HttpsURLConnection) new URL(URL_TEXT).openConnection();
        c.setRequestMethod("POST");
        c.setDoOutput(true);
        c.setRequestProperty("Content-Type", "application/x-www-form-urlencoded");
        c.setRequestProperty("Authorization", AUTH);
        try (OutputStream out = c.getOutputStream()) {
            out.write(FORM.getBytes("UTF-8"));
        }
        String first = new String(c.getInputStream().readAllBytes(), "UTF-8");
        System.out.println("urlconnection=" + c.getResponseCode() + " account=" + account(first));
        HttpRequest request = HttpRequest.newBuilder(URI.create(URL_TEXT))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", AUTH)
            .POST(HttpRequest.BodyPublishers.ofString(FORM))
            .build();
        HttpResponse<String> response =
            HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
        System.out.println("httpclient=" + response.statusCode() + " " + response.version()
            + " account=" + account(response.body()));
    }
}
"#;

#[test]
fn java_https_url_connection_and_http_client_are_captured() {
    if !installed("javac") {
        eprintln!("skipped: javac is not installed (tools/test installs default-jdk-headless)");
        return;
    }
    let pki = upstream_pki();
    let moto = start_moto(&pki);
    let build = tempfile::tempdir().unwrap();
    std::fs::write(build.path().join("StsCall.java"), JAVA_PROGRAM).unwrap();
    let javac = run(Command::new("javac")
        .arg("-d")
        .arg(build.path())
        .arg(build.path().join("StsCall.java")));
    assert_eq!(javac.status, 0, "{}", javac.stderr);
    let classpath = build.path().to_str().unwrap();
    let java = ["java", "-cp", classpath, "StsCall"];

    let dir = tempfile::tempdir().unwrap();
    let out = exec(dir.path(), &pki, &moto, &[], &java);
    assert_eq!(out.status, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        [
            "urlconnection=200 account=123456789012",
            "httpclient=200 HTTP_2 account=123456789012"
        ],
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("awsguard: 2 AWS calls"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("no connection through the proxy"),
        "{}",
        out.stderr
    );
    let calls = api_calls(dir.path());
    assert_eq!(calls.len(), 2, "{calls:?}");
    for call in &calls {
        assert_eq!(call["eventName"], "GetCallerIdentity");
        assert_eq!(call["requestHost"], "sts.us-east-1.amazonaws.com");
        assert_eq!(call["responseStatus"], 200);
        assert_eq!(call["userIdentity"]["accessKeyId"], "AKIA…KEY7");
    }
    assert!(calls[0]["userAgent"].as_str().unwrap().starts_with("Java/"));

    // The findings of captured calls decide the exit code: STS has a FIPS endpoint there.
    let dir = tempfile::tempdir().unwrap();
    let out = exec(
        dir.path(),
        &pki,
        &moto,
        &["--fail-on", "non-fips-endpoint"],
        &java,
    );
    assert_eq!(out.status, 3, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(api_calls(dir.path()).len(), 2);
}

/// GetCallerIdentity with `net/http`'s default client (HTTP/2 when the server offers it).
const GO_PROGRAM: &str = r#"
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
)

func main() {
	form := strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15")
	req, _ := http.NewRequest("POST", "https://sts.us-east-1.amazonaws.com/", form)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIA2OGYBAH6TESTKEY7/20250101/"+
		"us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	body, _ := io.ReadAll(resp.Body)
	account := "none"
	if m := regexp.MustCompile(`<Account>(\d+)</Account>`).FindSubmatch(body); m != nil {
		account = string(m[1])
	}
	fmt.Printf("status=%d %s account=%s\n", resp.StatusCode, resp.Proto, account)
}
"#;

#[test]
fn go_net_http_is_captured() {
    if !installed("go") {
        eprintln!("skipped: go is not installed (tools/test installs golang-go)");
        return;
    }
    let pki = upstream_pki();
    let moto = start_moto(&pki);
    let build = tempfile::tempdir().unwrap();
    std::fs::write(build.path().join("main.go"), GO_PROGRAM).unwrap();
    let program = build.path().join("stscall");
    // Standard library only: no module download is allowed or needed.
    let go = run(Command::new("go")
        .arg("build")
        .arg("-o")
        .arg(&program)
        .arg(build.path().join("main.go"))
        .env("GOPROXY", "off")
        .env("GOFLAGS", "")
        .env("HOME", build.path())
        .env("GOPATH", build.path().join("gopath"))
        .env("GOCACHE", build.path().join("gocache")));
    assert_eq!(go.status, 0, "{}", go.stderr);

    let dir = tempfile::tempdir().unwrap();
    let out = exec(dir.path(), &pki, &moto, &[], &[program.to_str().unwrap()]);
    assert_eq!(out.status, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout.trim(),
        "status=200 HTTP/2.0 account=123456789012",
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("awsguard: 1 AWS call"),
        "{}",
        out.stderr
    );
    let calls = api_calls(dir.path());
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["eventName"], "GetCallerIdentity");
    assert_eq!(calls[0]["responseStatus"], 200);
    assert!(calls[0]["userAgent"]
        .as_str()
        .unwrap()
        .starts_with("Go-http-client/"));
}
