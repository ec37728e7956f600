"""Device certificates through a real TLS listener: the cwauth CA signs a device's CSR, the broker
(require_certificate, cafile = the cwauth CA) admits the recorded, unrevoked certificate of a
certificate user without a password, and refuses everything else."""
import json
import os
import subprocess
import time

import pytest

from conftest import broker_user, free_port

MONITOR = ("monitor", "monitor-pw")


def sh(*args, cwd=None):
    proc = subprocess.run(list(map(str, args)), capture_output=True, text=True, timeout=60, cwd=cwd)
    assert proc.returncode == 0, f"{' '.join(map(str, args))}: {proc.stderr}"
    return proc


def readable_by_broker(*paths):
    user = broker_user()
    for path in paths:
        os.chmod(path, 0o644)
        if user:
            os.chown(path, user.pw_uid, user.pw_gid)


def device_csr(workdir, name, cn=None):
    key, csr = workdir / f"{name}.key", workdir / f"{name}.csr"
    sh("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
       "-keyout", key, "-out", csr, "-subj", f"/CN={cn or name}")
    return key, csr


class TLS:
    """The broker's own certificate (self-signed by openssl, for 127.0.0.1) and a TLS listener that
    requires client certificates from the cwauth CA."""

    def __init__(self, workdir, cli):
        self.workdir = workdir
        self.port = free_port()
        self.server_key, self.server_cert = workdir / "server.key", workdir / "server.pem"
        sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", self.server_key, "-out", self.server_cert, "-days", "2", "-subj", "/CN=127.0.0.1",
           "-addext", "subjectAltName=IP:127.0.0.1")
        self.ca = workdir / "cwauth-ca.pem"
        self.ca.write_text(cli("ca", "show", "--pem").stdout)
        readable_by_broker(self.server_key, self.server_cert, self.ca)

    def options(self):
        return (f"listener {self.port} 127.0.0.1\n"
                f"cafile {self.ca}\ncertfile {self.server_cert}\nkeyfile {self.server_key}\n"
                "require_certificate true\n")

    def client(self, tool, key, cert, *args):
        return [tool, "-h", "127.0.0.1", "-p", str(self.port), "--cafile", str(self.server_cert),
                "--cert", str(cert), "--key", str(key), *map(str, args)]

    def pub(self, key, cert, topic, *extra):
        return subprocess.run(self.client("mosquitto_pub", key, cert, "-t", topic, "-m", "hello", "-q", "1", *extra),
                              capture_output=True, text=True, timeout=20)


@pytest.fixture
def site(cli):
    cli("role", "add", "sensor")
    cli("role", "grant", "sensor", "sensors/%u/#", "--op", "write")
    cli("role", "add", "watcher")
    cli("role", "grant", "watcher", "#", "--op", "read")
    cli("user", "add", MONITOR[0], "--password", MONITOR[1], "--role", "watcher")
    cli("ca", "init", "--days", "30", "--cert-days", "7")
    return cli


@pytest.fixture
def tls(site, workdir):
    return TLS(workdir, site)


def issue(cli, workdir, name, *roles):
    key, csr = device_csr(workdir, name)
    cert = workdir / f"{name}.pem"
    cli("cert", "issue", name, "--csr", csr, "-o", cert, *[a for r in roles for a in ("--role", r)])
    return key, cert


def signed_outside_cwauth(tls, workdir, name, cn):
    """A certificate for `cn` that the cwauth CA key signed with openssl: TLS accepts it, cwauth never issued it."""
    key, csr = device_csr(workdir, name, cn=cn)
    cert = workdir / f"{name}.pem"
    sh("openssl", "x509", "-req", "-in", csr, "-CA", tls.ca, "-CAkey", workdir / "cwauth-ca.key", "-CAcreateserial",
       "-out", cert, "-days", "1")
    return key, cert


def monitor(broker, topic):
    return subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-u", MONITOR[0], "-P", MONITOR[1],
                             "-t", topic, "-C", "1", "-W", "10", "-v"], stdout=subprocess.PIPE, text=True)


def test_ca_key_is_private_and_show_prints_the_certificate(site, workdir):
    key = workdir / "cwauth-ca.key"
    assert key.exists() and (key.stat().st_mode & 0o777) == 0o600
    shown = site("ca", "show").stdout
    assert shown.startswith("# sha256 fingerprint: ") and "-----BEGIN CERTIFICATE-----" in shown
    fingerprint = shown.splitlines()[0].split(": ", 1)[1]
    pem = workdir / "ca.pem"
    pem.write_text(site("ca", "show", "--pem").stdout)
    openssl = sh("openssl", "x509", "-in", pem, "-noout", "-fingerprint", "-sha256").stdout
    assert openssl.strip().split("=", 1)[1] == fingerprint
    assert site.run("ca", "init").returncode != 0, "a second CA is refused"
    assert "CA key" not in site("export").stdout and "PRIVATE KEY" not in site("export").stdout


