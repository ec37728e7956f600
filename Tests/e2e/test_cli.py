"""The built `cwauth` binary as an operator and a script use it — exit codes, the lines it
prints, and a database that an error never touches. No broker needed."""
import base64
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from conftest import CLI, CWAUTH

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SPEC_EXAMPLE = FIXTURES / "spec-example.yaml"
PLANT = FIXTURES / "plant.json"
CLEAR_PASSWORDS = ["s3cret-pass", "anna-pass-1", "gw-01-pass", "retired-pass"]

EXIT_ERROR, EXIT_DENIED, EXIT_USAGE = 1, 3, 64


# ---------------------------------------------------------------- helpers

def run(*args, env=None, cwd=None, input=None):
    """`cwauth args…` exactly as given (no --db added); standard input is `input`, else empty (never the
    terminal pytest may run on, where cwauth would ask for a password)."""
    return subprocess.run([CWAUTH, *map(str, args)], capture_output=True, text=True, timeout=60,
                          env=env, cwd=cwd, input=input if input is not None else "")


def env_without_db(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("CWAUTH_DB", "SUDO_USER")}
    env.update(extra)
    return env


def assert_error(proc, *needles, code=EXIT_ERROR, json_output=False):
    """One line on stderr with the CLI's prefix, naming every needle; nothing on stdout — or, for a
    command run with --json (`json_output`), the same message as the API's error object on stdout."""
    assert proc.returncode == code, f"exit {proc.returncode}, wanted {code}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, f"wanted one line on stderr, got {len(lines)}:\n{proc.stderr}"
    assert lines[0].startswith("cwauth: error: "), lines[0]
    for needle in needles:
        assert str(needle) in lines[0], f"{needle!r} not in {lines[0]!r}"
    assert "Traceback" not in proc.stderr and "Fatal error" not in proc.stderr
    if json_output:
        assert json.loads(proc.stdout) == {"error": lines[0].removeprefix("cwauth: error: ")}, proc.stdout
    else:
        assert proc.stdout == ""
    return lines[0]


def db_files(db):
    """Bytes of the database and of any journal beside it, read after the command has exited."""
    db = Path(db)
    state = {}
    for suffix in ("", "-wal", "-journal"):
        p = Path(str(db) + suffix)
        state[suffix or "db"] = p.read_bytes() if p.exists() else None
    return state


def write(path, text):
    path.write_text(text)
    return path


def verifies(encoded, password):
    """Checks a Mosquitto `$7$ITERATIONS$SALT$HASH` (PBKDF2-HMAC-SHA512) independently of cwauth."""
    _, kind, iterations, salt, digest = encoded.split("$")
    assert kind == "7"
    digest = base64.b64decode(digest)
    return hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(iterations), len(digest)) == digest


def exported(cli, fmt="json"):
    return cli("export", "--format", fmt).stdout


def user_hash(cli, username):
    users = json.loads(exported(cli))["users"]
    return next(u["passwordHash"] for u in users if u["username"] == username)


def users_json(cli):
    return {u["username"]: u for u in json.loads(cli("user", "list", "--json").stdout)}


def fresh_cli(workdir, name):
    other = CLI(workdir / name)
    other("init")
    return other


@pytest.fixture
def example(cli):
    """The spec's YAML example applied."""
    cli("apply", SPEC_EXAMPLE)
    return cli


# ---------------------------------------------------------------- check: the spec's example

@pytest.mark.parametrize("topic, op, code, decided_by", [
    ("factory/l1/telemetry/t", "write", 0, "(role sensor-writer, permission write factory/+/telemetry/#)"),
    ("factory/l1/status", "write", 3, None),
    ("devices/sensor-17/cmd", "read", 0, "(role sensor-writer, permission read devices/%u/cmd)"),
    ("devices/other/cmd", "read", 3, None),
])
def test_spec_example_decisions(example, topic, op, code, decided_by):
    proc = example.run("check", "sensor-17", topic, "--op", op)
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert proc.stderr == ""
    if code == 0:
        assert proc.stdout == f"allowed: sensor-17 may {op} {topic} {decided_by}\n"
    else:
        assert proc.stdout.startswith(f"denied: sensor-17 may not {op} {topic} (")


def test_apply_reports_what_it_created(cli):
    out = cli("apply", SPEC_EXAMPLE).stdout
    assert out == (f"applied {SPEC_EXAMPLE}: roles 1 created, 0 updated, 0 unchanged; "
                   "users 1 created, 0 updated, 0 unchanged\n")


def test_check_json_names_role_and_permission(example):
    allowed = example.run("check", "sensor-17", "factory/l1/telemetry/t", "--op", "write", "--json")
    assert allowed.returncode == 0
    assert json.loads(allowed.stdout) == {
        "allowed": True, "username": "sensor-17", "topic": "factory/l1/telemetry/t", "access": "write",
        "role": "sensor-writer", "checkedTopic": "factory/l1/telemetry/t",
        "permission": {"resource": "factory/+/telemetry/#", "operation": "write", "context": "mqtt"}}
    denied = example.run("check", "sensor-17", "devices/other/cmd", "--op", "read", "--json")
    assert denied.returncode == 3
    body = json.loads(denied.stdout)
    assert body["allowed"] is False and body["access"] == "read" and body.get("role") is None
    assert "no permission" in body["reason"]


def test_check_is_the_brokers_decision_with_prefix_and_shared_subscriptions(example):
    example("role", "add", "site-writer")
    example("role", "grant", "site-writer", "site1/sensors/%u/#", "--op", "write")
    example("user", "add", "pfx-1", "--password", "pfx-pass-1", "--role", "site-writer", "--publish-prefix", "site1/")
    # The broker checks a publish behind the prefix: sensors/pfx-1/t becomes site1/sensors/pfx-1/t.
    ok = example.run("check", "pfx-1", "sensors/pfx-1/t", "--op", "write")
    assert ok.returncode == 0, ok.stdout
    assert ok.stdout == ("allowed: pfx-1 may write sensors/pfx-1/t (checked as site1/sensors/pfx-1/t) "
                         "(role site-writer, permission write site1/sensors/%u/#)\n")
    assert example.run("check", "pfx-1", "site1/sensors/pfx-1/t", "--op", "write").returncode == 3
    # $share/GROUP/ is not part of the topic space: the filter behind it is what must be covered.
    example("role", "add", "jobs")
    example("role", "grant", "jobs", "jobs/#", "--op", "read")
    example("user", "add", "worker-1", "--password", "worker-pass", "--role", "jobs")
    shared = example.run("check", "worker-1", "$share/g1/jobs/#", "--op", "read")
    assert shared.returncode == 0 and "(checked as jobs/#)" in shared.stdout, shared.stdout
    assert example.run("check", "worker-1", "$share/g1/other/#", "--op", "read").returncode == 3


