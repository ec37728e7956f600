"""The CLI's habits as an operator and a script meet them: a password asked on the terminal without
echo, one JSON object from every write, repeats that succeed and say "unchanged", help that lists the
global options and fits 80 columns, `apply --dry-run`, one spelling of an empty table cell."""
import fcntl
import json
import os
import re
import select
import signal
import sqlite3
import subprocess
import termios
import time

import pytest

from conftest import CLI, CWAUTH
from test_cli import (EXIT_ERROR, SPEC_EXAMPLE, assert_error, db_files, run, user_hash, users_json, verifies,
                      write)


@pytest.fixture
def example(cli):
    cli("apply", SPEC_EXAMPLE)
    return cli


def policy_counter(db):
    with sqlite3.connect(db) as conn:
        value = conn.execute("SELECT counter FROM policy_version WHERE id = 1").fetchone()[0]
    conn.close()
    return value


def audit_count(db):
    with sqlite3.connect(db) as conn:
        value = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    conn.close()
    return value


# ---------------------------------------------------------------- 1. the password asked on a terminal

class Terminal:
    """`cwauth --db DB args…` on a pseudo-terminal that is its controlling terminal (so /dev/tty is it),
    as a person at a shell runs it. `stdout=PIPE` keeps the command's stdout apart from the terminal."""

    def __init__(self, db, *args, stdout=None):
        self.master, self.slave = os.openpty()
        self.seen = b""

        def own_terminal():  # runs in the child, after setsid: the pty becomes its controlling terminal
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen([CWAUTH, "--db", str(db), *map(str, args)], stdin=self.slave,
                                     stdout=stdout if stdout is not None else self.slave, stderr=self.slave,
                                     start_new_session=True, preexec_fn=own_terminal)

    def expect(self, text, timeout=10):
        """Reads what the terminal shows until `text` appears."""
        deadline = time.time() + timeout
        while text.encode() not in self.seen:
            left = deadline - time.time()
            assert left > 0, f"{text!r} never shown; the terminal showed {self.seen!r}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    self.seen += os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    break
        assert text.encode() in self.seen, f"{text!r} never shown; the terminal showed {self.seen!r}"

    def type(self, text):
        os.write(self.master, text.encode())

    def finish(self, timeout=30):
        code = self.proc.wait(timeout=timeout)
        while select.select([self.master], [], [], 0.2)[0]:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.seen += chunk
        return code

    def echoes(self):
        return bool(termios.tcgetattr(self.slave)[3] & termios.ECHO)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def terminal(cli):
    opened = []

    def start(*args, **kw):
        t = Terminal(cli.db, *args, **kw)
        opened.append(t)
        return t

    yield start
    for t in opened:
        t.close()


def test_user_add_on_a_terminal_asks_twice_without_echo(cli, terminal):
    secret = "typed-secret-42"
    t = terminal("user", "add", "tty-user")
    t.expect("Password: ")
    assert not t.echoes()  # echo is off while the prompt waits
    t.type(secret + "\n")
    t.expect("Reenter password: ")
    t.type(secret + "\n")
    assert t.finish() == 0, t.seen
    assert b"created user tty-user" in t.seen
    assert secret.encode() not in t.seen, f"the password was echoed: {t.seen!r}"
    assert t.echoes()  # and back on afterwards
    assert verifies(user_hash(cli, "tty-user"), secret)


def test_user_passwd_on_a_terminal_and_json_stays_apart_from_the_prompts(cli, terminal):
    cli("user", "add", "tty-user", "--password", "first-pass-1")
    t = terminal("user", "passwd", "tty-user", "--json", stdout=subprocess.PIPE)
    t.expect("Password: ")
    t.type("second-pass-2\n")
    t.expect("Reenter password: ")
    t.type("second-pass-2\n")
    assert t.finish() == 0, t.seen
    out = t.proc.stdout.read().decode()
    assert json.loads(out)["username"] == "tty-user"  # stdout holds the JSON only; the prompts went to the terminal
    assert b"second-pass-2" not in t.seen
    assert verifies(user_hash(cli, "tty-user"), "second-pass-2")


