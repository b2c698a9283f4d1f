//! A tiny static file server on loopback for the browser test: serves one directory and
//! records every request it receives (method, path and query, Host header).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One request the server saw.
#[derive(Clone, Debug, PartialEq)]
pub struct Logged {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub host: Option<String>,
    pub status: u16,
}

/// A running server; it stops with the test process.
pub struct StaticServer {
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Logged>>>,
}

impl StaticServer {
    /// Serves `root` on 127.0.0.1 at a free port.
    pub fn start(root: &Path) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let (root, shared) = (root.to_path_buf(), log.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (root, log) = (root.clone(), shared.clone());
                std::thread::spawn(move || {
                    let _ = handle(stream, &root, &log);
                });
            }
        });
        Ok(Self { addr, log })
    }

    /// `http://127.0.0.1:PORT`
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Logged> {
        self.log.lock().unwrap().clone()
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// The file under `root` for a request target, refusing `..` and absolute escapes.
fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let relative = path.trim_start_matches('/');
    let relative = if relative.is_empty() || relative.ends_with('/') {
        format!("{relative}index.html")
    } else {
        relative.to_string()
    };
    let relative = Path::new(&relative);
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let file = root.join(relative);
    file.is_file().then_some(file)
}

fn handle(stream: TcpStream, root: &Path, log: &Mutex<Vec<Logged>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let mut host = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("host")
        {
            host = Some(value.trim().to_string());
        }
    }
    let file = (method == "GET" || method == "HEAD")
        .then(|| resolve(root, &target))
        .flatten();
    let mut stream = stream;
    let status = match file {
        Some(file) => {
            let body = std::fs::read(&file)?;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
                content_type(&file),
                body.len()
            );
            stream.write_all(head.as_bytes())?;
            if method == "GET" {
                stream.write_all(&body)?;
            }
            200
        }
        None => {
            let body = b"not found";
            let head = format!(
                "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes())?;
            stream.write_all(body)?;
            404
        }
    };
    stream.flush()?;
    log.lock().unwrap().push(Logged {
        method,
        target,
        host,
        status,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_files_and_logs_requests() {
        let dir = std::env::temp_dir().join(format!("static-server-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("models")).unwrap();
        std::fs::write(dir.join("index.html"), "<p>hi</p>").unwrap();
        std::fs::write(dir.join("models/a.bin"), [1u8, 2, 3]).unwrap();
        let server = StaticServer::start(&dir).unwrap();
        let get = |path: &str| {
            let mut stream = TcpStream::connect(server.addr).unwrap();
            write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut response = Vec::new();
            std::io::Read::read_to_end(&mut stream, &mut response).unwrap();
            String::from_utf8_lossy(&response).to_string()
        };
        assert!(get("/?a=1").contains("<p>hi</p>"));
        assert!(get("/models/a.bin").starts_with("HTTP/1.1 200"));
        assert!(get("/../Cargo.toml").starts_with("HTTP/1.1 404"));
        assert!(get("/missing").starts_with("HTTP/1.1 404"));
        let log = server.requests();
        assert_eq!(log.len(), 4);
        assert!(log.iter().any(|l| l.target == "/?a=1" && l.status == 200));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
