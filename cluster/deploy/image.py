"""The node image, built on this machine with no registry and cached by content.

Three layers, each tagged by a hash of what went into it, so a build with nothing changed only
hashes files and asks the engine whether three tags exist. The two upper layers are made by running
a script of image_recipe/ in a container of the layer below (build context, a scratch copy, bind-mounted at /build;
no network) and committing it: one commit per layer, where every Dockerfile step would cost one.
- logquake-base:<hash of image_recipe/packages.txt>: a debootstrap --variant=minbase bookworm root from the
  Debian mirror apt already uses here, imported with `docker import`;
- logquake-deps:<hash of the base and the requirements>: a venv at /opt/logquake holding the runtime
  dependencies, installed with --no-index from a wheelhouse downloaded on the host (image_recipe/install-deps.sh);
- logquake-node:<hash of the deps layer and the project's files>: logquake itself, a wheel built on
  the host from a copy of this checkout's sources and pip-installed offline (image_recipe/install-node.sh).
  The wheel is built here because it holds compiled modules (native/, Rust) and the image has no
  toolchain; it targets the stable ABI of CPython 3.11, which bookworm's python3 runs. Nodes
  therefore run exactly the code of the checkout that built the image.

Run `python -m cluster.deploy.image build` (what `make image` does).
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterable
from fnmatch import fnmatch
from pathlib import Path

import click
import docker
import requests
from docker.errors import APIError, ImageNotFound

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RECIPE_DIR = Path(__file__).resolve().parent / "image_recipe"
"""The recipe's files (base packages, the scripts run in each upper layer); every tag hashes the ones its layer uses."""
SUITE = "bookworm"
IMAGE_PYTHON = "3.11"
"""bookworm's python3: the wheelhouse must match it, not the host's Python."""
WHEEL_PLATFORMS = tuple(f"manylinux_2_{minor}_x86_64" for minor in range(36, 4, -1)) + ("any",)
"""Every manylinux tag bookworm's glibc 2.36 can run: pip does not infer older tags from a newer one."""
DEPS_SCRIPT = "install-deps.sh"
NODE_SCRIPT = "install-node.sh"
BUILD_MOUNT = "/build"
LAYER_FORMAT = "2"
"""How the upper layers are committed, in their tags: 2 mounts the build context without declaring it a volume,
which a committed image would keep (every node container then made an anonymous volume, left behind)."""
NODE_SETTINGS = (
    "ENV PATH=/opt/logquake/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV PYTHONUNBUFFERED=1",
    "WORKDIR /node",
    'CMD ["logquake", "--help"]',
)
"""The node image's settings, committed with its layer; nodes run `logquake broker|keeper --config /node/...`."""
APT_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))

Log = Callable[[str], None]


class ImageBuildError(RuntimeError):
    """The image could not be built; the message says which step failed and why."""


def docker_unavailable() -> str | None:
    """Why no image can be built here, or None when a Docker engine answers."""
    try:
        docker.from_env(timeout=5).ping()
        return None
    except (docker.errors.DockerException, requests.RequestException) as error:
        return f"no Docker engine answers: {error}"


def cache_dir() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "logquake" / "image"


def _digest(parts: Iterable[bytes | str]) -> str:
    sha = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        sha.update(len(data).to_bytes(8, "big") + data)
    return sha.hexdigest()[:16]


def base_packages() -> list[str]:
    lines = (RECIPE_DIR / "packages.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def image_requirements() -> list[str]:
    """The runtime dependencies: logquake itself arrives as a wheel built on the host."""
    return list(_pyproject()["project"]["dependencies"])


def _pyproject() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())


def project_files() -> list[Path]:
    """What the project's wheel is built from: pyproject.toml, the README, its packages' modules and data
    files (pyproject.toml's package-data) and the Rust crates of its compiled modules (its setuptools-rust
    ext-modules)."""
    setuptools = _pyproject()["tool"]["setuptools"]
    patterns = setuptools["packages"]["find"]["include"]
    top_levels = sorted(path for path in PROJECT_ROOT.iterdir()
                        if (path / "__init__.py").is_file() and any(fnmatch(path.name, p) for p in patterns))
    modules = sorted(module for package in top_levels for module in package.rglob("*.py")
                     if "__pycache__" not in module.parts)
    data = sorted(file for package, globs in setuptools.get("package-data", {}).items()
                  for glob in globs for file in (PROJECT_ROOT / package.replace(".", "/")).glob(glob))
    extensions = _pyproject()["tool"]["setuptools-rust"]["ext-modules"]
    crates = [(PROJECT_ROOT / extension["path"]).parent for extension in extensions]
    native = [file for crate in crates
              for file in (crate / "Cargo.toml", crate / "Cargo.lock", *sorted((crate / "src").rglob("*.rs")))]
    return [PROJECT_ROOT / "pyproject.toml", PROJECT_ROOT / "README.md", *modules, *data, *native]