def test_control_characters_stored_by_older_versions_are_printed_spelled_out(cli):
    cli("role", "add", "legacy")
    with sqlite3.connect(cli.db) as db:
        db.execute("INSERT INTO permissions(role_id, resource, operation, context) "
                   "SELECT id, ?, 'read', 'mqtt' FROM roles WHERE name = 'legacy'", ("plant/\x1b[2J\x07/x",))
    shown = cli("role", "show", "legacy")
    assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout
    assert "plant/\\u{1b}[2J\\u{7}/x" in shown.stdout
    assert json.loads(cli("role", "show", "legacy", "--json").stdout)["permissions"][0]["resource"] == "plant/\x1b[2J\x07/x"


def test_grant_adds_up_and_revoke_op_takes_one_part_away(cli):
    cli("role", "add", "ops")
    assert cli("role", "grant", "ops", "plant/#", "--op", "read").stdout == "granted read on plant/# to role ops\n"
    assert cli("role", "grant", "ops", "plant/#", "--op", "write").stdout == \
        "granted write on plant/# to role ops: now readWrite (was read)\n"
    assert "unchanged" in cli("role", "grant", "ops", "plant/#", "--op", "read").stdout
    assert cli("role", "revoke", "ops", "plant/#", "--op", "read").stdout == "revoked read on plant/# from role ops: now write\n"
    role = json.loads(cli("role", "show", "ops", "--json").stdout)
    assert [(p["resource"], p["operation"]) for p in role["permissions"]] == [("plant/#", "write")]
    # Only write is left: there is no read to take away, which is not an error (see test_cli_habits.py).
    assert cli("role", "revoke", "ops", "plant/#", "--op", "read").stdout == \
        "role ops does not have read on plant/# (only write): unchanged\n"
    assert cli("role", "revoke", "ops", "plant/#").stdout == "revoked plant/# from role ops\n"


def test_check_client_id_subscribe_filters_and_disabled_users(example):
    example("role", "grant", "sensor-writer", "gw/%c/#", "--op", "write")
    assert example.run("check", "sensor-17", "gw/sensor-17-a/x", "--op", "write", "--client-id", "sensor-17-a").returncode == 0
    assert example.run("check", "sensor-17", "gw/sensor-17-a/x", "--op", "write", "--client-id", "sensor-17-b").returncode == 3
    # %c stands only for the user's own client ids: the username, or it followed by - _ . : / @ and more.
    foreign = example.run("check", "sensor-17", "gw/cid-1/x", "--op", "write", "--client-id", "cid-1")
    assert foreign.returncode == 3 and "client id cid-1 is not sensor-17's own, so %c matches nothing" in foreign.stdout
    example("user", "add", "sensor", "--password", "sensor-pass")
    # The longest username owns a client id: sensor-17-a is sensor-17's, not sensor's.
    taken = example.run("check", "sensor", "gw/sensor-17-a/x", "--op", "write", "--client-id", "sensor-17-a")
    assert taken.returncode == 3 and taken.stdout == ("denied: sensor may not write gw/sensor-17-a/x (client id sensor-17-a "
                                                      "belongs to user sensor-17: the broker refuses sensor's connection)\n")
    # A SUBSCRIBE filter must be covered as a whole: devices/+/cmd reaches other users' commands.
    sub = example.run("check", "sensor-17", "devices/+/cmd", "--op", "read")
    assert sub.returncode == 3 and sub.stdout.startswith("denied: sensor-17 may not subscribe devices/+/cmd")
    assert_error(example.run("check", "sensor-17", "factory/#", "--op", "write"), "factory/#", "wildcard")
    example("user", "disable", "sensor-17")
    off = example.run("check", "sensor-17", "factory/l1/telemetry/t", "--op", "write")
    assert off.returncode == 3 and "disabled" in off.stdout


# ---------------------------------------------------------------- apply is idempotent and atomic

def audit(cli):
    return json.loads(cli("audit", "--json", "--limit", "1000").stdout)


def test_applying_the_same_file_twice_changes_nothing(example):
    before, audit_before, export_before = db_files(example.db), audit(example), exported(example, "yaml")
    second = example("apply", SPEC_EXAMPLE)
    assert second.stdout == f"applied {SPEC_EXAMPLE}: nothing to change\n"
    assert db_files(example.db) == before
    assert audit(example) == audit_before
    assert exported(example, "yaml") == export_before
    summary = json.loads(example("apply", SPEC_EXAMPLE, "--json").stdout)
    assert summary["rolesUnchanged"] == ["sensor-writer"] and summary["usersUnchanged"] == ["sensor-17"]
    assert summary["rolesCreated"] == summary["rolesUpdated"] == summary["usersCreated"] == summary["usersUpdated"] == []


def test_apply_updates_only_what_changed(example, workdir):
    old_hash = user_hash(example, "sensor-17")
    changed = write(workdir / "changed.yaml", SPEC_EXAMPLE.read_text().replace(
        '{ resource: "devices/%u/cmd", operation: read, context: mqtt }',
        '{ resource: "devices/%u/cmd", operation: readWrite, context: mqtt }'))
    out = example("apply", changed).stdout
    assert "roles 0 created, 1 updated, 0 unchanged; users 0 created, 0 updated, 1 unchanged" in out
    assert user_hash(example, "sensor-17") == old_hash  # same clear password: not re-hashed
    assert example.run("check", "sensor-17", "devices/sensor-17/cmd", "--op", "write").returncode == 0
    new_pw = write(workdir / "pw.yaml", SPEC_EXAMPLE.read_text().replace("s3cret-pass", "n3w-secret-pass"))
    assert "users 0 created, 1 updated" in example("apply", new_pw).stdout
    assert verifies(user_hash(example, "sensor-17"), "n3w-secret-pass")
    assert not verifies(user_hash(example, "sensor-17"), "s3cret-pass")


