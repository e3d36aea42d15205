"""The salted, deliberately slow hash of ID numbers that replaces them in bundles.

``hashlib.scrypt(id.upper(), salt, n, r, p, dklen)`` as lowercase hex; parameters are stored
in the bundle's ``meta`` table so a kiosk hashes a number read from a card the same way.
"""
from __future__ import annotations

import hashlib
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass


@dataclass(frozen=True)
class IdHashParams:
    salt: bytes
    n: int = 2 ** 14
    r: int = 8
    p: int = 1
    dklen: int = 32

    @classmethod
    def new(cls, n: int = 2 ** 14) -> "IdHashParams":
        return cls(salt=os.urandom(16), n=n)

    def as_meta(self) -> dict[str, str]:
        return {"id_hash_algo": "scrypt", "id_hash_salt": self.salt.hex(), "id_hash_n": str(self.n),
                "id_hash_r": str(self.r), "id_hash_p": str(self.p), "id_hash_dklen": str(self.dklen)}

    @classmethod
    def from_meta(cls, meta: dict[str, str]) -> "IdHashParams":
        if meta.get("id_hash_algo") != "scrypt":
            raise ValueError(f"unknown id hash algorithm {meta.get('id_hash_algo')!r}")
        return cls(bytes.fromhex(meta["id_hash_salt"]), int(meta["id_hash_n"]), int(meta["id_hash_r"]),
                   int(meta["id_hash_p"]), int(meta["id_hash_dklen"]))


def id_hash(id_number: str, params: IdHashParams) -> str:
    """Hex scrypt hash of an 18-character ID number (upper-cased first)."""
    return hashlib.scrypt(id_number.strip().upper().encode("ascii"), salt=params.salt, n=params.n,
                          r=params.r, p=params.p, dklen=params.dklen, maxmem=256 * 1024 * 1024).hex()


def _one(args: tuple[str, IdHashParams]) -> str:
    return id_hash(*args)


PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Worker initializer: the kernel SIGKILLs this worker when the builder dies (Linux
    prctl), so a SIGKILLed build leaves no worker hashing on for minutes."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the build guard still kills the workers it was told about
    if os.getppid() != parent:  # the builder died before prctl took effect
        os._exit(1)


def id_hash_many(numbers: set[str] | list[str], params: IdHashParams) -> dict[str, str]:
    """Hash each distinct number once, on all cores. Returns ``{number: hex}``."""
    from kiosk.cache import buildguard

    uniq = sorted(set(numbers))
    if len(uniq) < 64:
        return {n: id_hash(n, params) for n in uniq}
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, initializer=_die_with_parent,
                             initargs=(os.getpid(),)) as ex:
        it = ex.map(_one, [(n, params) for n in uniq], chunksize=32)
        if guard := buildguard.current():
            for pid in list(ex._processes or {}):  # started by map(); no public accessor
                guard.watch(pid)
        return dict(zip(uniq, it))
