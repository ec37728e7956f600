#!/usr/bin/env python3
"""Deterministic ACL policy generator for the cwauth / dynsec ACL benchmarks.

Usage:
  gen_policy.py --roles R --perms-per-role P --users U --checks N --seed S --out DIR
                [--roles-per-user MIN-MAX]
  gen_policy.py --self-test

Writes into DIR:
  cwauth.json   cwauth declarative policy (roles + users, passwordHash = $7$ hash of "bench-pass")
  dynsec.json   the same policy as a Mosquitto 2.0 dynamic-security config
  checks.tsv    N lines: username<TAB>clientid<TAB>topic<TAB>write|read<TAB>allow|deny
  meta.json     the parameters and counts (total_permissions, ...) for the harnesses

Topics model an industrial plant:
  factory/f<F>/line<L>/machine<M>/{telemetry,status,cmd,alarm}/<leaf>[/<extra>]
Each role has a scope (one factory, a few lines) and P distinct permissions:
~50% exact topics, ~30% with one '+', ~20% ending in '#'; operation
write / read / readWrite. Users have 1-3 roles (--roles-per-user), each
drawn uniformly. No %u / %c patterns.

Every `expected` in checks.tsv is computed by the reference matcher below
(MQTT 3.1.1/5 filter matching: '+' is one level, '#' matches the parent and
all children, filters starting with a wildcard never match topics starting
with '$'), over all of the user's roles. About half of the checks are allow
by construction (a user's permission with its wildcards instantiated), half
deny (near misses: opposite direction, mutated level, extra level, another
line or factory), each verified by the matcher.

Python 3 standard library only. Same arguments => byte-identical output.
"""

import argparse
import base64
import hashlib
import json
import math
import os
import random
import sys
import time

PASSWORD = "bench-pass"
ITERATIONS = 101
# Fixed 12-byte salt (mosquitto_passwd / dynsec use 12 bytes): the hash is the
# same for every user and every run, so the output stays deterministic.
SALT = hashlib.sha256(b"cwauth-bench-salt").digest()[:12]

KINDS = {
    "telemetry": ["temperature", "pressure", "vibration", "rpm", "power", "humidity", "flow", "torque"],
    "status": ["state", "health", "uptime", "heartbeat", "firmware"],
    "cmd": ["start", "stop", "reset", "setpoint", "mode"],
    "alarm": ["overheat", "overpressure", "jam", "estop", "fault"],
}
KIND_NAMES = list(KINDS)
ALL_LEAVES = sorted({leaf for leaves in KINDS.values() for leaf in leaves})
EXTRA_LEVELS = ["raw", "avg", "ack", "meta"]

OP_WRITE, OP_READ = 1, 2
OP_NAMES = {OP_WRITE: "write", OP_READ: "read", OP_WRITE | OP_READ: "readWrite"}
ACCESS_BIT = {"write": OP_WRITE, "read": OP_READ}


# --------------------------------------------------------------------------
# Reference matcher
# --------------------------------------------------------------------------

def topic_matches(filt, topic):
    """Plain MQTT matcher (used for the self-test and as documentation)."""
    if topic.startswith("$") and filt[:1] in ("+", "#"):
        return False
    f = filt.split("/")
    t = topic.split("/")
    for i, fl in enumerate(f):
        if fl == "#":
            return True  # matches the parent (i == len(t)) and all children
        if i >= len(t):
            return False
        if fl != "+" and fl != t[i]:
            return False
    return len(f) == len(t)


_MASKS = {}


def candidate_filters(topic):
    """Every filter that can match `topic`, used for dict lookups.

    For n levels: all 2^n ways of replacing levels with '+', plus for every
    prefix length k in 0..n the 2^k '+'-variants of the prefix followed by '#'
    (k == n is the '#' parent match, k == 0 is a bare '#').
    """
    levels = topic.split("/")
    n = len(levels)
    dollar = topic.startswith("$")
    out = []
    for k in range(n + 1):
        for mask in range(1 << k):
            if dollar and k > 0 and mask & 1:
                continue
            parts = ["+" if mask >> i & 1 else levels[i] for i in range(k)]
            if k == n:
                out.append("/".join(parts))
            if dollar and k == 0:
                continue
            parts.append("#")
            out.append("/".join(parts))
    return out