def test_apply_reads_standard_input(cli):
    out = cli("apply", "-", "--format", "yaml", input=SPEC_EXAMPLE.read_text()).stdout
    assert "roles 1 created" in out
    assert cli.run("check", "sensor-17", "factory/l1/telemetry/t", "--op", "write").returncode == 0


def test_apply_is_all_or_nothing(example, workdir):
    doc = write(workdir / "half.yaml", """\
roles:
  - name: new-role
    permissions: [ { resource: "x/#", operation: readWrite } ]
users:
  - username: new-user
    password: "new-user-pass"
    roles: [new-role]
  - username: other-user
    password: "other-user-pass"
    roles: [ghost-role]
""")
    before = db_files(example.db)
    assert_error(example.run("apply", doc), str(doc), "users[1]", "ghost-role")
    assert db_files(example.db) == before
    assert_error(example.run("role", "show", "new-role"), "new-role")
    assert_error(example.run("user", "show", "new-user"), "new-user")


# ---------------------------------------------------------------- export → apply round trip

CASES = [  # (user, topic, op, client id)
    ("op-anna", "plant/p1/status", "read", ""),
    ("op-anna", "plant/p1/status", "write", ""),
    ("op-anna", "plant/+/status", "read", ""),
    ("op-anna", "plant/#", "read", ""),
    ("op-anna", "plant/op-anna/setpoint", "write", ""),
    ("op-anna", "plant/op-anna/setpoint", "read", ""),
    ("op-anna", "plant/gw-01/setpoint", "write", ""),
    ("gw-01", "gw/c-9/data/1", "write", "c-9"),
    ("gw-01", "gw/c-9/data/1", "write", "c-8"),
    ("gw-01", "$SYS/broker/uptime", "read", ""),
    ("gw-01", "$SYS/broker/clients", "read", ""),
    ("gw-01", "plant/gw-01/setpoint", "write", ""),
    ("retired", "plant/p1/status", "read", ""),
    ("imported", "plant/p1/status", "read", ""),
    ("imported", "anything", "write", ""),
    ("sensor-17", "factory/l1/telemetry/t", "write", ""),
    ("sensor-17", "devices/sensor-17/cmd", "read", ""),
    ("sensor-17", "devices/other/cmd", "read", ""),
]


def decisions(cli):
    out = []
    for user, topic, op, client_id in CASES:
        proc = cli.run("check", user, topic, "--op", op, "--client-id", client_id)
        assert proc.returncode in (0, 3), proc.stderr
        out.append((proc.returncode, proc.stdout))
    return out


@pytest.fixture
def rich(example, workdir):
    """Several roles and users built through every path: apply (YAML and JSON), commands, a ready hash."""
    example("apply", PLANT)
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(workdir / "pw"), "imported", "imported-pass"], check=True)
    example("passwd-import", workdir / "pw", "--role", "empty-role")
    example("user", "set-prefix", "op-anna", "line/7/")
    return example


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_export_applies_to_a_fresh_database_with_the_same_decisions(rich, workdir, fmt):
    text = exported(rich, fmt)
    assert "$7$" in text
    for clear in CLEAR_PASSWORDS + ["imported-pass"]:
        assert clear not in text
    doc = write(workdir / f"export.{fmt}", text)
    copy = fresh_cli(workdir, f"copy-{fmt}.db")
    out = copy("apply", doc).stdout
    assert "roles 4 created" in out and "users 5 created" in out
    assert decisions(copy) == decisions(rich)
    assert exported(copy, fmt) == text
    assert exported(copy, "yaml" if fmt == "json" else "json") == exported(rich, "yaml" if fmt == "json" else "json")
    assert users_json(copy)["retired"]["enabled"] is False
    assert users_json(copy)["gw-01"]["publishPrefix"] == "site1/"
    assert users_json(copy)["op-anna"]["publishPrefix"] == "line/7/"


def test_exported_hashes_are_mosquitto_format_and_verify(rich):
    users = {u["username"]: u for u in json.loads(exported(rich))["users"]}
    assert all("password" not in u for u in users.values())
    assert verifies(users["sensor-17"]["passwordHash"], "s3cret-pass")
    assert verifies(users["gw-01"]["passwordHash"], "gw-01-pass")
    assert users["imported"]["passwordHash"].startswith("$7$101$")  # mosquitto_passwd's hash kept as it was
    assert verifies(users["imported"]["passwordHash"], "imported-pass")


def test_export_to_a_file(rich, workdir):
    target = workdir / "out.yaml"
    proc = rich("export", "-o", target)
    assert proc.stdout == ""
    assert target.read_text() == exported(rich, "yaml")
    assert target.stat().st_mode & 0o077 == 0  # hashes are secrets: owner only


# ---------------------------------------------------------------- apply errors leave the database alone

@pytest.mark.parametrize("bad", ["a/#/b", "a/b#", "a/+x/c", "#/a"])
def test_invalid_filter_is_named_and_the_database_is_untouched(example, workdir, bad):
    doc = write(workdir / "bad.yaml", f"""\
roles:
  - name: fine-role
    permissions: [ {{ resource: "ok/#", operation: read }} ]
  - name: broken-role
    permissions:
      - {{ resource: "x/y", operation: write }}
      - {{ resource: "{bad}", operation: write }}
""")
    before = db_files(example.db)
    line = assert_error(example.run("apply", doc), f'"{bad}"', str(doc), "roles[1].permissions[1]")
    assert "invalid topic filter" in line
    assert db_files(example.db) == before


def test_invalid_filter_in_json_is_named_too(example, workdir):
    doc = write(workdir / "bad.json", json.dumps(
        {"roles": [{"name": "r", "permissions": [{"resource": "a/#/b", "operation": "read"}]}]}))
    before = db_files(example.db)
    assert_error(example.run("apply", doc), '"a/#/b"', str(doc))
    assert db_files(example.db) == before


