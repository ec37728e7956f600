"""`cwauth serve` over real HTTP — the explicit registration flow (423 → 202 → 202 → allow via the
API → 201), then the same device connects to a real Mosquitto with the plugin and, once an admin gives it a
role through the API, publishes."""
import json
import time

import pytest

from mqtt_client import Client, connect_result

DEVICE = {"username": "press-7", "password": "press-7-secret", "roles": ["press"], "context": "hall 3"}
MONITOR = ("monitor", "monitor-pw")


@pytest.fixture
def site(cli):
    cli("role", "add", "watcher")
    cli("role", "grant", "watcher", "#", "--op", "read")
    cli("role", "add", "press")
    cli("role", "grant", "press", "presses/%u/#", "--op", "write")
    cli("user", "add", MONITOR[0], "--password", MONITOR[1], "--role", "watcher")
    return cli


def register(server, body=DEVICE):
    return server.request("POST", "/api/client-registry/register", body)


def test_explicit_flow_then_mqtt(site, broker, serve):
    locked = register(serve)
    assert locked.status == 423, locked
    assert "locked" in locked.json["error"]

    unlocked = serve.as_admin("POST", "/api/client-registry/unlock", {"minutes": 5})
    assert unlocked.status == 200 and unlocked.json["open"] is True, unlocked

    first = register(serve)
    assert first.status == 202 and first.json == {"status": "pending"}, first
    time.sleep(0.6)  # the registration door allows one recorded attempt per username every 0.5 s
    again = register(serve)
    assert again.status == 202 and again.json == {"status": "pending"}, again

    status = serve.as_admin("GET", "/api/client-registry")
    [request] = status.json["pending"]
    assert request["username"] == "press-7" and request["source"] == "http"
    assert request["requestedRoles"] == ["press"] and request["requestedContext"] == "hall 3"
    assert request["attempts"] == 2 and request["conflict"] is False
    # The CLI sees the same request, with what the device asked for.
    listed = site("registry", "list").stdout
    assert "press-7" in listed and "roles: press" in listed and "context: hall 3" in listed

    # Pending is not a user: the broker still refuses it.
    assert not connect_result(broker.port, DEVICE["username"], DEVICE["password"])

    allowed = serve.as_admin("POST", "/api/client-registry/pending/press-7/allow", {})
    assert allowed.status == 201 and allowed.json["origin"] == "registry" and allowed.json["roles"] == [], allowed
    granted = register(serve)
    assert granted.status == 201 and granted.json == {"username": "press-7", "roles": []}, granted

    time.sleep(1.2)  # the plugin picks the change up on its next tick
    monitor = Client(broker.port, *MONITOR)
    assert monitor.subscribe("#")
    device = Client(broker.port, DEVICE["username"], DEVICE["password"], client_id="press-7-client")
    device.publish("presses/press-7/strokes", "before-role")
    assert monitor.received(0.7) == [], "no role yet: nothing it publishes may be delivered"

    assigned = serve.as_admin("PUT", "/api/users/press-7/roles/press")
    assert assigned.status == 200 and assigned.json["roles"] == ["press"], assigned
    assert not device.disconnected.wait(1.2), "gaining a role must not disconnect the device"
    device.publish("presses/press-7/strokes", "42")
    assert monitor.expect("presses/press-7/strokes", "42")
    device.close()
    monitor.close()

    assert register(serve).json == {"username": "press-7", "roles": ["press"]}
    audit = json.loads(site("audit", "--json", "--limit", "50").stdout)
    actions = {(e["actor"], e["action"]) for e in audit}
    assert ("http:admin", "registry.unlock") in actions
    assert ("http:admin", "registry.allow") in actions
    assert ("http:admin", "user.assign") in actions
    assert ("http", "registry.request") in actions


def test_admin_api_over_http(serve):
    assert serve.request("GET", "/api/users").status == 401
    login = serve.request("POST", "/api/auth/login", {"username": serve.admin[0], "password": serve.admin[1]})
    assert login.status == 200, login
    token = login.json["token"]
    created = serve.request("POST", "/api/users", {"username": "web-user", "password": "web-user-pw"}, auth=token)
    assert created.status == 201 and created.json["username"] == "web-user", created
    assert serve.request("POST", "/api/users", {"username": "web-user", "password": "web-user-pw"}, auth=token).status == 409
    assert serve.request("GET", "/api/users/web-user", auth=("web-user", "web-user-pw")).status == 403
    assert serve.request("POST", "/api/auth/logout", auth=token).status == 204
    assert serve.request("GET", "/api/users", auth=token).status == 401

    session = serve.request("POST", "/api/auth/login",
                            {"username": serve.admin[0], "password": serve.admin[1], "session": True})
    cookie = session.headers["Set-Cookie"].split(";")[0]
    assert "HttpOnly" in session.headers["Set-Cookie"] and "SameSite=Strict" in session.headers["Set-Cookie"]
    no_csrf = serve.request("POST", "/api/client-registry/lock", headers={"Cookie": cookie})
    assert no_csrf.status == 403 and no_csrf.json == {"error": "missing or invalid CSRF token"}
    with_csrf = serve.request("POST", "/api/client-registry/lock",
                              headers={"Cookie": cookie, "X-CSRF-Token": session.json["csrfToken"]})
    assert with_csrf.status == 200, with_csrf

    spec = serve.request("GET", "/api/openapi.json")
    assert spec.status == 200 and spec.json["openapi"].startswith("3.0")
    assert serve.alive()


