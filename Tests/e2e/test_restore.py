"""`cwauth backup` / `cwauth restore` beside a running broker, and a database file replaced by hand
(`mv copy.db cwauth.db`) while the broker holds the old one with frames in its write-ahead log."""
import glob
import os
import sqlite3
import time

from conftest import CLI, broker_user
from mqtt_client import Client, connect_result


def chown_to_broker(path):
    user = broker_user()
    if user:
        os.chown(path, user.pw_uid, user.pw_gid)


def wait_for(predicate, timeout=3.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def integrity(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def test_restore_into_a_running_broker_brings_back_the_backed_up_state(cli, broker, workdir):
    cli("user", "add", "keeper", "--password", "keeper-pass")
    cli("user", "add", "sleeper", "--password", "sleeper-pass", "--disabled")
    backup = workdir / "backup.db"
    out = cli("backup", backup).stdout.strip()
    assert out == f"backed up {cli.db} to {backup} (2 users, 0 roles)"
    assert not os.path.exists(str(backup) + "-wal")

    cli("user", "enable", "sleeper")
    cli("user", "add", "latecomer", "--password", "latecomer-pass")
    assert wait_for(lambda: connect_result(broker.port, "latecomer", "latecomer-pass"))
    assert connect_result(broker.port, "sleeper", "sleeper-pass")
    late = Client(broker.port, "latecomer", "latecomer-pass")

    out = cli("restore", backup).stdout.strip()
    assert out == f"restored {backup} into {cli.db} (2 users, 0 roles)"
    assert late.disconnected.wait(3.0), "a user missing from the backup keeps its connection"
    assert wait_for(lambda: not connect_result(broker.port, "sleeper", "sleeper-pass"))
    assert not connect_result(broker.port, "latecomer", "latecomer-pass")
    assert connect_result(broker.port, "keeper", "keeper-pass")
    assert "restore" in cli("audit", "--limit", "1").stdout
    assert integrity(cli.db) == "ok"
    assert broker.alive()
    late.close()


def test_a_copy_moved_into_place_is_not_merged_with_the_old_wal(cli, broker, workdir):
    cli("user", "add", "dev1", "--password", "dev1-secret")
    assert wait_for(lambda: connect_result(broker.port, "dev1", "dev1-secret"))
    copy = workdir / "copy.db"
    cli("backup", copy)
    CLI(copy)("user", "disable", "dev1")
    # More frames in the live log, which the broker's open connection keeps from being checkpointed.
    cli("user", "add", "after-copy", "--password", "after-copy-pass")
    assert wait_for(lambda: connect_result(broker.port, "after-copy", "after-copy-pass"))
    wal = cli.db + "-wal"
    assert os.path.exists(wal) and os.path.getsize(wal) > 0
    chown_to_broker(copy)

    os.rename(copy, cli.db)
    assert wait_for(lambda: "was replaced by another file" in broker.log_text())
    assert wait_for(lambda: not connect_result(broker.port, "dev1", "dev1-secret"))
    assert not connect_result(broker.port, "after-copy", "after-copy-pass")
    log = broker.log_text()
    assert "write-ahead log was moved to" in log
    assert glob.glob(wal + ".stale-*")
    assert integrity(cli.db) == "ok"

    # The moved-in file is the database from now on.
    cli("user", "enable", "dev1")
    assert wait_for(lambda: connect_result(broker.port, "dev1", "dev1-secret"))
    assert broker.alive()


def test_backup_keeps_an_existing_file_and_restore_refuses_garbage(cli, broker, workdir):
    cli("user", "add", "dev1", "--password", "dev1-secret")
    assert wait_for(lambda: connect_result(broker.port, "dev1", "dev1-secret"))
    taken = workdir / "taken.db"
    taken.write_bytes(b"do not overwrite")
    proc = cli.run("backup", taken)
    assert proc.returncode != 0
    assert proc.stderr.count("\n") == 1 and "already exists" in proc.stderr and "--force" in proc.stderr
    assert taken.read_bytes() == b"do not overwrite"
    assert "backed up" in cli("backup", taken, "--force").stdout
    con = sqlite3.connect(taken)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert con.execute("SELECT username FROM users").fetchall() == [("dev1",)]
    con.close()

    before = cli("user", "list").stdout
    garbage = workdir / "garbage.db"
    garbage.write_bytes(b"\x00garbage\xff" * 1000)
    foreign = workdir / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE users(x)")
    con.commit()
    con.close()
    for bad in (garbage, foreign, workdir / "absent.db"):
        proc = cli.run("restore", bad)
        assert proc.returncode != 0, bad
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("cwauth: error: "), proc.stderr
    assert "not a cwauth database" in cli.run("restore", garbage).stderr

    newer = workdir / "newer.db"
    cli("backup", newer)
    con = sqlite3.connect(newer)
    con.execute("INSERT INTO schema_version(version, applied_at) VALUES (999, 0)")
    con.commit()
    con.close()
    proc = cli.run("restore", newer)
    assert proc.returncode != 0 and "newer than this build supports" in proc.stderr

    assert cli("user", "list").stdout == before
    time.sleep(0.6)
    assert connect_result(broker.port, "dev1", "dev1-secret")
    assert integrity(cli.db) == "ok"