MALFORMED = [
    # (file name, content, fragments the one error line must contain)
    ("tab.yaml", "roles:\n  - name: r1\n\tpermissions: []\n", [":3:", "not valid YAML"]),
    ("flow.yaml", "roles:\n  - name: r1\n    permissions: [ {resource: x\nusers: []\n", ["not valid YAML", "line 3"]),
    ("dupkey.yaml", "roles:\n  - name: r1\n    name: r2\n", [":2:", "not valid YAML", 'repeats the key "name"']),
    ("comma.json", '{\n  "roles": [],\n  "users": [\n    {"username": "abc" "password": "abcdef"}\n  ]\n}\n',
     [":4:", "not valid JSON"]),
    ("brace.json", '{"roles": [\n  {"name": "r1",\n   "permissions": [}\n]}\n', [":3:", "not valid JSON"]),
    ("truncated.json", '{"roles": [', ["not valid JSON"]),
    ("unknown.yaml", "roles:\n  - name: r1\n    perms: []\n", ['unknown field "perms"', "roles[0].perms"]),
    ("unknown.json", '{"roles": [], "users": [{"username": "abc", "password": "abcdef", "colour": "red"}]}',
     ['unknown field "colour"', "users[0].colour"]),
    ("toplevel.yaml", "roles: []\ngroups: []\n", ['unknown field "groups"']),
    ("both.yaml", 'users:\n  - username: u1234\n    password: "abcdefg"\n    passwordHash: "$7$101$YWJj$ZGVm"\n',
     ["users[0]", "password", "passwordHash", "not both"]),
    ("badhash.yaml", 'users:\n  - username: u1234\n    passwordHash: "plain"\n', ["users[0]", "passwordHash"]),
    ("costlyhash.yaml", 'users:\n  - username: u1234\n    passwordHash: "$7$10000000$YWFhYWFhYWFhYWFh$YQ=="\n',
     ["users[0]", "passwordHash", "iteration count 10000000 outside 1...20000"]),
    ("nulpass.yaml", 'users:\n  - username: u1234\n    password: "alice-pass\\0junk"\n', ["users[0]", "may not contain NUL"]),
    ("substitution.yaml", 'roles:\n  - name: r\n    permissions: [ { resource: "a%u/b", operation: read } ]\n',
     ["roles[0].permissions[0]", "%u and %c stand only for a whole level"]),
    ("control.json", '{"roles": [{"name": "r", "permissions": [{"resource": "a/\\u001b[31m", "operation": "read"}]}]}',
     ["roles[0].permissions[0]", "control characters (U+001B)"]),
    ("nopass.yaml", "users:\n  - username: u1234\n", ["users[0]", "u1234", "password"]),
    ("shortpass.yaml", "users:\n  - username: u1234\n    password: abc\n", ["users[0]", "password"]),
    ("badname.yaml", "users:\n  - username: a/b/c\n    password: abcdef\n", ["users[0]", '"a/b/c"']),
    ("badop.yaml", 'roles:\n  - name: r\n    permissions: [ { resource: "x", operation: delete } ]\n',
     ["roles[0].permissions[0].operation", "delete"]),
    ("twice.yaml", "roles:\n  - name: r\n  - name: r\n", ["roles[1]", '"r"', "twice"]),
    ("type.json", '{"roles": 5}', ["roles", "list"]),
]


@pytest.mark.parametrize("name, content, fragments", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_files_are_refused_with_file_and_place(example, workdir, name, content, fragments):
    doc = write(workdir / name, content)
    before = db_files(example.db)
    assert_error(example.run("apply", doc), str(doc), *fragments)
    assert db_files(example.db) == before


def test_unreadable_apply_file(example, workdir):
    missing = workdir / "nope.yaml"
    assert_error(example.run("apply", missing), f"cannot read {missing}")
    binary = workdir / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00roles")
    assert_error(example.run("apply", binary), str(binary), "UTF-8")


# ---------------------------------------------------------------- the database file itself

COMMANDS_ON_A_DATABASE = [
    ["user", "list"], ["user", "show", "sensor-17"], ["role", "list"], ["export"], ["audit"],
    ["check", "sensor-17", "a/b", "--op", "read"], ["registry", "status"], ["registry", "unlock"],
    ["role", "add", "r1"], ["user", "add", "u1234", "--password", "abcdef"], ["apply", SPEC_EXAMPLE],
]


@pytest.mark.parametrize("args", COMMANDS_ON_A_DATABASE, ids=lambda a: " ".join(map(str, a[:2])))
def test_missing_database_is_named_and_not_created(workdir, args):
    db = workdir / "absent" / "cwauth.db"
    db.parent.mkdir()
    assert_error(run("--db", db, *args), f"no database at {db}", "cwauth init")
    assert list(db.parent.iterdir()) == []


@pytest.mark.parametrize("args", COMMANDS_ON_A_DATABASE + [["init"]], ids=lambda a: " ".join(map(str, a[:2])))
def test_a_file_that_is_not_sqlite_is_refused_untouched(workdir, args):
    db = workdir / "garbage.db"
    db.write_bytes(b"this is not a database\n" * 200)
    assert_error(run("--db", db, *args), str(db), "not a cwauth database")
    assert db.read_bytes() == b"this is not a database\n" * 200
    assert sorted(p.name for p in workdir.iterdir()) == ["garbage.db"]


@pytest.fixture
def foreign_db(workdir):
    db = workdir / "inventory.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE parts (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO parts (name) VALUES ('bolt'), ('nut')")
    conn.close()
    return db


@pytest.mark.parametrize("args", COMMANDS_ON_A_DATABASE + [["init"]], ids=lambda a: " ".join(map(str, a[:2])))
def test_another_programs_sqlite_database_is_refused_untouched(foreign_db, args):
    before = db_files(foreign_db)
    assert_error(run("--db", foreign_db, *args), str(foreign_db), "not a cwauth database")
    assert db_files(foreign_db) == before
    with sqlite3.connect(foreign_db) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("parts",)]
    conn.close()


def test_init_is_safe_to_repeat(example):
    before = db_files(example.db)
    out = example("init").stdout
    assert out == f"{example.db} is already initialized\n"
    assert db_files(example.db) == before
    assert example.run("check", "sensor-17", "factory/l1/telemetry/t", "--op", "write").returncode == 0


# ---------------------------------------------------------------- unknown names and bad arguments