def test_issued_certificate_file_is_public_and_replaced_whole(site, workdir):
    key, cert = issue(site, workdir, "cam-file", "sensor")
    text = cert.read_text()
    assert text.startswith("-----BEGIN CERTIFICATE-----") and text.endswith("-----END CERTIFICATE-----\n")
    assert cert.stat().st_mode & 0o777 == 0o644  # a certificate is for the device and the broker to read
    printed = json.loads(site("--json", "cert", "list", "cam-file").stdout)
    assert sh("openssl", "x509", "-in", cert, "-noout", "-serial").stdout.strip().split("=", 1)[1].lower() \
        == printed[0]["serial"].lower()
    # Issued again over the same file: the new certificate replaces the old one, and nothing is left beside it.
    _, csr = device_csr(workdir, "cam-file-2", cn="cam-file")
    site("cert", "issue", "cam-file", "--csr", csr, "-o", cert)
    assert cert.read_text() != text and cert.read_text().endswith("-----END CERTIFICATE-----\n")
    assert sorted(p.name for p in workdir.iterdir() if p.name.startswith(".cam-file")) == []


def test_certificate_user_connects_without_password_and_does_what_its_roles_allow(tls, site, workdir, broker_factory):
    key, cert = issue(site, workdir, "cam-1", "sensor")
    listed = site("cert", "list", "cam-1").stdout
    assert "cam-1" in listed and "valid" in listed
    chain = sh("openssl", "verify", "-CAfile", tls.ca, cert).stdout
    assert "OK" in chain
    broker = broker_factory(site.db, tls.options())
    watch = monitor(broker, "sensors/#")
    time.sleep(0.5)
    # Its roles decide: another device's topic is denied (silently, on MQTT 3.1.1), its own is delivered.
    tls.pub(key, cert, "sensors/cam-2/temp")
    result = tls.pub(key, cert, "sensors/cam-1/temp")
    assert result.returncode == 0, result.stderr
    out, _ = watch.communicate(timeout=15)
    assert out.strip() == "sensors/cam-1/temp hello"
    assert "auth allow: cam-1 by certificate" in broker.log_text()
    # A certificate user's password login (on the plain listener) is refused.
    plain = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-u", "cam-1", "-P", "any-pass",
                            "-t", "sensors/cam-1/x", "-m", "x"], capture_output=True, text=True, timeout=20)
    assert plain.returncode != 0
    assert "cam-1 logs in with its certificate only" in broker.log_text()


