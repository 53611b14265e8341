"""The network check: the line to the company's gateway carries calls well (round trip, jitter
and loss of a voice-like stream, and the estimated call quality as a G.107 MOS) and is fast
enough for the business apps (download and upload). Measuring is apart from judging."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .context import CheckContext, GatewayEndpoint, Progress, ProgressCallback
from .emodel import voice_mos
from .hints import joined, not_measured, number
from .result import CheckResult, Hint, Status, judge

NAME = "network"
TEST_SECONDS = 3.0
"""Each of the three parts (voice stream, download, upload) when the limits do not say."""
MIN_SECONDS, MAX_SECONDS = 1.0, 10.0
"""Each part's bounds, whatever the limits say: long enough to mean something, short enough
for an agent waiting at the start of a shift."""
_PHASES = ("rtt", "download", "upload")


@dataclass(frozen=True, slots=True)
class NetworkFacts:
    """What was measured, rounded as reported (the gateway judges these same figures)."""

    rtt_ms: float | None
    jitter_ms: float | None
    """Mean absolute round-trip delay variation (see voice_stats.VoiceStats.jitter_ms)."""
    loss_percent: float | None
    download_mbps: float | None
    upload_mbps: float | None
    mos: float | None
    """Estimated by the G.107 E-model for a G.711 call with packet-loss concealment."""
    unreachable: tuple[Hint, ...] = field(default=())
    """Why parts could not be measured, for the agent."""


def estimated_mos(
    rtt_ms: float | None, jitter_ms: float | None, loss_percent: float | None, burst_r: float
) -> float | None:
    """The MOS of a call on this line; 1 (the lowest) when no voice packet came back."""
    if loss_percent is not None and loss_percent >= 100:
        return 1.0
    if rtt_ms is None or loss_percent is None:
        return None
    return round(voice_mos(rtt_ms, jitter_ms or 0.0, loss_percent, burst_r), 2)


def mos_band(mos: float) -> Hint:
    """The issue's bands: excellent above 4.2, good from 3.7, fair from 3.1, poor below."""
    if mos > 4.2:
        return Hint(zh="优", en="excellent")
    if mos >= 3.7:
        return Hint(zh="良", en="good")
    if mos >= 3.1:
        return Hint(zh="中", en="fair")
    return Hint(zh="差", en="poor")


def _gateway_address(endpoint: GatewayEndpoint) -> tuple[str, int]:
    parts = urlsplit(endpoint.control_url)
    if not parts.hostname:
        raise ValueError(f"no host in the gateway's address {endpoint.control_url!r}")
    return parts.hostname, parts.port or 443


NO_ECHO = Hint(
    zh="语音测试的数据包没有一个从公司网关返回：可能是防火墙或路由器拦截了 UDP，请联系技术支持",
    en="Not one voice test packet came back from the company's gateway: a firewall or the "
    "router may block UDP; call support",
)


def _unreachable(zh_part: str, en_part: str, err: Exception) -> Hint:
    import httpx

    if isinstance(err, httpx.HTTPStatusError) and err.response.status_code == 429:
        return Hint(
            zh=f"公司网关正忙于其他人的速度测试，{zh_part}未能进行：请一分钟后重新检查",
            en=f"The company's gateway is busy with other people's speed tests, so the "
            f"{en_part} could not run: check again in a minute",
        )
    reason = f"{type(err).__name__}: {err}"[:160]
    return Hint(
        zh=f"{zh_part}无法连接公司网关（{reason}）：请检查网络连接后重新检查，仍不行请联系技术支持",
        en=f"The {en_part} could not reach the company's gateway ({reason}): check the "
        "internet connection and check again, and call support if it stays so",
    )