UNKNOWN = [
    (["user", "show", "ghost"], 'no user named "ghost"'),
    (["user", "passwd", "ghost", "--password", "abcdef"], 'no user named "ghost"'),
    (["user", "rm", "ghost"], 'no user named "ghost"'),
    (["user", "enable", "ghost"], 'no user named "ghost"'),
    (["user", "disable", "ghost"], 'no user named "ghost"'),
    (["user", "set-prefix", "ghost", "p/"], 'no user named "ghost"'),
    (["user", "assign", "ghost", "sensor-writer"], 'no user named "ghost"'),
    (["user", "assign", "sensor-17", "ghost-role"], 'no role named "ghost-role"'),
    (["user", "unassign", "sensor-17", "ghost-role"], 'no role named "ghost-role"'),
    (["user", "add", "u1234", "--password", "abcdef", "--role", "ghost-role"], '"ghost-role"'),
    (["role", "show", "ghost-role"], 'no role named "ghost-role"'),
    (["role", "rm", "ghost-role"], 'no role named "ghost-role"'),
    (["role", "grant", "ghost-role", "a/b", "--op", "read"], 'no role named "ghost-role"'),
    (["role", "revoke", "ghost-role", "a/b"], 'no role named "ghost-role"'),
    (["check", "ghost", "a/b", "--op", "read"], 'no user named "ghost"'),
    (["allow", "ghost"], '"ghost"'),
    (["deny", "ghost"], '"ghost"'),
    (["user", "add", "sensor-17", "--password", "abcdef"], '"sensor-17" already exists'),
    (["role", "add", "sensor-writer"], '"sensor-writer" already exists'),
]


@pytest.mark.parametrize("args, needle", UNKNOWN, ids=[" ".join(a[:3]) for a, _ in UNKNOWN])
def test_unknown_or_duplicate_names_are_named(example, args, needle):
    example("role", "add", "spare")
    before = db_files(example.db)
    assert_error(example.run(*args), needle)
    assert db_files(example.db) == before


BAD_VALUES = [  # rejected by cwauth's own rules: exit 1
    (["user", "add", "a/bc", "--password", "abcdef"], 'invalid username "a/bc"'),
    (["user", "add", "a+bc", "--password", "abcdef"], 'invalid username "a+bc"'),
    (["user", "add", "a#bc", "--password", "abcdef"], 'invalid username "a#bc"'),
    (["user", "add", "has space", "--password", "abcdef"], 'invalid username "has space"'),
    (["user", "add", "tab\tname", "--password", "abcdef"], "invalid username"),
    (["user", "add", "ab", "--password", "abcdef"], 'invalid username "ab": must be 3 to 256 characters'),
    (["user", "add", "x" * 257, "--password", "abcdef"], "must be 3 to 256 characters"),
    (["user", "add", "u1234", "--password", "abc"], "invalid password"),
    (["user", "add", "u1234"], "--password"),
    (["user", "add", "u1234", "--password", "abcdef", "--password-hash", "$7$1$YQ==$YQ=="], "only one of"),
    (["user", "add", "u1234", "--password-hash", "not-a-hash"], "--password-hash"),
    (["user", "add", "u1234", "--password", "abcdef", "--publish-prefix", "a/#"], 'invalid publish prefix "a/#"'),
    (["user", "set-prefix", "sensor-17", "a/+"], 'invalid publish prefix "a/+"'),
    (["user", "set-prefix", "sensor-17"], "--clear"),
    (["role", "add", "bad role"], 'invalid role name "bad role"'),
    (["role", "grant", "sensor-writer", "a/#/b", "--op", "read"], '"a/#/b"'),
    (["role", "grant", "sensor-writer", "a+/b", "--op", "write"], '"a+/b"'),
    # %u and %c stand only for a whole level; inside one they would be stored as literal text.
    (["role", "grant", "sensor-writer", "a%u/b", "--op", "write"], 'invalid permission resource "a%u/b": %u and %c stand only for a whole level'),
    (["role", "grant", "sensor-writer", "gw/%c-x", "--op", "write"], '"gw/%c-x"'),
    (["role", "grant", "sensor-writer", "a/\x1b[2Jb", "--op", "read"], "control characters (U+001B)"),
    (["user", "set-prefix", "sensor-17", "site\x07/"], "control characters (U+0007)"),
    # One CONNECT naming a user costs one verification of that user's hash: its cost has a ceiling.
    (["user", "add", "u1234", "--password-hash", "$7$10000000$YWFhYWFhYWFhYWFh$" + "YQ==" * 1], "iteration count 10000000 outside 1...20000"),
    (["user", "add", "u1234", "--password-hash", "$7$101$" + base64.b64encode(b"s" * 65).decode() + "$YQ=="], "salt longer than 64 bytes"),
    (["user", "add", "u1234", "--password-hash", "$7$101$YWFh$" + base64.b64encode(b"h" * 128).decode()], "hash longer than 64 bytes"),
    (["registry", "unlock", "--minutes", "0"], "--minutes"),
    (["registry", "unlock", "--minutes", "61"], "--minutes"),
    (["registry", "unlock", "--seconds", "100000"], "60 minutes"),
    (["registry", "unlock", "--minutes", "1", "--seconds", "5"], "not both"),
    (["check", "sensor-17", "a/#", "--op", "write"], "a/#"),
]


@pytest.mark.parametrize("args, needle", BAD_VALUES, ids=[" ".join(a[:3]) for a, _ in BAD_VALUES])
def test_bad_values_are_errors(example, args, needle):
    before = db_files(example.db)
    assert_error(example.run(*args), needle)
    assert db_files(example.db) == before


USAGE = [  # rejected by the argument parser: exit 64, still one line
    (["check", "sensor-17", "a/b", "--op", "foo"], ["'foo'", "--op", "read", "write"]),
    (["check", "sensor-17", "a/b"], ["--op"]),
    (["check", "sensor-17"], ["<topic>"]),
    (["role", "grant", "sensor-writer", "a/b", "--op", "readwrite"], ["'readwrite'", "readWrite"]),
    (["role", "grant", "sensor-writer", "a/b", "--op", "read", "--context", "ftp"], ["'ftp'"]),
    (["user", "add"], ["<username>"]),
    (["user", "assign", "sensor-17"], ["<role>"]),
    (["user", "frobnicate", "x"], ["'frobnicate'"]),  # the typo is named, not the --db given before it
    (["frobnicate"], ["'frobnicate'"]),
    (["usr", "list", "--json"], ["'usr'"]),
    (["export", "--format", "xml"], ["'xml'"]),
    (["audit", "--limit", "many"], ["'many'"]),
    (["registry", "unlock", "--minutes", "five"], ["'five'"]),
    (["user", "list", "--colour"], ["--colour"]),
]