def test_revoked_certificate_is_kicked_and_refused(tls, site, workdir, broker_factory):
    key, cert = issue(site, workdir, "cam-1", "sensor")
    broker = broker_factory(site.db, tls.options())
    held = subprocess.Popen(tls.client("mosquitto_sub", key, cert, "-t", "sensors/cam-1/cmd", "-W", "20"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 5
    while time.time() < deadline and "auth allow: cam-1 by certificate" not in broker.log_text():
        time.sleep(0.1)
    assert "auth allow: cam-1 by certificate" in broker.log_text()
    site("cert", "revoke", "cam-1")
    deadline = time.time() + 5
    while time.time() < deadline and "disconnecting cam-1" not in broker.log_text():
        time.sleep(0.1)
    assert "disconnecting cam-1" in broker.log_text()
    held.kill()
    held.wait()
    refused = tls.pub(key, cert, "sensors/cam-1/temp")
    assert refused.returncode != 0
    assert "revoked or was never issued" in broker.log_text()
    assert "revoked" in site("cert", "list").stdout


def test_a_certificate_from_another_ca_is_refused_by_tls(tls, site, workdir, broker_factory):
    issue(site, workdir, "cam-1", "sensor")
    other_key, other_ca = workdir / "other-ca.key", workdir / "other-ca.pem"
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
       "-keyout", other_key, "-out", other_ca, "-days", "2", "-subj", "/CN=someone else's CA")
    key, csr = device_csr(workdir, "fake-cam", cn="cam-1")
    cert = workdir / "fake-cam.pem"
    sh("openssl", "x509", "-req", "-in", csr, "-CA", other_ca, "-CAkey", other_key, "-CAcreateserial", "-out", cert, "-days", "1")
    broker = broker_factory(site.db, tls.options())
    refused = tls.pub(key, cert, "sensors/cam-1/temp")
    assert refused.returncode != 0
    assert "auth allow: cam-1" not in broker.log_text()


def test_ca_signed_but_unrecorded_certificates_and_password_users_need_more(tls, site, workdir, broker_factory):
    # Certificates the CA key signed outside cwauth (here with openssl): TLS accepts them, the plugin does not
    # unless they are the recorded ones, and a password user still needs its password.
    issue(site, workdir, "cam-1", "sensor")
    signed = lambda name, cn: signed_outside_cwauth(tls, workdir, name, cn)
    broker = broker_factory(site.db, tls.options())
    key, cert = signed("rogue-cam", "cam-1")
    assert tls.pub(key, cert, "sensors/cam-1/temp").returncode != 0
    assert "revoked or was never issued" in broker.log_text()

    key, cert = signed("monitor-cert", MONITOR[0])
    assert tls.pub(key, cert, "sensors/x").returncode != 0, "a password user cannot log in with a certificate alone"
    assert "a password user, which must send its password" in broker.log_text()
    with_password = tls.pub(key, cert, "sensors/x", "-u", MONITOR[0], "-P", MONITOR[1])
    # monitor may only read: the publish is denied, but the login itself succeeds.
    assert with_password.returncode == 0, with_password.stderr


def test_a_listener_that_skips_authentication_keeps_only_certificates_cwauth_issued(tls, site, workdir, broker_factory):
    """`use_identity_as_username` makes Mosquitto skip plugin authentication. Mosquitto 2.1 still tells the
    plugin of the connect, and cwauth disconnects every client whose certificate it did not issue to an
    enabled certificate user; 2.0 asks no plugin at all, which the broker's log says."""
    key, cert = issue(site, workdir, "cam-1", "sensor")
    revoked_key, revoked_cert = issue(site, workdir, "cam-2", "sensor")
    site("cert", "revoke", "cam-2")
    signed = lambda name, cn: signed_outside_cwauth(tls, workdir, name, cn)
    broker = broker_factory(site.db, tls.options() + "use_identity_as_username true\n")
    if "(Mosquitto 2.1)" not in broker.log_text():
        assert "a listener with use_identity_as_username admits every certificate its cafile accepts" in broker.log_text()
        pytest.skip("Mosquitto 2.0 asks no plugin on a listener with use_identity_as_username")
    watch = monitor(broker, "sensors/#")
    time.sleep(0.5)
    rogue = [signed("rogue-cam", "cam-1"), (revoked_key, revoked_cert), signed("monitor-cert", MONITOR[0]),
             signed("nobody-cert", "nobody")]
    for rogue_key, rogue_cert in rogue:
        tls.pub(rogue_key, rogue_cert, "sensors/cam-1/rogue")
    result = tls.pub(key, cert, "sensors/cam-1/temp")
    assert result.returncode == 0, result.stderr
    out, _ = watch.communicate(timeout=15)
    assert out.strip() == "sensors/cam-1/temp hello", "only the issued certificate's publish arrives"
    log = broker.log_text()
    assert "connects clients without plugin authentication" in log
    assert log.count("connected without plugin authentication and its certificate is not one cwauth issued") == len(rogue)
    assert "revoked or was never issued" in log and "no user of that name" in log and "a password user" in log
    assert "auth allow: cam-1 by certificate" in log


def test_a_csr_request_waits_for_a_ca_before_it_can_be_allowed(cli, serve, workdir):
    _, csr = device_csr(workdir, "press-7")
    cli("role", "add", "sensor")
    cli("registry", "unlock", "--minutes", "5")
    device = {"username": "press-7", "password": "press-7-secret", "csr": csr.read_text()}
    assert serve.request("POST", "/api/client-registry/register", device).status == 202
    refused = cli.run("allow", "press-7", "--role", "sensor")
    assert refused.returncode != 0
    assert "carries a CSR" in refused.stderr and "cwauth ca init, then allow again" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert [r["username"] for r in json.loads(cli("--json", "registry", "list").stdout)] == ["press-7"]
    assert "press-7" not in [u["username"] for u in json.loads(cli("--json", "user", "list").stdout)]
    cli("ca", "init")
    assert "certificate" in cli("allow", "press-7", "--role", "sensor").stdout
    assert serve.request("POST", "/api/client-registry/register", device).status == 201


def test_rest_registration_with_a_csr_gets_a_certificate_that_logs_in(tls, site, serve, workdir, broker_factory):
    key, csr = device_csr(workdir, "press-9")
    wrong_key, wrong_csr = device_csr(workdir, "press-9-wrong", cn="press-8")
    device = {"username": "press-9", "password": "press-9-secret", "csr": csr.read_text()}
    site("registry", "unlock", "--minutes", "5")
    refused = serve.request("POST", "/api/client-registry/register", {**device, "csr": wrong_csr.read_text()})
    assert refused.status == 400 and "is not the username" in refused.json["error"]
    assert serve.request("POST", "/api/client-registry/register", device).status == 202
    listed = site("registry", "list").stdout
    fingerprint = sh("sh", "-c", f"openssl req -in {csr} -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum").stdout.split()[0]
    assert f"csr key sha256: {fingerprint}" in listed
    assert "certificate" in site("allow", "press-9", "--role", "sensor").stdout
    granted = serve.request("POST", "/api/client-registry/register", device)
    assert granted.status == 201, granted
    assert granted.json["grantType"] == "certificate"
    assert granted.json["caCertificate"].strip() == tls.ca.read_text().strip()
    cert = workdir / "press-9.pem"
    cert.write_text(granted.json["certificate"])
    assert "OK" in sh("openssl", "verify", "-CAfile", tls.ca, cert).stdout
    assert "TLS Web Client Authentication" in sh("openssl", "x509", "-in", cert, "-noout", "-ext", "extendedKeyUsage").stdout
    broker = broker_factory(site.db, tls.options())
    watch = monitor(broker, "sensors/#")
    time.sleep(0.5)
    result = tls.pub(key, cert, "sensors/press-9/count")
    assert result.returncode == 0, result.stderr
    out, _ = watch.communicate(timeout=15)
    assert out.strip() == "sensors/press-9/count hello"


def test_crl_lists_revoked_certificates_for_other_consumers(tls, site, workdir, broker_factory):
    key1, cert1 = issue(site, workdir, "cam-1", "sensor")
    key2, cert2 = issue(site, workdir, "cam-2", "sensor")
    site("cert", "revoke", "cam-1")
    crl = workdir / "cwauth.crl"
    written = site("ca", "crl", "-o", crl, "--days", "3")
    assert "1 revoked certificate" in written.stdout
    # openssl checks the CA's signature and reads the entries: cam-1's serial, not cam-2's.
    text = sh("openssl", "crl", "-in", crl, "-CAfile", tls.ca, "-noout", "-text").stderr
    listing = sh("openssl", "crl", "-in", crl, "-noout", "-text").stdout
    serial = lambda cert: sh("openssl", "x509", "-in", cert, "-noout", "-serial").stdout.strip().split("=", 1)[1]
    assert "verify OK" in text
    assert f"Serial Number: {serial(cert1)}" in listing and serial(cert2) not in listing
    assert "X509v3 CRL Number" in listing
    revoked = subprocess.run(["openssl", "verify", "-crl_check", "-CAfile", tls.ca, "-CRLfile", crl, cert1],
                             capture_output=True, text=True)
    assert revoked.returncode != 0 and "certificate revoked" in revoked.stdout + revoked.stderr
    assert "OK" in sh("openssl", "verify", "-crl_check", "-CAfile", tls.ca, "-CRLfile", crl, cert2).stdout
    # A TLS stack that reads the CRL (here the broker's own listener, `crlfile`) refuses cam-1 before the
    # plugin is asked, and still admits cam-2.
    readable_by_broker(crl)
    broker = broker_factory(site.db, tls.options() + f"crlfile {crl}\n")
    assert tls.pub(key1, cert1, "sensors/cam-1/temp").returncode != 0
    ok = tls.pub(key2, cert2, "sensors/cam-2/temp")
    assert ok.returncode == 0, ok.stderr
    log = broker.log_text()
    assert "auth allow: cam-2 by certificate" in log
    assert "revoked or was never issued" not in log, "TLS refused cam-1 before the plugin saw it"
    # A second list gets a larger CRL number; a JSON caller gets the same facts.
    number = lambda: int(sh("openssl", "crl", "-in", crl, "-noout", "-crlnumber").stdout.strip().split("=", 1)[1], 16)
    first = number()
    again = json.loads(site("--json", "ca", "crl", "-o", crl).stdout)
    assert again["entries"] == 1 and again["file"] == str(crl) and "crl" not in again
    assert number() == again["number"] > first
    refused = site.run("ca", "crl", "--days", "0")
    assert refused.returncode != 0 and "CRL validity must be 1–365 days" in refused.stderr


def test_crl_needs_a_ca(cli, workdir):
    refused = cli.run("ca", "crl", "-o", workdir / "x.crl")
    assert refused.returncode != 0 and "cwauth ca init" in refused.stderr
    assert not (workdir / "x.crl").exists()