def test_serve_refuses_a_missing_database(workdir):
    import subprocess
    from conftest import CWAUTH
    proc = subprocess.run([CWAUTH, "--db", str(workdir / "none.db"), "serve", "--listen", "127.0.0.1:0"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("cwauth: error: no database at")
    bad = subprocess.run([CWAUTH, "--db", str(workdir / "none.db"), "serve", "--listen", "nowhere"],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "--listen" in bad.stderr


def test_init_admin_reads_the_password_from_stdin(cli):
    made = cli("init", "--admin", "ops", input="ops-password\n")
    assert "created admin ops" in made.stdout
    user = json.loads(cli("user", "show", "ops", "--json").stdout)["user"]
    assert user["roles"] == ["admin"]
    role = json.loads(cli("role", "show", "admin", "--json").stdout)
    assert {"resource": "/api/#", "operation": "readWrite", "context": "http"} in role["permissions"]
    again = cli.run("init", "--admin", "ops", input="ops-password\n")
    assert again.returncode == 1 and "already exists" in again.stderr
    empty = cli.run("init", "--admin", "ops2", input="")
    assert empty.returncode == 1 and "no password on stdin" in empty.stderr
    short = cli.run("init", "--admin", "ops3", input="abc\n")
    assert short.returncode == 1 and "at least 5 characters" in short.stderr


SELFY = ("selfy", "selfy-pw-1")
KEEPER = ("keeper", "keeper-pw-1")


@pytest.fixture
def self_service(cli, serve):
    """`selfy` may do anything on its own path (/api/users/%u/#); `keeper` may hand out role `press` only."""
    cli("role", "add", "self-service")
    cli("role", "grant", "self-service", "/api/users/%u/#", "--op", "readWrite", "--context", "http")
    cli("role", "add", "press")
    cli("role", "grant", "press", "presses/%u/#", "--op", "write")
    cli("role", "add", "press-keeper")
    cli("role", "grant", "press-keeper", "/api/users/+/roles/press", "--op", "write", "--context", "http")
    cli("role", "grant", "press-keeper", "/api/roles/press/#", "--op", "write", "--context", "http")
    cli("user", "add", SELFY[0], "--password", SELFY[1], "--role", "self-service")
    cli("user", "add", KEEPER[0], "--password", KEEPER[1], "--role", "press-keeper")
    return serve, cli


def test_self_service_cannot_escalate(self_service):
    serve, cli = self_service
    for role in ("admin", "press"):
        reply = serve.request("PUT", f"/api/users/selfy/roles/{role}", auth=SELFY)
        assert reply.status == 403, reply
        assert f"needs an http write permission covering /api/roles/{role}" in reply.json["error"], reply
    grant = serve.request("POST", "/api/roles/self-service/permissions",
                          {"resource": "/api/#", "operation": "readWrite", "context": "http"}, auth=SELFY)
    assert grant.status == 403, grant
    made = serve.request("POST", "/api/roles", {"name": "mine", "permissions": [
        {"resource": "/api/#", "operation": "readWrite", "context": "http"}]}, auth=SELFY)
    assert made.status == 403, made
    user = json.loads(cli("user", "show", "selfy", "--json").stdout)["user"]
    assert user["roles"] == ["self-service"]
    role = json.loads(cli("role", "show", "self-service", "--json").stdout)
    assert role["permissions"] == [{"resource": "/api/users/%u/#", "operation": "readWrite", "context": "http"}]
    assert "mine" not in cli("role", "list").stdout

    # Self-service still works: its own password.
    changed = serve.request("PUT", "/api/users/selfy/password", {"password": "selfy-pw-2"}, auth=SELFY)
    assert changed.status == 204, changed
    assert serve.request("GET", "/api/users/selfy", auth=("selfy", "selfy-pw-2")).status == 200


def test_write_on_a_roles_resource_hands_out_that_role(self_service):
    serve, cli = self_service
    assigned = serve.request("PUT", "/api/users/selfy/roles/press", auth=KEEPER)
    assert assigned.status == 200 and assigned.json["roles"] == ["press", "self-service"], assigned
    assert json.loads(cli("user", "show", "selfy", "--json").stdout)["user"]["roles"] == ["press", "self-service"]
    assert serve.request("DELETE", "/api/users/selfy/roles/press", auth=KEEPER).status == 200
    # Its own role's resource is not the admin role's; and an http grant is access it does not hold.
    assert serve.request("PUT", "/api/users/keeper/roles/admin", auth=KEEPER).status == 403
    http = serve.request("POST", "/api/roles/press/permissions",
                         {"resource": "/api/users/#", "operation": "readWrite", "context": "http"}, auth=KEEPER)
    assert http.status == 403 and "does not hold" in http.json["error"], http
    mqtt = serve.request("POST", "/api/roles/press/permissions", {"resource": "presses/%u/status", "operation": "write"},
                         auth=KEEPER)
    assert mqtt.status == 200, mqtt


def test_bodies_must_be_json(serve):
    body = {"username": "typed-user", "password": "typed-pw-1"}
    for content_type in ("application/x-www-form-urlencoded", "text/plain"):
        reply = serve.request("POST", "/api/users", body, auth=serve.admin, headers={"Content-Type": content_type})
        assert reply.status == 415, reply
        assert "application/json" in reply.json["error"], reply
    # curl -d without --json sends a form: 415 on the device's door too.
    form = serve.request("POST", "/api/client-registry/register", raw=b'{"username":"dev-1","password":"dev-1-pw"}',
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status == 415, form
    charset = serve.request("POST", "/api/users", body, auth=serve.admin,
                            headers={"Content-Type": "application/json; charset=utf-8"})
    assert charset.status == 201, charset

    twice = serve.request("POST", "/api/users", auth=serve.admin,
                          raw=b'{"username":"dup-user","password":"dup-pw-1","roles":[],"roles":["admin"]}',
                          headers={"Content-Type": "application/json"})
    assert twice.status == 400 and twice.json["error"] == 'body: duplicate key "roles"', twice
    nested = serve.request("POST", "/api/roles", auth=serve.admin,
                           raw=b'{"name":"dup","permissions":[{"resource":"a/#","operation":"read","operation":"write"}]}',
                           headers={"Content-Type": "application/json"})
    assert nested.status == 400 and nested.json["error"] == 'body: duplicate key "operation" in permissions[0]', nested
    deep = serve.request("POST", "/api/users", auth=serve.admin,
                         raw=b'{"username":"deep-user","password":"deep-pw-1","x":' + b"[" * 64 + b"]" * 64 + b"}",
                         headers={"Content-Type": "application/json"})
    assert deep.status == 400 and deep.json["error"].startswith("body: nested deeper than 64 levels"), deep
    listed = serve.as_admin("GET", "/api/users").json
    assert {u["username"] for u in listed} == {"admin", "typed-user"}


def test_cli_json_and_the_api_give_the_same_shapes(site, serve):
    """One representation per concept: `--json` prints what the API serves, field for field (nulls included)."""
    assert serve.as_admin("POST", "/api/client-registry/unlock", {"minutes": 5}).status == 200
    assert register(serve).status == 202
    quiet = {"username": "press-8", "password": "press-8-secret"}  # no roles, no context: null, not ""
    assert register(serve, quiet).status == 202
    site("user", "set-prefix", MONITOR[0], "site1/")

    def cli_json(*args):
        return json.loads(site(*args, "--json").stdout)

    assert cli_json("user", "list") == serve.as_admin("GET", "/api/users").json
    assert cli_json("user", "show", MONITOR[0])["user"] == serve.as_admin("GET", f"/api/users/{MONITOR[0]}").json
    role = cli_json("role", "show", "press")
    assert role.pop("members") == [] and role == serve.as_admin("GET", "/api/roles/press").json
    assert [dict(r, members=None) for r in cli_json("role", "list")] == \
        [dict(r, members=None) for r in serve.as_admin("GET", "/api/roles").json]

    api_status = serve.as_admin("GET", "/api/client-registry").json
    cli_status = cli_json("registry", "status")
    assert cli_status.pop("rules").startswith("while the window is open")
    assert abs(cli_status.pop("secondsLeft") - api_status.pop("secondsLeft")) <= 1
    assert cli_status == api_status
    pending = {p["username"]: p for p in cli_json("registry", "list")}
    assert list(pending.values()) == api_status["pending"]
    assert pending["press-8"]["requestedContext"] is None and pending["press-7"]["requestedContext"] == "hall 3"

    assert serve.as_admin("POST", "/api/client-registry/lock").status == 200
    closed = cli_json("registry", "status")
    assert closed["openUntil"] is None and "openUntil" in serve.as_admin("GET", "/api/client-registry").json

    entries = serve.as_admin("GET", "/api/audit?limit=500").json["entries"]
    assert cli_json("audit", "--limit", "500") == entries
    assert {"id", "at", "actor", "action", "target", "detail"} == set(entries[0])


def test_a_failed_cli_command_with_json_gives_the_apis_error_object(site, serve):
    api = serve.as_admin("GET", "/api/users/ghost")
    cli = site.run("user", "show", "ghost", "--json")
    assert api.status == 404 and cli.returncode == 1
    assert json.loads(cli.stdout) == api.json == {"error": 'no user named "ghost"'}