def test_a_mismatch_is_refused_with_one_line_and_nothing_changes(cli, terminal):
    before = db_files(cli.db)
    t = terminal("user", "add", "tty-user")
    t.expect("Password: ")
    t.type("one-password\n")
    t.expect("Reenter password: ")
    t.type("another-password\n")
    assert t.finish() == EXIT_ERROR
    lines = t.seen.decode().splitlines()
    assert lines[-1] == "cwauth: error: the two passwords typed do not match; nothing changed", lines
    assert b"one-password" not in t.seen and b"another-password" not in t.seen
    assert t.echoes()
    assert db_files(cli.db) == before


def test_ctrl_c_at_the_prompt_gives_the_terminal_its_echo_back(cli, terminal):
    before = db_files(cli.db)
    t = terminal("user", "add", "tty-user")
    t.expect("Password: ")
    t.type("half-typed\n")
    t.expect("Reenter password: ")
    assert not t.echoes()
    t.type("\x03")  # Ctrl-C: SIGINT from the terminal
    assert t.finish() == -signal.SIGINT
    assert t.echoes(), "Ctrl-C left the terminal without echo"
    assert db_files(cli.db) == before


def test_init_admin_on_a_terminal_asks_twice(workdir):
    db = workdir / "admin.db"
    t = Terminal(db, "init", "--admin", "root")
    try:
        t.expect("Password: ")
        t.type("root-pass-1\n")
        t.expect("Reenter password: ")
        t.type("root-pass-1\n")
        assert t.finish() == 0, t.seen
        assert b"created admin root" in t.seen and b"root-pass-1" not in t.seen
    finally:
        t.close()
    assert verifies(user_hash(CLI(db), "root"), "root-pass-1")


@pytest.mark.parametrize("args", [["user", "add", "new-user"], ["user", "passwd", "sensor-17"]])
def test_without_a_terminal_or_option_the_error_names_the_option(example, args):
    before = db_files(example.db)
    proc = example.run(*args, input="piped-pass-1\n")  # a pipe is not a terminal: nobody is asked
    assert_error(proc, "standard input is not a terminal", "--password-stdin")
    assert db_files(example.db) == before
    # The script's way, unchanged:
    example(*args, "--password-stdin", input="piped-pass-1\n")


def test_a_name_that_exists_is_refused_before_asking(example, terminal):
    t = terminal("user", "add", "sensor-17")
    assert t.finish() == EXIT_ERROR
    assert b"Password" not in t.seen and b'"sensor-17" already exists' in t.seen


# ---------------------------------------------------------------- 2. --json on every write

LEAVES = [
    "init", "user add", "user list", "user show", "user passwd", "user rm", "user enable", "user disable",
    "user assign", "user unassign", "user set-prefix", "role add", "role list", "role show", "role rm",
    "role grant", "role revoke", "registry unlock", "registry lock", "registry status", "registry list",
    "registry unblock", "allow", "deny", "apply", "export", "check", "passwd-import", "audit", "backup",
    "restore", "serve", "ca init", "ca show", "ca crl", "cert list", "cert revoke", "cert issue",
]


def subcommands(*path):
    out = run(*path, "--help").stdout
    block = out.split("SUBCOMMANDS:\n", 1)[1] if "SUBCOMMANDS:\n" in out else ""
    return [m.group(1) for m in re.finditer(r"^  ([a-z][a-z-]*) ", block, re.M)]


def test_the_list_of_commands_is_complete():
    found = []
    for name in subcommands():
        children = subcommands(name)
        found += [f"{name} {child}" for child in children] if children else [name]
    assert sorted(found) == sorted(LEAVES)


