"""The proxy server of a proxied run: one `python -m cluster.proxy` process on the host, spoken to over its HTTP API.

The server speaks Toxiproxy's API, so the client below is a plain JSON-over-HTTP one that works with
Shopify's Toxiproxy as well. It is not toxiproxy-python (which the proxy's own tests drive it with):
that client keeps the server's address in a class attribute, shared by every instance in the
process, and runs in one process (pytest-xdist workers, benchmarks) each talk to a server of their
own. The server is started with `--exit-with` the harness's pid: if the harness crashes or is
killed, the server ends by itself and takes every proxy with it, so nothing the run routed through
it lingers; `stop()` ends it at teardown. Its log and pid file live in its
own directory of the run's work directory, beside the nodes'.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from cluster.deploy.backend import DeployError
from cluster.deploy.node_process import NodeProcess
from cluster.deploy.proxy_routes import ProxyRoutes

PROXY_DIR = "proxy"
"""The server's directory in the run's work directory: its log and its pid file."""
PID_FILE = "proxy.pid"


class ProxyError(DeployError):
    """The proxy server refused a request or cannot be reached; the message has its answer."""


class ToxiproxyAPI:
    """Toxiproxy's HTTP API at host:port: the calls a proxied run needs, errors raised with the server's answer."""

    def __init__(self, address: str, timeout: float = 10) -> None:
        self.address = address
        self.timeout = timeout

    def version(self) -> str:
        return str(self._call("GET", "/version"))

    def populate(self, proxies: list[dict[str, Any]]) -> None:
        self._call("POST", "/populate", proxies)

    def add_toxic(self, proxy: str, name: str, kind: str, stream: str, toxicity: float,
                  attributes: dict[str, Any]) -> None:
        toxic = {"name": name, "type": kind, "stream": stream, "toxicity": toxicity, "attributes": attributes}
        self._call("POST", f"/proxies/{proxy}/toxics", toxic)

    def remove_toxic(self, proxy: str, name: str) -> None:
        self._call("DELETE", f"/proxies/{proxy}/toxics/{name}")

    def toxics(self, proxy: str) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/proxies/{proxy}/toxics"))

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://{self.address}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            raise ProxyError(f"{method} {path} on the proxy server {self.address}: HTTP {error.code} "
                             f"{error.read().decode(errors='replace').strip()}") from None
        except (urllib.error.URLError, OSError) as error:
            raise ProxyError(f"{method} {path}: cannot reach the proxy server at {self.address}: {error}") from None
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return text


class ProxyServer:
    """The run's proxy server and its proxies (routes); the nemeses put toxics on them through `api`."""

    def __init__(self, routes: ProxyRoutes, work_dir: Path) -> None:
        self.routes = routes
        self.api = ToxiproxyAPI(routes.api)
        directory = work_dir / PROXY_DIR
        directory.mkdir(parents=True, exist_ok=True)
        self._process = NodeProcess(directory / "proxy.log", cwd=directory, own_session=True,
                                    pid_file=directory / PID_FILE)

    def start(self, timeout: float = 30) -> ProxyServer:
        """Starts the server, waits until its API answers, and creates every proxy of the plan."""
        self._process.start([sys.executable, "-m", "cluster.proxy", "--listen", self.routes.api,
                             "--exit-with", str(os.getpid())])
        deadline = time.monotonic() + timeout
        while True:
            if not self._process.is_running():
                raise ProxyError(f"the proxy server exited before serving:\n{self._log_tail()}")
            try:
                self.api.version()
                break
            except ProxyError:
                if time.monotonic() > deadline:
                    raise ProxyError(f"the proxy server did not answer on {self.routes.api} within {timeout:g}s:\n"
                                     f"{self._log_tail()}") from None
                time.sleep(0.1)
        self.api.populate([route.as_proxy() for route in self.routes.routes])
        return self

    def stop(self) -> None:
        try:
            self._process.stop(5)
        except subprocess.TimeoutExpired:
            pass

    def _log_tail(self, lines: int = 20) -> str:
        return "\n".join(self._process.log_text().splitlines()[-lines:])
