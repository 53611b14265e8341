"""The removable-storage check: each platform's reading over real-format inputs (a desktop's
mount table and sysfs tree, psutil's Windows partitions, diskutil's plists), and a real run."""

from __future__ import annotations

import os
import plistlib
import struct
from pathlib import Path

import psutil
import pytest

from homeagent.client.checks import removable_storage as rs
from homeagent.client.checks.context import CheckContext
from homeagent.client.checks.removable_storage import (
    BlockDevice,
    Mount,
    judge_removable_storage,
    linux_removable_mounts,
    macos_candidates,
    macos_is_removable,
    parse_mounts,
    read_block_devices,
    windows_removable_mounts,
)
from homeagent.client.checks.result import Status

# psutil's own partition tuple, as disk_partitions() gives it on every platform
sdiskpart = type(psutil.disk_partitions(all=True)[0])

# /proc/mounts of a Debian laptop with a USB stick (label with a space), an unlocked LUKS USB
# disk, a CD and an SD card in a USB reader plugged in; trimmed of cgroup and pseudo mounts.
DESKTOP_MOUNTS = r"""sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
udev /dev devtmpfs rw,nosuid,relatime,size=8012344k,nr_inodes=2003086,mode=755,inode64 0 0
/dev/nvme0n1p2 / ext4 rw,relatime,errors=remount-ro 0 0
/dev/nvme0n1p1 /boot/efi vfat rw,relatime,fmask=0077,dmask=0077,codepage=437,iocharset=ascii,shortname=mixed,utf8,errors=remount-ro 0 0
tmpfs /run/user/1000 tmpfs rw,nosuid,nodev,relatime,size=1602468k,nr_inodes=400617,mode=700,uid=1000,gid=1000,inode64 0 0
/dev/sda1 /srv/data ext4 rw,relatime 0 0
/dev/sdb1 /media/agent/KINGSTON\040USB vfat rw,nosuid,nodev,relatime,uid=1000,gid=1000,fmask=0022,dmask=0022,codepage=437,iocharset=ascii,shortname=mixed,showexec,utf8,flush,errors=remount-ro 0 0
/dev/mapper/luks-3f2a9c1e-7b4d-4e2a-9f0c-1d2e3f4a5b6c /media/agent/Backup ext4 rw,nosuid,nodev,relatime 0 0
/dev/sr0 /media/agent/CDROM iso9660 ro,nosuid,nodev,relatime,nojoliet,check=relaxed,map=normal,blocksize=2048,uid=1000,gid=1000,dmode=500,fmode=400,iocharset=utf8 0 0
/dev/sdd1 /media/agent/SD\040CARD exfat rw,nosuid,nodev,relatime,uid=1000,gid=1000,fmask=0022,dmask=0022,iocharset=utf8,errors=remount-ro 0 0
/dev/loop3 /snap/core22/1380 squashfs ro,nodev,relatime,errors=continue,threads=single 0 0
"""  # noqa: E501 - the kernel's lines, verbatim

PCI = "devices/pci0000:00"
USB_STICK = f"{PCI}/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb"
USB_DISK = f"{PCI}/0000:00:14.0/usb2/2-2/2-2:1.0/host7/target7:0:0/7:0:0:0/block/sdc"
USB_READER = f"{PCI}/0000:00:14.0/usb1/1-4/1-4:1.0/host8/target8:0:0/8:0:0:0/block/sdd"
SATA = f"{PCI}/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda"
CDROM = f"{PCI}/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0/block/sr0"
NVME = f"{PCI}/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1"
# (disk, removable flag, partitions)
DISKS = [
    (USB_STICK, "1", ["sdb1"]),
    (USB_DISK, "0", ["sdc1"]),  # a USB hard disk that says it is fixed: its bus gives it away
    (USB_READER, "1", ["sdd1"]),
    (SATA, "0", ["sda1"]),
    (CDROM, "1", []),
    (NVME, "0", ["nvme0n1p1", "nvme0n1p2"]),
    ("devices/virtual/block/loop3", "0", []),
    ("devices/virtual/block/dm-0", "0", []),
]


