"""`--cluster`: verify, check and package on a real Dask cluster on 127.0.0.1.

A real `dask scheduler` and two `dask worker` processes (the .venv's dask), started by this module
and killed at the end. The studio's mixed deliverable (signed, unsigned, tampered, GenAI approved,
unapproved and revoked, a third-party generator) comes from test_package.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import CLI_COMMAND, ERROR_PREFIX, ROOT, CliResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from distributed import Client
from test_package import APPROVED, MIXED, PLATE, Studio, studio

from genai_provenance.gate.cluster import RULE, TASK_PREFIX
from genai_provenance.model.provenance import NOT_CHECKED
from genai_provenance.schemas import validate

__all__ = ["studio"]  # the module-scoped fixture, shared with test_package

DASK = Path(sys.executable).parent / "dask"
Cli = Callable[..., CliResult]
COPIES = 30  # enough tasks that a worker is killed while the run is still going


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DaskCluster:
    """A scheduler and its workers: real processes, each in its own session, killed at the end."""

    base: Path
    address: str = ""
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def _spawn(self, args: list[str], name: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.base / f"{name}.log", "wb")  # noqa: SIM115  # closed with the process
        cwd = self.base / "cwd"  # not the tests' folder: relative paths must not work by accident
        cwd.mkdir(exist_ok=True)
        proc = subprocess.Popen(
            [str(DASK), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def start_scheduler(self, *extra: str, scheme: str = "tcp") -> None:
        port = free_port()
        self.address = f"{scheme}://127.0.0.1:{port}"
        args = ["scheduler", "--protocol", scheme, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]
        self._spawn([*args, *extra], "scheduler")

    def start_worker(self, name: str, *extra: str, env: dict[str, str] | None = None) -> None:
        args = ["worker", self.address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard"]
        args += ["--host", "127.0.0.1", "--local-directory", str(self.base / name), *extra]
        self._spawn(args, name, env)

    def client(self) -> Client:
        return Client(self.address, timeout=60, set_as_default=False)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)  # our own child's session, by its id
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    found = DaskCluster(tmp_path_factory.mktemp("dask"))
    try:
        found.start_scheduler()
        found.start_worker("worker-1")
        found.start_worker("worker-2")
        with found.client() as client:
            client.wait_for_workers(2, timeout=90)
        yield found
    finally:
        found.stop()


def run(*args: Any, cwd: Path | None = None, env: dict[str, str] | None = None) -> CliResult:
    done = subprocess.run(
        [*CLI_COMMAND, *(str(a) for a in args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
    assert "Traceback" not in done.stderr, done.stderr
    return CliResult(done.returncode, done.stdout, done.stderr)


def where(doc: dict[str, Any]) -> list[str]:
    """Each asset's checked_on, removed from the document (the only field allowed to differ)."""
    return [asset.pop("checked_on") for asset in doc["assets"]]


def workers_of(client: Client) -> set[str]:
    return set(client.nthreads())


# --------------------------------------------------------------------------- same results as a local run


