"""`cwauth check` says what the broker decides. Generated cases go through `cwauth check` and,
unchanged, through the plugin's own MOSQ_EVT_ACL_CHECK callback (Benchmarks/boundary/acl_bench
plays the broker: it loads the same .so and calls the callback as Mosquitto does); every decision
must agree. The policy exercises what the broker adds to plain matching: publish prefixes,
`$share/GROUP/`, `$` topics, `%u`/`%c`, users without roles or disabled."""
import itertools
import json
import random
import subprocess
from pathlib import Path

from conftest import CWAUTH, broker_plugin

ROOT = Path(__file__).resolve().parents[2]
HARNESS_DIR = ROOT / "Benchmarks" / "boundary"
PASSWORD = "bench-pass"  # the harness logs the first user in with it

ROLES = {
    "fleet": [("devices/%u/#", "readWrite"), ("fleet/+/status", "read"), ("cmd/%c", "read")],
    "site-writer": [("site1/sensors/%u/#", "write"), ("site1/+/alarm", "readWrite")],
    "jobs": [("jobs/#", "read"), ("jobs/+/result", "write")],
    "sys-reader": [("$SYS/broker/#", "read")],
    "everything": [("#", "read")],
}
USERS = {
    "dev-a": (["fleet"], None, True),
    "pfx-1": (["site-writer", "fleet"], "site1/", True),
    "worker-1": (["jobs"], None, True),
    "watcher": (["everything", "sys-reader"], None, True),
    "no-roles": ([], None, True),
    "off-user": (["jobs"], None, False),
}
TOPICS = ["devices/dev-a/temp", "devices/pfx-1/x", "sensors/pfx-1/t", "site1/sensors/pfx-1/t", "alarm",
          "line2/alarm", "fleet/f1/status", "fleet/f1/status/x", "cmd/cid-1", "cmd/cid-2", "jobs/j1/result",
          "jobs/j1", "$SYS/broker/uptime", "$SYS/other", "other/topic"]
FILTERS = ["devices/+/temp", "devices/dev-a/#", "jobs/#", "$share/g1/jobs/#", "$share/g1/other/#", "#", "+/+",
           "$SYS/#", "$share/grp/fleet/+/status", "site1/+/alarm", "cmd/+"]


def policy():
    return {
        "roles": [{"name": name, "permissions": [{"resource": r, "operation": op, "context": "mqtt"} for r, op in perms]}
                  for name, perms in ROLES.items()],
        "users": [dict({"username": name, "password": PASSWORD, "roles": roles, "enabled": enabled},
                       **({"publishPrefix": prefix} if prefix else {}))
                  for name, (roles, prefix, enabled) in USERS.items()],
    }


def cases():
    rng = random.Random(20261202)
    out = []
    for user, topic, client in itertools.product(USERS, TOPICS, ["cid-1", "cid-2"]):
        out.append((user, client, topic, rng.choice(["write", "read"])))
    for user, flt in itertools.product(USERS, FILTERS):
        out.append((user, "cid-1", flt, "subscribe"))
    rng.shuffle(out)
    return out[:180]


def check_says(cli, user, client, topic, access):
    op = "write" if access == "write" else "read"
    proc = cli.run("check", user, topic, "--op", op, "--client-id", client)
    assert proc.returncode in (0, 3), proc.stdout + proc.stderr
    return "allow" if proc.returncode == 0 else "deny"


def test_cwauth_check_agrees_with_the_plugin_entry_point(workdir, cli):
    path = workdir / "policy.json"
    path.write_text(json.dumps(policy()))
    cli("apply", path)
    subprocess.run(["make", "-s", "-C", str(HARNESS_DIR), "acl_bench"], check=True)
    rows = [(u, c, t, a, check_says(cli, u, c, t, a)) for u, c, t, a in cases()]
    rows.append(("dev-a", "cid-1", "jobs/#", "unsubscribe", "allow"))  # unsubscribe: always allowed
    assert {r[4] for r in rows} == {"allow", "deny"}
    # The harness logs in as the first line's user: an enabled one with the generated password.
    rows.sort(key=lambda r: r[0] != "dev-a")
    data = workdir / "agreement"
    data.mkdir()
    (data / "checks.tsv").write_text("".join("\t".join(r) + "\n" for r in rows))
    proc = subprocess.run([str(HARNESS_DIR / "acl_bench"), "--plugin", str(broker_plugin()), "--label", "cwauth",
                           "--opt", f"database={cli.db}", "--rules", "0", "--verify-only", str(data)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"checks={len(rows)} mismatches=0" in proc.stdout