@pytest.mark.parametrize("args, needles", USAGE, ids=[" ".join(a) for a, _ in USAGE])
def test_usage_errors_exit_64_with_one_line(example, args, needles):
    before = db_files(example.db)
    line = assert_error(example.run(*args), *needles, code=EXIT_USAGE, json_output="--json" in args)
    assert re.search(r"\(see 'cwauth [a-z -]*--help'\)$", line), line
    assert db_files(example.db) == before


JSON_ERRORS = [  # with --json a failure is also {"error": MESSAGE} on stdout; the exit status is unchanged
    (["user", "show", "ghost", "--json"], EXIT_ERROR, 'no user named "ghost"'),
    (["check", "ghost", "a/b", "--op", "read", "--json"], EXIT_ERROR, 'no user named "ghost"'),
    (["--json", "role", "rm", "ghost-role"], EXIT_ERROR, 'no role named "ghost-role"'),
    (["user", "add", "sensor-17", "--password", "abcdef", "--json"], EXIT_ERROR, '"sensor-17" already exists'),
    (["registry", "unlock", "--minutes", "61", "--json"], EXIT_ERROR, "--minutes must be between 1 and 60"),
    (["user", "add", "a/bc", "--password", "abcdef", "--json"], EXIT_ERROR, 'invalid username "a/bc"'),
    (["registry", "unlock", "--minutes", "five", "--json"], EXIT_USAGE, "'five'"),
    (["user", "add", "--json"], EXIT_USAGE, "<username>"),
    (["check", "sensor-17", "a/b", "--op", "foo", "--json"], EXIT_USAGE, "'foo'"),
]


@pytest.mark.parametrize("args, code, needle", JSON_ERRORS, ids=[" ".join(a[:3]) for a, _, _ in JSON_ERRORS])
def test_json_errors_are_the_apis_error_object_on_stdout(example, args, code, needle):
    before = db_files(example.db)
    proc = example.run(*args)
    assert_error(proc, needle, code=code, json_output=True)
    assert proc.stdout.startswith("{") and list(json.loads(proc.stdout)) == ["error"]
    assert db_files(example.db) == before


def test_json_after_double_dash_is_an_operand_not_the_flag(example):
    # `--` ends the options: "--json" here is a username, so the error stays plain.
    assert_error(example.run("user", "show", "--", "--json"), 'no user named "--json"')
    assert json.loads(example.run("--json", "user", "show", "--", "sensor-17").stdout)["user"]["username"] == "sensor-17"


def test_help_and_version_still_print_and_succeed():
    helped = run("--help")
    assert helped.returncode == 0 and "USAGE" in helped.stdout and "check" in helped.stdout
    sub = run("role", "grant", "--help")
    assert sub.returncode == 0 and "readWrite" in sub.stdout
    version = run("--version")
    assert version.returncode == 0 and re.fullmatch(r"\d+\.\d+\.\d+\S*\n", version.stdout)


# ---------------------------------------------------------------- users, roles, registry

def test_user_lifecycle(example):
    assert example("role", "add", "viewer").stdout == "created role viewer\n"
    example("role", "grant", "viewer", "plant/#", "--op", "read")
    out = example("user", "add", "dev-42", "--password-stdin", "--role", "viewer", input="first-pass-42\nignored\n")
    assert out.stdout == "created user dev-42\n"
    listed = users_json(example)
    assert set(listed) == {"sensor-17", "dev-42"}
    dev = listed["dev-42"]
    assert set(dev) == {"username", "enabled", "roles", "publishPrefix", "origin", "createdAt", "updatedAt"}
    assert dev["enabled"] is True and dev["roles"] == ["viewer"] and dev["publishPrefix"] is None
    assert dev["origin"] == "manual" and listed["sensor-17"]["origin"] == "apply"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", dev["createdAt"])
    assert verifies(user_hash(example, "dev-42"), "first-pass-42")
    assert "first-pass-42" not in example("user", "show", "dev-42").stdout

    assert example("user", "passwd", "dev-42", "--password-stdin", input="second-pass-42\n").stdout == \
        "password changed for dev-42\n"
    assert verifies(user_hash(example, "dev-42"), "second-pass-42")
    assert not verifies(user_hash(example, "dev-42"), "first-pass-42")
    assert_error(example.run("user", "passwd", "dev-42", "--password-stdin", input=""), "standard input")

    example("user", "disable", "dev-42")
    assert users_json(example)["dev-42"]["enabled"] is False
    assert example.run("check", "dev-42", "plant/a", "--op", "read").returncode == 3
    example("user", "enable", "dev-42")
    assert example.run("check", "dev-42", "plant/a", "--op", "read").returncode == 0

    assert example("user", "assign", "dev-42", "sensor-writer").stdout == "assigned role sensor-writer to dev-42\n"
    assert users_json(example)["dev-42"]["roles"] == ["sensor-writer", "viewer"]
    assert example.run("check", "dev-42", "devices/dev-42/cmd", "--op", "read").returncode == 0
    example("user", "unassign", "dev-42", "viewer")
    assert users_json(example)["dev-42"]["roles"] == ["sensor-writer"]
    assert example.run("check", "dev-42", "plant/a", "--op", "read").returncode == 3

    example("user", "set-prefix", "dev-42", "site9/")
    assert users_json(example)["dev-42"]["publishPrefix"] == "site9/"
    shown = json.loads(example("user", "show", "dev-42", "--json").stdout)
    assert shown["user"]["publishPrefix"] == "site9/"
    assert shown["permissions"]["sensor-writer"][0]["resource"] in ("devices/%u/cmd", "factory/+/telemetry/#")
    example("user", "set-prefix", "dev-42", "--clear")
    assert users_json(example)["dev-42"]["publishPrefix"] is None

    assert example("user", "rm", "dev-42").stdout == "removed user dev-42\n"
    assert_error(example.run("user", "show", "dev-42"), 'no user named "dev-42"')
    assert set(users_json(example)) == {"sensor-17"}


