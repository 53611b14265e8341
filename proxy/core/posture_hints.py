"""What an agent reads when a posture check is not met: the measured value, the limit and what
to do next, in English and Chinese."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Hint:
    en: str
    zh: str

    @staticmethod
    def join(hints: list[Hint]) -> Hint:
        return Hint("; ".join(h.en for h in hints), "；".join(h.zh for h in hints))


# Per measurement: (English, Chinese) with {value} and {limit}.
OUT_OF_LIMIT: dict[str, tuple[str, str]] = {
    "cpu.logical_cores": (
        "CPU has {value} logical cores, at least {limit} needed: use a more powerful PC",
        "CPU 逻辑核心 {value} 个，至少需要 {limit} 个：请换用性能更强的电脑",
    ),
    "cpu.load_percent": (
        "CPU load {value}%, limit {limit}%: close programs you do not need",
        "CPU 占用 {value}%，上限 {limit}%：请关闭不需要的程序",
    ),
    "memory.total_gb": (
        "Memory {value} GB, at least {limit} GB needed: use a PC with more memory",
        "内存 {value} GB，至少需要 {limit} GB：请换用内存更大的电脑",
    ),
    "memory.available_gb": (
        "Free memory {value} GB, at least {limit} GB needed: close programs and browser tabs "
        "you do not need",
        "可用内存 {value} GB，至少需要 {limit} GB：请关闭不需要的程序和浏览器标签页",
    ),
    "network.rtt_ms": (
        "Network delay {value} ms, limit {limit}: plug in a network cable or move closer to "
        "the router",
        "网络延迟 {value} ms，上限 {limit}：请插上网线或靠近路由器",
    ),
    "network.jitter_ms": (
        "Network jitter {value} ms, limit {limit}: pause downloads and videos on your home network",
        "网络抖动 {value} ms，上限 {limit}：请暂停家中网络上的下载和视频",
    ),
    "network.loss_percent": (
        "Packet loss {value}%, limit {limit}%: plug in a network cable or restart the router",
        "丢包率 {value}%，上限 {limit}%：请插上网线或重启路由器",
    ),
    "network.mos": (
        "Call quality (MOS) {value}, at least {limit} needed: plug in a network cable and pause "
        "other downloads",
        "通话质量 (MOS) {value}，至少需要 {limit}：请插上网线并暂停其他下载",
    ),
    "network.download_mbps": (
        "Download speed {value} Mbit/s, at least {limit} needed: pause other downloads or ask "
        "your provider for a faster line",
        "下载速度 {value} Mbit/s，至少需要 {limit}：请暂停其他下载或联系宽带运营商提速",
    ),
    "network.upload_mbps": (
        "Upload speed {value} Mbit/s, at least {limit} needed: pause uploads and cloud backups",
        "上传速度 {value} Mbit/s，至少需要 {limit}：请暂停上传和云备份",
    ),
    "noise.dba": (
        "Background noise {value} dB(A), limit {limit}: move to a quieter room or close the window",
        "背景噪声 {value} dB(A)，上限 {limit}：请换到更安静的房间或关上窗户",
    ),
    "noise.clipping": (
        "The microphone is overloaded: turn its input volume down and measure again",
        "麦克风输入过载：请调低输入音量后重新测量",
    ),
    "noise.dead_mic": (
        "The microphone picks up no sound: check that it is plugged in and not muted",
        "麦克风没有收到声音：请检查是否插好、是否静音",
    ),
    "audio_devices.input": (
        "No microphone found: plug in your headset",
        "未找到麦克风：请插上耳机",
    ),
    "audio_devices.output": (
        "No headphones or speaker found: plug in your headset",
        "未找到耳机或扬声器：请插上耳机",
    ),
    "removable_storage.mounted": (
        "USB storage connected ({value}): remove it",
        "已连接 USB 存储设备（{value}）：请拔出",
    ),
    "processes.names": (
        "Forbidden program running ({value}): close it",
        "正在运行禁止使用的程序（{value}）：请关闭",
    ),
}

# Per measurement: what it is called, for "not measured".
LABELS: dict[str, tuple[str, str]] = {
    "cpu.logical_cores": ("CPU cores", "CPU 核心数"),
    "cpu.load_percent": ("CPU load", "CPU 占用"),
    "memory.total_gb": ("Memory", "内存"),
    "memory.available_gb": ("Free memory", "可用内存"),
    "network.rtt_ms": ("Network delay", "网络延迟"),
    "network.jitter_ms": ("Network jitter", "网络抖动"),
    "network.loss_percent": ("Packet loss", "丢包率"),
    "network.mos": ("Call quality (MOS)", "通话质量 (MOS)"),
    "network.download_mbps": ("Download speed", "下载速度"),
    "network.upload_mbps": ("Upload speed", "上传速度"),
    "noise.dbfs_a": ("Background noise", "背景噪声"),
    "audio_devices.input": ("Microphone", "麦克风"),
    "audio_devices.output": ("Headphones or speaker", "耳机或扬声器"),
    "removable_storage.mounted": ("USB storage", "USB 存储设备"),
    "processes.names": ("Running programs", "正在运行的程序"),
}


def number(value: float) -> str:
    """`58` rather than `58.0`; at most two decimals."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def shown(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return number(float(value))
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
        more = len(items) - 3
        return ", ".join(items[:3]) + (f" +{more}" if more > 0 else "")
    return str(value)


def out_of_limit(measurement: str, value: object, limit: object) -> Hint:
    en, zh = OUT_OF_LIMIT[measurement]
    return Hint(
        en.format(value=shown(value), limit=shown(limit)),
        zh.format(value=shown(value), limit=shown(limit)),
    )


def not_measured(measurement: str) -> Hint:
    en, zh = LABELS[measurement]
    return Hint(f"{en} was not measured: run the checks again", f"{zh}未测量：请重新运行检查")
