"""Tests for course_nn.datasets.idx: tiny IDX files written here, read back; no network."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import struct

import numpy as np
import pytest

from course_nn.datasets import idx
from course_nn.datasets.idx import (
    FILE_NAMES,
    fetch,
    load_fashion_mnist,
    load_mnist,
    read_idx,
    sha256_of,
)

pytestmark = pytest.mark.ch7

TYPE_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
              np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of ``array``: magic 00 00 <type> <ndim>, big-endian sizes and data."""
    header = struct.pack(">BBBB", 0, 0, TYPE_CODES[array.dtype.type], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, compress):
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def write_dataset(directory, rng, n_train=5, n_test=3, compress=True):
    """A fake MNIST: uint8 images (n, 28, 28) and labels under the standard names."""
    directory.mkdir(parents=True, exist_ok=True)
    parts = {}
    for kind, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28)).astype(np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        image_name, label_name = FILE_NAMES[kind]
        if not compress:
            image_name, label_name = image_name[:-3], label_name[:-3]
        write_idx(directory / image_name, images, compress)
        write_idx(directory / label_name, labels, compress)
        parts[kind] = images, labels
    return parts


# --- read_idx ------------------------------------------------------------------------
@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "raw"])
@pytest.mark.parametrize("dtype", sorted(TYPE_CODES, key=lambda t: t.__name__))
def test_round_trip_every_type(tmp_path, rng, dtype, compress):
    array = (rng.normal(size=(2, 3, 4)) * 50).astype(dtype)
    got = read_idx(write_idx(tmp_path / "a.idx", array, compress))
    assert got.shape == (2, 3, 4) and got.dtype == np.dtype(dtype)
    assert got.dtype.isnative
    np.testing.assert_array_equal(got, array)


def test_header_is_read_big_endian(tmp_path):
    """300 = 0x0000012C: a little-endian reader would see 0x2C010000."""
    labels = np.arange(300) % 256
    got = read_idx(write_idx(tmp_path / "l.idx", labels.astype(np.uint8), compress=False))
    assert got.shape == (300,)
    np.testing.assert_array_equal(got, labels)


def test_bad_magic_number(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(b"\x12\x34\x08\x01" + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(ValueError, match=r"not an IDX file.*got bytes 12 34 08 01"):
        read_idx(path)
    path.write_bytes(b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00")  # unknown type
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)


def test_truncated_file(tmp_path, rng):
    data = idx_bytes(rng.integers(0, 256, size=(4, 5)).astype(np.uint8))
    path = tmp_path / "short.idx"
    path.write_bytes(data[:-3])
    with pytest.raises(ValueError, match=r"truncated: the header says shape \(4, 5\).*32 bytes "
                                         r"in all, got 29"):
        read_idx(path)
    path.write_bytes(data[:6])
    with pytest.raises(ValueError, match="truncated header"):
        read_idx(path)
    path.write_bytes(gzip.compress(data)[:-10])
    with pytest.raises(ValueError, match="truncated or corrupt gzip"):
        read_idx(path)
    path.write_bytes(data + b"\x00")
    with pytest.raises(ValueError, match="trailing bytes"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nothing.idx")


# --- load_mnist / load_fashion_mnist ---------------------------------------------------
@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "raw"])
@pytest.mark.parametrize("loader", [load_mnist, load_fashion_mnist])
def test_load_scales_to_unit_interval(tmp_path, rng, loader, compress):
    parts = write_dataset(tmp_path, rng, compress=compress)
    for kind, n in (("train", 5), ("test", 3)):
        X, y = loader(tmp_path, kind=kind)
        assert X.shape == (n, 784) and X.dtype == np.float64
        assert y.shape == (n,) and y.dtype == np.int64
        assert 0.0 <= X.min() and X.max() <= 1.0
        np.testing.assert_allclose(X.reshape(n, 28, 28) * 255, parts[kind][0])
        np.testing.assert_array_equal(y, parts[kind][1])
    images, _ = loader(tmp_path, kind="test", flatten=False)
    assert images.shape == (3, 28, 28)


def test_missing_files_name_the_directory_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=rf"MNIST files not found in {tmp_path}: put "
                                                r"train-images-idx3-ubyte.gz, "
                                                r"train-labels-idx1-ubyte.gz there"):
        load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="Fashion-MNIST .*t10k-images-idx3-ubyte.gz"):
        load_fashion_mnist(tmp_path, kind="test")


