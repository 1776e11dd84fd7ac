"""What the egress guard costs: guarded httpx client and egress proxy against direct access.

Runs entirely on loopback: an origin on 127.0.0.2 (allow-listed) answers small responses and
one large download. Prints one JSON object; ``--record`` also writes it to
``bench/results/egress.json``.

    python bench/egress_bench.py [--requests 300] [--download-mb 32] [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import time
from collections.abc import Awaitable, Callable

import httpx

from bench.support.recording import record
from scout.egress.policy import EgressPolicy
from scout.egress.proxy import EgressProxy
from scout.egress.transport import new_guarded_client

SMALL_BODY = b"x" * 2048


async def _origin(download: bytes) -> asyncio.Server:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                body = download if b" /download " in head.split(b"\r\n", 1)[0] else SMALL_BODY
                closing = b"connection: close" in head.lower()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                    + f"Content-Length: {len(body)}\r\n".encode()
                    + (b"Connection: close\r\n" if closing else b"")
                    + b"\r\n"
                    + body
                )
                await writer.drain()
                if closing:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client left, or the benchmark is over and its loop is shutting down
        finally:
            writer.close()

    return await asyncio.start_server(serve, "127.0.0.2", 0)


async def _per_second(count: int, action: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    for _ in range(count):
        await action()
    return round(count / (time.perf_counter() - started), 1)


async def _megabytes_per_second(client: httpx.AsyncClient, url: str, size: int) -> float:
    started = time.perf_counter()
    received = 0
    async with client.stream("GET", url) as response:
        async for chunk in response.aiter_bytes():
            received += len(chunk)
    assert received == size
    return round(size / (time.perf_counter() - started) / 1e6, 1)


async def measure(requests: int, download_mb: int) -> dict[str, object]:
    download = b"d" * (download_mb * 1_000_000)
    server = await _origin(download)
    port = server.sockets[0].getsockname()[1]
    base = f"http://127.0.0.2:{port}"
    policy = EgressPolicy(allow=["127.0.0.2"])
    results: dict[str, object] = {"requests": requests, "download_mb": download_mb}
    try:
        async with (
            httpx.AsyncClient(trust_env=False) as direct,
            new_guarded_client(policy) as guarded,
            EgressProxy(policy) as proxy,
            httpx.AsyncClient(proxy=proxy.url, trust_env=False) as proxied,
        ):
            for name, client in (("direct", direct), ("guarded_client", guarded), ("proxy_plain", proxied)):
                await client.get(f"{base}/warm")
                results[f"{name}_requests_per_s"] = await _per_second(
                    requests, lambda client=client: client.get(f"{base}/small")
                )
                results[f"{name}_new_connection_requests_per_s"] = await _per_second(
                    requests,
                    lambda client=client: client.get(f"{base}/small", headers={"Connection": "close"}),
                )
                results[f"{name}_download_mb_per_s"] = await _megabytes_per_second(
                    client, f"{base}/download", len(download)
                )
            # A CONNECT tunnel is what https traffic uses; relay it raw to measure the relay alone.
            results["proxy_connect_tunnel_download_mb_per_s"] = await _tunnel_download(
                proxy, port, len(download)
            )
    finally:
        server.close()
        await server.wait_closed()
    results["machine"] = f"{platform.machine()} {platform.python_version()}"
    return results


async def _tunnel_download(proxy: EgressProxy, port: int, size: int) -> float:
    proxy_port = int(proxy.url.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
    try:
        writer.write(f"CONNECT 127.0.0.2:{port} HTTP/1.1\r\n\r\n".encode())
        await reader.readuntil(b"\r\n\r\n")
        started = time.perf_counter()
        writer.write(b"GET /download HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        await reader.readuntil(b"\r\n\r\n")
        received = 0
        while chunk := await reader.read(1 << 16):
            received += len(chunk)
        assert received == size
        return round(size / (time.perf_counter() - started) / 1e6, 1)
    finally:
        writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--download-mb", type=int, default=32)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    results = asyncio.run(measure(args.requests, args.download_mb))
    print(json.dumps(results, indent=2))
    if args.record:
        record("egress", results)


if __name__ == "__main__":
    main()
