#!/usr/bin/env python3
"""Generates the .npy/.npz test fixtures in Tests/ConvRTTests/Fixtures/npy/ (used by NPYTests.swift).

Usage: python3 Tools/gen_npy_fixtures.py   (needs numpy; output is deterministic, so rerunning
must leave `git status` clean).

Every array is np.arange-based or a fixed list, so NPYTests computes the expected float32
values itself. Malformed .npy inputs are built in Swift; only the crafted zips live here.
"""
import io
import os
import struct
import zipfile
import zlib

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "ConvRTTests", "Fixtures", "npy")

# IEEE half bit patterns: zeros, subnormals, smallest normal, 1, max, infinities, NaN, 1/3.
HALF_BITS = [0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x3C00, 0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0x3555]
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def save(name, array, version=None):
    with open(os.path.join(OUT, name), "wb") as f:
        np.lib.format.write_array(f, array, version=version, allow_pickle=False)


def npz(name, arrays, compressed):
    """Like np.savez / np.savez_compressed (zip64 local headers), with fixed timestamps."""
    method = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(os.path.join(OUT, name), "w", compression=method, allowZip64=True) as zf:
        for key, array in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=FIXED_TIME)
            info.compress_type = method
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(array), allow_pickle=False)


def raw_zip(entry_name, payload):
    """A one-entry stored zip as bytes, for patching into malformed archives."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(zipfile.ZipInfo(entry_name, date_time=FIXED_TIME), payload)
    return bytearray(buffer.getvalue())


def patch_u16(data, offset, value):
    data[offset:offset + 2] = struct.pack("<H", value)


def patch_u32(data, offset, value):
    data[offset:offset + 4] = struct.pack("<I", value)


def crafted_zips():
    # hang.npz: claims deflate, but the stream is a non-final stored block announcing 65535 bytes
    # and then stops. ZIPFoundation 0.9.20's Archive.extract spins forever on this on Linux.
    data = raw_zip("a.npy", b"\x00\xff\xff\x00\x00" + b"\x93NUMPY")
    central = data.find(b"PK\x01\x02")
    patch_u16(data, 8, 8)             # local header: compression method
    patch_u16(data, central + 10, 8)  # central directory: compression method
    with open(os.path.join(OUT, "hang.npz"), "wb") as f:
        f.write(data)

    # overrun.npz: a valid deflate stream of 16 KiB of zeros whose declared size says 256 bytes.
    image = io.BytesIO()
    np.lib.format.write_array(image, np.zeros(4096, dtype="<f4"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("a.npy", date_time=FIXED_TIME), image.getvalue(), zipfile.ZIP_DEFLATED)
    data = bytearray(buffer.getvalue())
    central = data.find(b"PK\x01\x02")
    patch_u32(data, 22, 256)            # local header: uncompressed size
    patch_u32(data, central + 24, 256)  # central directory: uncompressed size
    with open(os.path.join(OUT, "overrun.npz"), "wb") as f:
        f.write(data)


def zip64_npz():
    """One stored entry with all sizes and offsets in ZIP64 fields (central directory and end
    records too), as zips of arrays over 4 GiB have them. Built by hand: zipfile only does this
    for large files."""
    image = io.BytesIO()
    np.lib.format.write_array(image, np.arange(6, dtype="<f4").reshape(2, 3))
    payload = image.getvalue()
    name, crc, size, dos_date = b"big.npy", zlib.crc32(payload), len(payload), 0x21
    local_extra = struct.pack("<HHQQ", 1, 16, size, size)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, dos_date, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                        len(name), len(local_extra)) + name + local_extra
    central_extra = struct.pack("<HHQQQ", 1, 24, size, size, 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, dos_date, crc, 0xFFFFFFFF,
                          0xFFFFFFFF, len(name), len(central_extra), 0, 0, 0, 0, 0xFFFFFFFF) + name + central_extra
    central_offset = len(local) + size
    zip64_end = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, 1, 1, len(central), central_offset)
    locator = struct.pack("<IIQI", 0x07064B50, 0, central_offset + len(central), 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with open(os.path.join(OUT, "zip64.npz"), "wb") as f:
        f.write(local + payload + central + zip64_end + locator + end)


def main():
    os.makedirs(OUT, exist_ok=True)
    f4 = np.arange(6, dtype="<f4").reshape(2, 3)
    save("f4_v1.npy", f4, (1, 0))
    save("f4_v2.npy", f4, (2, 0))
    save("f4_v3.npy", f4, (3, 0))
    save("f4_1d.npy", np.arange(5, dtype="<f4"))
    save("f4_4d.npy", np.arange(8, dtype="<f4").reshape(1, 2, 2, 2))
    save("scalar.npy", np.array(3.5, dtype="<f4"))
    save("zero_size.npy", np.zeros((0, 3, 5, 5), dtype="<f4"))

    save("f8.npy", (np.arange(6) * 0.1).reshape(2, 3).astype("<f8"))
    save("f2.npy", np.array(HALF_BITS, dtype="<u2").view("<f2"))
    save("i1.npy", np.array([-128, -1, 0, 1, 127], dtype="i1"))
    save("i2.npy", np.array([-32768, 32767], dtype="<i2"))
    save("i4.npy", np.arange(-3, 3, dtype="<i4").reshape(2, 3))
    save("i8.npy", np.array([-(2**40), 2**53 + 1, 2**62, -1], dtype="<i8"))
    save("u1.npy", np.array([0, 1, 255], dtype="u1"))
    save("u2.npy", np.array([65535], dtype="<u2"))
    save("u4.npy", np.array([2**32 - 1], dtype="<u4"))
    save("u8.npy", np.array([2**64 - 1, 0], dtype="<u8"))
    save("bool.npy", np.array([True, False, True, True]))

    save("be_f4.npy", np.arange(6, dtype=">f4").reshape(2, 3))
    save("be_f8.npy", (np.arange(6) * 0.1).reshape(2, 3).astype(">f8"))
    save("be_i4.npy", np.arange(-3, 3, dtype=">i4").reshape(2, 3))
    save("be_f2.npy", np.array(HALF_BITS, dtype="<u2").view("<f2").astype(">f2"))

    save("fortran_2d.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
    save("fortran_3d.npy", np.asfortranarray(np.arange(24, dtype="<f4").reshape(2, 3, 4)))
    save("fortran_be_f8_4d.npy", np.asfortranarray(np.arange(12, dtype=">f8").reshape(2, 1, 3, 2)))

    save("complex.npy", np.array([1 + 2j], dtype="<c8"))
    save("unicode.npy", np.array(["abc"], dtype="<U3"))
    save("structured.npy", np.zeros(1, dtype=[("a", "<f4"), ("b", "<i4")]))

    arrays = {
        "a": f4,
        "conv.weight": np.arange(-3, 3, dtype="<i8").reshape(3, 2),
        "scalar": np.array(2.5, dtype="<f8"),
    }
    npz("stored.npz", arrays, compressed=False)
    npz("compressed.npz", arrays, compressed=True)
    npz("bad_dtype.npz", {"a": f4, "conv.weight": np.array([1 + 2j], dtype="<c8")}, compressed=False)
    crafted_zips()
    zip64_npz()


if __name__ == "__main__":
    main()