def base_tag() -> str:
    recipe = (RECIPE_DIR / "packages.txt").read_bytes()
    return f"logquake-base:{_digest([SUITE, 'minbase', platform.machine(), recipe])}"


def deps_tag() -> str:
    recipe = (RECIPE_DIR / DEPS_SCRIPT).read_bytes()
    parts: list[bytes | str] = [base_tag(), LAYER_FORMAT, recipe, IMAGE_PYTHON, *WHEEL_PLATFORMS,
                                *image_requirements()]
    return f"logquake-deps:{_digest(parts)}"


def node_tag() -> str:
    """The tag of the image holding this checkout's code, computed without touching the engine."""
    files = project_files()
    parts: list[bytes | str] = [deps_tag(), (RECIPE_DIR / NODE_SCRIPT).read_bytes(), *NODE_SETTINGS]
    for path in files:
        parts += [str(path.relative_to(PROJECT_ROOT)), path.read_bytes()]
    return f"logquake-node:{_digest(parts)}"


def debian_mirror(sources: Iterable[Path] = APT_SOURCES) -> str:
    """The URI of the first apt source that serves bookworm's main archive on this machine."""
    for uri, suites in _apt_entries(sources):
        if SUITE in suites:
            return uri
    raise ImageBuildError(f"no apt source for '{SUITE}' in {', '.join(map(str, sources))}: "
                          "debootstrap needs the Debian mirror this machine uses")


def _apt_entries(sources: Iterable[Path]) -> Iterable[tuple[str, list[str]]]:
    for source in sources:
        files = sorted(source.iterdir()) if source.is_dir() else [source]
        for path in files:
            if not path.is_file():
                continue
            if path.suffix == ".sources":
                yield from _deb822_entries(path.read_text())
            elif path.suffix == ".list":
                yield from _one_line_entries(path.read_text())


def _one_line_entries(text: str) -> Iterable[tuple[str, list[str]]]:
    for line in text.splitlines():
        words = [w for w in line.split("#", 1)[0].split() if not (w.startswith("[") or w.endswith("]"))]
        if len(words) >= 3 and words[0] == "deb":
            yield words[1], [words[2]]


def _deb822_entries(text: str) -> Iterable[tuple[str, list[str]]]:
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.strip()
        if "deb" in fields.get("types", "").split() and fields.get("enabled", "yes") != "no":
            for uri in fields.get("uris", "").split():
                yield uri, fields.get("suites", "").split()


def build(client: docker.DockerClient | None = None, log: Log = print) -> str:
    """Make sure the node image of this checkout exists, building only the layers that changed."""
    client = client or docker.from_env()
    node = node_tag()
    if _exists(client, node):
        log(f"image {node} is up to date")
        return node
    if not _exists(client, base_tag()):
        _build_base(client, log)
    if not _exists(client, deps_tag()):
        _build_deps(client, log)
    _build_node(client, node, log)
    return node


def _exists(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
        return True
    except ImageNotFound:
        return False


def _run(argv: list[str], step: str, **kwargs: object) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise ImageBuildError(f"{step} failed (exit {result.returncode}): {' '.join(argv)}\n"
                              f"{result.stdout[-3000:]}{result.stderr[-3000:]}")


def _build_base(client: docker.DockerClient, log: Log) -> None:
    tag = base_tag()
    mirror = debian_mirror()
    _run([str(PROJECT_ROOT / "scripts" / "ensure-apt-packages.sh"), "debootstrap"], "installing debootstrap")
    log(f"building {tag}: debootstrap {SUITE} from {mirror}")
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        rootfs = Path(scratch) / "rootfs"
        try:
            _run(["debootstrap", "--variant=minbase", f"--include={','.join(base_packages())}",
                  SUITE, str(rootfs), mirror], "debootstrap")
        finally:
            _unmount_below(rootfs)
        _trim(rootfs)
        tarball = Path(scratch) / "rootfs.tar"
        _run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(tarball), "."], "packing the root")
        repository, version = tag.split(":")
        client.api.import_image_from_file(str(tarball), repository=repository, tag=version,
                                          changes=['CMD ["/bin/bash"]'])
    if not _exists(client, tag):
        raise ImageBuildError(f"docker import did not produce {tag}")


def _unmount_below(rootfs: Path) -> None:
    """debootstrap mounts /proc and /sys in the new root; a failed run can leave them there, under our rmtree."""
    prefix = f"{rootfs.resolve()}/"
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for mount_point in sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", mount_point], check=False)


def _trim(rootfs: Path) -> None:
    """What moby's mkimage does: no package caches or indexes, no docs, services never started by apt."""
    for pattern in ("var/cache/apt/archives/*.deb", "var/lib/apt/lists/*", "usr/share/doc/*",
                    "usr/share/man/*", "usr/share/locale/*"):
        for path in rootfs.glob(pattern):
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    policy = rootfs / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)


