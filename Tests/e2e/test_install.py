"""`make install`, `make uninstall` and `make deb` as an administrator meets them: the installed CLI makes a
database, a real Mosquitto loads the installed plugin from the installed example snippet and lets the right
password in; `cwauth serve`, started as the installed unit says (another user, the broker's group), writes
the database the running broker uses; uninstall leaves nothing; the package holds what it should.

These package the release build that is already there (`make build` runs before the suite): neither target
builds, so nothing here compiles."""
import os
import pwd
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ADMIN, CWAUTH, ROOT, Broker, Server, broker_user, free_port, started_daemons
from mqtt_client import connect_result

DB_PATH = "/var/lib/cwauth/cwauth.db"
INSTALLED = {  # what `make install PREFIX=/usr` puts under DESTDIR
    "cli": "usr/bin/cwauth",
    "plugin": "usr/lib/cwauth/libcwauth_mosquitto.so",
    "snippet": "etc/mosquitto/conf.d/cwauth.conf.example",
    "unit": "usr/lib/systemd/system/cwauth-serve.service",
}
SENSOR = ("sensor-1", "sensor-pass-1")


MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PREFIX", "DESTDIR", "UNIT_DIR", "DIST", "DEB_COMPRESSION",
                  "BIN_DIR")


def make(*args, timeout=120):
    """`make -C <repo> ARGS…`, with none of the Makefile's variables from the environment: a `make test
    PREFIX=…` around us puts its command-line variables there, and this make would take them."""
    env = {k: v for k, v in os.environ.items() if k not in MAKE_VARIABLES}
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def build_version():
    proc = subprocess.run([CWAUTH, "--version"], capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def as_broker_user():
    """subprocess arguments running a command as the user Mosquitto becomes (nothing when that is us)."""
    user = broker_user()
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}


def state_dir(workdir):
    """/var/lib/cwauth as the deb's postinst makes it: the broker's user and group, 2770."""
    path = workdir / "var-lib-cwauth"
    path.mkdir()
    user = broker_user()
    if user:
        os.chown(path, user.pw_uid, user.pw_gid)
    path.chmod(0o2770)
    return path


def installed_cli(cwauth, db, *args, input=None, **kwargs):
    proc = subprocess.run([str(cwauth), "--db", str(db), *args], input=input, capture_output=True, text=True,
                          timeout=60, **kwargs)
    assert proc.returncode == 0, f"cwauth {' '.join(args)}: {proc.stderr}"
    return proc


def make_database(cwauth, db):
    """As docs/install.md says: created by the broker's user, then group-writable for cwauth-serve."""
    installed_cli(cwauth, db, "init", **as_broker_user())
    db.chmod(0o660)
    installed_cli(cwauth, db, "role", "add", "sensor")
    installed_cli(cwauth, db, "role", "grant", "sensor", "sensors/%u/#", "--op", "write")
    installed_cli(cwauth, db, "user", "add", SENSOR[0], "--password", SENSOR[1], "--role", "sensor")


def activated_snippet(snippet, root, db):
    """The example snippet as an administrator activates it, pointed at the files under `root` (a DESTDIR or
    an unpacked package) and at this test's database. The commented defaults are uncommented, so the broker
    must also accept every default the snippet shows."""
    text = snippet.replace("/usr/lib/cwauth/", f"{root}/usr/lib/cwauth/").replace(DB_PATH, str(db))
    text = re.sub(r"^# (plugin_opt_\w+ .*)$", r"\1", text, flags=re.M)
    plugin = f"{root}/usr/lib/cwauth/libcwauth_mosquitto.so"
    assert f"\nplugin {plugin}\n" in text and f"\nplugin_opt_database {db}\n" in text, text
    user = broker_user()
    if user:
        # As in scripts/run-demo.sh: a private temp folder on the way keeps the broker's user out.
        reach = subprocess.run(["runuser", "-u", user.pw_name, "--", "test", "-r", plugin, "-a", "-w", str(db)])
        if reach.returncode != 0:
            text = "user root\n" + text
    return text


