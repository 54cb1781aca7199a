"""A throwaway PostgreSQL cluster with the churn extension, for tests and benchmarks.

Nothing is installed into the system's PostgreSQL: PostgreSQL 15 finds
extensions only in its own sharedir, which it locates relative to its
executable, so the server's programs are copied into a temporary tree (the
same layout below the prefix that bindir, sharedir and pkglibdir share),
the rest of its share and lib directories linked there, and churn.control,
the SQL script and churn.so added. The cluster (initdb in that tree,
127.0.0.1 on a free port) runs as `nobody` when the caller is root
(PostgreSQL refuses root), and is stopped and the tree removed on every
way out (atexit; SIGINT, SIGTERM and SIGHUP exit through it).

    cl = pgcluster.start(module_so, source_dir)   # None when PostgreSQL is absent (see cl_missing)
    (module None: a plain cluster without the extension, for clients of the server such as churn's
    postgresql:// sources and sinks)
    conn = cl.connect()
"""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile


# The TAP lines of the PostgreSQL tests (test-postgresql.py, test-pg-source.py, test-pg-shards.py).
SKIP = 77
failures = []


def skip(why):
    """Skip the whole test (exit 77) saying why."""
    print(f"1..0 # SKIP {why}")
    sys.exit(SKIP)


def check(ok, what):
    """One TAP line; a failure is remembered in failures."""
    print(("ok" if ok else "not ok") + f" - {what}", flush=True)
    if not ok:
        failures.append(what)


def pg_config(flag):
    return subprocess.run([shutil.which("pg_config"), flag], check=True, capture_output=True,
                          text=True).stdout.strip()


def missing(module):
    """Why a cluster cannot be made (None when it can)."""
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "python3-psycopg2 is not installed"
    if not shutil.which("pg_config"):
        return "pg_config not found (install postgresql-15 postgresql-server-dev-15)"
    if not os.path.exists(os.path.join(pg_config("--bindir"), "postgres")):
        return "the PostgreSQL server binaries are absent (install postgresql-15)"
    if module and not os.path.exists(module):
        return f"the extension {module} is not built"
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, module, src, settings=()):
        self.root = os.geteuid() == 0
        self.tmp = tempfile.mkdtemp(prefix="churn-pg-")
        os.chmod(self.tmp, 0o755)
        self.up = False
        atexit.register(self.stop)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda *_: sys.exit(1))
        self.bin = self._private_install(module, src)
        self.data = os.path.join(self.tmp, "data")
        self.log = os.path.join(self.data, "server.log")
        os.makedirs(self.data)
        if self.root:
            shutil.chown(self.data, "nobody")
        r = self.as_user([self.bin + "/initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                          "--locale=C"], capture_output=True, text=True)
        if r.returncode:
            sys.exit("initdb failed: " + r.stderr)
        self.port = free_port()
        opts = (f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c max_worker_processes=8 "
                "-c max_parallel_workers=4 -c max_parallel_workers_per_gather=2 -c fsync=off "
                + " ".join(f"-c {s}" for s in settings))
        # churn.so finds libchurn through the build's run path relative to itself ($ORIGIN), which the copy loses
        libchurn = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(module))), "libchurn") if module else ""
        r = self.as_user(["env", "LD_LIBRARY_PATH=" + libchurn, self.bin + "/pg_ctl", "-D", self.data, "-l",
                          self.log, "-o", opts, "-w", "start"], capture_output=True, text=True)
        if r.returncode:
            sys.exit("pg_ctl start failed: " + r.stderr + (open(self.log).read() if os.path.exists(self.log) else ""))
        self.up = True

    def as_user(self, cmd, **kw):
        if self.root:
            cmd = ["runuser", "-u", "nobody", "--"] + cmd
        return subprocess.run(cmd, **kw)

    def stop(self):
        if os.environ.get("CHURN_PG_KEEP_LOG") and os.path.exists(getattr(self, "log", "")):
            shutil.copy(self.log, os.path.join(tempfile.gettempdir(), "churn-pg-server.log"))
        if self.up:
            self.as_user([self.bin + "/pg_ctl", "-D", self.data, "-m", "immediate", "stop"], capture_output=True)
            self.up = False
        shutil.rmtree(self.tmp, ignore_errors=True)

    def connect(self, dbname="postgres"):
        import psycopg2
        c = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname)
        c.autocommit = True
        return c

    def _private_install(self, module, src):
        """The server's tree copied under tmp with the extension added; returns its bindir."""
        bindir, sharedir, libdir = pg_config("--bindir"), pg_config("--sharedir"), pg_config("--pkglibdir")
        prefix = os.path.commonpath([bindir, sharedir, libdir])
        my_bin, my_share, my_lib = (os.path.join(self.tmp, os.path.relpath(d, prefix)) for d in (bindir, sharedir,
                                                                                                 libdir))
        os.makedirs(my_bin)
        for prog in ("postgres", "initdb", "pg_ctl", "psql"):
            if os.path.exists(os.path.join(bindir, prog)):
                shutil.copy2(os.path.join(bindir, prog), my_bin)
        for sys_dir, dst, skipname in ((sharedir, my_share, "extension"), (libdir, my_lib, None)):
            os.makedirs(dst, exist_ok=True)
            for e in os.listdir(sys_dir):
                if e != skipname and not os.path.exists(os.path.join(dst, e)):
                    os.symlink(os.path.join(sys_dir, e), os.path.join(dst, e))
        ext = os.path.join(my_share, "extension")
        os.makedirs(ext)
        for e in os.listdir(os.path.join(sharedir, "extension")):
            os.symlink(os.path.join(sharedir, "extension", e), os.path.join(ext, e))
        if module:
            for f in os.listdir(os.path.join(src, "postgresql")):
                if f == "churn.control" or (f.startswith("churn--") and f.endswith(".sql")):
                    shutil.copy2(os.path.join(src, "postgresql", f), ext)
            shutil.copy2(module, os.path.join(my_lib, "churn.so"))
        for d, _, _ in os.walk(self.tmp):
            os.chmod(d, 0o755)
        return my_bin