def decide(role_perms, role_ids, topic, access):
    """allow iff some permission of one of the roles matches with the access bit."""
    bit = ACCESS_BIT[access]
    cands = candidate_filters(topic)
    for r in role_ids:
        d = role_perms[r]
        for c in cands:
            op = d.get(c)
            if op is not None and op & bit:
                return "allow"
    return "deny"


def self_test(seed=1, n=20000):
    fixed = [
        ("a/#", "a", True), ("a/#", "a/b/c", True), ("#", "a", True), ("#", "$SYS/x", False),
        ("+/x", "$SYS/x", False), ("$SYS/#", "$SYS/x", True), ("$SYS/+", "$SYS/x", True),
        ("a/+", "a", False), ("a/+", "a/", True), ("+/+", "/x", True), ("+", "/x", False),
        ("a/+/c", "a/b/c", True), ("a/+/c", "a/b/c/d", False), ("a/b", "a/b/c", False),
        ("a/b/#", "a/bc", False), ("+/#", "a", True), ("+/+/#", "a", False), ("a/b/c", "a/b/c", True),
    ]
    for f, t, want in fixed:
        got = topic_matches(f, t)
        via = f in candidate_filters(t)
        if got != want or via != want:
            raise SystemExit(f"self-test failed: {f!r} vs {t!r}: naive={got} candidates={via} want={want}")
    rng = random.Random(seed)
    alphabet = ["a", "b", "", "$x"]
    for _ in range(n):
        t = "/".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4)))
        flev = [rng.choice(alphabet + ["+", "+"]) for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.3:
            flev = flev[:rng.randint(0, len(flev))] + ["#"]
        f = "/".join(flev)
        if topic_matches(f, t) != (f in set(candidate_filters(t))):
            raise SystemExit(f"self-test failed: {f!r} vs {t!r}")
    print(f"self-test ok ({len(fixed)} fixed cases, {n} random cases)")


# --------------------------------------------------------------------------
# Policy model
# --------------------------------------------------------------------------

class Space:
    """Sizes of the topic tree, derived from R and P."""

    def __init__(self, roles, perms):
        self.scope_lines = max(1, min(20, math.ceil(perms / 50)))
        self.lines = max(8, 2 * self.scope_lines)
        self.machines = 12
        # every line is in the scope of ~3 roles
        self.factories = max(1, math.ceil(roles * self.scope_lines / (self.lines * 3)))


def rand_leaf(rng, kind):
    return rng.choice(KINDS[kind]) if kind in KINDS else rng.choice(ALL_LEAVES)


def gen_permission(rng, sp, scope):
    """One (resource, opbits) inside the role scope."""
    f, lines = scope
    line = rng.choice(lines)
    machine = rng.randrange(sp.machines)
    kind = rng.choice(KIND_NAMES)
    levels = ["factory", f"f{f}", f"line{line}", f"machine{machine}", kind, rand_leaf(rng, kind)]
    x = rng.random()
    if x < 0.50:
        res = "/".join(levels)
    elif x < 0.80:
        y = rng.random()
        # position of the '+': factory 5%, line 20%, machine 40%, kind 5%, leaf 30%
        pos = 1 if y < 0.05 else 2 if y < 0.25 else 3 if y < 0.65 else 4 if y < 0.70 else 5
        levels[pos] = "+"
        res = "/".join(levels)
    else:
        y = rng.random()
        # '#' after the line 3%, after the machine 52%, after the kind 45%
        depth = 3 if y < 0.03 else 4 if y < 0.55 else 5
        res = "/".join(levels[:depth] + ["#"])
    y = rng.random()
    op = OP_WRITE if y < 0.35 else OP_READ if y < 0.70 else OP_WRITE | OP_READ
    return res, op


def instantiate(rng, sp, resource):
    """A concrete topic matched by `resource`."""
    out = []
    levels = resource.split("/")
    for i, lv in enumerate(levels):
        if lv == "#":
            y = rng.random()
            if y < 0.10:
                return "/".join(out)  # parent match: "a/b/#" matches "a/b"
            kind = None
            for j in range(len(out), 6):
                if j == 1:
                    out.append(f"f{rng.randrange(sp.factories)}")
                elif j == 2:
                    out.append(f"line{rng.randrange(sp.lines)}")
                elif j == 3:
                    out.append(f"machine{rng.randrange(sp.machines)}")
                elif j == 4:
                    kind = rng.choice(KIND_NAMES)
                    out.append(kind)
                elif j == 5:
                    out.append(rand_leaf(rng, out[4] if kind is None else kind))
            if y > 0.80:
                out.append(rng.choice(EXTRA_LEVELS))
            return "/".join(out)
        if lv == "+":
            if i == 1:
                lv = f"f{rng.randrange(sp.factories)}"
            elif i == 2:
                lv = f"line{rng.randrange(sp.lines)}"
            elif i == 3:
                lv = f"machine{rng.randrange(sp.machines)}"
            elif i == 4:
                lv = rng.choice(KIND_NAMES)
            else:
                lv = rand_leaf(rng, levels[4] if i == 5 else None)
        out.append(lv)
    return "/".join(out)


def mutate(rng, sp, topic):
    """A near miss of `topic`: one level changed, one level added or removed."""
    lv = topic.split("/")
    y = rng.random()
    if y < 0.15 and len(lv) >= 6:
        return "/".join(lv + [rng.choice(EXTRA_LEVELS)])
    if y < 0.25 and len(lv) > 3:
        return "/".join(lv[:-1])
    if len(lv) < 6:
        lv = lv + [""] * (6 - len(lv))
        lv[4] = lv[4] or rng.choice(KIND_NAMES)
        lv[5] = lv[5] or rand_leaf(rng, lv[4])
    i = rng.choice([1, 2, 3, 3, 4, 5, 5])
    if i == 1:
        lv[1] = f"f{rng.randrange(sp.factories + 1)}"
    elif i == 2:
        lv[2] = f"line{rng.randrange(sp.lines + 1)}"
    elif i == 3:
        lv[3] = f"machine{rng.randrange(sp.machines + 1)}"
    elif i == 4:
        lv[4] = rng.choice(KIND_NAMES)
    else:
        lv[5] = rand_leaf(rng, lv[4])
    return "/".join(lv)


def random_topic(rng, sp, factory=None):
    kind = rng.choice(KIND_NAMES)
    f = rng.randrange(sp.factories) if factory is None else factory
    t = f"factory/f{f}/line{rng.randrange(sp.lines)}/machine{rng.randrange(sp.machines)}/{kind}/{rand_leaf(rng, kind)}"
    if rng.random() < 0.1:
        t += "/" + rng.choice(EXTRA_LEVELS)
    return t


def pw_hash():
    dk = hashlib.pbkdf2_hmac("sha512", PASSWORD.encode(), SALT, ITERATIONS)
    salt_b64 = base64.b64encode(SALT).decode()
    hash_b64 = base64.b64encode(dk).decode()
    return f"$7${ITERATIONS}${salt_b64}${hash_b64}", salt_b64, hash_b64


def generate(args):
    t0 = time.time()
    rng = random.Random(args.seed)
    sp = Space(args.roles, args.perms_per_role)
    rw = len(str(max(args.roles - 1, 1)))
    uw = len(str(max(args.users - 1, 1)))
    role_names = [f"role{i:0{rw}d}" for i in range(args.roles)]

    role_perms = []   # per role: dict resource -> opbits (insertion ordered)
    role_keys = []    # per role: list of resources (for random picks)
    role_scope = []
    short = 0
    for _ in range(args.roles):
        f = rng.randrange(sp.factories)
        first = rng.randrange(sp.lines)
        lines = [(first + k) % sp.lines for k in range(sp.scope_lines)]
        scope = (f, lines)
        d = {}
        attempts = 0
        while len(d) < args.perms_per_role and attempts < 50 * args.perms_per_role + 100:
            attempts += 1
            res, op = gen_permission(rng, sp, scope)
            if res not in d:
                d[res] = op
        short += args.perms_per_role - len(d)
        role_perms.append(d)
        role_keys.append(list(d))
        role_scope.append(scope)
    if short:
        print(f"warning: {short} permissions could not be made distinct", file=sys.stderr)

    user_names = [f"user{i:0{uw}d}" for i in range(args.users)]
    user_roles = []
    for _ in range(args.users):
        k = min(rng.randint(args.rpu_min, args.rpu_max), args.roles)
        user_roles.append(rng.sample(range(args.roles), k))
    t_model = time.time()

    # ---------------- checks ----------------
    checks = []
    n_allow = args.checks // 2 + (args.checks % 2 if rng.random() < 0.5 else 0)
    n_deny = args.checks - n_allow
    fallback = 0
    for _ in range(n_allow):
        while True:
            u = rng.randrange(args.users)
            r = rng.choice(user_roles[u])
            if not role_keys[r]:
                continue
            res = rng.choice(role_keys[r])
            op = role_perms[r][res]
            access = "write" if op == OP_WRITE else "read" if op == OP_READ else rng.choice(("write", "read"))
            topic = instantiate(rng, sp, res)
            exp = decide(role_perms, user_roles[u], topic, access)
            if exp != "allow":
                raise SystemExit(f"internal error: instantiated {res!r} as {topic!r} but matcher says {exp}")
            checks.append((u, topic, access, exp))
            break
    for _ in range(n_deny):
        u = rng.randrange(args.users)
        roles = user_roles[u]
        found = None
        for attempt in range(64):
            r = rng.choice(roles)
            y = rng.random()
            if y < 0.30 and role_keys[r]:
                # the right topic, the wrong direction
                res = rng.choice(role_keys[r])
                op = role_perms[r][res]
                if op == OP_WRITE | OP_READ:
                    continue
                access = "read" if op == OP_WRITE else "write"
                topic = instantiate(rng, sp, res)
            elif y < 0.75 and role_keys[r]:
                res = rng.choice(role_keys[r])
                op = role_perms[r][res]
                access = "write" if op == OP_WRITE else "read" if op == OP_READ else rng.choice(("write", "read"))
                topic = mutate(rng, sp, instantiate(rng, sp, res))
            else:
                access = rng.choice(("write", "read"))
                topic = random_topic(rng, sp, role_scope[r][0] if y < 0.9 else None)
            if decide(role_perms, roles, topic, access) == "deny":
                found = (topic, access)
                break
        if found is None:
            # a factory that does not exist; still verified
            fallback += 1
            access = rng.choice(("write", "read"))
            topic = random_topic(rng, sp, sp.factories + rng.randrange(1000))
            if decide(role_perms, roles, topic, access) != "deny":
                topic = "plant/unknown/" + topic
            found = (topic, access)
        checks.append((u, found[0], found[1], "deny"))
    rng.shuffle(checks)
    t_checks = time.time()

    # ---------------- output ----------------
    os.makedirs(args.out, exist_ok=True)
    phc, salt_b64, hash_b64 = pw_hash()
    js = json.dumps
    total = sum(len(d) for d in role_perms)

    with open(os.path.join(args.out, "cwauth.json"), "w") as fh:
        fh.write('{"roles":[\n')
        for i, d in enumerate(role_perms):
            perms = ",".join(
                '{"resource":%s,"operation":"%s","context":"mqtt"}' % (js(res), OP_NAMES[op])
                for res, op in d.items())
            fh.write('%s{"name":%s,"permissions":[%s]}\n' % ("," if i else "", js(role_names[i]), perms))
        fh.write('],\n"users":[\n')
        for i, name in enumerate(user_names):
            fh.write('%s{"username":%s,"passwordHash":%s,"roles":[%s]}\n' % (
                "," if i else "", js(name), js(phc), ",".join(js(role_names[r]) for r in user_roles[i])))
        fh.write("]}\n")

    acl_entries = 0
    with open(os.path.join(args.out, "dynsec.json"), "w") as fh:
        fh.write('{"defaultACLAccess":{"publishClientSend":false,"publishClientReceive":false,'
                 '"subscribe":false,"unsubscribe":false},\n"groups":[],\n"roles":[\n')
        for i, d in enumerate(role_perms):
            acls = []
            for res, op in d.items():
                t = js(res)
                if op & OP_WRITE:
                    acls.append('{"acltype":"publishClientSend","topic":%s,"priority":0,"allow":true}' % t)
                if op & OP_READ:
                    acls.append('{"acltype":"publishClientReceive","topic":%s,"priority":0,"allow":true}' % t)
                    acls.append('{"acltype":"subscribePattern","topic":%s,"priority":0,"allow":true}' % t)
            acl_entries += len(acls)
            fh.write('%s{"rolename":%s,"acls":[%s]}\n' % ("," if i else "", js(role_names[i]), ",".join(acls)))
        fh.write('],\n"clients":[\n')
        for i, name in enumerate(user_names):
            roles = ",".join('{"rolename":%s}' % js(role_names[r]) for r in user_roles[i])
            fh.write('%s{"username":%s,"password":%s,"salt":%s,"iterations":%d,"roles":[%s]}\n' % (
                "," if i else "", js(name), js(hash_b64), js(salt_b64), ITERATIONS, roles))
        fh.write("]}\n")

    with open(os.path.join(args.out, "checks.tsv"), "w") as fh:
        for u, topic, access, exp in checks:
            fh.write(f"{user_names[u]}\t{user_names[u]}-c{u % 3}\t{topic}\t{access}\t{exp}\n")

    meta = {
        "generator": "Benchmarks/policy/gen_policy.py",
        "seed": args.seed,
        "roles": args.roles,
        "perms_per_role": args.perms_per_role,
        "users": args.users,
        "checks": len(checks),
        "total_permissions": total,
        "dynsec_acl_entries": acl_entries,
        "allow_checks": n_allow,
        "deny_checks": n_deny,
        "deny_fallbacks": fallback,
        "password": PASSWORD,
        "topic_space": {"factories": sp.factories, "lines_per_factory": sp.lines,
                        "machines_per_line": sp.machines, "lines_per_role_scope": sp.scope_lines},
    }
    if (args.rpu_min, args.rpu_max) != (1, 3):
        # only when not the default, so the default output stays as it always was
        meta["roles_per_user"] = [args.rpu_min, args.rpu_max]
    with open(os.path.join(args.out, "meta.json"), "w") as fh:
        json.dump(meta, fh, indent=1, sort_keys=True)
        fh.write("\n")
    t_end = time.time()
    print(f"gen_policy: {args.out}: roles={args.roles} rules={total} dynsec_acls={acl_entries} "
          f"users={args.users} checks={len(checks)} (allow={n_allow} deny={n_deny}) "
          f"model={t_model - t0:.1f}s checks={t_checks - t_model:.1f}s write={t_end - t_checks:.1f}s",
          file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--roles", type=int, default=10)
    ap.add_argument("--perms-per-role", type=int, default=10)
    ap.add_argument("--users", type=int, default=None, help="default: max(10, roles)")
    ap.add_argument("--checks", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--roles-per-user", default="1-3", metavar="MIN-MAX",
                    help="roles per user, drawn uniformly (default 1-3)")
    ap.add_argument("--out", help="output directory")
    ap.add_argument("--self-test", action="store_true", help="check the reference matcher and exit")
    args = ap.parse_args()
    if args.self_test:
        self_test()
        return
    if not args.out:
        ap.error("--out is required")
    if args.users is None:
        args.users = max(10, args.roles)
    if args.roles < 1 or args.perms_per_role < 1 or args.users < 1 or args.checks < 0:
        ap.error("--roles, --perms-per-role and --users must be >= 1, --checks >= 0")
    lo, sep, hi = args.roles_per_user.partition("-")
    if not lo.isdigit() or (sep and not hi.isdigit()):
        ap.error("--roles-per-user must be N or MIN-MAX")
    args.rpu_min, args.rpu_max = int(lo), int(hi) if sep else int(lo)
    if not 1 <= args.rpu_min <= args.rpu_max:
        ap.error("--roles-per-user needs 1 <= MIN <= MAX")
    generate(args)


if __name__ == "__main__":
    main()
