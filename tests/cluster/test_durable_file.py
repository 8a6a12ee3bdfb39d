from cluster.durable_file import TEMPORARY_SUFFIX, write_atomically


def test_replaces_the_whole_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "meta.properties"
    write_atomically(path, b"version=0\n" * 1000)
    write_atomically(path, b"cluster.id=x\n")
    assert path.read_bytes() == b"cluster.id=x\n"
    assert [p.name for p in tmp_path.iterdir()] == ["meta.properties"]
    assert not (tmp_path / f"meta.properties{TEMPORARY_SUFFIX}").exists()
