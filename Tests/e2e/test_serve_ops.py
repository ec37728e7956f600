"""`cwauth serve` as operations see it: HTTPS with --tls-cert/--tls-key (a real TLS client that checks the
certificate), the warning for plain HTTP off loopback, GET /healthz and GET /metrics over real HTTP."""
import http.client
import os
import re
import socket
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import ADMIN, CWAUTH, HTTP


@pytest.fixture
def certificate(workdir):
    """A self-signed certificate for localhost / 127.0.0.1 and its key (PEM), made by the openssl command."""
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture
def admin_db(cli):
    cli("init", "--admin", ADMIN[0], input=ADMIN[1] + "\n")
    return cli


def serve_run(cli, *args):
    """`cwauth serve` that is expected to stop at once (a bad option or file)."""
    return subprocess.run([CWAUTH, "--db", cli.db, "serve", "--listen", "127.0.0.1:0", *map(str, args)],
                          capture_output=True, text=True, timeout=30)


def test_https_login_sets_a_secure_cookie_and_plain_http_gets_nothing(admin_db, serve_factory, certificate):
    cert, key = certificate
    server = serve_factory(admin_db.db, args=["--tls-cert", cert, "--tls-key", key], ca=cert)
    assert server.url.startswith("https://127.0.0.1:"), server.url

    # The client verifies the chain against the certificate and the name against its SAN.
    login = server.request("POST", "/api/auth/login", {"username": ADMIN[0], "password": ADMIN[1], "session": True})
    assert login.status == 200, login
    attributes = [part.strip() for part in login.headers["Set-Cookie"].split(";")]
    assert attributes[0].startswith("cwauth_session=")
    assert "Secure" in attributes and "HttpOnly" in attributes and "SameSite=Strict" in attributes
    cookie = attributes[0]
    assert server.request("GET", "/api/users", headers={"Cookie": cookie}).status == 200
    assert server.request("GET", "/api/users", auth=ADMIN).json[0]["username"] == ADMIN[0]

    # Plain HTTP to the TLS port: no HTTP answer at all, and nothing was served.
    plain = f"http://127.0.0.1:{server.port}/api/openapi.json"
    with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
        HTTP.open(plain, timeout=10).read()
    # A client that does not trust the certificate is refused by its own TLS check.
    untrusted = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.URLError) as refused:
        untrusted.open(server.url + "/healthz", timeout=10)
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)
    assert server.alive()
    assert "warning" not in server.log_text()


def test_plain_http_keeps_its_cookie_without_secure(serve):
    login = serve.request("POST", "/api/auth/login", {"username": ADMIN[0], "password": ADMIN[1], "session": True})
    assert login.status == 200
    assert "Secure" not in login.headers["Set-Cookie"]
    assert serve.url.startswith("http://127.0.0.1:")
    assert "warning" not in serve.log_text()


def test_tls_options_and_files_fail_in_one_line(cli, workdir, certificate):
    cert, key = certificate
    alone = serve_run(cli, "--tls-cert", cert)
    assert alone.returncode == 64, alone
    assert alone.stderr.count("\n") == 1
    assert alone.stderr.startswith("cwauth: error: --tls-cert and --tls-key go together: give both or neither")
    assert serve_run(cli, "--tls-key", key).returncode == 64

    missing = workdir / "nope.pem"
    gone = serve_run(cli, "--tls-cert", missing, "--tls-key", key)
    assert gone.returncode == 1
    assert gone.stderr == f"cwauth: error: --tls-cert {missing}: cannot open it (No such file or directory)\n"

    garbage = workdir / "garbage.pem"
    garbage.write_text("not a key\n")
    bad = serve_run(cli, "--tls-cert", cert, "--tls-key", garbage)
    assert bad.returncode == 1
    assert bad.stderr.startswith(f"cwauth: error: --tls-key {garbage}: not a PEM private key") and bad.stderr.count("\n") == 1

    other_key = workdir / "other-key.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-out", str(other_key)], check=True, capture_output=True, timeout=60)
    mismatch = serve_run(cli, "--tls-cert", cert, "--tls-key", other_key)
    assert mismatch.returncode == 1
    assert f"--tls-key {other_key} does not belong to the certificate" in mismatch.stderr
    assert mismatch.stderr.count("\n") == 1

    unreadable_dir = serve_run(cli, "--tls-cert", workdir, "--tls-key", key)
    assert unreadable_dir.returncode == 1 and "Is a directory" in unreadable_dir.stderr
    assert "Fatal error" not in unreadable_dir.stderr + mismatch.stderr + bad.stderr


