"""pgtest: a real PostgreSQL 15 server for the Python tests and the bench,
the twin of xs_test_pg.c: initdb in a fresh temp dir, `postgres` on a unix
socket in that dir only, run as the unprivileged user xensm-pg (made by
scripts/deps; `nobody` when missing; the caller when not root), stopped and
removed by stop().

    server = pgtest.Server(durable=True)
    uri = server.create_db("e2e1")       # postgresql:///e2e1?host=...
    ...
    server.stop()

XS_TEST_PG_BIN overrides /usr/lib/postgresql/15/bin.
"""
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

USER = "xensm-pg"
SUPERUSER = "xensm"
PORT = 5432


def _bin():
    return os.environ.get("XS_TEST_PG_BIN") or "/usr/lib/postgresql/15/bin"


def _server_user():
    if os.geteuid() != 0:
        return None
    for name in (USER, "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    return None


class Server:
    def __init__(self, durable=True):
        self.bin = _bin()
        for prog in ("initdb", "postgres"):
            if not os.access(os.path.join(self.bin, prog), os.X_OK):
                raise RuntimeError("%s/%s missing: install Debian's postgresql "
                                   "(bash scripts/deps)" % (self.bin, prog))
        self.dir = tempfile.mkdtemp(prefix="xs-pg-")
        self.data = os.path.join(self.dir, "data")
        self.user = _server_user()
        if self.user:
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        self.proc = None
        try:
            args = [os.path.join(self.bin, "initdb"), "-D", self.data, "-U", SUPERUSER,
                    "--auth=trust", "-E", "UTF8", "--locale=C"]
            if not durable:
                args.append("--no-sync")
            self._run(args, "initdb.log")
            with open(self._log("postgres.log"), "ab") as log:
                self.proc = subprocess.Popen(
                    [os.path.join(self.bin, "postgres"), "-D", self.data, "-k", self.dir,
                     "-p", str(PORT), "-c", "listen_addresses=",
                     "-c", "fsync=" + ("on" if durable else "off"),
                     "-c", "max_connections=200"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    preexec_fn=self._drop, start_new_session=True)
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _log(self, name):
        return os.path.join(self.dir, name)

    def _drop(self):
        if self.user:
            os.setgroups([])
            os.setgid(self.user.pw_gid)
            os.setuid(self.user.pw_uid)

    def _run(self, args, log):
        with open(self._log(log), "ab") as f:
            if self.user:
                os.fchown(f.fileno(), self.user.pw_uid, self.user.pw_gid)
            rc = subprocess.call(args, stdin=subprocess.DEVNULL, stdout=f, stderr=f,
                                 preexec_fn=self._drop)
        if rc != 0:
            raise RuntimeError("%s failed (%d), see %s" % (args[0], rc, self._log(log)))

    def _wait_ready(self, timeout=30):
        # postgres signals nothing when ready: ask it, as pg_ctl does.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited, see " + self._log("postgres.log"))
            if subprocess.call([os.path.join(self.bin, "pg_isready"), "-q", "-h", self.dir,
                                "-p", str(PORT), "-U", SUPERUSER, "-d", "postgres"]) == 0:
                return
            time.sleep(0.05)
        raise RuntimeError("postgres not ready within %d s" % timeout)

    def psql(self, sql, db="postgres"):
        """Runs sql with psql; returns its unaligned output."""
        out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                              "-h", self.dir, "-p", str(PORT), "-U", SUPERUSER, "-d", db,
                              "-c", sql], check=True, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, PGOPTIONS="-c client_min_messages=warning"))
        return out.stdout.strip()

    def uri(self, db):
        return "postgresql:///%s?host=%s&port=%d&user=%s" % (db, self.dir, PORT, SUPERUSER)

    def create_db(self, db):
        self.psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % db)
        self.psql('CREATE DATABASE "%s" TEMPLATE template0' % db)
        return self.uri(db)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)        # fast shutdown
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if not os.environ.get("XS_TEST_PG_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


_shared = None


def shared(durable=False):
    """One server for the whole process (stopped at exit)."""
    global _shared
    if _shared is None:
        import atexit
        _shared = Server(durable=durable)
        atexit.register(_shared.stop)
    return _shared
