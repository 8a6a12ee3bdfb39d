"""Session passwords: derived from the session id, so any server can check a reconnect.

ZooKeeper does the same (a Random seeded with the id xor a constant): the
password proves a client was handed the session, it is not a secret against an
attacker who knows the scheme. keeper has no authentication either.
"""

from __future__ import annotations

import hashlib
import hmac

PASSWORD_BYTES = 16
_KEY = b"logquake keeper session password"


def session_password(session_id: int) -> bytes:
    digest = hmac.new(_KEY, session_id.to_bytes(8, "big", signed=True), hashlib.sha256).digest()
    return digest[:PASSWORD_BYTES]


def password_matches(session_id: int, password: bytes | None) -> bool:
    return password is not None and hmac.compare_digest(session_password(session_id), password)