def test_plain_http_off_loopback_warns(cli, serve_factory):
    # No admin in this database: for the moment it listens on every interface, nobody can log in.
    server = serve_factory(cli.db, listen="0.0.0.0:0")
    log = server.log_text()
    assert "cwauth: warning: plain HTTP on 0.0.0.0, not loopback: passwords, tokens and session cookies cross the network unencrypted; use --tls-cert/--tls-key" in log
    server.stop()

    behind = serve_factory(cli.db, listen="0.0.0.0:0", args=["--trusted-proxy", "127.0.0.1"])
    assert "between the proxy and this server" in behind.log_text()


def test_healthz_follows_the_database(admin_db, serve_factory):
    server = serve_factory(admin_db.db)
    ok = server.request("GET", "/healthz")
    assert ok.status == 200, ok
    assert set(ok.json) == {"status", "schemaVersion", "policyVersion"} and ok.json["status"] == "ok"
    before = ok.json["policyVersion"]
    admin_db("role", "add", "from-the-cli")
    assert server.request("GET", "/healthz").json["policyVersion"] > before

    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(admin_db.db + suffix):
            os.unlink(admin_db.db + suffix)
    gone = server.request("GET", "/healthz")
    assert gone.status == 503
    assert gone.json == {"status": "unavailable", "error": "database file missing"}
    assert "Retry-After" in gone.headers
    assert server.alive()
    assert "health: database file missing" in server.log_text()


def test_metrics_for_prometheus(admin_db, serve_factory, workdir):
    token = "3f" * 24
    token_file = workdir / "metrics-token"
    token_file.write_text(token + "\n")
    server = serve_factory(admin_db.db, args=["--metrics-token-file", token_file])

    assert server.request("GET", "/metrics").status == 401
    assert server.request("GET", "/metrics", auth="wrong-" + token).status == 401
    # The whole API is not /metrics.
    assert server.request("GET", "/metrics", auth=ADMIN).status == 403
    # The token opens /metrics and nothing else.
    assert server.request("GET", "/api/users", auth=token).status == 401

    assert server.request("GET", "/api/users/an-attackers-choice", auth=ADMIN).status == 404
    assert server.request("GET", f"/api/users/{ADMIN[0]}", auth=ADMIN).status == 200
    assert server.request("POST", "/api/auth/login", {"username": ADMIN[0], "password": "not-it"}).status == 401
    # A login is a write (its audit row), and writes are timed.
    assert server.request("POST", "/api/auth/login", {"username": ADMIN[0], "password": ADMIN[1]}).status == 200
    assert server.request("POST", "/api/client-registry/register",
                          {"username": "dev-1", "password": "dev-1-secret"}).status == 423

    scrape = server.request("GET", "/metrics", auth=token)
    assert scrape.status == 200 and scrape.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = scrape.text

    def value(series):
        match = re.search("^" + re.escape(series) + r" (\S+)$", text, re.M)
        return float(match.group(1)) if match else None

    assert value('cwauth_http_requests_total{route="/api/users/{name}",method="GET",status="404"}') == 1
    assert value('cwauth_http_requests_total{route="/api/users/{name}",method="GET",status="200"}') == 1
    assert value('cwauth_admin_logins_total{outcome="failed",via="login"}') == 1
    assert value('cwauth_admin_logins_total{outcome="ok",via="login"}') == 1
    assert value('cwauth_registry_requests_total{outcome="locked"}') == 1
    assert value("cwauth_store_write_duration_seconds_count") >= 1
    assert "an-attackers-choice" not in text and f"/api/users/{ADMIN[0]}" not in text

    bad_token = workdir / "short-token"
    bad_token.write_text("short\n")
    refused = serve_run(admin_db, "--metrics-token-file", bad_token)
    assert refused.returncode == 1 and "at least 32 are needed" in refused.stderr
