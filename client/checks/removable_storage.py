"""The removable-storage check: no USB stick or other removable disk is mounted while the agent
works, so customer data cannot be copied off the PC. Each platform's reading of its own facts
(the mount table and sysfs, psutil's drive types, `diskutil`) is a pure function over them."""

from __future__ import annotations

import os
import plistlib
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from .context import CheckContext
from .hints import listed, not_measured
from .result import CheckResult, Hint, Status, judge

NAME = "removable_storage"
MAX_MOUNTED = 64
MAX_MOUNT_POINT = 200
"""What the gateway's report accepts: at most 64 mount points of at most 200 characters."""
MAX_DEVICES = 256
"""Block devices read from sysfs at most (mounted ones and what they are built on)."""


# --- Linux: the mount table and sysfs -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mount:
    device: str
    mount_point: str
    fstype: str


_OCTAL = re.compile(r"\\([0-7]{3})")


def _unescape(field: str) -> str:
    # The kernel writes space, tab, newline and backslash in mount fields as \040 \011 \012 \134.
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mounts(text: str) -> list[Mount]:
    """The mounts in /proc/mounts (or /proc/self/mounts) text."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            mounts.append(Mount(_unescape(fields[0]), _unescape(fields[1]), fields[2]))
    return mounts


@dataclass(frozen=True, slots=True)
class BlockDevice:
    """What sysfs says about one block device (a disk, a partition, a device-mapper device)."""

    name: str
    """The kernel's name: `sdb1`, `nvme0n1p2`, `dm-0`."""
    sysfs_path: str
    """Where /sys/class/block/<name> leads, under /sys: `devices/pci0000:00/…/usb2/…/sdb/sdb1`."""
    removable: bool
    """The whole disk's `removable` flag (card readers, sticks that say so)."""
    slaves: tuple[str, ...] = ()
    """What a device-mapper device (LUKS, LVM) is built on."""


_USB_BUS = re.compile(r"usb\d+")


def on_usb_bus(sysfs_path: str) -> bool:
    """Whether the device hangs off a USB host controller (`…/usb2/2-1/…` in its sysfs path)."""
    return any(_USB_BUS.fullmatch(part) for part in PurePosixPath(sysfs_path).parts)


def is_removable_device(name: str, devices: Mapping[str, BlockDevice], depth: int = 0) -> bool:
    """A USB or removable disk, or a device built on one (an unlocked LUKS stick)."""
    device = devices.get(name)
    if device is None:
        return False
    if device.removable or on_usb_bus(device.sysfs_path):
        return True
    return depth < 8 and any(is_removable_device(s, devices, depth + 1) for s in device.slaves)


def linux_removable_mounts(
    mounts: Sequence[Mount],
    devices: Mapping[str, BlockDevice],
    kernel_names: Mapping[str, str] | None = None,
) -> list[str]:
    """Mount points of removable block devices. `kernel_names` maps a mount's device path to the
    kernel's name when it is a symlink (`/dev/mapper/luks-…` → `dm-0`); else the path's last
    part is the name."""
    names = kernel_names or {}
    found = []
    for mount in mounts:
        if not mount.device.startswith("/dev/"):
            continue
        name = names.get(mount.device, PurePosixPath(mount.device).name)
        if is_removable_device(name, devices) and mount.mount_point not in found:
            found.append(mount.mount_point)
    return found


def read_block_device(name: str, sys_root: Path = Path("/sys")) -> BlockDevice | None:
    """One block device's facts from sysfs, or None when sysfs does not know it."""
    try:
        path = (sys_root / "class" / "block" / name).resolve(strict=True)
        relative = path.relative_to(sys_root.resolve())
    except (OSError, ValueError):
        return None
    disk = path.parent if (path / "partition").exists() else path
    try:
        removable = (disk / "removable").read_text("ascii").strip() == "1"
    except OSError:
        removable = False
    try:
        slaves = tuple(sorted(entry.name for entry in (path / "slaves").iterdir()))
    except OSError:
        slaves = ()
    return BlockDevice(name, relative.as_posix(), removable, slaves)


