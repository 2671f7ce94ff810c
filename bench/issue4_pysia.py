#!/usr/bin/env python3
"""pysiaalarm's asyncio TCP receiver as the DC-09 peer of bench/issue4.py: the accounts and ASCII
keys of the CSV file given (`account,key` per line), a handler that only counts events (nothing
stored), on a free port printed as `pysiaalarm listening on PORT`. Runs in .venv-test."""

import asyncio
import logging
import sys

from pysiaalarm import SIAAccount
from pysiaalarm.aio import SIAClient, CommunicationsProtocol

logging.disable(logging.CRITICAL)
COUNT = 0


async def on_event(event):
    global COUNT
    COUNT += 1


async def main(path):
    with open(path) as f:
        accounts = [SIAAccount(a, k) for a, k in (l.strip().split(",") for l in f if l.strip())]
    client = SIAClient("127.0.0.1", 0, accounts, on_event, protocol=CommunicationsProtocol.TCP)
    await client.async_start()
    port = client.server.sockets[0].getsockname()[1]
    print(f"pysiaalarm listening on {port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
