"""The API's size limits: one call (32 KB) and one batch request (500 KB), as production enforces them."""

from __future__ import annotations

KB = 1024
MAX_CALL_BYTES = 32 * KB
MAX_BATCH_BYTES = 500 * KB