def test_user_add_with_every_option(example):
    example("user", "add", "quiet-dev", "--password", "quiet-pass", "--role", "sensor-writer",
            "--publish-prefix", "q/", "--disabled")
    u = users_json(example)["quiet-dev"]
    assert (u["enabled"], u["roles"], u["publishPrefix"]) == (False, ["sensor-writer"], "q/")
    ready = user_hash(example, "sensor-17")
    example("user", "add", "twin-dev", "--password-hash", ready)
    assert user_hash(example, "twin-dev") == ready


def test_role_lifecycle(example):
    example("role", "add", "line-ops")
    assert example("role", "grant", "line-ops", "line/+/state", "--op", "read").stdout == \
        "granted read on line/+/state to role line-ops\n"
    example("role", "grant", "line-ops", "line/%u/cmd", "--op", "write")
    example("role", "grant", "line-ops", "shared/#", "--op", "readWrite")
    example("user", "assign", "sensor-17", "line-ops")
    shown = json.loads(example("role", "show", "line-ops", "--json").stdout)
    assert shown["name"] == "line-ops" and shown["members"] == ["sensor-17"]
    assert sorted((p["resource"], p["operation"], p["context"]) for p in shown["permissions"]) == [
        ("line/%u/cmd", "write", "mqtt"), ("line/+/state", "read", "mqtt"), ("shared/#", "readWrite", "mqtt")]
    table = example("role", "show", "line-ops").stdout
    assert "members: sensor-17" in table and "shared/#" in table
    listed = {r["name"]: r for r in json.loads(example("role", "list", "--json").stdout)}
    assert set(listed) == {"sensor-writer", "line-ops"} and len(listed["line-ops"]["permissions"]) == 3
    assert example.run("check", "sensor-17", "shared/x", "--op", "write").returncode == 0

    assert example("role", "revoke", "line-ops", "shared/#").stdout == "revoked shared/# from role line-ops\n"
    assert example.run("check", "sensor-17", "shared/x", "--op", "write").returncode == 3
    assert example.run("check", "sensor-17", "line/sensor-17/cmd", "--op", "write").returncode == 0

    assert example("role", "rm", "line-ops").stdout == "removed role line-ops (held by sensor-17)\n"
    assert users_json(example)["sensor-17"]["roles"] == ["sensor-writer"]
    assert example.run("check", "sensor-17", "line/sensor-17/cmd", "--op", "write").returncode == 3
    assert_error(example.run("role", "show", "line-ops"), '"line-ops"')


def test_registry_window_commands(cli):
    status_lines = cli("registry", "status").stdout.splitlines()
    assert status_lines[0] == "closed, 0 pending"
    assert status_lines[1].startswith("rules: while the window is open") and "at least 5 characters" in status_lines[1]
    assert json.loads(cli("registry", "list", "--json").stdout) == []
    assert cli("registry", "list").stdout.split() == ["USERNAME", "CLIENT", "ID", "ADDRESS", "FIRST", "SEEN",
                                                      "LAST", "SEEN", "ATTEMPTS", "STATUS"]
    out = cli("registry", "unlock", "--seconds", "30").stdout
    assert out.startswith("registry unlocked for 30s (until ")
    status = json.loads(cli("registry", "status", "--json").stdout)
    assert status["open"] is True and 0 < status["secondsLeft"] <= 30 and status["pending"] == []
    assert cli("registry", "status").stdout.startswith("open: ")
    assert cli("registry", "lock").stdout == "registry locked\n"
    status = json.loads(cli("registry", "status", "--json").stdout)
    assert status["open"] is False and status["secondsLeft"] == 0
    assert cli("registry", "unlock", "--minutes", "2").stdout.startswith("registry unlocked for 2m 0s")
    assert cli("registry", "unlock").stdout.startswith("registry unlocked for 5m 0s")  # the default
    cli("registry", "unlock", "--seconds", "1")
    deadline = time.time() + 10
    while json.loads(cli("registry", "status", "--json").stdout)["open"] and time.time() < deadline:
        time.sleep(0.25)
    assert cli("registry", "status").stdout.startswith("closed, 0 pending\n")  # closed by itself


# ---------------------------------------------------------------- passwd-import

def test_passwd_import_of_a_real_mosquitto_passwd_file(cli, workdir):
    pwfile = workdir / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(pwfile), "plc-a", "plc-a-pass"], check=True)
    subprocess.run(["mosquitto_passwd", "-b", str(pwfile), "plc-b", "plc-b-pass"], check=True)
    assert_error(cli.run("check", "plc-a", "plc/a", "--op", "write"), 'no user named "plc-a"')

    assert cli("passwd-import", pwfile).stdout == f"imported {pwfile}: 2 created, 0 updated, 0 skipped (already exist)\n"
    hashes = dict(line.split(":", 1) for line in pwfile.read_text().split())
    assert user_hash(cli, "plc-a") == hashes["plc-a"] and user_hash(cli, "plc-b") == hashes["plc-b"]
    denied = cli.run("check", "plc-a", "plc/a", "--op", "write")
    assert denied.returncode == 3 and "no roles" in denied.stdout  # may connect, may do nothing

    cli("role", "add", "plc")
    cli("role", "grant", "plc", "plc/#", "--op", "write")
    cli("user", "assign", "plc-a", "plc")
    allowed = cli.run("check", "plc-a", "plc/a", "--op", "write")
    assert allowed.returncode == 0 and "(role plc, permission write plc/#)" in allowed.stdout
    assert cli.run("check", "plc-b", "plc/a", "--op", "write").returncode == 3

    assert "0 created, 0 updated, 2 skipped" in cli("passwd-import", pwfile).stdout
    subprocess.run(["mosquitto_passwd", "-b", str(pwfile), "plc-b", "plc-b-new"], check=True)
    assert "0 created, 2 updated, 0 skipped" in cli("passwd-import", pwfile, "--update").stdout
    assert verifies(user_hash(cli, "plc-b"), "plc-b-new")
    assert users_json(cli)["plc-a"]["roles"] == ["plc"]  # --update changes the password, not the roles