def make_sysfs(root: Path) -> Path:
    """A sysfs tree laid out as the kernel's: devices under /sys/devices, /sys/class/block
    links to each disk and partition, a LUKS mapping's `slaves` link to its USB partition."""
    (root / "class" / "block").mkdir(parents=True)
    for disk, removable, partitions in DISKS:
        path = root / disk
        path.mkdir(parents=True)
        (path / "removable").write_text(f"{removable}\n")
        (root / "class/block" / path.name).symlink_to(Path("../..") / disk)
        for part in partitions:
            (path / part).mkdir()
            (path / part / "partition").write_text("1\n")
            (root / "class/block" / part).symlink_to(Path("../..") / disk / part)
    slaves = root / "devices/virtual/block/dm-0/slaves"
    slaves.mkdir()
    (slaves / "sdc1").symlink_to(Path("../../../..") / USB_DISK / "sdc1")
    return root


def test_the_mount_table_is_read_as_the_kernel_writes_it() -> None:
    mounts = parse_mounts(DESKTOP_MOUNTS)
    assert len(mounts) == 12
    assert Mount("/dev/sdb1", "/media/agent/KINGSTON USB", "vfat") in mounts
    assert mounts[3] == Mount("/dev/nvme0n1p2", "/", "ext4")


def test_sysfs_facts(tmp_path: Path) -> None:
    devices = read_block_devices(["sdb1", "sda1", "dm-0", "nosuch"], make_sysfs(tmp_path))
    assert set(devices) == {"sdb1", "sda1", "dm-0", "sdc1"}  # dm-0 brought in what it is built on
    assert devices["sdb1"] == BlockDevice("sdb1", f"{USB_STICK}/sdb1", True)
    assert devices["sda1"] == BlockDevice("sda1", f"{SATA}/sda1", False)
    assert devices["dm-0"].slaves == ("sdc1",)
    assert devices["sdc1"].removable is False and rs.on_usb_bus(devices["sdc1"].sysfs_path)


def test_usb_and_removable_mounts_on_a_linux_desktop(tmp_path: Path) -> None:
    mounts = parse_mounts(DESKTOP_MOUNTS)
    names = {m.device: m.device.rpartition("/")[2] for m in mounts}
    names["/dev/mapper/luks-3f2a9c1e-7b4d-4e2a-9f0c-1d2e3f4a5b6c"] = "dm-0"  # realpath's answer
    devices = read_block_devices(set(names.values()), make_sysfs(tmp_path))
    assert linux_removable_mounts(mounts, devices, names) == [
        "/media/agent/KINGSTON USB",
        "/media/agent/Backup",
        "/media/agent/CDROM",
        "/media/agent/SD CARD",
    ]