def part_seconds(limits: Mapping[str, Any]) -> float:
    """Each part's duration from the limits, kept within MIN_SECONDS and MAX_SECONDS."""
    wanted = limits.get("test_seconds", TEST_SECONDS)
    seconds = TEST_SECONDS
    if isinstance(wanted, int | float) and not isinstance(wanted, bool):
        seconds = float(wanted)
    elif isinstance(wanted, str) and (match := re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*s?\s*", wanted)):
        seconds = float(match.group(1))  # as a policy file may write it: `5s`
    return min(MAX_SECONDS, max(MIN_SECONDS, seconds))


def measure(endpoint: GatewayEndpoint, seconds: float, progress: ProgressCallback) -> NetworkFacts:
    """The voice stream, then the download, then the upload, each about `seconds`, with live
    progress. A part that cannot reach the gateway is left unmeasured and says why."""
    import httpx

    from .speed_test import gateway_client, measure_download, measure_upload
    from .voice_probe import probe_voice_path

    def reporter(phase: str) -> Callable[[float, float | None], None]:
        index = _PHASES.index(phase)

        def report(share: float, value: float | None) -> None:
            fraction = (index + min(1.0, share)) / len(_PHASES)
            shown = None if value is None else round(value, 1)
            progress(Progress(NAME, fraction=fraction, phase=phase, value=shown))

        return report

    unreachable: list[Hint] = []
    rtt = jitter = loss = mos = None
    progress(Progress(NAME, fraction=0.0, phase="rtt"))
    try:
        host, port = _gateway_address(endpoint)
        voice = probe_voice_path(host, port, seconds, reporter("rtt"))
    except (OSError, ValueError) as err:
        unreachable.append(_unreachable("语音测试", "voice test", err))
    else:
        rtt = None if voice.rtt_ms is None else round(voice.rtt_ms, 1)
        jitter = None if voice.jitter_ms is None else round(voice.jitter_ms, 1)
        loss = round(voice.loss_percent, 2)
        mos = estimated_mos(rtt, jitter, loss, voice.burst_r)
        if voice.received == 0:
            unreachable.append(NO_ECHO)

    download = upload = None
    try:
        client = gateway_client(endpoint)
    except (OSError, ValueError) as err:  # an unreadable pinned CA file
        unreachable.append(_unreachable("速度测试", "speed test", err))
    else:
        with client:
            progress(Progress(NAME, fraction=1 / 3, phase="download"))
            try:
                rate = measure_download(client, seconds, reporter("download"))
                download = None if rate is None else round(rate, 2)
            except (httpx.HTTPError, OSError) as err:
                unreachable.append(_unreachable("下载测试", "download test", err))
            progress(Progress(NAME, fraction=2 / 3, phase="upload"))
            try:
                rate = measure_upload(client, seconds, reporter("upload"))
                upload = None if rate is None else round(rate, 2)
            except (httpx.HTTPError, OSError, ValueError) as err:
                unreachable.append(_unreachable("上传测试", "upload test", err))
    progress(Progress(NAME, fraction=1.0, phase="upload"))
    return NetworkFacts(rtt, jitter, loss, download, upload, mos, tuple(unreachable))


_CABLE_ZH = "请改用网线连接（不用 Wi-Fi），并暂停网络上的下载和视频"
_CABLE_EN = "use a cable instead of Wi-Fi, and pause downloads and video on your network"


def _too_much(zh: str, en: str, value: float, limit: float, unit: str) -> Hint:
    shown, most = number(value), number(limit)
    return Hint(
        zh=f"{zh} {shown}{unit}，上限 {most}{unit}：{_CABLE_ZH}",
        en=f"{en} {shown}{unit}, limit {most}{unit}: {_CABLE_EN}",
    )


def _shortfalls(facts: NetworkFacts, limits: Mapping[str, Any]) -> list[Hint]:
    problems: list[Hint] = []
    max_rtt, max_jitter = limits.get("max_rtt_ms"), limits.get("max_jitter_ms")
    max_loss, min_mos = limits.get("max_loss_percent"), limits.get("min_mos")
    min_down, min_up = limits.get("min_download_mbps"), limits.get("min_upload_mbps")
    unmeasured = {
        "rtt_ms": ("延迟", "The delay"),
        "jitter_ms": ("抖动", "The jitter"),
        "loss_percent": ("丢包率", "The packet loss"),
        "mos": ("通话质量", "The call quality"),
        "download_mbps": ("下载速度", "The download speed"),
        "upload_mbps": ("上传速度", "The upload speed"),
    }
    checked = {
        "rtt_ms": max_rtt,
        "jitter_ms": max_jitter,
        "loss_percent": max_loss,
        "mos": min_mos,
        "download_mbps": min_down,
        "upload_mbps": min_up,
    }
    # A figure with a limit that was not measured fails, as the gateway judges it.
    for key, limit in checked.items():
        if limit is not None and getattr(facts, key) is None and not facts.unreachable:
            problems.append(not_measured(*unmeasured[key]))
    if max_rtt is not None and facts.rtt_ms is not None and facts.rtt_ms > max_rtt:
        problems.append(
            _too_much("到公司的延迟", "Delay to the company", facts.rtt_ms, max_rtt, " ms")
        )
    if max_jitter is not None and facts.jitter_ms is not None and facts.jitter_ms > max_jitter:
        problems.append(_too_much("抖动", "Jitter", facts.jitter_ms, max_jitter, " ms"))
    if max_loss is not None and facts.loss_percent is not None and facts.loss_percent > max_loss:
        shown, most = number(facts.loss_percent), number(max_loss)
        problems.append(
            Hint(
                zh=f"丢包率 {shown}%，上限 {most}%：请改用网线连接（不用 Wi-Fi），或重启路由器",
                en=f"Packet loss {shown}%, limit {most}%: use a cable instead of Wi-Fi, or "
                "restart your router",
            )
        )
    if min_mos is not None and facts.mos is not None and facts.mos < min_mos:
        band = mos_band(facts.mos)
        shown, least = number(facts.mos), number(min_mos)
        problems.append(
            Hint(
                zh=f"预计通话质量 MOS {shown}（{band.zh}），至少需要 {least}：通话会断续或有回声，"
                f"{_CABLE_ZH}",
                en=f"Expected call quality MOS {shown} ({band.en}), at least {least} needed: "
                f"calls would break up or lag; {_CABLE_EN}",
            )
        )
    if min_down is not None and facts.download_mbps is not None and facts.download_mbps < min_down:
        shown, least = number(facts.download_mbps), number(min_down)
        problems.append(
            Hint(
                zh=f"下载 {shown} Mbit/s，至少需要 {least}：请暂停其他下载和视频，或改用网线连接"
                "（不用 Wi-Fi）",
                en=f"Download {shown} Mbit/s, limit {least}: stop other downloads and video "
                "streams, or use a cable instead of Wi-Fi",
            )
        )
    if min_up is not None and facts.upload_mbps is not None and facts.upload_mbps < min_up:
        shown, least = number(facts.upload_mbps), number(min_up)
        problems.append(
            Hint(
                zh=f"上传 {shown} Mbit/s，至少需要 {least}：请关闭其他上传（云备份、视频），"
                "或改用网线连接（不用 Wi-Fi）",
                en=f"Upload {shown} Mbit/s, limit {least}: close other uploads (cloud backup, "
                "video) or use a cable instead of Wi-Fi",
            )
        )
    return problems


def judge_network(facts: NetworkFacts, limits: Mapping[str, Any]) -> CheckResult:
    """Each figure against its limit, as the gateway judges them (proxy/core/posture_check.py):
    at most max_rtt_ms, max_jitter_ms, max_loss_percent; at least min_mos, min_download_mbps,
    min_upload_mbps; a figure that has a limit but was not measured does not pass."""
    level = str(limits.get("level", "required"))
    measured = {
        "rtt_ms": facts.rtt_ms,
        "jitter_ms": facts.jitter_ms,
        "loss_percent": facts.loss_percent,
        "download_mbps": facts.download_mbps,
        "upload_mbps": facts.upload_mbps,
        "mos": facts.mos,
    }
    problems = [*facts.unreachable, *_shortfalls(facts, limits)]
    status = judge(level, not problems)
    hint = joined(problems) if status in (Status.WARN, Status.FAIL) else None
    return CheckResult(NAME, status, measured, dict(limits), hint)


def run(limits: Mapping[str, Any], ctx: CheckContext) -> CheckResult:
    if ctx.gateway is None:
        raise ValueError("the network check needs the gateway (enrol first)")
    return judge_network(measure(ctx.gateway, part_seconds(limits), ctx.progress), limits)
