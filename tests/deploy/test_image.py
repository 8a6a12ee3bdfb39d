"""The node image: built from this checkout with no registry, and found again by its content tag."""

from __future__ import annotations

import shutil
from pathlib import Path

import docker
import pytest

from cluster.deploy import image
from cluster.deploy.deployment import docker_unavailable
from tests.facilities import require


def test_the_mirror_is_the_one_apt_uses_for_bookworm(tmp_path):
    (tmp_path / "debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n"
        "Components: main\n\nTypes: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n\n"
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n")
    (tmp_path / "other.list.disabled").write_text("deb http://ignored.example/debian bookworm main\n")
    assert image.debian_mirror([tmp_path]) == "http://mirror.example/debian"


def test_one_line_sources_count_too(tmp_path):
    sources = tmp_path / "sources.list"
    sources.write_text("# deb http://commented.example/debian bookworm main\n"
                       "deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main contrib\n")
    assert image.debian_mirror([sources, tmp_path / "missing.d"]) == "http://one.example/debian"


def test_no_bookworm_source_is_a_clear_error(tmp_path):
    (tmp_path / "x.list").write_text("deb http://one.example/debian trixie main\n")
    with pytest.raises(image.ImageBuildError, match="no apt source for 'bookworm'"):
        image.debian_mirror([tmp_path])


def test_the_tag_follows_the_content():
    assert image.node_tag() == image.node_tag()
    assert Path(__file__).resolve() not in image.project_files()
    assert Path(image.__file__).resolve() in image.project_files()
    assert image.PROJECT_ROOT / "logquake/verify/matrices/quick.toml" in image.project_files(), "package data"


@pytest.mark.parametrize("recipe_file", ["packages.txt", image.DEPS_SCRIPT, image.NODE_SCRIPT])
def test_every_recipe_file_is_in_the_node_tag(recipe_file, tmp_path, monkeypatch):
    recipe = tmp_path / "image_recipe"
    shutil.copytree(image.RECIPE_DIR, recipe)
    monkeypatch.setattr(image, "RECIPE_DIR", recipe)
    before = image.node_tag()
    with open(recipe / recipe_file, "a") as edited:
        edited.write("\n# edited\n")
    assert image.node_tag() != before


def test_the_image_runs_this_checkouts_code_and_a_second_build_reuses_it():
    reason = docker_unavailable()
    require(reason is None, "docker", reason or "")
    client = docker.from_env()
    tag = image.build(client, log=lambda line: None)
    lines: list[str] = []
    again = image.build(client, log=lines.append)
    assert not [line for line in lines if "logquake-base" in line or "logquake-deps" in line]
    if again == tag:  # a shared checkout may change between the two builds; then only the node layer is redone
        assert lines == [f"image {tag} is up to date"]
    tag = again
    installed = "/opt/logquake/lib/python3.11/site-packages/cluster/deploy/probes.py"
    compiled = "from cluster.broker.log.batch_scan import check_batches; print(check_batches(b'', 1))"
    output = client.containers.run(tag, ["sh", "-c", f'logquake --version && python -c "{compiled}" && cat {installed}'],
                                   remove=True, network_disabled=True).decode()
    version, scanned, code = output.split("\n", 2)
    assert "logquake" in version
    assert scanned == "[]", "the compiled batch scan must load in bookworm's Python"
    assert code == (Path(image.__file__).parent / "probes.py").read_text()
    tools = client.containers.run(tag, ["sh", "-c", "for t in ip iptables ps fusermount3; do command -v $t; done"], remove=True,
                                  network_disabled=True).decode().split()
    assert len(tools) == 4