@pytest.mark.parametrize("leaf", LEAVES)
def test_every_command_takes_the_global_options_and_lists_them(leaf):
    env = dict(os.environ, COLUMNS="80")
    out = run(*leaf.split(), "--help", env=env).stdout
    assert "--db <path>" in out and "--json" in out, out
    if leaf != "serve":  # its file belongs to the server's side; it lists them among its own options
        options = out.split("GLOBAL OPTIONS:\n", 1)[1].split("\n\n", 1)[0]
        assert "--db <path>" in options and "--json" in options, out
    long = [line for line in out.splitlines() if len(line) > 80]
    assert not long, f"`cwauth {leaf} --help` has lines over 80 columns: {long}"


def test_root_help_lists_the_global_options_and_fits_80_columns():
    out = run("--help", env=dict(os.environ, COLUMNS="80")).stdout
    options = out.split("GLOBAL OPTIONS:\n", 1)[1].split("SUBCOMMANDS:", 1)[0]
    for name in ("--db <path>", "--json", "--version", "--help"):
        assert name in options, out
    assert '"changed": false' in out and '{"removed": NAME, "changed": true}' in out  # the JSON pattern
    assert all(len(line) <= 80 for line in out.splitlines()), [l for l in out.splitlines() if len(l) > 80]
    wide = run("--help", env=dict(os.environ, COLUMNS="200")).stdout
    assert max(len(line) for line in wide.splitlines()) > 80  # it follows the width, not a fixed 80