class SnippetBroker(Broker):
    """Mosquitto with a given configuration (the activated snippet) plus a loopback listener and logging."""

    def __init__(self, workdir, config):
        self.port = free_port()
        self.log_path = workdir / "mosquitto.log"
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(config + f"\nlog_dest stderr\nlog_type all\nlistener {self.port} 127.0.0.1\n")
        self.proc = None


@pytest.fixture
def snippet_broker(workdir, request):
    yield from started_daemons(request, lambda config: SnippetBroker(workdir, config), "mosquitto")


@pytest.fixture
def destdir(workdir):
    path = workdir / "dest"
    done = make("install", f"DESTDIR={path}", "PREFIX=/usr")
    assert done.returncode == 0, done.stdout + done.stderr
    return path  # inside workdir, which goes with the test


def broker_from(root, workdir, snippet_broker):
    """A database made by the CLI under `root`, and a broker running the plugin under `root` from the snippet
    under `root`."""
    db = state_dir(workdir) / "cwauth.db"
    make_database(root / INSTALLED["cli"], db)
    snippet = (root / INSTALLED["snippet"]).read_text()
    return db, snippet_broker(activated_snippet(snippet, root, db))


def test_install_puts_files_in_place_and_the_broker_runs_them(destdir, workdir, snippet_broker):
    for name, rel in INSTALLED.items():
        assert (destdir / rel).is_file(), f"{name}: {rel} missing"
    cli = destdir / INSTALLED["cli"]
    assert os.access(cli, os.X_OK)
    assert (destdir / INSTALLED["plugin"]).stat().st_mode & 0o777 == 0o644  # a library: read, not executed
    assert subprocess.run([str(cli), "--version"], capture_output=True, text=True).stdout.strip() == build_version()
    # Installing must not activate anything in the broker: include_dir reads only *.conf.
    assert not list((destdir / "etc/mosquitto/conf.d").glob("*.conf"))

    snippet = (destdir / INSTALLED["snippet"]).read_text()
    assert "\nplugin /usr/lib/cwauth/libcwauth_mosquitto.so\n" in snippet
    assert f"\nplugin_opt_database {DB_PATH}\n" in snippet

    db, broker = broker_from(destdir, workdir, snippet_broker)
    assert "cwauth: loaded 1 users" in broker.log_text()
    assert connect_result(broker.port, *SENSOR)
    assert not connect_result(broker.port, SENSOR[0], "not-the-password")
    assert not connect_result(broker.port, "ghost", "whatever-pass")
    assert f"auth deny: wrong password for {SENSOR[0]}" in broker.log_text()


def readme_plugin_options():
    """{option: default} from README.md's Configuration table; None for the required database."""
    options = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        match = re.match(r"\| `(plugin_opt_\w+)` \| ([^|]*) \|", line)
        if match:
            default = re.match(r"`([^`]+)`", match.group(2).strip())
            options[match.group(1)] = default.group(1) if default else None
    return options


def test_snippet_lists_every_readme_option_with_its_default(destdir):
    snippet = (destdir / INSTALLED["snippet"]).read_text()
    readme = readme_plugin_options()
    assert "plugin_opt_database" in readme and len(readme) >= 8, readme
    shown = dict(re.findall(r"^#? ?(plugin_opt_\w+) (\S+)$", snippet, flags=re.M))
    assert set(shown) == set(readme), (shown, readme)
    for option, default in readme.items():
        if default is None:
            assert re.search(rf"^{option} \S", snippet, flags=re.M), f"{option} must be set, not commented"
        else:
            assert f"\n# {option} {default}\n" in snippet, f"{option}: README default {default}, snippet {shown[option]}"