def _build_deps(client: docker.DockerClient, log: Log) -> None:
    tag = deps_tag()
    wheelhouse = _wheelhouse(tag.split(":")[1], log)
    log(f"building {tag}: a venv with {len(image_requirements())} requirements")
    with tempfile.TemporaryDirectory() as context:
        shutil.copytree(wheelhouse, Path(context) / "wheelhouse")
        _commit_layer(client, base_tag(), tag, DEPS_SCRIPT, Path(context), [])


def _wheelhouse(key: str, log: Log) -> Path:
    """The runtime requirements as wheels for the image's Python, downloaded once per requirement set."""
    wheelhouse = cache_dir() / f"wheelhouse-{key}"
    if (wheelhouse / "requirements.txt").is_file():
        return wheelhouse
    log(f"downloading wheels for Python {IMAGE_PYTHON} into {wheelhouse}")
    partial = wheelhouse.with_name(wheelhouse.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    requirements = "".join(f"{line}\n" for line in image_requirements())
    (partial / "requirements.txt").write_text(requirements)
    abi = "cp" + IMAGE_PYTHON.replace(".", "")
    _run([sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(partial), "--only-binary=:all:",
          "--python-version", IMAGE_PYTHON, "--implementation", "cp", "--abi", abi, "--abi", "abi3",
          "--abi", "none", *(arg for tag in WHEEL_PLATFORMS for arg in ("--platform", tag)),
          "-r", str(partial / "requirements.txt")], "pip download (is PyPI reachable?)")
    partial.rename(wheelhouse)
    return wheelhouse


def _build_node(client: docker.DockerClient, tag: str, log: Log) -> None:
    log(f"building {tag}: logquake from this checkout")
    with tempfile.TemporaryDirectory() as scratch:
        context = Path(scratch)
        _build_wheel(context / "source", context / "wheel")
        shutil.rmtree(context / "source")
        _commit_layer(client, deps_tag(), tag, NODE_SCRIPT, context, list(NODE_SETTINGS))
    client.images.get(tag).tag("logquake-node", "latest")


def _build_wheel(source: Path, wheel_dir: Path) -> None:
    """logquake's wheel, built from a copy of exactly the files the node tag hashes.

    Cargo keeps its build in the image cache, so only a changed crate is compiled again.
    """
    for path in project_files():
        target = source / path.relative_to(PROJECT_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    env = {**os.environ, "CARGO_TARGET_DIR": str(cache_dir() / "cargo-target")}
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheel_dir), str(source)],
         "building logquake's wheel (needs PyPI for the build backend and Rust's cargo)", env=env)


def _commit_layer(client: docker.DockerClient, base: str, tag: str, script: str, context: Path,
                  settings: list[str]) -> None:
    """Run image_recipe/<script> in a container of base with a copy of context at /build, then commit it as tag."""
    shutil.copy(RECIPE_DIR / script, context / script)
    mount = docker.types.Mount(BUILD_MOUNT, str(context), type="bind")
    container = client.containers.create(base, ["sh", f"{BUILD_MOUNT}/{script}"], network_disabled=True,
                                         mounts=[mount])
    try:
        container.start()
        status = container.wait()
        if status.get("StatusCode") != 0:
            output = container.logs().decode(errors="replace")
            raise ImageBuildError(f"{script} failed in {base} (exit {status.get('StatusCode')}):\n{output[-3000:]}")
        repository, version = tag.split(":")
        container.commit(repository=repository, tag=version, changes=settings)
    finally:
        container.remove(force=True, v=True)
    _remove_older(client, tag)


def _remove_older(client: docker.DockerClient, tag: str) -> None:
    """Earlier builds of a layer are garbage once a new one exists, unless a container or a later layer still uses them."""
    repository = tag.split(":")[0]
    for old in client.images.list(name=repository):
        if not set(old.tags) & {tag, f"{repository}:latest"}:
            try:
                client.images.remove(old.id)
            except APIError:
                pass


@click.group()
def image_command() -> None:
    """The node image for the docker backend."""


@image_command.command("build")
@click.option("--if-engine", is_flag=True,
              help="Do nothing (and succeed) when no Docker engine answers, as `make test` wants on such machines.")
def build_command(if_engine: bool) -> None:
    """Build the node image if this checkout's code or dependencies changed (seconds when nothing did)."""
    if if_engine and (reason := docker_unavailable()):
        click.echo(f"not building the node image: {reason}", err=True)
        return
    started = time.monotonic()
    try:
        tag = build(log=lambda line: click.echo(line, err=True))
    except (ImageBuildError, docker.errors.DockerException) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{tag} ready in {time.monotonic() - started:.1f}s")


@image_command.command("tag")
def tag_command() -> None:
    """Print the tag the node image of this checkout has (or will have once built)."""
    click.echo(node_tag())


if __name__ == "__main__":
    image_command()