def test_the_long_usage_line_is_wrapped_between_options():
    out = run("user", "add", "--help", env=dict(os.environ, COLUMNS="60")).stdout
    usage = out.split("USAGE: ", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(usage) > 1 and all(len("USAGE: " + line) <= 60 or len(line) <= 60 for line in usage)
    words = " ".join(line.strip() for line in usage)
    assert words.startswith("cwauth user add ") and "[--role <role> ...]" in words
    assert re.sub(r"\s+", " ", words) == words  # no option cut in two


def test_global_options_before_or_after_the_command(example):
    a = json.loads(run("--json", "--db", example.db, "user", "show", "sensor-17").stdout)
    b = json.loads(run("user", "show", "sensor-17", "--db", example.db, "--json").stdout)
    assert a == b and a["user"]["username"] == "sensor-17"


USER_FIELDS = {"username", "enabled", "roles", "publishPrefix", "origin", "createdAt", "updatedAt"}
ROLE_FIELDS = {"name", "permissions", "members"}


def json_of(proc):
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    value = json.loads(proc.stdout)  # the whole of stdout is one JSON document
    assert isinstance(value, dict)
    return value


def test_user_writes_print_the_user_with_changed(example):
    added = json_of(example.run("user", "add", "dev-7", "--password", "dev-pass-7", "--role", "sensor-writer", "--json"))
    assert set(added) == USER_FIELDS | {"changed"} and added["changed"] is True
    assert (added["username"], added["roles"], added["enabled"]) == ("dev-7", ["sensor-writer"], True)
    assert {k: v for k, v in added.items() if k != "changed"} == users_json(example)["dev-7"]

    steps = [
        (["user", "passwd", "dev-7", "--password-stdin"], {}),
        (["user", "disable", "dev-7"], {"enabled": False}),
        (["user", "enable", "dev-7"], {"enabled": True}),
        (["user", "unassign", "dev-7", "sensor-writer"], {"roles": []}),
        (["user", "assign", "dev-7", "sensor-writer"], {"roles": ["sensor-writer"]}),
        (["user", "set-prefix", "dev-7", "site7/"], {"publishPrefix": "site7/"}),
        (["user", "set-prefix", "dev-7", "--clear"], {"publishPrefix": None}),
    ]
    for args, expected in steps:
        out = json_of(example.run(*args, "--json", input="dev-pass-8\n"))
        assert set(out) == USER_FIELDS | {"changed"} and out["changed"] is True, (args, out)
        assert {k: out[k] for k in expected} == expected, (args, out)

    assert json_of(example.run("user", "rm", "dev-7", "--json")) == {"removed": "dev-7", "changed": True}
    assert "dev-7" not in users_json(example)


def test_role_writes_print_the_role_and_the_permission(example):
    added = json_of(example.run("role", "add", "ops", "--json"))
    assert added == {"name": "ops", "permissions": [], "members": [], "changed": True}
    granted = json_of(example.run("role", "grant", "ops", "plant/#", "--op", "read", "--json"))
    assert set(granted) == ROLE_FIELDS | {"changed", "permission"} and granted["changed"] is True
    assert granted["permission"] == {"resource": "plant/#", "operation": "read", "context": "mqtt"}
    widened = json_of(example.run("role", "grant", "ops", "plant/#", "--op", "write", "--json"))
    assert widened["permission"]["operation"] == "readWrite" and widened["permissions"] == [widened["permission"]]
    example("user", "assign", "sensor-17", "ops")
    narrowed = json_of(example.run("role", "revoke", "ops", "plant/#", "--op", "read", "--json"))
    assert narrowed["permission"]["operation"] == "write" and narrowed["members"] == ["sensor-17"]
    revoked = json_of(example.run("role", "revoke", "ops", "plant/#", "--json"))
    assert revoked["permission"] is None and revoked["permissions"] == [] and revoked["changed"] is True
    assert json_of(example.run("role", "rm", "ops", "--json")) == {"removed": "ops", "members": ["sensor-17"], "changed": True}


def test_registry_and_document_writes_print_one_object(example, workdir):
    opened = json_of(example.run("registry", "unlock", "--seconds", "30", "--json"))
    assert opened["changed"] is True and opened["open"] is True and 0 < opened["secondsLeft"] <= 30
    assert {"openUntil", "pending", "rules"} <= set(opened)
    closed = json_of(example.run("registry", "lock", "--json"))
    assert closed["changed"] is True and closed["open"] is False and closed["openUntil"] is None
    blocked = json_of(example.run("deny", "rogue-dev", "--block", "--json"))
    assert blocked == {"removed": None, "username": "rogue-dev", "blocked": True, "changed": True}
    assert json_of(example.run("registry", "unblock", "rogue-dev", "--json")) == \
        {"username": "rogue-dev", "blocked": False, "changed": True}

    assert json_of(example.run("init", "--json")) == {"database": example.db, "user": None, "changed": False}
    fresh = workdir / "fresh.db"
    made = json_of(run("--db", fresh, "init", "--admin", "root", "--json", input="root-pass-1\n"))
    assert made["changed"] is True and made["database"] == str(fresh) and made["user"]["roles"] == ["admin"]

    applied = json_of(example.run("apply", SPEC_EXAMPLE, "--json"))
    assert applied["changed"] is False and applied["dryRun"] is False and applied["usersUnchanged"] == ["sensor-17"]

    copy = workdir / "copy.db"
    backed = json_of(example.run("backup", copy, "--json"))
    assert backed == {"file": str(copy), "database": example.db, "users": 1, "roles": 1, "schemaVersion": backed["schemaVersion"]}
    restored = json_of(example.run("restore", copy, "--json"))
    assert restored == dict(backed, changed=True)

    document = json_of(example.run("export", "--json"))
    assert [u["username"] for u in document["users"]] == ["sensor-17"]
    exported = workdir / "policy.yaml"
    written = json_of(example.run("export", "--output", exported, "--json"))
    assert written == {"file": str(exported), "format": "yaml", "roles": 1, "users": 1}
    assert exported.read_text().startswith("roles:")
    assert_error(example.run("export", "--format", "yaml", "--json"), "--format yaml", json_output=True)

    pwfile = write(workdir / "passwd", f"sensor-17:{user_hash(example, 'sensor-17')}\n")
    imported = json_of(example.run("passwd-import", pwfile, "--json"))
    assert imported == {"created": [], "updated": [], "skipped": ["sensor-17"], "changed": False}


# ---------------------------------------------------------------- 3. idempotent repeats

REPEATS = [  # (setup, command, what the repeat says)
    ([], ["user", "assign", "sensor-17", "spare"], "sensor-17 already has role spare: unchanged"),
    ([], ["user", "unassign", "sensor-17", "sensor-writer"], "sensor-17 does not have role sensor-writer: unchanged"),
    ([["user", "disable", "sensor-17"]], ["user", "enable", "sensor-17"], "sensor-17 is already enabled: unchanged"),
    ([], ["user", "disable", "sensor-17"], "sensor-17 is already disabled: unchanged"),
    ([], ["user", "set-prefix", "sensor-17", "site1/"], 'publish prefix of sensor-17 is already "site1/": unchanged'),
    ([["user", "set-prefix", "sensor-17", "site1/"]], ["user", "set-prefix", "sensor-17", "--clear"],
     "sensor-17 has no publish prefix: unchanged"),
    ([], ["role", "grant", "spare", "a/#", "--op", "readWrite"], "role spare already has readWrite on a/#: unchanged"),
    ([["role", "grant", "spare", "a/#", "--op", "read"]], ["role", "revoke", "spare", "a/#"],
     "role spare has no mqtt permission on a/#: unchanged"),
    ([["role", "grant", "spare", "a/#", "--op", "readWrite"]], ["role", "revoke", "spare", "a/#", "--op", "write"],
     "role spare does not have write on a/# (only read): unchanged"),
    ([["registry", "unlock", "--minutes", "5"]], ["registry", "lock"], "registry already locked: unchanged"),
    ([["deny", "rogue-dev", "--block"]], ["registry", "unblock", "rogue-dev"], "rogue-dev is not blocked: unchanged"),
    ([], ["deny", "rogue-dev", "--block"], "rogue-dev is already blocked and nothing is pending: unchanged"),
]


@pytest.mark.parametrize("setup, args, said", REPEATS, ids=[" ".join(a[:3]) for _, a, _ in REPEATS])
def test_a_repeat_succeeds_says_unchanged_and_writes_nothing(example, setup, args, said):
    example("role", "add", "spare")
    for step in setup:
        example(*step)
    first = example.run(*args, "--json")
    assert first.returncode == 0 and json.loads(first.stdout)["changed"] is True, first
    before = db_files(example.db)
    again = example.run(*args)
    assert (again.returncode, again.stdout, again.stderr) == (0, said + "\n", "")
    as_json = example.run(*args, "--json")
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["changed"] is False
    # Nothing written: no audit entry, no bump of the counter that makes the broker reload.
    assert db_files(example.db) == before


@pytest.mark.parametrize("args, needle", [
    (["user", "unassign", "ghost", "sensor-writer"], 'no user named "ghost"'),
    (["user", "unassign", "sensor-17", "ghost-role"], 'no role named "ghost-role"'),
    (["user", "enable", "ghost"], 'no user named "ghost"'),
    (["role", "revoke", "ghost-role", "a/#"], 'no role named "ghost-role"'),
    (["deny", "ghost"], 'no pending registration named "ghost"'),
    (["allow", "sensor-17"], 'no pending registration named "sensor-17": it is already a user'),
    (["user", "rm", "ghost"], 'no user named "ghost"'),
    (["role", "add", "sensor-writer"], 'role "sensor-writer" already exists'),
])
def test_naming_what_does_not_exist_still_fails(example, args, needle):
    before = db_files(example.db)
    assert_error(example.run(*args, "--json"), needle, json_output=True)
    assert db_files(example.db) == before


# ---------------------------------------------------------------- 5. apply --dry-run

def test_dry_run_prints_the_plan_per_item_and_writes_nothing(cli):
    before, counter, entries = db_files(cli.db), policy_counter(cli.db), audit_count(cli.db)
    out = cli("apply", SPEC_EXAMPLE, "--dry-run").stdout.splitlines()
    assert out[0] == (f"dry run, nothing written: applying {SPEC_EXAMPLE} would give roles 1 created, 0 updated, "
                      "0 unchanged; users 1 created, 0 updated, 0 unchanged")
    assert [line.split() for line in out[1:]] == [
        ["KIND", "NAME", "CHANGE"], ["role", "sensor-writer", "create"], ["user", "sensor-17", "create"]]
    planned = json.loads(cli("apply", SPEC_EXAMPLE, "--dry-run", "--json").stdout)
    assert planned["dryRun"] is True and planned["changed"] is True
    assert db_files(cli.db) == before and policy_counter(cli.db) == counter and audit_count(cli.db) == entries
    assert json.loads(cli("user", "list", "--json").stdout) == []

    applied = json.loads(cli("apply", SPEC_EXAMPLE, "--json").stdout)
    assert applied == dict(planned, dryRun=False)  # the plan was what applying did
    assert policy_counter(cli.db) > counter


def test_dry_run_of_a_changed_file_names_what_would_change(example, workdir):
    changed = write(workdir / "changed.yaml", SPEC_EXAMPLE.read_text().replace("operation: read", "operation: readWrite")
                    + "  - username: gw-01\n    password: gw-01-pass\n    roles: []\n")
    before = db_files(example.db)
    plan = json.loads(example("apply", changed, "--dry-run", "--json").stdout)
    assert (plan["rolesUpdated"], plan["usersUnchanged"], plan["usersCreated"]) == (["sensor-writer"], ["sensor-17"], ["gw-01"])
    rows = [line.split() for line in example("apply", changed, "--dry-run").stdout.splitlines()[1:]]
    assert rows[1:] == [["role", "sensor-writer", "update"], ["user", "sensor-17", "unchanged"], ["user", "gw-01", "create"]]
    assert db_files(example.db) == before
    same = example("apply", SPEC_EXAMPLE, "--dry-run").stdout
    assert same.startswith(f"dry run, nothing written: applying {SPEC_EXAMPLE} would change nothing\n")


def test_dry_run_refuses_what_apply_refuses(workdir):
    cli = CLI(workdir / "admins.db")
    cli("init", "--admin", "root", input="root-pass-1\n")
    cli("role", "add", "writer")
    demote = write(workdir / "demote.json", json.dumps({"users": [{"username": "root", "password": "root-pass-1", "roles": ["writer"]}]}))
    before = db_files(cli.db)
    dry = assert_error(cli.run("apply", demote, "--dry-run"), '"root" is the last admin')
    real = assert_error(cli.run("apply", demote), '"root" is the last admin')
    assert dry == real
    assert db_files(cli.db) == before


# ---------------------------------------------------------------- 6. empty cells

def test_empty_cells_are_a_dash_in_every_table(cli):
    cli("role", "add", "nobody-role")
    cli("user", "add", "bare-user", "--password", "bare-pass-1")
    cli("user", "rm", "bare-user")  # an audit entry without detail
    cli("user", "add", "bare-user", "--password", "bare-pass-1")

    users = cli("user", "list").stdout.splitlines()
    assert users[0].split() == ["USERNAME", "ENABLED", "ROLES", "PREFIX", "ORIGIN", "UPDATED"]
    assert users[1].split()[:5] == ["bare-user", "yes", "-", "-", "manual"]
    assert len(users[1].split()) == 6

    roles = cli("role", "list").stdout.splitlines()
    assert roles[1].split() == ["nobody-role", "0", "-"]

    audit = [line.split() for line in cli("audit").stdout.splitlines()]
    removed = next(row for row in audit if row[2] == "user.rm")
    assert removed[3:] == ["bare-user", "-"]

    shown = cli("user", "show", "bare-user").stdout
    assert "prefix:    -\n" in shown
    assert "members: -\n" in cli("role", "show", "nobody-role").stdout
