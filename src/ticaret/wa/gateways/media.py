from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHUNK = 64 * 1024


class MediaStream:
    """Bytes of one media file on their way from the gateway to our client.

    Always `aclose()` it (or use `async with`): a streamed httpx response holds a connection.
    """

    def __init__(
        self,
        *,
        status_code: int,
        content_type: str | None,
        content_length: int | None,
        content_range: str | None,
        accept_ranges: str | None,
        chunks: AsyncIterator[bytes],
        close: Callable[[], Awaitable[None]],
        filename: str | None = None,
        content_encoding: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.content_type = content_type
        self.content_length = content_length
        self.content_range = content_range
        self.accept_ranges = accept_ranges
        self.filename = filename
        # Set when the bytes are passed on as the upstream encoded them (gzip...): the client
        # decodes them, and `content_length` counts the encoded bytes.
        self.content_encoding = content_encoding
        self._chunks = chunks
        self._close = close

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            yield chunk

    async def aclose(self) -> None:
        await self._close()

    async def __aenter__(self) -> MediaStream:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    @classmethod
    def from_response(cls, response: httpx.Response, filename: str | None = None) -> MediaStream:
        """The upstream's bytes exactly as they came (`aiter_raw`): decoding gzip here would
        make its Content-Length wrong, so an encoded body travels with its Content-Encoding."""
        length = response.headers.get("content-length")
        encoding = response.headers.get("content-encoding")
        if encoding is not None and encoding.strip().lower() == "identity":
            encoding = None
        return cls(
            status_code=response.status_code,
            content_type=response.headers.get("content-type"),
            content_length=int(length) if length and length.isdigit() else None,
            content_range=response.headers.get("content-range"),
            accept_ranges=response.headers.get("accept-ranges"),
            chunks=response.aiter_raw(_CHUNK),
            close=response.aclose,
            filename=filename,
            content_encoding=encoding,
        )

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        content_type: str | None,
        range_header: str | None,
        filename: str | None = None,
    ) -> MediaStream:
        """Serve bytes already in memory, honouring one `bytes=a-b` range as a server would."""
        total = len(data)
        status, start, end = 200, 0, total - 1
        content_range: str | None = None
        bounds = parse_range(range_header, total)
        if isinstance(bounds, str):
            status, start, end = 416, 0, -1
            content_range = f"bytes */{total}"
        elif bounds is not None:
            start, end = bounds
            status = 206
            content_range = f"bytes {start}-{end}/{total}"
        body = data[start : end + 1] if end >= start else b""

        async def chunks() -> AsyncIterator[bytes]:
            for offset in range(0, len(body), _CHUNK):
                yield body[offset : offset + _CHUNK]

        async def close() -> None:
            return None

        return cls(
            status_code=status,
            content_type=content_type,
            content_length=len(body),
            content_range=content_range,
            accept_ranges="bytes",
            chunks=chunks(),
            close=close,
            filename=filename,
        )


def parse_range(range_header: str | None, total: int) -> tuple[int, int] | str | None:
    """None when there is no usable range (serve everything), "unsatisfiable" for a 416."""
    if not range_header:
        return None
    match = _RANGE.match(range_header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0:
            return "unsatisfiable"
        return max(total - suffix, 0), total - 1
    start = int(first)
    end = int(last) if last else total - 1
    if start >= total or end < start:
        return "unsatisfiable"
    return start, min(end, total - 1)
