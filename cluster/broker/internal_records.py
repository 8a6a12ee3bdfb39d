"""Kafka's fixed-layout keys and values of internal topics (__consumer_offsets, __transaction_state).

Both topics store big-endian integers and int16-length strings in versioned layouts; one
reader and one string encoder serve both, so a damaged record is refused the same way.
"""

from __future__ import annotations

import struct

INT8 = struct.Struct(">b")
INT16 = struct.Struct(">h")
INT32 = struct.Struct(">i")
INT64 = struct.Struct(">q")


class InternalRecordError(ValueError):
    """A record of an internal topic that cannot be read; replaying skips it and says so."""


def encode_string(text: str | None) -> bytes:
    if text is None:
        return INT16.pack(-1)
    encoded = text.encode("utf-8")
    return INT16.pack(len(encoded)) + encoded


class RecordReader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._position = 0

    def _take(self, size: int) -> bytes:
        end = self._position + size
        if size < 0 or end > len(self._data):
            raise InternalRecordError(f"record ends after {len(self._data)} bytes, needed {end}")
        chunk = self._data[self._position : end]
        self._position = end
        return chunk

    def int8(self) -> int:
        return INT8.unpack(self._take(1))[0]

    def int16(self) -> int:
        return INT16.unpack(self._take(2))[0]

    def int32(self) -> int:
        return INT32.unpack(self._take(4))[0]

    def int64(self) -> int:
        return INT64.unpack(self._take(8))[0]

    def string(self) -> str | None:
        length = self.int16()
        if length == -1:
            return None
        try:
            return self._take(length).decode("utf-8")
        except UnicodeDecodeError as error:
            raise InternalRecordError(f"string is not UTF-8: {error.reason}") from None

    def string_required(self) -> str:
        text = self.string()
        if text is None:
            raise InternalRecordError("null where a name is required")
        return text
