"""The demo's agent on the client side, through the `homeagent` command itself (never imported:
the gateway's package does not reach into the client): enrolled into a client home under the
demo data dir, then either the TUI in the foreground or, for --self-test, a shift driven by the
CLI twins of the TUI's keys (check, clock-in, status, a page through the forwarder, clock-out)."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys
from pathlib import Path

from ..gateway.server import RunningGateway

DEMO_CLIENT_AGENT = "A1002"
HOMEAGENT = Path(sys.executable).parent / "homeagent"
STEP_TIMEOUT_S = 120.0
"""Longest one client command may take (the full check measures the line for about 10 s)."""


class DemoStepError(Exception):
    """A step of the demo agent's shift did not do what it should (the self-test fails)."""


def client_env(home: Path) -> dict[str, str]:
    env = dict(os.environ, HOMEAGENT_HOME=str(home))
    env.pop("HOMEAGENT_DATA_DIR", None)  # the gateway's, not the client's
    return env


async def homeagent(home: Path, *args: str, check: bool = True) -> tuple[int, str]:
    """Run `homeagent --lang en ARGS` for the agent in `home`; (exit code, what it printed)."""
    process = await asyncio.create_subprocess_exec(
        str(HOMEAGENT),
        "--lang",
        "en",
        *args,
        env=client_env(home),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), STEP_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise DemoStepError(
            f"`homeagent {' '.join(args)}` took over {STEP_TIMEOUT_S:.0f} s"
        ) from None
    text = out.decode(errors="replace").strip()
    code = process.returncode if process.returncode is not None else -1
    if check and code != 0:
        raise DemoStepError(f"`homeagent {' '.join(args)}` ended with {code}:\n{text}")
    return code, text


async def enrol_demo_agent(gateway: RunningGateway, home: Path, ca: Path) -> str:
    """A fresh one-time code for the demo agent, redeemed by `homeagent enrol` as an agent
    would (a new device key each start; the previous one is replaced). The agent's id."""
    store = gateway.store
    control = gateway.control
    if control is None:
        raise DemoStepError("the gateway has no control API to enrol with")
    if DEMO_CLIENT_AGENT in {agent.id for agent in store.list_agents()}:
        code = store.issue_code(DEMO_CLIENT_AGENT)
    else:
        code = store.add_agent(DEMO_CLIENT_AGENT, "inbound")
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    await homeagent(home, "enrol", code.code, "--gateway", control.url, "--ca", str(ca))
    return DEMO_CLIENT_AGENT


async def run_agent_ui(home: Path) -> int:
    """The agent's TUI in the foreground on this terminal; its exit code once the agent quits."""
    process = await asyncio.create_subprocess_exec(str(HOMEAGENT), "ui", env=client_env(home))
    return await process.wait()


async def drive_shift(home: Path, ca: Path) -> None:
    """The demo agent's shift through the CLI, each step printed; DemoStepError on a wrong turn."""
    import httpx

    def said(step: str, text: str) -> None:
        first = text.splitlines()[-1] if text else ""
        print(f"client  {step:<44} {first[:100]}", flush=True)

    _, text = await homeagent(home, "check", "--only", "cpu,memory,removable_storage,processes")
    said("homeagent check --only cpu,memory,…", text)
    # the full checklist is the posture report clock-in needs; the demo policy only warns
    _, text = await homeagent(home, "check", "--json")
    report = json.loads(text[text.index("{") :])
    if not report.get("gateway", {}).get("passed"):
        raise DemoStepError(f"the gateway did not pass the demo agent's report: {report}")
    said("homeagent check (sent to the gateway)", "gateway: passed")
    _, text = await homeagent(home, "clock-in", "--accept-notice")
    said("homeagent clock-in --accept-notice", text)
    _, text = await homeagent(home, "status", "ready")
    said("homeagent status ready", text)
    forward = await asyncio.create_subprocess_exec(
        str(HOMEAGENT),
        "--lang",
        "en",
        "forward",
        "--port",
        "0",
        "--json",
        env=client_env(home),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert forward.stdout is not None
        line = await asyncio.wait_for(forward.stdout.readline(), 30)
        where = json.loads(line)
        trust = ssl.create_default_context(cafile=str(ca))
        async with httpx.AsyncClient(proxy=where["proxy_url"], verify=trust, timeout=30) as web:
            page = await web.get("https://crm.acme.test/customers/1001.json")
        if page.status_code != 200:
            raise DemoStepError(f"a page through the forwarder: {page.status_code} {page.text}")
        said(f"a page through {where['address']}", f"{page.status_code} (masked, watermarked)")
        _, text = await homeagent(home, "clock-out")
        said("homeagent clock-out", text)
        # the forwarder notices the session is gone within a second or two and ends
        await asyncio.wait_for(forward.wait(), 30)
        said("homeagent forward", "stopped at clock-out")
    finally:
        if forward.returncode is None:
            forward.kill()
            await forward.wait()
