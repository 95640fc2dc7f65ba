"""One real `grantd serve` per test session, reached the way users reach it.

The binary comes from `GRANTD_BIN` (default `target/debug/grantd`). It runs on an embedded
PostgreSQL in a fresh temporary data directory and listens on a free port; the JSON line
it prints on stdout gives the endpoint and the default account's credentials. More
accounts are created with `grantd admin create-account` on the same data directory while
the server runs. At the end of the session the server gets SIGTERM and must exit 0.

Clients: boto3 with retries off (`total_max_attempts=1`, aws-wire.md §3.4) so every
error is seen exactly as sent, and the AWS CLI as a subprocess with the same setting.
Neither may read this machine's AWS configuration: every `AWS_*` variable is dropped and
the config and credentials files point at paths that do not exist.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
STARTUP_SECONDS = 180
STOP_SECONDS = 60
ADMIN_SECONDS = 60
CLI_SECONDS = 120

# Nothing from the machine's own AWS setup may reach boto3 or the CLI.
for _name in [n for n in os.environ if n.startswith("AWS_")]:
    del os.environ[_name]
_NOWHERE = Path(tempfile.gettempdir()) / f"grantd-pytest-no-aws-config-{os.getpid()}"
os.environ["AWS_CONFIG_FILE"] = str(_NOWHERE / "config")
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(_NOWHERE / "credentials")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@dataclass(frozen=True)
class Account:
    account_id: str
    organization_id: str | None
    access_key_id: str
    secret_access_key: str

    @classmethod
    def from_json(cls, doc: dict) -> "Account":
        return cls(
            account_id=doc["AccountId"],
            organization_id=doc.get("OrganizationId"),
            access_key_id=doc["AccessKeyId"],
            secret_access_key=doc["SecretAccessKey"],
        )


def _aws_executable() -> str:
    beside_python = Path(sys.executable).parent / "aws"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("aws")
    if not found:
        raise RuntimeError("the AWS CLI is not installed (pip install -r tests/python/requirements.txt)")
    return found


class Grantd:
    """A running `grantd serve` and the ways to talk to it."""

    def __init__(self, binary: Path, workdir: Path):
        self.binary = binary
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.log_path = workdir / "grantd.log"
        self.env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        self.env.update(
            GRANTD_DATA_DIR=str(self.data_dir),
            GRANTD_LOG_FORMAT="json",
            RUST_LOG=os.environ.get("RUST_LOG", "info"),
        )
        self.proc: subprocess.Popen | None = None
        self.endpoint = ""
        self.owner: Account | None = None
        self._stdout: "queue.Queue[str | None]" = queue.Queue()

    # -- process lifecycle -------------------------------------------------------------

    def start(self) -> None:
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(self.binary), "serve", "--listen", "127.0.0.1:0"],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        log.close()
        threading.Thread(target=self._drain_stdout, daemon=True).start()
        try:
            line = self._stdout.get(timeout=STARTUP_SECONDS)
        except queue.Empty:
            line = None
        if not line:
            self.stop()
            raise RuntimeError(
                f"grantd did not print its startup line within {STARTUP_SECONDS}s "
                f"(exit code {self.proc.returncode}); log:\n{self.log_tail()}"
            )
        started = json.loads(line)
        self.endpoint = started["Endpoint"]
        assert started["Region"] == REGION, started
        assert "DefaultAccount" in started, "a fresh data directory must create the default account"
        self.owner = Account.from_json(started["DefaultAccount"])

    def _drain_stdout(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            self._stdout.put(line)
        self._stdout.put(None)

    def stop(self) -> int | None:
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError(f"grantd did not stop within {STOP_SECONDS}s of SIGTERM")
        return self.proc.returncode

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- administration ----------------------------------------------------------------

    def admin(self, *args: str) -> dict:
        done = subprocess.run(
            [str(self.binary), "admin", *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=ADMIN_SECONDS,
        )
        assert done.returncode == 0, f"grantd admin {' '.join(args)} failed:\n{done.stderr}"
        return json.loads(done.stdout)

    def create_account(self, organization_id: str | None = None) -> Account:
        args = ["create-account"]
        if organization_id:
            args += ["--organization-id", organization_id]
        account = Account.from_json(self.admin(*args))
        assert account.organization_id == organization_id
        return account

    # -- clients -----------------------------------------------------------------------

    def client(
        self,
        account: Account | None = None,
        *,
        unsigned: bool = False,
        region: str = REGION,
        **credentials,
    ):
        """A boto3 Lambda client for `account` (default: the owner), retries off."""
        account = account or self.owner
        config = Config(
            retries={"total_max_attempts": 1},
            connect_timeout=10,
            read_timeout=120,
            **({"signature_version": UNSIGNED} if unsigned else {}),
        )
        keys = {
            "aws_access_key_id": account.access_key_id,
            "aws_secret_access_key": account.secret_access_key,
        }
        keys.update(credentials)
        return boto3.session.Session().client(
            "lambda", endpoint_url=self.endpoint, region_name=region, config=config, **keys
        )

    def aws(self, account: Account | None, *args: str, check: bool = True, secret: str | None = None):
        """`aws --endpoint-url <grantd> --output json <args>` with `account`'s keys."""
        account = account or self.owner
        env = dict(os.environ)
        env.update(
            AWS_ACCESS_KEY_ID=account.access_key_id,
            AWS_SECRET_ACCESS_KEY=secret or account.secret_access_key,
            AWS_DEFAULT_REGION=REGION,
            AWS_MAX_ATTEMPTS="1",
            AWS_PAGER="",
        )
        done = subprocess.run(
            [_aws_executable(), "--endpoint-url", self.endpoint, "--output", "json", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CLI_SECONDS,
        )
        if check:
            assert done.returncode == 0, f"aws {' '.join(args)} exited {done.returncode}:\n{done.stderr}"
        return done

    def aws_json(self, account: Account | None, *args: str) -> dict:
        out = self.aws(account, *args).stdout
        return json.loads(out) if out.strip() else {}


# -- helpers shared by the test modules ----------------------------------------------------


def unique(prefix: str) -> str:
    """A layer or statement name no other test uses."""
    return f"{prefix}-{secrets.token_hex(4)}"


def organization_id() -> str:
    return "o-" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(10))


