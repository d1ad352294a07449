"""MNIST and Fashion-MNIST from IDX files on disk (gzip or raw), with an optional download.

Book: chapter 7, the image-classification lab (task 2, Fashion-MNIST).

The IDX format (LeCun et al.) is a 4-byte magic number, then one big-endian uint32
per dimension, then the values in row-major order, big-endian:

====== ==================================================================
bytes  meaning
====== ==================================================================
0-1    always 0
2      element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
       0x0D float32, 0x0E float64
3      number of dimensions d
4..    d sizes, uint32 big-endian each, then the data
====== ==================================================================

Nothing here touches the network unless ``download=True`` is passed; the book and
the tests never do. Downloads are checked against the SHA-256 sums below.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

#: IDX element-type byte -> big-endian numpy dtype.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: The standard file names of both data sets, by part.
FILE_NAMES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

#: SHA-256 of the published gzip files (identical on every mirror).
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}

#: Where to download from, tried in order (the original yann.lecun.com is often down).
MNIST_URLS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
FASHION_MNIST_URLS = ("https://fashion-mnist.s3.eu-central-1.amazonaws.com/",)

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


# --- reading -------------------------------------------------------------------------
def _read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when it starts with the gzip signature."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (EOFError, gzip.BadGzipFile, OSError) as err:
            raise ValueError(f"{path}: truncated or corrupt gzip file ({err})") from err
    return raw


def read_idx(path: str | os.PathLike) -> NDArray:
    """Read one IDX file (raw or gzip-compressed) into an array of its stored shape and type.

    Returns
    -------
    array
        Native-endian, e.g. uint8 of shape (60000, 28, 28) for MNIST training images.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the magic number is not an IDX one, or the file is shorter (or longer) than
        its header says.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in IDX_DTYPES:
        raise ValueError(
            f"{path}: not an IDX file: the magic number should be 00 00 <type> <ndim> with "
            f"type in {[hex(t) for t in IDX_DTYPES]}, got bytes {data[:4].hex(' ') or 'none'}"
        )
    dtype, ndim = IDX_DTYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated header: {ndim} dimensions need {header} bytes, "
                         f"got {len(data)}")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "has trailing bytes"
        raise ValueError(f"{path}: file {problem}: the header says shape {shape} of {dtype.name}, "
                         f"{expected} bytes in all, got {len(data)}")
    values = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def _find(directory: Path, name: str) -> Path | None:
    """``name`` in ``directory``, or the same file unzipped (without ``.gz``)."""
    for candidate in (directory / name, directory / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def _missing_message(directory: Path, names: tuple[str, ...], what: str) -> str:
    listed = ", ".join(names)
    return (
        f"{what} files not found in {directory}: put {listed} there (gzip or unzipped), "
        f"or call with download=True to fetch them (needs network)"
    )


def _load_images_and_labels(
    directory: Path, kind: str, what: str, checksums: dict, urls: tuple, download: bool
) -> tuple[NDArray, NDArray]:
    if kind not in FILE_NAMES:
        raise ValueError(f"kind must be one of {sorted(FILE_NAMES)}, got {kind!r}")
    names = FILE_NAMES[kind]
    if download:
        for name in names:
            if _find(directory, name) is None:
                fetch(name, directory, urls, checksums[name])
    paths = [_find(directory, name) for name in names]
    if None in paths:
        raise FileNotFoundError(_missing_message(directory, names, what))
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"{what} files in {directory} do not match: images of shape "
                         f"{images.shape} and labels of shape {labels.shape}")
    return images, labels


def _as_dataset(images: NDArray, labels: NDArray, flatten: bool):
    """Pixels scaled from 0..255 to [0, 1] as float64, labels as int64."""
    X = images.astype(np.float64) / 255.0
    if flatten:
        X = X.reshape(X.shape[0], -1)  # each image unrolled row by row: 28 x 28 -> 784
    return X, labels.astype(np.int64)


def default_data_dir(name: str) -> Path:
    """``$COURSE_NN_DATA/<name>``, or ``~/.cache/course-nn/<name>`` when the variable is unset."""
    root = os.environ.get("COURSE_NN_DATA") or Path.home() / ".cache" / "course-nn"
    return Path(root) / name


def load_mnist(
    path: str | os.PathLike | None = None,
    kind: str = "train",
    download: bool = False,
    flatten: bool = True,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """MNIST hand-written digits (60000 train / 10000 test, 28 x 28) from IDX files.

    Parameters
    ----------
    path : directory holding the standard files (``train-images-idx3-ubyte.gz`` ...);
        default :func:`default_data_dir` ("mnist")
    kind : "train" or "test"
    download : fetch missing files into ``path`` first (checked by SHA-256)
    flatten : X of shape (n, 784) rather than (n, 28, 28)

    Returns
    -------
    X : float64 array of shape (n, 784) (or (n, 28, 28)), in [0, 1]
    y : int64 array of shape (n,), digits 0..9

    Raises
    ------
    FileNotFoundError
        If the files are missing and ``download`` is False; the message names the
        directory and the files to put there.
    """
    directory = Path(path) if path is not None else default_data_dir("mnist")
    images, labels = _load_images_and_labels(
        directory, kind, "MNIST", MNIST_SHA256, MNIST_URLS, download
    )
    return _as_dataset(images, labels, flatten)


def load_fashion_mnist(
    path: str | os.PathLike | None = None,
    kind: str = "train",
    download: bool = False,
    flatten: bool = True,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Fashion-MNIST clothing images, same format and file names as :func:`load_mnist`.

    Labels 0..9 name :data:`FASHION_MNIST_CLASSES` ("T-shirt/top", ..., "Ankle boot").
    Default directory: :func:`default_data_dir` ("fashion-mnist").
    """
    directory = Path(path) if path is not None else default_data_dir("fashion-mnist")
    images, labels = _load_images_and_labels(
        directory, kind, "Fashion-MNIST", FASHION_MNIST_SHA256, FASHION_MNIST_URLS, download
    )
    return _as_dataset(images, labels, flatten)


# --- downloading (never used by the tests or the book) --------------------------------
def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, destination: Path) -> None:
    """Fetch ``url`` into the file ``destination`` (replaced in tests by a local copy)."""
    with urllib.request.urlopen(url, timeout=60) as response, open(destination, "wb") as out:
        shutil.copyfileobj(response, out)


def fetch(name: str, directory: str | os.PathLike, urls: tuple[str, ...], sha256: str) -> Path:
    """Download ``name`` from the first mirror that answers, check its SHA-256, keep it.

    The file lands in ``directory`` only once its checksum matches, so a failed or
    tampered download never leaves a file that looks valid.

    Raises
    ------
    ValueError
        If the downloaded file's SHA-256 differs from ``sha256`` (the file is deleted).
    OSError
        If no mirror could be reached.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    errors = []
    for base in urls:
        with tempfile.TemporaryDirectory(dir=directory) as tmp:
            partial = Path(tmp) / name
            try:
                _download(base + name, partial)
            except OSError as err:  # URLError is an OSError: try the next mirror
                errors.append(f"{base}{name}: {err}")
                continue
            got = sha256_of(partial)
            if got != sha256:
                raise ValueError(
                    f"checksum mismatch for {name} from {base}: expected SHA-256 {sha256}, "
                    f"got {got}; the file was deleted"
                )
            return Path(shutil.move(partial, directory / name))
    raise OSError(f"could not download {name}: " + "; ".join(errors))