def unit_settings(text):
    """The unit's Key=value lines (a key given twice keeps both values)."""
    settings = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_unit_is_hardened_and_systemd_accepts_it(destdir, workdir):
    unit = (destdir / INSTALLED["unit"]).read_text()
    s = unit_settings(unit)
    assert s["ExecStart"] == [f"/usr/bin/cwauth serve --db {DB_PATH} --listen 127.0.0.1:8080"]
    assert s["User"] == ["cwauth"] and s["Group"] == ["mosquitto"] and s["UMask"] == ["0007"]
    assert s["ReadWritePaths"] == ["/var/lib/cwauth"]
    assert "StateDirectory" not in s  # it would chown the broker's database to cwauth (docs/install.md)
    for key, value in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                       ("PrivateTmp", "yes"), ("CapabilityBoundingSet", ""),
                       ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
                       ("SystemCallFilter", "@system-service")]:
        assert value in s.get(key, []), f"{key}={value} missing"
    assert s["WantedBy"] == ["multi-user.target"]
    if shutil.which("systemd-analyze") is None:
        return
    # verify wants ExecStart's binary to exist: point it at the installed one (and nothing else changes).
    copy = workdir / "cwauth-serve.service"
    copy.write_text(unit.replace("ExecStart=/usr/bin/cwauth", f"ExecStart={destdir}/usr/bin/cwauth"))
    verify = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=30)
    assert verify.returncode == 0 and not verify.stderr.strip(), verify.stderr


class ServiceProcess(Server):
    """`cwauth serve` started from a unit's ExecStart, with the unit's user, group and umask."""

    def __init__(self, workdir, argv, **popen):
        super().__init__(workdir, db=argv[argv.index("--db") + 1])
        self.unit_argv = argv
        self.popen = popen

    def argv(self):
        return self.unit_argv

    def popen_options(self):
        return self.popen


@pytest.fixture
def service_factory(workdir, request):
    yield from started_daemons(request, lambda argv, **popen: ServiceProcess(workdir, argv, **popen), "serve")


@pytest.mark.skipif(broker_user() is None, reason="runs the service as another user: needs root and a mosquitto user")
def test_service_as_its_own_user_in_the_broker_group_writes_the_live_database(destdir, workdir, snippet_broker,
                                                                              service_factory):
    s = unit_settings((destdir / INSTALLED["unit"]).read_text())
    db, broker = broker_from(destdir, workdir, snippet_broker)
    installed_cli(destdir / INSTALLED["cli"], db, "init", "--admin", ADMIN[0], input=ADMIN[1] + "\n")
    # The group may pass through the test folder (the broker's user owns it), as through /var/lib.
    workdir.chmod(0o710)

    argv = shlex.split(s["ExecStart"][0])
    argv[0] = str(destdir / argv[0].lstrip("/"))
    argv[argv.index("--db") + 1] = str(db)
    argv[argv.index("--listen") + 1] = "127.0.0.1:0"
    # This machine has no cwauth user (only the package makes one): `nobody` stands in for it; what matters
    # is that it is not the broker's user, and that the unit's group and umask are.
    service_user = pwd.getpwnam("nobody")
    assert s["User"][0] not in ("root", broker_user().pw_name)
    serve = service_factory(argv, user=service_user.pw_uid, group=s["Group"][0], extra_groups=[],
                            umask=int(s["UMask"][0], 8))

    status = Path(f"/proc/{serve.proc.pid}/status").read_text()
    assert re.search(rf"^Uid:\s+{service_user.pw_uid}\s", status, flags=re.M), status
    assert re.search(rf"^Gid:\s+{broker_user().pw_gid}\s", status, flags=re.M), status
    created = serve.as_admin("POST", "/api/users", {"username": "sensor-2", "password": "sensor-pass-2",
                                                    "roles": ["sensor"]})
    assert created.status == 201, (created, serve.log_text())
    deadline = time.time() + 5
    while not connect_result(broker.port, "sensor-2", "sensor-pass-2"):
        assert time.time() < deadline, "the broker never let in the user cwauth serve created:\n" + broker.log_text()
        time.sleep(0.2)
    assert connect_result(broker.port, *SENSOR)
    # Every file either side made there stays the group's to write: the database, -wal and -shm.
    for path in db.parent.iterdir():
        st = path.stat()
        assert st.st_gid == broker_user().pw_gid and st.st_mode & 0o060 == 0o060, f"{path.name}: {oct(st.st_mode)}"