def make_zip(text: str = "print('hello from a layer')\n") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("python/hello.py", text)
    return buf.getvalue()


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def http_get(url: str) -> tuple[int, bytes]:
    """A plain, unsigned GET, as a browser or curl would do it."""
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def status(response: dict) -> int:
    return response["ResponseMetadata"]["HTTPStatusCode"]


# -- fixtures ------------------------------------------------------------------------------

_server_log_tail: list[str] = []


@pytest.fixture(scope="session")
def grantd():
    binary = Path(os.environ.get("GRANTD_BIN", "target/debug/grantd"))
    if not binary.is_absolute():
        binary = (Path.cwd() / binary) if (Path.cwd() / binary).exists() else REPO / binary
    if not binary.exists():
        pytest.exit(f"grantd binary not found at {binary}: run `cargo build` or set GRANTD_BIN", 2)
    workdir = Path(tempfile.mkdtemp(prefix="grantd-pytest-"))
    # Run as root, the embedded cluster runs as `postgres`, which must traverse every
    # ancestor of the data directory; mkdtemp makes 0700 directories.
    workdir.chmod(0o755)
    server = Grantd(binary.resolve(), workdir)
    try:
        server.start()
        yield server
    finally:
        code = server.stop()
        _server_log_tail.append(server.log_tail())
        if not os.environ.get("GRANTD_KEEP_DATA"):
            shutil.rmtree(workdir, ignore_errors=True)
    assert code == 0, f"grantd exited {code} after SIGTERM; log:\n{_server_log_tail[-1]}"


@pytest.fixture(scope="session")
def owner(grantd) -> Account:
    """The default account created on the first start."""
    return grantd.owner


@pytest.fixture
def new_account(grantd):
    """Creates a fresh account (optionally in an organization) per call."""
    return grantd.create_account


def pytest_terminal_summary(terminalreporter, exitstatus):
    if exitstatus != 0 and _server_log_tail:
        terminalreporter.section("grantd log (last lines)")
        terminalreporter.write_line(_server_log_tail[-1])
