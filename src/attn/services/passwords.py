"""argon2id password hashing, run off the event loop in a bounded pool of threads.

Parameters: OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): about 20 ms of one core
per hash here, which keeps a login burst of a lecture hall to seconds while staying far out of
reach of GPU guessing. Old hashes with other parameters are upgraded at the next login.
"""

from __future__ import annotations

import anyio
from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1


class PasswordHasher:
    """Hash and verify passwords, at most `threads` at a time, never on the event loop."""

    def __init__(self, threads: int) -> None:
        self._argon2 = Argon2Hasher(
            time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM
        )
        self._limiter = anyio.CapacityLimiter(threads)
        self._dummy_hash: str | None = None

    def hash_sync(self, password: str) -> str:
        return self._argon2.hash(password)

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self.hash_sync, password, limiter=self._limiter)

    def _verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def verify(self, password_hash: str, password: str) -> bool:
        return await anyio.to_thread.run_sync(
            self._verify_sync, password_hash, password, limiter=self._limiter
        )

    async def burn(self, password: str) -> None:
        """Spend a verification's time for an unknown user, so timing reveals nothing."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("attn-no-such-user")
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._argon2.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
