"""Write the .npz archives that NPZTests read (numpy.savez / savez_compressed and Python's zipfile), and the gzip
files that GzipTests read (Python's gzip).

The arrays (the tests compare against these formulas, not against values read back):

    x             np.arange(24, dtype=np.float32).reshape(2, 3, 4)          x.flat[i] == i
    w             np.linspace(-1, 1, 5)  (float64)                          [-1, -0.5, 0, 0.5, 1]
    scalar        np.array(2.5)  (float64, shape ())
    empty         np.zeros((0, 3), dtype=np.float32)
    conv1.weight  (np.arange(18, dtype=np.float32) / 8).reshape(2, 1, 3, 3)   flat[i] == i / 8
    größe         np.arange(3.0)  (float64; a non-ASCII name: zipfile sets the UTF-8 flag)
    big           np.repeat(np.arange(4, dtype=np.float32), 20000)          flat[i] == i // 20000
                  (compressed.npz only: 320,000 bytes that inflate in several pieces, a few hundred compressed)

Files:

    stored.npz          numpy.savez(x, w, scalar, empty, conv1.weight, größe), in that order
    compressed.npz      numpy.savez_compressed(the same, then big)
    zip64.npz           numpy.savez_compressed(x, w) with zipfile's ZIP64_LIMIT lowered to 64 bytes, so the central
                        directory holds zip64 sizes and offsets and a zip64 end record and locator are written
    streamed.npz        numpy.savez(x, w) to a stream that cannot seek: every member has a data descriptor
                        (flag bit 3) and zero sizes in its local header
    bzip2.npz           x.npy compressed with bzip2 (zip method 12)
    duplicate.npz       x.npy, then a second member named x (both are numpy.load's 'x')
    text_member.npz     x.npy, then notes.txt, which is not a .npy file

    text.gz             gzip with a file name in its header (mtime 0) of the 1,000 lines "line 0\n" … "line 999\n"
    two_members.gz      gzip.compress(b"first\n") followed by gzip.compress(b"second\n")
    labels.gz           an IDX1 file as Fashion-MNIST's labels: magic 00 00 08 01, count 300 (UInt32, big-endian),
                        then the labels i % 10 for i in 0 ..< 300

Rerun from the repository root with a Python that has numpy:

    python3 Tests/ConvEngineNPYTests/Compressed/make_compressed.py

It also reads back every archive with numpy.load and checks the arrays. The tests read only the committed
files; CI needs no Python.
"""

import gzip
import io
import os
import zipfile

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(here, name)


arrays = {
    "x": np.arange(24, dtype=np.float32).reshape(2, 3, 4),
    "w": np.linspace(-1, 1, 5),
    "scalar": np.array(2.5),
    "empty": np.zeros((0, 3), dtype=np.float32),
    "conv1.weight": (np.arange(18, dtype=np.float32) / 8).reshape(2, 1, 3, 3),
    "größe": np.arange(3.0),
}
big = np.repeat(np.arange(4, dtype=np.float32), 20000)
two = {"x": arrays["x"], "w": arrays["w"]}

np.savez(path("stored.npz"), **arrays)
np.savez_compressed(path("compressed.npz"), **arrays, big=big)

saved_limit = zipfile.ZIP64_LIMIT
zipfile.ZIP64_LIMIT = 64
try:
    np.savez_compressed(path("zip64.npz"), **two)
finally:
    zipfile.ZIP64_LIMIT = saved_limit


class Unseekable(io.RawIOBase):
    """A write-only stream without tell() or seek(), like a pipe."""

    def __init__(self):
        self.buffer = io.BytesIO()

    def writable(self):
        return True

    def write(self, data):
        return self.buffer.write(data)


stream = Unseekable()
np.savez(stream, **two)
with open(path("streamed.npz"), "wb") as f:
    f.write(stream.buffer.getvalue())


def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def member(name):
    """A member dated 1980-01-01 as numpy's, so that rerunning the script gives the same bytes."""
    return zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))


with zipfile.ZipFile(path("bzip2.npz"), "w") as z:
    z.writestr(member("x.npy"), npy_bytes(arrays["x"]), compress_type=zipfile.ZIP_BZIP2)
with zipfile.ZipFile(path("duplicate.npz"), "w") as z:
    z.writestr(member("x.npy"), npy_bytes(arrays["x"]))
    z.writestr(member("x"), npy_bytes(arrays["w"]))
with zipfile.ZipFile(path("text_member.npz"), "w") as z:
    z.writestr(member("x.npy"), npy_bytes(arrays["x"]))
    z.writestr(member("notes.txt"), "not an array\n")

with open(path("text.gz"), "wb") as raw:
    with gzip.GzipFile(filename="text.txt", mode="wb", fileobj=raw, mtime=0) as f:
        f.write("".join(f"line {i}\n" for i in range(1000)).encode())
with open(path("two_members.gz"), "wb") as f:
    f.write(gzip.compress(b"first\n", mtime=0) + gzip.compress(b"second\n", mtime=0))
with open(path("labels.gz"), "wb") as f:
    f.write(gzip.compress(bytes([0, 0, 8, 1]) + (300).to_bytes(4, "big") + bytes(i % 10 for i in range(300)), mtime=0))

# The archives numpy itself wrote read back as written.
for name, expected in [("stored.npz", arrays), ("compressed.npz", {**arrays, "big": big}),
                       ("zip64.npz", two), ("streamed.npz", two)]:
    with np.load(path(name)) as loaded:
        assert loaded.files == list(expected), (name, loaded.files)
        for key, value in expected.items():
            assert loaded[key].dtype == value.dtype and loaded[key].shape == value.shape, (name, key)
            assert np.array_equal(loaded[key], value), (name, key)
with zipfile.ZipFile(path("zip64.npz")) as z:
    assert all(info.extra for info in z.infolist()), "zip64.npz: expected zip64 extra fields in the directory"
with zipfile.ZipFile(path("streamed.npz")) as z:
    assert all(info.flag_bits & 0x08 for info in z.infolist()), "streamed.npz: expected data descriptors"
for name in sorted(os.listdir(here)):
    if name.endswith(".gz"):
        print(name, os.path.getsize(path(name)), "bytes, decompressed", len(gzip.decompress(open(path(name), "rb").read())))
    if name.endswith(".npz"):
        with zipfile.ZipFile(path(name)) as z:
            print(name, os.path.getsize(path(name)), "bytes:",
                  [(i.filename, i.compress_type, i.flag_bits) for i in z.infolist()])