def test_verify_and_check_on_the_cluster_equal_a_local_run(
    studio: Studio, cluster: DaskCluster, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    studio.source(tmp_path / "deliverable")
    home = ["--home", studio.home]
    monkeypatch.chdir(tmp_path)
    with cluster.client() as client:
        workers = workers_of(client)
    for command, schema in (("verify", "verify-report"), ("check", "check-report")):
        # A relative path: workers run in another folder, so the job must carry where the file really is.
        local = cli(command, "deliverable", *home, "--workers", 1, "--format", "json")
        remote = cli(command, "deliverable", *home, "--cluster", cluster.address, "--format", "json")
        assert local.code == remote.code == 1, (remote.code, remote.stderr)
        assert remote.stderr == ""
        local_doc, remote_doc = local.json(), remote.json()
        validate(schema, remote_doc, f"{command} --cluster")
        validate(schema, local_doc, f"{command} (local)")
        assert set(where(local_doc)) == {"local"}
        assert set(where(remote_doc)) <= workers, "every asset names the worker that read it"
        assert remote_doc == local_doc
        assert len(remote_doc["assets"]) == len(MIXED)
        statuses = {a["status"] for a in remote_doc["assets"]}
        assert {"trusted", "invalid", "no-credentials"} <= statuses
    verbose = cli("check", "deliverable", *home, "--cluster", cluster.address, "--verbose")
    lines = [line for line in verbose.stdout.splitlines() if line.startswith("  checked on: ")]
    assert len(lines) == len(MIXED) and all(line.split(": ", 1)[1] in workers for line in lines), verbose.stdout


def insecure(cluster: DaskCluster) -> list[str]:
    """package on a tcp:// test cluster: the flag that accepts unauthenticated workers."""
    return ["--cluster", cluster.address, "--insecure-cluster"]


def test_package_refuses_unauthenticated_workers_unless_told(
    studio: Studio, cluster: DaskCluster, tmp_path: Path, cli: Cli
) -> None:
    """Attack: a machine on the farm network joins the tcp:// scheduler and answers "trusted" for every asset.
    The final gate does not take tcp:// answers unless the user says the network is closed."""
    cleared = studio.source(tmp_path / "cleared", [PLATE, APPROVED])
    res = cli("package", cleared, "-o", tmp_path / "out", "--home", studio.home, "--cluster", cluster.address)
    assert res.code == 2 and res.stdout == "" and not (tmp_path / "out").exists()
    [line] = res.stderr.splitlines()
    assert "not authenticated" in line and "tls://" in line and "--insecure-cluster" in line, line


def test_package_on_the_cluster_equals_a_local_run(
    studio: Studio, cluster: DaskCluster, tmp_path: Path, cli: Cli
) -> None:
    home = ["--home", studio.home]
    mixed = studio.source(tmp_path / "mixed")
    local = cli("package", mixed, "-o", tmp_path / "a", *home, "--workers", 1, "--format", "json")
    remote = cli("package", mixed, "-o", tmp_path / "b", *home, *insecure(cluster), "--format", "json")
    assert local.code == remote.code == 1 and remote.stderr == ""
    local_doc, remote_doc = local.json(), remote.json()
    validate("package-report", remote_doc, "package --cluster")
    assert NOT_CHECKED not in where(remote_doc) and set(where(local_doc)) == {"local"}
    assert remote_doc == local_doc and remote_doc["written"] is False
    assert not (tmp_path / "b").exists()

    cleared = studio.source(tmp_path / "cleared", [PLATE, APPROVED])
    local = cli("package", cleared, "-o", tmp_path / "c", *home, "--workers", 1, "--format", "json")
    remote = cli("package", cleared, "-o", tmp_path / "d", *home, *insecure(cluster), "--format", "json")
    assert local.code == remote.code == 0, remote.stderr
    local_doc, remote_doc = local.json(), remote.json()
    where(local_doc)
    where(remote_doc)
    assert remote_doc.pop("package") == str(tmp_path / "d") and local_doc.pop("package") == str(tmp_path / "c")
    assert remote_doc == local_doc and remote_doc["written"] is True
    checked = cli("verify-package", tmp_path / "d", *home, "--workers", 1)
    assert checked.code == 0, checked.stdout


# --------------------------------------------------------------------------- a worker killed mid-run


def kill_a_busy_worker(client: Client, cli: subprocess.Popen[str]) -> str:
    """SIGKILL a worker while it holds one of our tasks and the run is still going (polled, not timed)."""
    pids: dict[str, int] = client.run(os.getpid)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert cli.poll() is None, "the run ended before a worker could be killed"
        for address, keys in client.processing().items():
            if any(str(k).startswith(TASK_PREFIX) for k in keys) and address in pids:
                os.kill(pids[address], signal.SIGKILL)
                return str(address)
        time.sleep(0.005)
    raise AssertionError("no worker ever started a task")


def many(studio: Studio, folder: Path) -> Path:
    studio.source(folder)
    for i in range(COPIES):
        shutil.copy2(studio.kit / APPROVED, folder / f"copy_{i:03d}.mp4")
    return folder


def test_a_worker_killed_mid_run_loses_nothing(studio: Studio, cluster: DaskCluster, tmp_path: Path, cli: Cli) -> None:
    source = many(studio, tmp_path / "deliverable")
    home = ["--home", studio.home]
    local = cli("check", source, *home, "--workers", 1, "--format", "json")
    with cluster.client() as client:
        client.wait_for_workers(2, timeout=90)  # the nanny restarted any worker killed before
        cli = subprocess.Popen(
            [*CLI_COMMAND, "check", str(source), *map(str, home), "--cluster", cluster.address, "--format", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        killed = kill_a_busy_worker(client, cli)
        stdout, stderr = cli.communicate(timeout=300)
    assert cli.returncode == local.code == 1, stderr
    assert stderr == ""
    doc, local_doc = json.loads(stdout), local.json()
    validate("check-report", doc, "check --cluster")
    places = where(doc)
    where(local_doc)
    assert NOT_CHECKED not in places and killed  # its tasks ran again on a worker that stayed up
    assert doc == local_doc, "the same verdicts, each asset once, after the worker died"
    assert len(doc["assets"]) == len(MIXED) + COPIES == doc["summary"]["assets"]
    assert sorted(a["path"] for a in doc["assets"]) == sorted({a["path"] for a in doc["assets"]})


# --------------------------------------------------------------------------- refusals and fail-closed


def test_an_unreachable_scheduler_is_one_line(studio: Studio, tmp_path: Path, cli: Cli) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    for command in ("verify", "check"):
        res = cli(command, studio.kit, "--home", studio.home, "--cluster", address, "--cluster-timeout", 1)
        assert res.code == 2 and res.stdout == ""
        [line] = res.stderr.splitlines()
        assert line.startswith(ERROR_PREFIX) and address in line and "not reachable" in line, line
    res = run(
        "package", studio.kit, "-o", tmp_path / "p", "--home", studio.home, "--cluster", address,
        "--insecure-cluster", env={"GENAI_PROVENANCE_CLUSTER_TIMEOUT": "1"},
    )  # fmt: skip
    assert res.code == 2 and len(res.stderr.splitlines()) == 1 and "waited 1 s" in res.stderr, res.stderr
    assert not (tmp_path / "p").exists()
    res = cli("verify", studio.kit, "--cluster", "http://127.0.0.1:1")
    assert res.code == 2 and len(res.stderr.splitlines()) == 1 and "not a scheduler address" in res.stderr


def test_without_dask_the_flag_names_the_extra(
    studio: Studio, cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # what `import distributed` meets without the extra
    res = cli("check", studio.kit, "--home", studio.home, "--cluster", "tcp://127.0.0.1:1")
    assert res.code == 2
    [line] = res.stderr.splitlines()
    assert line == f"{ERROR_PREFIX}--cluster needs Dask: install genai-provenance[cluster]"


@pytest.fixture(scope="module")
def spare(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    """A second scheduler, for workers that are meant to be lost or wrong."""
    found = DaskCluster(tmp_path_factory.mktemp("dask-spare"))
    try:
        found.start_scheduler()
        yield found
    finally:
        found.stop()


def test_all_workers_lost_blocks_every_unchecked_asset(studio: Studio, spare: DaskCluster, tmp_path: Path) -> None:
    source = many(studio, tmp_path / "deliverable")
    spare.start_worker("lonely", "--no-nanny")  # killed, it is gone for good
    with spare.client() as client:
        client.wait_for_workers(1, timeout=90)
        cli = subprocess.Popen(
            [*CLI_COMMAND, "check", str(source), "--home", str(studio.home), "--cluster", spare.address,
             "--cluster-timeout", "2", "--intended-use", "temporary", "--format", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        kill_a_busy_worker(client, cli)
        stdout, stderr = cli.communicate(timeout=300)
    assert cli.returncode == 1 and stderr == "", stderr
    doc = json.loads(stdout)
    validate("check-report", doc, "check --cluster, workers lost")
    lost = [a for a in doc["assets"] if a["checked_on"] == NOT_CHECKED]
    assert lost, "the only worker died mid-run: some assets were never checked"
    assert len(doc["assets"]) == doc["summary"]["assets"] == len(MIXED) + COPIES  # none dropped
    for asset in lost:  # even for temporary use, where the policy itself would let much pass
        assert asset["blocked"] and asset["status"] == "unreadable"
        assert asset["findings"][0]["rule_id"] == RULE
        assert "no worker left on the cluster" in asset["verification"]["error"]
    assert doc["summary"]["blocked"] >= len(lost)


def test_a_worker_with_another_version_is_refused(studio: Studio, spare: DaskCluster, tmp_path: Path, cli: Cli) -> None:
    other = tmp_path / "other-install"
    shutil.copytree(ROOT / "genai_provenance", other / "genai_provenance")
    init = other / "genai_provenance" / "__init__.py"
    init.write_text(init.read_text(encoding="utf-8").replace('__version__ = "', '__version__ = "9.9.9+'), "utf-8")
    spare.start_worker("other", env={"PYTHONPATH": str(other)})
    with spare.client() as client:
        client.wait_for_workers(1, timeout=90)
        [version] = client.run(lambda: __import__("genai_provenance").__version__).values()
        assert version.startswith("9.9.9+")
    res = cli("check", studio.kit, "--home", studio.home, "--cluster", spare.address, "--format", "json")
    assert res.code == 2 and res.stdout == ""
    [line] = res.stderr.splitlines()
    assert "genai-provenance 9.9.9+" in line and "install the same version on every worker" in line, line


# --------------------------------------------------------------------------- tls://


def tls_files(folder: Path) -> dict[str, Path]:
    """A CA and one certificate for 127.0.0.1 (server and client), as Dask's TLS settings take them."""
    now = dt.datetime.now(dt.UTC)
    ca_key, node_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Render Farm Dask CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    node = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(node_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    files = {"ca": folder / "ca.pem", "cert": folder / "node.pem", "key": folder / "node.key"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(node.public_bytes(serialization.Encoding.PEM))
    pem = node_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    files["key"].touch(mode=0o600)
    files["key"].write_bytes(pem)
    return files


def test_tls_cluster_with_dask_tls_settings(studio: Studio, tmp_path_factory: pytest.TempPathFactory, cli: Cli) -> None:
    base = tmp_path_factory.mktemp("dask-tls")
    tls = tls_files(base)
    flags = ["--tls-ca-file", str(tls["ca"]), "--tls-cert", str(tls["cert"]), "--tls-key", str(tls["key"])]
    farm = DaskCluster(base)
    try:
        farm.start_scheduler(*flags, scheme="tls")
        farm.start_worker("worker", *flags)
        # Without the client's TLS settings: refused in one line before anything is sent.
        res = cli("verify", studio.kit / PLATE, "--home", studio.home, "--cluster", farm.address)
        assert res.code == 2 and len(res.error_lines) == 1 and "DASK_DISTRIBUTED__COMM__TLS__CA_FILE" in res.stderr
        env = {
            "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": str(tls["ca"]),
            "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": str(tls["cert"]),
            "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": str(tls["key"]),
            "GENAI_PROVENANCE_CLUSTER_TIMEOUT": "90",  # the worker may still be starting
        }
        res = run("verify", studio.kit / PLATE, "--home", studio.home, "--cluster", farm.address, "--format", "json",
                  env=env)  # fmt: skip
        assert res.code == 0 and res.stderr == "", res.stderr
        [asset] = res.json()["assets"]
        assert asset["status"] == "trusted" and asset["checked_on"].startswith("tls://127.0.0.1:")
    finally:
        farm.stop()


def test_a_lost_scheduler_blocks_every_unchecked_asset(
    studio: Studio, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    source = many(studio, tmp_path / "deliverable")
    farm = DaskCluster(tmp_path_factory.mktemp("dask-lost"))
    try:
        farm.start_scheduler()
        farm.start_worker("worker")
        with farm.client() as client:
            client.wait_for_workers(1, timeout=90)
            cli = subprocess.Popen(
                [*CLI_COMMAND, "check", str(source), "--home", str(studio.home), "--cluster", farm.address,
                 "--cluster-timeout", "2", "--format", "json"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            deadline = time.monotonic() + 120
            while not any(str(k).startswith(TASK_PREFIX) for keys in client.processing().values() for k in keys):
                assert cli.poll() is None and time.monotonic() < deadline, "no task was ever started"
                time.sleep(0.005)
            scheduler = farm.procs[0]
            os.killpg(scheduler.pid, signal.SIGKILL)  # our own child's session, by its id
            stdout, stderr = cli.communicate(timeout=300)
    finally:
        farm.stop()
    assert cli.returncode == 1 and stderr == "", stderr  # no Dask log lines, no traceback
    doc = json.loads(stdout)
    validate("check-report", doc, "check --cluster, scheduler lost")
    lost = [a for a in doc["assets"] if a["checked_on"] == NOT_CHECKED]
    assert lost and len(doc["assets"]) == doc["summary"]["assets"] == len(MIXED) + COPIES
    assert all(a["blocked"] and a["findings"][0]["rule_id"] == RULE for a in lost)


# --------------------------------------------------------------------------- image sequences


def test_sequences_on_the_cluster_equal_a_local_run(
    studio: Studio, cluster: DaskCluster, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signed EXR sequence and a copy with one frame changed: one asset each, the same verdicts either way."""
    from test_sequences import NAME, frame, make_frames
    from test_sequences import PLATE as SEQ_PLATE

    shots = tmp_path / "shots"
    intact = make_frames(shots / "intact", "exr")
    signed = cli("sign", intact / f"{NAME}.%04d.exr", "--disclosure", SEQ_PLATE, "--home", studio.home)
    assert signed.code == 0, signed.stderr
    shutil.copytree(intact, shots / "changed")
    changed = frame(shots / "changed", 1003)
    data = bytearray(changed.read_bytes())
    data[len(data) // 2] ^= 0x01
    changed.write_bytes(bytes(data))
    monkeypatch.chdir(tmp_path)
    home = ["--home", studio.home]
    for command in ("verify", "check"):
        local = cli(command, "shots", *home, "--workers", 1, "--format", "json")
        remote = cli(command, "shots", *home, "--cluster", cluster.address, "--format", "json")
        assert local.code == remote.code == 1, (remote.code, remote.stderr)
        local_doc, remote_doc = local.json(), remote.json()
        assert set(where(local_doc)) == {"local"} and "local" not in set(where(remote_doc))
        assert remote_doc == local_doc
        by_name = {a["path"]: a for a in remote_doc["assets"]}
        assert set(by_name) == {f"shots/intact/{NAME}.[1001-1006].exr", f"shots/changed/{NAME}.[1001-1006].exr"}
        assert by_name[f"shots/intact/{NAME}.[1001-1006].exr"]["status"] == "trusted"
        broken = by_name[f"shots/changed/{NAME}.[1001-1006].exr"]
        assert broken["status"] == "invalid" and f"{NAME}.1003.exr" in json.dumps(broken)
