//! The MLflow client over HTTPS with MLflow's authentication variables: a stand-in server
//! (Python's `http.server` behind `ssl`, with the test certificate of `fixtures/tls/`) answers
//! the experiment lookup and records the `Authorization` header it receives. The client trusts
//! the server through `MLFLOW_TRACKING_SERVER_CERT_PATH`, refuses it without (unknown issuer),
//! accepts it with `MLFLOW_TRACKING_INSECURE_TLS`, and sends the bearer token or the basic
//! credentials MLflow's clients send.

use hposim_runner::mlflow::{Connection, Mlflow};
use hposim_runner::spec::MlflowSpec;
use hposim_runner::tracker::Tracker;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const SERVER: &str = r#"
import http.server, json, ssl, sys
folder, log = sys.argv[1], sys.argv[2]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, "a") as f:
            f.write(self.headers.get("Authorization", "-") + "\n")
        body = json.dumps({"experiment": {"experiment_id": "7"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(folder + "/server.pem", folder + "/server.key")
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls")
}

/// The stand-in server, ended when dropped.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path) -> Server {
    let log = dir.join("authorization.log");
    let mut child = Command::new("python3")
        .args(["-c", SERVER])
        .arg(fixtures())
        .arg(&log)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    let mut line = String::new();
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("the server's stdout"));
    BufReader::new(stdout).read_line(&mut line).unwrap_or_else(|e| panic!("{e}"));
    let port = line.trim().parse().unwrap_or_else(|e| panic!("the server's port {line:?}: {e}"));
    Server { child, port, log }
}

fn lookup(server: &Server, connection: &Connection) -> Result<(), String> {
    let spec = MlflowSpec { tracking_uri: format!("https://127.0.0.1:{}", server.port), experiment: Some("e".into()) };
    let mut client = Mlflow::connect(&spec, "study", connection)?;
    client.begin_study("study", "asha", "cell")
}

fn headers(server: &Server) -> Vec<String> {
    std::fs::read_to_string(&server.log).unwrap_or_default().lines().map(str::to_owned).collect()
}

#[test]
fn https_with_the_servers_authority_a_token_or_basic_credentials() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let server = serve(dir.path());
    let trusted = |c: Connection| Connection { server_cert: Some(fixtures().join("ca.pem")), ..c };
    lookup(&server, &trusted(Connection { token: Some("s3cret".into()), ..Connection::default() })).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(headers(&server), ["Bearer s3cret"]);
    lookup(&server, &trusted(Connection { basic: Some(("ada".into(), "pw:1".into())), ..Connection::default() }))
        .unwrap_or_else(|e| panic!("{e}"));
    // base64("ada:pw:1")
    assert_eq!(headers(&server)[1], "Basic YWRhOnB3OjE=");
    // Without the authority the certificate is refused; with verification off it is accepted.
    let refused = lookup(&server, &Connection::default()).err().unwrap_or_default();
    assert!(refused.to_lowercase().contains("certificate") || refused.to_lowercase().contains("issuer"), "{refused}");
    lookup(&server, &Connection { insecure: true, ..Connection::default() }).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(headers(&server).len(), 3, "the refused lookup never reached the server");
}

#[test]
fn the_environment_variables_mlflows_clients_read() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    };
    let c = Connection::from_env(env(&[
        ("MLFLOW_TRACKING_TOKEN", "t"),
        ("MLFLOW_TRACKING_SERVER_CERT_PATH", "/ca.pem"),
        ("MLFLOW_TRACKING_CLIENT_CERT_PATH", "/client.pem"),
        ("MLFLOW_TRACKING_INSECURE_TLS", "true"),
    ]));
    assert_eq!(c.token.as_deref(), Some("t"));
    assert_eq!(c.server_cert.as_deref(), Some(Path::new("/ca.pem")));
    assert_eq!(c.client_cert.as_deref(), Some(Path::new("/client.pem")));
    assert!(c.insecure);
    let c = Connection::from_env(env(&[
        ("MLFLOW_TRACKING_USERNAME", "u"),
        ("MLFLOW_TRACKING_PASSWORD", "p"),
        ("MLFLOW_TRACKING_INSECURE_TLS", "false"),
    ]));
    assert_eq!(c.basic, Some(("u".into(), "p".into())));
    assert!(!c.insecure && c.token.is_none());
    // Unreadable or empty certificate files are refused up front, naming the variable.
    let spec = MlflowSpec { tracking_uri: "https://127.0.0.1:1".into(), experiment: None };
    let missing = Connection { server_cert: Some("/no/such/ca.pem".into()), ..Connection::default() };
    let error = Mlflow::connect(&spec, "s", &missing).err().unwrap_or_default();
    assert!(error.starts_with("MLFLOW_TRACKING_SERVER_CERT_PATH: cannot read /no/such/ca.pem"), "{error}");
    let keyless = Connection { client_cert: Some(fixtures().join("server.pem")), ..Connection::default() };
    let error = Mlflow::connect(&spec, "s", &keyless).err().unwrap_or_default();
    assert!(error.contains("holds no private key"), "{error}");
}