def read_block_devices(
    names: Iterable[str], sys_root: Path = Path("/sys")
) -> dict[str, BlockDevice]:
    """The named devices and, transitively, what they are built on (bounded)."""
    devices: dict[str, BlockDevice] = {}
    pending = list(names)
    while pending and len(devices) < MAX_DEVICES:
        name = pending.pop()
        if name in devices or "/" in name:
            continue
        device = read_block_device(name, sys_root)
        if device is not None:
            devices[name] = device
            pending.extend(device.slaves)
    return devices


def measure_linux(
    mounts_file: Path = Path("/proc/self/mounts"), sys_root: Path = Path("/sys")
) -> list[str] | None:
    try:
        mounts = parse_mounts(mounts_file.read_text("utf-8", "replace"))
    except OSError:
        return None
    kernel_names = {
        m.device: Path(os.path.realpath(m.device)).name
        for m in mounts
        if m.device.startswith("/dev/")
    }
    devices = read_block_devices(set(kernel_names.values()), sys_root)
    return linux_removable_mounts(mounts, devices, kernel_names)


# --- Windows: psutil's drive types ------------------------------------------------------------


class DiskPartition(Protocol):
    """What psutil.disk_partitions() gives per partition (its sdiskpart)."""

    @property
    def device(self) -> str: ...
    @property
    def mountpoint(self) -> str: ...
    @property
    def opts(self) -> str: ...


BUS_USB, BUS_SD, BUS_MMC = 7, 12, 13
"""STORAGE_BUS_TYPE (winioctl.h) values that mean a disk someone plugged in."""
REMOVABLE_BUSES = frozenset({BUS_USB, BUS_SD, BUS_MMC})


def bus_type_from_descriptor(raw: bytes) -> int | None:
    """STORAGE_DEVICE_DESCRIPTOR's BusType (a 32-bit enum at offset 28: Version, Size, four
    bytes of type and flags, four offsets before it), or None when the answer is too short."""
    if len(raw) < 32:
        return None
    return int.from_bytes(raw[28:32], "little")


def windows_removable_mounts(
    partitions: Iterable[DiskPartition], bus_types: Mapping[str, int | None] | None = None
) -> list[str]:
    """Drives whose type is removable (GetDriveType DRIVE_REMOVABLE: psutil's `removable`), or
    that sit on USB or an SD/MMC reader: USB hard disks and many sticks call themselves fixed."""
    buses = bus_types or {}
    return [
        p.mountpoint
        for p in partitions
        if "removable" in p.opts.split(",") or buses.get(p.mountpoint) in REMOVABLE_BUSES
    ]


def windows_bus_type(mountpoint: str) -> int | None:
    """The bus a drive's disk hangs off, asked with IOCTL_STORAGE_QUERY_PROPERTY (no
    administrator rights needed); None when Windows will not say."""
    if sys.platform != "win32":
        return None
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateFileW.argtypes = [
        wintypes.LPCWSTR,
        wintypes.DWORD,
        wintypes.DWORD,
        wintypes.LPVOID,
        wintypes.DWORD,
        wintypes.DWORD,
        wintypes.HANDLE,
    ]
    kernel32.CreateFileW.restype = wintypes.HANDLE
    kernel32.DeviceIoControl.argtypes = [
        wintypes.HANDLE,
        wintypes.DWORD,
        wintypes.LPVOID,
        wintypes.DWORD,
        wintypes.LPVOID,
        wintypes.DWORD,
        ctypes.POINTER(wintypes.DWORD),
        wintypes.LPVOID,
    ]
    kernel32.DeviceIoControl.restype = wintypes.BOOL
    kernel32.CloseHandle.argtypes = [wintypes.HANDLE]

    class StoragePropertyQuery(ctypes.Structure):
        _fields_ = [
            ("property_id", ctypes.c_int),  # StorageDeviceProperty = 0
            ("query_type", ctypes.c_int),  # PropertyStandardQuery = 0
            ("additional", ctypes.c_ubyte * 1),
        ]

    share_read_write, open_existing, ioctl_storage_query_property = 0x1 | 0x2, 3, 0x2D1400
    drive = "\\\\.\\" + mountpoint.rstrip("\\")  # \\.\E:
    handle = kernel32.CreateFileW(drive, 0, share_read_write, None, open_existing, 0, None)
    if handle is None or handle == wintypes.HANDLE(-1).value:
        return None
    try:
        query = StoragePropertyQuery(0, 0)
        answer = (ctypes.c_ubyte * 512)()
        returned = wintypes.DWORD(0)
        ok = kernel32.DeviceIoControl(
            handle,
            ioctl_storage_query_property,
            ctypes.byref(query),
            ctypes.sizeof(query),
            answer,
            ctypes.sizeof(answer),
            ctypes.byref(returned),
            None,
        )
        if not ok:
            return None
        return bus_type_from_descriptor(bytes(answer)[: returned.value])
    finally:
        kernel32.CloseHandle(handle)