def test_linux_measure_reads_the_given_files(tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(DESKTOP_MOUNTS)
    sysfs = make_sysfs(tmp_path / "sys")
    # /dev/mapper/… does not exist here, so realpath cannot name dm-0: the rest is found
    assert rs.measure_linux(mounts, sysfs) == [
        "/media/agent/KINGSTON USB",
        "/media/agent/CDROM",
        "/media/agent/SD CARD",
    ]
    assert rs.measure_linux(tmp_path / "missing", sysfs) is None


def test_this_machine_has_no_removable_storage_mounted() -> None:
    mounts = parse_mounts(Path("/proc/self/mounts").read_text())
    disks = {
        os.path.realpath(m.device).rpartition("/")[2] for m in mounts if m.device[:5] == "/dev/"
    }
    devices = read_block_devices(disks)
    assert devices, "this machine mounts at least one block device"
    assert all(d.sysfs_path.startswith("devices/") for d in devices.values())
    assert rs.measure() == []
    result = rs.run({"level": "required"}, CheckContext())
    assert (result.status, result.measured, result.hint) == (Status.PASS, {"mounted": []}, None)


WINDOWS_PARTITIONS = [
    sdiskpart("C:\\", "C:\\", "NTFS", "rw,fixed"),
    sdiskpart("D:\\", "D:\\", "UDF", "ro,cdrom"),
    sdiskpart("E:\\", "E:\\", "FAT32", "rw,removable"),
    sdiskpart("F:\\", "F:\\", "exFAT", "ro,removable"),
]


def test_windows_removable_drives() -> None:
    assert windows_removable_mounts(WINDOWS_PARTITIONS) == ["E:\\", "F:\\"]


def storage_device_descriptor(bus_type: int, removable: bool) -> bytes:
    """STORAGE_DEVICE_DESCRIPTOR as IOCTL_STORAGE_QUERY_PROPERTY returns it: Version, Size,
    DeviceType, DeviceTypeModifier, RemovableMedia, CommandQueueing, four string offsets,
    BusType, RawPropertiesLength, then the vendor and product strings."""
    strings = b"Samsung\0PSSD T7\0"
    head = struct.pack(
        "<IIBBBBIIIIII", 40, 40 + len(strings), 0, 0, removable, 0, 40, 48, 0, 0, bus_type, 0
    )
    return head + b"\0\0\0\0" + strings


def test_windows_bus_types() -> None:
    t7 = storage_device_descriptor(7, removable=False)  # a USB SSD that says it is fixed
    assert rs.bus_type_from_descriptor(t7) == rs.BUS_USB
    assert rs.bus_type_from_descriptor(storage_device_descriptor(17, False)) == 17  # NVMe
    assert rs.bus_type_from_descriptor(t7[:20]) is None
    partitions = [*WINDOWS_PARTITIONS, sdiskpart("G:\\", "G:\\", "exFAT", "rw,fixed")]
    buses = {"C:\\": 17, "D:\\": 1, "E:\\": 7, "F:\\": None, "G:\\": 7}
    assert windows_removable_mounts(partitions, buses) == ["E:\\", "F:\\", "G:\\"]
    assert rs.windows_bus_type("C:\\") is None  # not on Windows: nothing asked


def _plist(**keys: object) -> dict[str, object]:
    # through plistlib both ways, as diskutil's output is read
    return dict(plistlib.loads(plistlib.dumps(keys)))


@pytest.mark.parametrize(
    ("info", "removable"),
    [
        (
            _plist(
                BusProtocol="USB",
                Internal=False,
                RemovableMediaOrExternalDevice=True,
                MountPoint="/Volumes/KINGSTON",
                DeviceIdentifier="disk4s1",
            ),
            True,
        ),
        # an SD card in the MacBook's own slot
        (_plist(BusProtocol="Secure Digital", Internal=True, RemovableMedia=True), True),
        # a Thunderbolt SSD
        (
            _plist(BusProtocol="PCI-Express", Internal=False, RemovableMediaOrExternalDevice=True),
            True,
        ),
        # an app's installer, mounted from the internal disk
        (
            _plist(
                BusProtocol="Disk Image",
                Internal=False,
                Removable=True,
                RemovableMediaOrExternalDevice=True,
                MountPoint="/Volumes/Zoom",
            ),
            False,
        ),
        (
            _plist(
                BusProtocol="Apple Fabric",
                Internal=True,
                Removable=False,
                RemovableMediaOrExternalDevice=False,
                MountPoint="/",
            ),
            False,
        ),
    ],
)
def test_macos_diskutil_facts(info: dict[str, object], removable: bool) -> None:
    assert macos_is_removable(info) is removable


def test_macos_asks_only_about_volumes_outside_the_system() -> None:
    partitions = [
        sdiskpart("/dev/disk3s1s1", "/", "apfs", "ro,local,rootfs,dovolfs,journaled,multilabel"),
        sdiskpart("/dev/disk3s6", "/System/Volumes/VM", "apfs", "rw,noexec,local,dovolfs"),
        sdiskpart("/dev/disk3s5", "/System/Volumes/Data", "apfs", "rw,local,dovolfs,journaled"),
        sdiskpart("/dev/disk4s1", "/Volumes/KINGSTON", "msdos", "rw,nosuid,local,noowners"),
        sdiskpart("map auto_home", "/System/Volumes/Data/home", "autofs", "rw,dovolfs"),
    ]
    assert [p.mountpoint for p in macos_candidates(partitions)] == ["/Volumes/KINGSTON"]


@pytest.mark.parametrize(
    ("mounted", "level", "status"),
    [
        ([], "required", Status.PASS),
        ([], "warn", Status.PASS),
        (["/media/agent/KINGSTON USB"], "required", Status.FAIL),
        (["E:\\"], "warn", Status.WARN),
        (["E:\\"], "off", Status.SKIP),
        (None, "required", Status.FAIL),  # could not tell: cannot pass
        (None, "warn", Status.WARN),
    ],
)
def test_judge(mounted: list[str] | None, level: str, status: Status) -> None:
    result = judge_removable_storage(mounted, {"level": level})
    assert result.status is status
    assert result.measured == {"mounted": mounted}
    assert (result.hint is not None) == (status in (Status.WARN, Status.FAIL))


def test_hint_names_what_is_mounted() -> None:
    hint = judge_removable_storage(["E:\\", "F:\\"], {"level": "required"}).hint
    assert hint is not None
    assert hint.en == (
        "USB storage connected: E:\\, F:\\ (none allowed while you work): eject and unplug it, "
        "then check again"
    )
    assert hint.zh.startswith("已连接 USB 存储设备：E:\\, F:\\（工作时不允许连接）")