def test_install_never_builds(workdir):
    # No release build where BIN_DIR points: install says what to do instead of starting a (root) build.
    done = make("install", f"DESTDIR={workdir / 'dest'}", "PREFIX=/usr", f"BIN_DIR={workdir / 'nothing'}")
    assert done.returncode != 0
    assert "run 'make build' first" in done.stderr
    assert not (workdir / "dest").exists()


def test_uninstall_removes_exactly_what_install_put(workdir):
    dest = workdir / "dest"
    assert make("install", f"DESTDIR={dest}", "PREFIX=/usr").returncode == 0
    done = make("uninstall", f"DESTDIR={dest}", "PREFIX=/usr")
    assert done.returncode == 0, done.stderr
    assert [p for p in dest.rglob("*") if not p.is_dir()] == []
    assert not (dest / "usr/lib/cwauth").exists()

    # An activated copy is the administrator's file: it stays, and uninstall says the broker will not start.
    assert make("install", f"DESTDIR={dest}", "PREFIX=/usr").returncode == 0
    active = dest / "etc/mosquitto/conf.d/cwauth.conf"
    shutil.copy(dest / INSTALLED["snippet"], active)
    done = make("uninstall", f"DESTDIR={dest}", "PREFIX=/usr")
    assert done.returncode == 0 and "Mosquitto will not start" in done.stderr, done.stderr
    assert [p for p in dest.rglob("*") if not p.is_dir()] == [active]


def dpkg_deb(*args):
    return subprocess.run(["dpkg-deb", *map(str, args)], capture_output=True, text=True, check=True, timeout=60).stdout


