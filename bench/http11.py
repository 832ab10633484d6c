"""One raw keep-alive HTTP/1.1 connection over asyncio streams, for the load generator
(bench/loadgen.py): no client library, so that the client costs far less than the server it
measures on the same machine."""

from __future__ import annotations

import asyncio

#: Largest response accepted (a budget overview is about 15 kB).
MAX_BODY = 16 * 1024 * 1024


class ServerClosed(ConnectionError):
    """The server closed a kept-alive connection without answering: the request was not served."""


class Connection:
    """One keep-alive connection, opened when first needed and again after the server closed it."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request and read its answer. Retried once, on a new connection, only when the
        server closed this one without answering a byte (a kept-alive connection it timed out)."""
        if self.streams is None or self.streams[0].at_eof():
            self.streams = await asyncio.open_connection(self.host, self.port)
        try:
            return await self._exchange(*self.streams, request)
        except ServerClosed:
            self.streams = await asyncio.open_connection(self.host, self.port)
            return await self._exchange(*self.streams, request)

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
    ) -> tuple[int, bytes]:
        writer.write(request)
        await writer.drain()
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            if not error.partial:
                raise ServerClosed from None
            raise
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            length = int(headers["content-length"])
            if length > MAX_BODY:
                raise ValueError(f"an answer of {length} bytes is more than this client reads")
            body = await reader.readexactly(length)
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked(reader)
        else:
            body = b""
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body

    @staticmethod
    async def _chunked(reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")
        return b"".join(parts)

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
        self.streams = None