def measure_windows() -> list[str]:
    import psutil

    partitions = psutil.disk_partitions(all=False)[:MAX_MOUNTED]
    buses = {p.mountpoint: windows_bus_type(p.mountpoint) for p in partitions}
    return windows_removable_mounts(partitions, buses)


# --- macOS: diskutil --------------------------------------------------------------------------


def macos_is_removable(info: Mapping[str, Any]) -> bool:
    """From `diskutil info -plist`: on USB, or removable or external — but not a mounted disk
    image (an app's installer .dmg lives on the internal disk)."""
    protocol = info.get("BusProtocol")
    if protocol == "USB":
        return True
    if protocol == "Disk Image":
        return False
    flags = ("RemovableMedia", "Removable", "RemovableMediaOrExternalDevice")
    return any(info.get(key) is True for key in flags) or info.get("Internal") is False


def macos_candidates(partitions: Iterable[DiskPartition]) -> list[DiskPartition]:
    """The volumes worth asking diskutil about: disks, not the system's own volume group."""
    return [
        p
        for p in partitions
        if p.device.startswith("/dev/disk")
        and p.mountpoint != "/"
        and not p.mountpoint.startswith("/System/Volumes/")
    ]


def diskutil_info(device: str) -> dict[str, Any] | None:
    try:
        out = subprocess.run(  # noqa: S603 - a fixed program; the device node is from getfsstat
            ["/usr/sbin/diskutil", "info", "-plist", device],
            capture_output=True,
            timeout=10,
            check=True,
        )
        info: dict[str, Any] = plistlib.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, plistlib.InvalidFileException, ValueError):
        return None
    return info


def measure_macos() -> list[str]:
    import psutil

    candidates = macos_candidates(psutil.disk_partitions(all=False))[:MAX_MOUNTED]
    found = []
    for partition in candidates:
        info = diskutil_info(partition.device)
        if info is not None and macos_is_removable(info):
            found.append(partition.mountpoint)
    return found


# --- the check --------------------------------------------------------------------------------


def measure() -> list[str] | None:
    """Mount points of mounted removable storage; None where this platform cannot tell."""
    if sys.platform.startswith("linux"):
        found = measure_linux()
    elif sys.platform == "win32":
        found = measure_windows()
    elif sys.platform == "darwin":
        found = measure_macos()
    else:
        return None
    if found is None:
        return None
    return [m[:MAX_MOUNT_POINT] for m in found[:MAX_MOUNTED]]


def judge_removable_storage(
    mounted: Sequence[str] | None, limits: Mapping[str, Any]
) -> CheckResult:
    level = str(limits.get("level", "required"))
    status = judge(level, mounted is not None and not mounted)
    hint = None
    if status in (Status.WARN, Status.FAIL):
        if mounted is None:
            hint = not_measured("USB 存储设备", "USB storage")
        else:
            shown = listed(list(mounted))
            hint = Hint(
                zh=f"已连接 USB 存储设备：{shown}（工作时不允许连接）：请安全弹出并拔下后重新检查",
                en=f"USB storage connected: {shown} (none allowed while you work): eject and "
                "unplug it, then check again",
            )
    measured = {"mounted": None if mounted is None else list(mounted)}
    return CheckResult(NAME, status, measured, dict(limits), hint)


def run(limits: Mapping[str, Any], ctx: CheckContext) -> CheckResult:
    return judge_removable_storage(measure(), limits)
