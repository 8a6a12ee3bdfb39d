import json
import random
import subprocess

import pytest

from cluster.properties import PropertiesError, load, parse, parse_override
from tests.facilities import require_program

_JAVA_READER = """
import java.io.*; import java.util.*;
public class ReadProps {
  public static void main(String[] args) throws Exception {
    for (String path : args) {
      Properties p = new Properties();
      try (Reader r = new InputStreamReader(new FileInputStream(path), "UTF-8")) { p.load(r); }
      StringBuilder out = new StringBuilder("{");
      for (String k : new TreeSet<>(p.stringPropertyNames())) {
        if (out.length() > 1) out.append(",");
        out.append(quote(k)).append(":").append(quote(p.getProperty(k)));
      }
      System.out.println(out.append("}"));
    }
  }
  static String quote(String s) {
    StringBuilder b = new StringBuilder("\\"");
    for (char c : s.toCharArray()) b.append(String.format("\\\\u%04x", (int) c));
    return b.append("\\"").toString();
  }
}
"""


def test_kafka_server_properties_as_shipped():
    text = """
# The id of the broker.
broker.id=0
listeners=PLAINTEXT://127.0.0.1:9092
log.dirs=/tmp/kafka-logs
num.partitions = 6
! a bang comment
zookeeper.connect 127.0.0.1:2181,127.0.0.2:2181
log.retention.hours:168
"""
    assert parse(text) == {
        "broker.id": "0",
        "listeners": "PLAINTEXT://127.0.0.1:9092",
        "log.dirs": "/tmp/kafka-logs",
        "num.partitions": "6",
        "zookeeper.connect": "127.0.0.1:2181,127.0.0.2:2181",
        "log.retention.hours": "168",
    }


def test_zoo_cfg_server_lines():
    assert parse("server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.2:2888:3888\n") == {
        "server.1": "127.0.0.1:2888:3888",
        "server.2": "127.0.0.2:2888:3888",
    }


def test_continuations_escapes_and_later_keys_winning():
    text = "a = one\\\n    two\nb\\ c=\\u0041\\t\nkey=first\nkey=second\nempty\n"
    assert parse(text) == {"a": "onetwo", "b c": "A\t", "key": "second", "empty": ""}


def test_malformed_unicode_escape_names_the_line(tmp_path):
    path = tmp_path / "server.properties"
    path.write_text("ok=1\nbad=\\u12\n")
    with pytest.raises(PropertiesError, match=r"server.properties:2: malformed"):
        load(path)


def test_unreadable_files_give_clear_errors(tmp_path):
    with pytest.raises(PropertiesError, match="cannot read"):
        load(tmp_path / "missing.properties")
    binary = tmp_path / "binary.properties"
    binary.write_bytes(b"a=\xff\xfe\n")
    with pytest.raises(PropertiesError, match="not UTF-8"):
        load(binary)


def test_overrides():
    assert parse_override("log.segment.bytes=1048576") == ("log.segment.bytes", "1048576")
    assert parse_override("listeners=PLAINTEXT://h:1=2") == ("listeners", "PLAINTEXT://h:1=2")
    for bad in ("novalue", "=x", "  =x"):
        with pytest.raises(PropertiesError, match="key=value"):
            parse_override(bad)


def _random_properties_text(rng: random.Random) -> str:
    pieces = ["a", "b", "key", ".", "=", ":", " ", "\t", "\\", "#", "!", "\n", "\\\n", "\\u0041", "é", "x y"]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))


def test_agrees_with_java_util_properties_on_random_texts(tmp_path):
    """Differential test: Java's own parser is the specification."""
    require_program("java")
    source = tmp_path / "ReadProps.java"
    source.write_text(_JAVA_READER)
    rng = random.Random(20261125)
    texts = [_random_properties_text(rng) for _ in range(1500)]
    texts = [t for t in texts if "\\u" not in t.replace("\\u0041", "")]
    paths = []
    for index, text in enumerate(texts):
        path = tmp_path / f"{index}.properties"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    result = subprocess.run(
        ["java", str(source), *paths], capture_output=True, text=True, timeout=300, check=True
    )
    java_answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(java_answers) == len(texts)
    for text, expected in zip(texts, java_answers):
        assert parse(text) == expected, repr(text)