def test_passwd_import_with_role_and_bad_lines(cli, workdir):
    pwfile = workdir / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(pwfile), "plc-c", "plc-c-pass"], check=True)
    cli("role", "add", "plc")
    cli("passwd-import", pwfile, "--role", "plc")
    assert users_json(cli)["plc-c"]["roles"] == ["plc"]

    bad = write(workdir / "bad-passwd", pwfile.read_text().replace("plc-c", "plc-d") + "no-colon-here\n")
    before = db_files(cli.db)
    assert_error(cli.run("passwd-import", bad), f"{bad}:2", "user:hash")
    bad_user = write(workdir / "bad-user", "a/b:" + pwfile.read_text().split(":", 1)[1])
    assert_error(cli.run("passwd-import", bad_user), f"{bad_user}:1", '"a/b"')
    bad_hash = write(workdir / "bad-hash", "plc-e:plaintext\n")
    assert_error(cli.run("passwd-import", bad_hash), f"{bad_hash}:1")
    costly = write(workdir / "costly", "plc-e:$7$10000000$YWFhYWFhYWFhYWFh$" + base64.b64encode(b"h" * 64).decode() + "\n")
    assert_error(cli.run("passwd-import", costly), f"{costly}:1", "iteration count 10000000 outside 1...20000")
    assert_error(cli.run("passwd-import", pwfile.with_name("plc-d"), "--role", "plc"), "cannot read")
    assert_error(cli.run("passwd-import", write(workdir / "ok", pwfile.read_text().replace("plc-c", "plc-f")),
                         "--role", "ghost-role"), '"ghost-role"')
    assert db_files(cli.db) == before


# ---------------------------------------------------------------- audit and where the database is

def test_audit_names_the_operator(workdir):
    db = workdir / "audited.db"
    env = env_without_db(USER="ops-alice", LOGNAME="ops-alice")
    assert run("--db", db, "init", env=env).returncode == 0
    assert run("--db", db, "role", "add", "audited-role", env=env).returncode == 0
    assert run("--db", db, "user", "add", "aud-user", "--password", "aud-pass", env=env).returncode == 0
    sudo = dict(env, SUDO_USER="ops-bob")
    assert run("--db", db, "user", "assign", "aud-user", "audited-role", env=sudo).returncode == 0
    entries = json.loads(run("--db", db, "audit", "--json", env=env).stdout)
    assert [(e["actor"], e["action"], e["target"]) for e in entries] == [
        ("cli:ops-bob", "user.assign", "aud-user"),
        ("cli:ops-alice", "user.add", "aud-user"),
        ("cli:ops-alice", "role.add", "audited-role"),
        ("cli:ops-alice", "init", str(db)),
    ]
    assert all("aud-pass" not in json.dumps(e) for e in entries)
    assert len(json.loads(run("--db", db, "audit", "--json", "--limit", "2", env=env).stdout)) == 2
    table = run("--db", db, "audit", env=env).stdout.splitlines()
    assert table[0].split() == ["AT", "ACTOR", "ACTION", "SUBJECT", "DETAIL"]
    assert "cli:ops-bob" in table[1] and "user.assign" in table[1]


def test_database_location_flag_env_and_default(workdir):
    env = env_without_db()
    a, b, c = workdir / "a.db", workdir / "b.db", workdir / "c.db"
    assert run("--db", a, "init", env=env).stdout == f"initialized {a}\n"
    assert run("init", "--db", b, env=env).stdout == f"initialized {b}\n"
    assert run(f"--db={c}", "init", env=env).stdout == f"initialized {c}\n"
    assert run("--db", a, "role", "add", "before", env=env).returncode == 0
    assert run("role", "add", "after", "--db", a, env=env).returncode == 0
    assert run("--json", "--db", a, "role", "list", env=env).returncode == 0
    names = [r["name"] for r in json.loads(run("--json", "--db", a, "role", "list", env=env).stdout)]
    assert sorted(names) == ["after", "before"]

    with_env = dict(env, CWAUTH_DB=str(b))
    assert run("role", "add", "via-env", env=with_env).returncode == 0
    assert [r["name"] for r in json.loads(run("role", "list", "--json", env=with_env).stdout)] == ["via-env"]
    assert run("--db", a, "role", "show", "via-env", env=with_env).returncode == 1  # --db wins over $CWAUTH_DB

    cwd = workdir / "here"
    cwd.mkdir()
    missing = run("role", "list", env=env, cwd=cwd)
    assert_error(missing, "no database at ./cwauth.db")
    assert list(cwd.iterdir()) == []
    assert run("init", env=env, cwd=cwd).returncode == 0
    assert (cwd / "cwauth.db").exists()
    assert run("role", "add", "in-cwd", env=env, cwd=cwd).returncode == 0
    assert "in-cwd" in run("--db", cwd / "cwauth.db", "role", "list", env=env).stdout


# ---------------------------------------------------------------- the last admin

def test_the_last_admin_cannot_be_removed(workdir):
    """Every CLI way of removing the only admin is refused with one line naming the reason; nothing changes.
    A second admin lifts the refusal; a database that never had an admin is not held to it."""
    cli = CLI(workdir / "admins.db")
    cli("init", "--admin", "root", input="root-pass-1\n")
    cli("role", "add", "writer")
    cli("user", "add", "sensor", "--role", "writer", "--password-stdin", input="sensor-pass-1\n")
    before = exported(cli)
    refused = [
        ("user", "unassign", "root", "admin"),
        ("user", "disable", "root"),
        ("user", "rm", "root"),
        ("role", "rm", "admin"),
        ("role", "revoke", "admin", "/api/#", "--context", "http"),
        ("role", "revoke", "admin", "/api/#", "--op", "write", "--context", "http"),
    ]
    for args in refused:
        assert_error(cli.run(*args), '"root" is the last admin', "http /api/# readWrite", "would leave none")
    demote = write(workdir / "demote.json", json.dumps({"users": [{"username": "root", "password": "root-pass-1", "roles": ["writer"]}]}))
    assert_error(cli.run("apply", demote), '"root" is the last admin')
    assert exported(cli) == before

    cli("user", "assign", "sensor", "admin")
    cli("user", "rm", "root")
    assert_error(cli.run("role", "rm", "admin"), '"sensor" is the last admin')

    plain = fresh_cli(workdir, "plain.db")           # never had an admin: nothing to protect
    plain("role", "add", "admin")
    plain("role", "grant", "admin", "/api/#", "--op", "readWrite", "--context", "http")
    plain("role", "rm", "admin")