def owning_package(library):
    """The Debian package holding a library path `ldd` printed (with or without the /usr of merged /usr)."""
    candidates = [library, os.path.realpath(library)]
    candidates += ["/usr" + library] if library.startswith("/lib") else [library.removeprefix("/usr")]
    for path in candidates:
        found = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        if found.returncode == 0:
            return found.stdout.split(":")[0].strip()
    raise AssertionError(f"no package holds {library}")


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")
def test_deb_holds_the_files_fields_and_scripts(workdir, snippet_broker):
    dist = workdir / "dist"
    # Compression only changes how the package is stored (the default xz takes about 30 s on two cores).
    done = make("deb", f"DIST={dist}", "DEB_COMPRESSION=none")
    assert done.returncode == 0, done.stdout + done.stderr
    version = build_version()
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    deb = dist / f"cwauth_{version}_{arch}.deb"
    assert [p.name for p in dist.iterdir()] == [deb.name], "only the package is left in dist/"

    listing = {}
    for line in dpkg_deb("-c", deb).splitlines():
        mode, owner, _size, _date, _time, path = line.split(None, 5)
        listing[path] = (mode, owner)
    expected = {"./usr/bin/cwauth": "-rwxr-xr-x", "./usr/lib/cwauth/libcwauth_mosquitto.so": "-rw-r--r--",
                "./lib/systemd/system/cwauth-serve.service": "-rw-r--r--",
                "./etc/mosquitto/conf.d/cwauth.conf.example": "-rw-r--r--"}
    for path, mode in expected.items():
        assert listing.get(path, (None,))[0] == mode, f"{path}: {listing.get(path)}"
    assert {owner for _mode, owner in listing.values()} == {"root/root"}
    assert set(p for p in listing if not p.endswith("/")) == set(expected), "nothing else in the package"

    fields = dict(line.split(": ", 1) for line in dpkg_deb("-f", deb).splitlines() if not line.startswith(" "))
    assert fields["Package"] == "cwauth" and fields["Version"] == version and fields["Architecture"] == arch
    assert fields["Maintainer"] and fields["Description"]
    depends = {d.split()[0]: d for d in fields["Depends"].split(", ")}
    assert depends["mosquitto"] == "mosquitto (>= 2.0)"
    assert {"libsqlite3-0", "libssl3", "adduser"} <= set(depends)

    info = dpkg_deb("-I", deb)
    for script in ("postinst", "prerm", "postrm", "conffiles"):
        assert re.search(rf"^\s+\d+ bytes,\s+\d+ lines\s+\*?\s*{script}\b", info, flags=re.M), info
    assert dpkg_deb("-I", deb, "conffiles").split() == ["/etc/mosquitto/conf.d/cwauth.conf.example"]
    postinst = dpkg_deb("-I", deb, "postinst")
    assert "adduser --system" in postinst and "install -d -o mosquitto -g mosquitto -m 2770" in postinst
    assert "systemctl daemon-reload" in postinst
    scripts = {name: dpkg_deb("-I", deb, name) for name in ("postinst", "prerm", "postrm")}
    for name, text in scripts.items():
        assert text == (SCRIPTS / name).read_text(), f"{name}: not packaging/deb/{name} (run below)"
        assert subprocess.run(["bash", "-n"], input=text, text=True).returncode == 0, f"{name}: syntax"
        commands = "\n".join(line for line in text.splitlines()
                              if not line.strip().startswith(("#", "echo ")))  # not what it tells the admin
        assert not re.search(r"systemctl\s+(--\S+\s+)*(enable|start|restart|reenable)\b", commands), \
            f"{name} must not enable or start anything"
        assert not re.search(r"\brm\b[^\n]*/var/lib/cwauth", commands), f"{name} must never delete the database"
        assert not re.search(r"\b(deluser|userdel)\b", commands), f"{name}: the user is kept (UID reuse)"

    # What is inside works: the unpacked CLI makes a database the unpacked plugin serves, from the snippet.
    root = workdir / "unpacked"
    dpkg_deb("-x", deb, root)
    assert subprocess.run([str(root / "usr/bin/cwauth"), "--version"], capture_output=True,
                          text=True).stdout.strip() == version
    for binary in ("usr/bin/cwauth", "usr/lib/cwauth/libcwauth_mosquitto.so"):
        for lib in re.findall(r"=> (/\S+)", subprocess.run(["ldd", str(root / binary)], capture_output=True,
                                                             text=True, check=True).stdout):
            assert owning_package(lib) in depends, f"{binary} needs {lib} ({owning_package(lib)}), not in Depends"
    _db, broker = broker_from(root, workdir, snippet_broker)
    assert connect_result(broker.port, *SENSOR)
    assert not connect_result(broker.port, SENSOR[0], "not-the-password")


# --- the deb's maintainer scripts, run for real in a private mount namespace ---------------------------

SCRIPTS = ROOT / "packaging/deb"


def can_unshare():
    return os.geteuid() == 0 and shutil.which("unshare") and subprocess.run(
        ["unshare", "-m", "--propagation", "private", "true"], capture_output=True).returncode == 0


