"""``omp discover opcua URL``: browse a server and write a factory-model snippet."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from omp.cli._output import err, guarded, out
from omp.connectors.opcua.addresses import parse_address, resolve
from omp.connectors.opcua.discovery import FoundObject, discover
from omp.connectors.opcua.link import close_client, open_client
from omp.connectors.opcua.options import OpcUaOptions
from omp.connectors.opcua.snippet import render
from omp.core.errors import ConfigError

app = typer.Typer(
    help="Browse a device and write a factory-model snippet for it.", no_args_is_help=True
)


@app.callback()
def _discover() -> None:
    """Browse a device and write a factory-model snippet for it."""


@app.command("opcua")
@guarded
def opcua(
    url: Annotated[str, typer.Argument(help="The server endpoint, opc.tcp://host:port/path.")],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the snippet here instead of stdout.")
    ] = None,
    root: Annotated[
        str, typer.Option("--root", help="NodeId or path=/... to start browsing at.")
    ] = "i=85",
    depth: Annotated[int, typer.Option("--depth", min=1, help="Levels of objects to browse.")] = 4,
    connector: Annotated[
        str, typer.Option("--connector", help="Connector name in the snippet.")
    ] = "opcua",
) -> None:
    """Browse an OPC UA server: objects become equipment, variables signals bound by NodeId."""
    try:
        options = OpcUaOptions(endpoint=url)
    except ValueError:
        raise ConfigError(f"{url!r} is not an OPC UA endpoint like opc.tcp://host:4840") from None
    found = asyncio.run(_browse(options, root, depth))
    text = render(found, endpoint=url, connector=connector)
    signals = sum(1 for o in found for v in o.variables if not v.skipped)
    if out_file is None:
        out.print(text, end="", highlight=False, markup=False, soft_wrap=True)
    else:
        out_file.write_text(text, encoding="utf-8")
    err.print(f"{url}: {len(found)} objects, {signals} signals", highlight=False, markup=False)


async def _browse(options: OpcUaOptions, root: str, depth: int) -> list[FoundObject]:
    client = await open_client(options)
    try:
        start = parse_address(root)
        if start.steps or start.namespace_uri is not None:
            resolution = await resolve(client.uaclient.session, [start])
            if root in resolution.failures:
                raise ConfigError(f"--root {root}: {resolution.failures[root]}")
            return await discover(client, resolution.node_ids[root], depth)
        return await discover(client, start.node_id, depth)
    finally:
        await close_client(client)