def test_bad_kind_and_mismatched_files(tmp_path, rng):
    with pytest.raises(ValueError, match="kind must be one of"):
        load_mnist(tmp_path, kind="validation")
    write_dataset(tmp_path, rng)
    write_idx(tmp_path / FILE_NAMES["train"][1], np.zeros(4, np.uint8), compress=True)
    with pytest.raises(ValueError, match=r"images of shape \(5, 28, 28\) and labels of shape "
                                         r"\(4,\)"):
        load_mnist(tmp_path)


def test_default_directory_comes_from_the_environment(tmp_path, rng, monkeypatch):
    monkeypatch.setenv("COURSE_NN_DATA", str(tmp_path))
    write_dataset(tmp_path / "mnist", rng)
    X, _ = load_mnist(kind="test")
    assert X.shape == (3, 784)


# --- download (a local "mirror" instead of the network) ---------------------------------
@pytest.fixture
def mirror(tmp_path, rng, monkeypatch):
    """A directory of fake files served by a patched downloader; checksums patched to match."""
    source = tmp_path / "mirror"
    write_dataset(source, rng)
    sums = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in source.iterdir()}
    monkeypatch.setattr(idx, "MNIST_SHA256", sums)
    calls = []

    def fake_download(url, destination):
        calls.append(url)
        if url.startswith("https://down.example/"):
            raise OSError("mirror is down")
        shutil.copy(source / url.rsplit("/", 1)[1], destination)

    monkeypatch.setattr(idx, "_download", fake_download)
    monkeypatch.setattr(idx, "MNIST_URLS", ("https://down.example/", "https://up.example/"))
    return source, calls


def test_download_fetches_verifies_and_loads(tmp_path, mirror):
    source, calls = mirror
    cache = tmp_path / "cache"
    X, y = load_mnist(cache, kind="train", download=True)
    assert X.shape == (5, 784)
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILE_NAMES["train"])
    assert calls[:2] == ["https://down.example/train-images-idx3-ubyte.gz",
                         "https://up.example/train-images-idx3-ubyte.gz"]
    assert sha256_of(cache / FILE_NAMES["train"][0]) == idx.MNIST_SHA256[FILE_NAMES["train"][0]]
    calls.clear()
    load_mnist(cache, kind="train", download=True)
    assert calls == []  # present files are not fetched again


def test_checksum_mismatch_deletes_the_file(tmp_path, mirror, monkeypatch):
    source, _ = mirror
    monkeypatch.setitem(idx.MNIST_SHA256, FILE_NAMES["test"][0], "0" * 64)
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match=r"checksum mismatch for t10k-images-idx3-ubyte.gz .*"
                                         r"expected SHA-256 0{64}, got [0-9a-f]{64}"):
        load_mnist(cache, kind="test", download=True)
    assert not (cache / FILE_NAMES["test"][0]).exists()
    assert list(cache.iterdir()) == []  # no temporary left behind either


def test_unreachable_mirrors(tmp_path, monkeypatch):
    def offline(url, destination):
        raise OSError("no network")

    monkeypatch.setattr(idx, "_download", offline)
    with pytest.raises(OSError, match=r"could not download x.gz: https://a/x.gz: no network"):
        fetch("x.gz", tmp_path, ("https://a/",), "0" * 64)


def test_published_checksums_are_well_formed():
    for table in (idx.MNIST_SHA256, idx.FASHION_MNIST_SHA256):
        assert sorted(table) == sorted(FILE_NAMES["train"] + FILE_NAMES["test"])
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in table.values())
    assert len(idx.FASHION_MNIST_CLASSES) == 10