def maintainer(workdir, body, user_exists=False):
    """Runs `body` (bash, calling "$S/postinst configure" and the like) with /var/lib, /run and
    /etc/systemd/system replaced by empty tmpfs in a mount namespace of its own, /run/systemd/system present
    (systemd "runs") and adduser and systemctl replaced by stubs that log their arguments. Returns
    (stdout, stderr, log of stub calls)."""
    shims = workdir / "shims"
    shims.mkdir(exist_ok=True)
    log = workdir / "calls.log"
    log.write_text("")
    for name in ("adduser", "systemctl"):
        (shims / name).write_text(f'#!/bin/bash\necho "{name} $*" >> {log}\n')
        (shims / name).chmod(0o755)
    # getent passwd cwauth: present or not as the scenario says; anything else is the real answer.
    (shims / "getent").write_text(
        '#!/bin/bash\nif [ "$1 $2" = "passwd cwauth" ]; then exit ' + ("0" if user_exists else "2") + '; fi\n'
        'exec /usr/bin/getent "$@"\n')
    (shims / "getent").chmod(0o755)
    driver = ("set -euo pipefail\n"
              "for d in /var/lib /run /etc/systemd/system; do mount -t tmpfs none $d; done\n"
              "mkdir -p /run/systemd/system\n"
              f"S={SCRIPTS}\n" + body)
    proc = subprocess.run(["unshare", "-m", "--propagation", "private", "bash", "-c", driver], capture_output=True,
                          text=True, timeout=30, env={**os.environ, "PATH": f"{shims}:{os.environ['PATH']}"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout, proc.stderr, log.read_text().splitlines()


@pytest.mark.skipif(broker_user() is None or not can_unshare(),
                    reason="needs root, a mosquitto user and mount namespaces")
def test_postinst_makes_user_and_folder_and_starts_nothing(workdir):
    out, err, calls = maintainer(workdir, '"$S/postinst" configure ""\nstat -c "%U:%G %a" /var/lib/cwauth\n')
    assert out.splitlines()[-1] == "mosquitto:mosquitto 2770"
    assert calls == ["adduser --system --quiet --ingroup mosquitto --home /nonexistent --no-create-home "
                     "--gecos cwauth serve cwauth", "systemctl daemon-reload"]
    assert err == ""

    # An upgrade: the user is there; a running service is restarted, a stopped one stays stopped.
    out, err, calls = maintainer(workdir, 'install -d -o mosquitto -g mosquitto -m 2770 /var/lib/cwauth\n'
                                          '"$S/postinst" configure 0.0.9\n', user_exists=True)
    assert calls == ["systemctl daemon-reload", "systemctl try-restart cwauth-serve.service"]
    assert "keeps the old plugin" in out and err == ""


@pytest.mark.skipif(broker_user() is None or not can_unshare(),
                    reason="needs root, a mosquitto user and mount namespaces")
def test_postinst_leaves_an_existing_folder_alone_and_says_what_to_fix(workdir):
    # Made per the README before the package: the broker's, but not the group's to write.
    out, err, calls = maintainer(workdir, 'install -d -o mosquitto -g mosquitto -m 0755 /var/lib/cwauth\n'
                                          'install -o mosquitto -g mosquitto -m 0644 /dev/null /var/lib/cwauth/cwauth.db\n'
                                          '"$S/postinst" configure ""\n'
                                          'stat -c "%a" /var/lib/cwauth /var/lib/cwauth/cwauth.db\n')
    assert out.split() == ["755", "644"]
    assert "/var/lib/cwauth is group mosquitto, mode 755" in err
    assert "/var/lib/cwauth/cwauth.db is group mosquitto, mode 644" in err
    assert "chmod g+rwxs /var/lib/cwauth " in err and "chmod g+rw /var/lib/cwauth/cwauth.db " in err


@pytest.mark.skipif(broker_user() is None or not can_unshare(),
                    reason="needs root, a mosquitto user and mount namespaces")
def test_remove_stops_the_service_and_purge_keeps_the_database(workdir):
    out, err, calls = maintainer(workdir, "\n".join([
        'install -d -o mosquitto -g mosquitto -m 2770 /var/lib/cwauth',
        'echo data > /var/lib/cwauth/cwauth.db',
        'mkdir -p /etc/systemd/system/multi-user.target.wants',
        'ln -s /lib/systemd/system/cwauth-serve.service /etc/systemd/system/multi-user.target.wants/',
        '"$S/prerm" remove', '"$S/postrm" remove', '"$S/postrm" purge',
        'cat /var/lib/cwauth/cwauth.db',
        'ls /etc/systemd/system/multi-user.target.wants', '']))
    assert calls == ["systemctl stop cwauth-serve.service", "systemctl daemon-reload", "systemctl daemon-reload"]
    assert out.splitlines()[-1] == "data", "the database survives a purge; the enabling link does not"
    assert "kept /var/lib/cwauth" in out
