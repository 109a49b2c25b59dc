"""Datasets for the course notebooks.

Two kinds of data:

* :func:`load_offline` -- small data sets bundled with scikit-learn (no network needed).
* :func:`load_mnist`, :func:`load_fashion_mnist`, :func:`load_cifar10` -- the classic image
  data sets, downloaded once with pooch, verified against known checksums and cached in
  :func:`data_dir` (set ``DL_COURSE_DATA`` to choose the folder).
* :func:`load_images` -- one of those for the PyTorch notebooks, or, where it cannot be had, a
  stand-in of the same shapes made from scikit-learn's digits, so that a notebook always runs.

Every problem with downloaded data raises :class:`DatasetError` with a message that says
what is wrong and how to fix it.
"""

from __future__ import annotations

import gzip
import os
import pickle
import tarfile
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pooch
import requests
import sklearn.datasets
from numpy.typing import NDArray
from sklearn.model_selection import train_test_split

__all__ = [
    "CIFAR10",
    "FASHION_MNIST",
    "ImageSetName",
    "MNIST",
    "DatasetError",
    "DatasetSpec",
    "OfflineName",
    "RemoteFile",
    "Split",
    "data_dir",
    "fetch",
    "load_cifar10",
    "load_fashion_mnist",
    "image_standin",
    "load_images",
    "load_mnist",
    "load_offline",
    "load_text",
    "read_cifar10_tarball",
    "read_idx_images",
    "read_idx_labels",
]

PathLike = str | os.PathLike[str]
ENV_VAR = "DL_COURSE_DATA"
DOWNLOAD_TIMEOUT_S = 30


TEXTS = Path(__file__).resolve().parent / "texts"  # texts shipped with the course, see SOURCES.md there


def load_text(name: str = "tinyshakespeare") -> str:
    """A text shipped with the course: ``helpers/texts/<name>.txt`` (sources and licences in
    ``helpers/texts/SOURCES.md``).

    Raises:
        DatasetError: for a name that is not one of the shipped texts (the message lists them).
    """
    path = TEXTS / f"{name}.txt"
    if Path(name).name != name or not path.is_file():
        known = sorted(p.stem for p in TEXTS.glob("*.txt"))
        raise DatasetError(f"no text {name!r} ships with the course; choose one of {known}")
    return path.read_text(encoding="utf-8")


class DatasetError(Exception):
    """A data set could not be downloaded, verified or parsed."""


@dataclass(frozen=True, eq=False)
class Split:
    """A train/test split. ``class_names[k]`` names label ``k`` (empty for regression)."""

    X_train: NDArray[Any]
    y_train: NDArray[Any]
    X_test: NDArray[Any]
    y_test: NDArray[Any]
    class_names: tuple[str, ...] = ()
    source: str = "real"  # or a sentence saying what stands in for the real data set

    def __post_init__(self) -> None:
        for part, X, y in (
            ("train", self.X_train, self.y_train),
            ("test", self.X_test, self.y_test),
        ):
            if len(X) != len(y):
                raise ValueError(f"{part}: {len(X)} samples but {len(y)} labels")


# --------------------------------------------------------------------------- offline sets

OfflineName = Literal["digits", "iris", "breast_cancer", "diabetes", "moons", "circles"]
_BUNDLED: dict[str, Callable[..., Any]] = {
    "digits": sklearn.datasets.load_digits,
    "iris": sklearn.datasets.load_iris,
    "breast_cancer": sklearn.datasets.load_breast_cancer,
    "diabetes": sklearn.datasets.load_diabetes,
}


def load_offline(
    name: OfflineName,
    *,
    test_size: float = 0.25,
    seed: int = 0,
    n_samples: int = 500,
    noise: float = 0.2,
) -> Split:
    """Load a small offline data set with a deterministic, seeded train/test split.

    ``name`` is a scikit-learn bundled set (``"digits"``, ``"iris"``, ``"breast_cancer"``,
    ``"diabetes"``) or a 2-D toy set (``"moons"``, ``"circles"``; ``n_samples`` and ``noise``
    apply to these only). Features are float64; labels are int64 (float64 for ``"diabetes"``,
    a regression target). Classification splits are stratified.
    """
    names: tuple[str, ...] = ()
    if name in _BUNDLED:
        bunch = _BUNDLED[name]()
        X, y = bunch.data, bunch.target
        names = tuple(str(n) for n in getattr(bunch, "target_names", ()))
    elif name == "moons":
        X, y = sklearn.datasets.make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    elif name == "circles":
        X, y = sklearn.datasets.make_circles(
            n_samples=n_samples, noise=noise, factor=0.5, random_state=seed
        )
    else:
        raise ValueError(f"unknown data set {name!r}; choose one of {get_args(OfflineName)}")
    regression = name == "diabetes"
    y = np.asarray(y, dtype=np.float64 if regression else np.int64)
    if not regression and not names:
        names = tuple(str(k) for k in np.unique(y))
    X_train, X_test, y_train, y_test = train_test_split(
        np.asarray(X, dtype=np.float64),
        y,
        test_size=test_size,
        random_state=seed,
        stratify=None if regression else y,
    )
    return Split(X_train, y_train, X_test, y_test, names)


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file and its known checksum(s); sha256 is preferred when given."""

    name: str
    md5: str | None = None
    sha256: str | None = None

    def __post_init__(self) -> None:
        if not self.name or Path(self.name).name != self.name or self.name in {".", ".."}:
            raise ValueError(f"file name must be a plain file name, got {self.name!r}")
        if self.md5 is None and self.sha256 is None:
            raise ValueError(f"{self.name}: give at least one of md5= or sha256=")

    @property
    def known_hash(self) -> str:
        """The checksum used for verification, in pooch's ``"alg:hexdigest"`` form."""
        return f"sha256:{self.sha256}" if self.sha256 else f"md5:{self.md5}"


@dataclass(frozen=True)
class DatasetSpec:
    """Where a data set comes from: cache folder name, mirrors (tried in order) and files."""

    name: str
    base_urls: tuple[str, ...]
    files: tuple[RemoteFile, ...]

    def __post_init__(self) -> None:
        if not self.base_urls:
            raise ValueError(f"{self.name}: at least one base URL is needed")

    def file(self, name: str) -> RemoteFile:
        """The file called ``name``."""
        for f in self.files:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no file {name!r}; it has {[f.name for f in self.files]}")

    def urls(self, file: RemoteFile) -> list[str]:
        """Every mirror's URL for ``file``."""
        return [base.rstrip("/") + "/" + file.name for base in self.base_urls]


_IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

# md5: torchvision's datasets/mnist.py and cifar.py. sha256: TensorFlow Datasets'
# url_checksums (MNIST, Fashion-MNIST) and keras.datasets.cifar10 (CIFAR-10).
MNIST = DatasetSpec(
    name="mnist",
    base_urls=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    files=tuple(
        RemoteFile(name, md5, sha256)
        for name, md5, sha256 in zip(
            _IDX_FILES,
            (
                "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                "d53e105ee54ea40749a09fcbcd1e9432",
                "9fb629c4189551a2d022fa330f9573f3",
                "ec29112dd5afa0611ce80d1b7f02629c",
            ),
            (
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            ),
            strict=True,
        )
    ),
)
FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    base_urls=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    files=tuple(
        RemoteFile(name, md5, sha256)
        for name, md5, sha256 in zip(
            _IDX_FILES,
            (
                "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                "25c81989df183df01b3e8a0aad5dffbe",
                "bef4ecab320f06d8554ea6380940ec79",
                "bb300cfdad3c16e7a12a480ee83cd310",
            ),
            (
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            ),
            strict=True,
        )
    ),
)
CIFAR10 = DatasetSpec(
    name="cifar-10",
    base_urls=("https://www.cs.toronto.edu/~kriz/",),
    files=(
        RemoteFile(
            "cifar-10-python.tar.gz",
            md5="c58f30108f718f92721af3b95e74349a",
            sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
        ),
    ),
)
FASHION_MNIST_CLASSES = (
    *("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"),
    *("Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
)


# --------------------------------------------------------------------------- download


def data_dir(cache_dir: PathLike | None = None) -> Path:
    """The cache folder: ``cache_dir`` if given, else ``$DL_COURSE_DATA``, else the OS cache."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    return Path(pooch.os_cache("dl-course"))


def _hash(path: PathLike, file: RemoteFile) -> str:
    algorithm = file.known_hash.split(":")[0]
    return f"{algorithm}:{pooch.file_hash(str(path), alg=algorithm)}"


def _verified_download(
    url: str, output_file: str, pooch_obj: Any, *, file: RemoteFile, progressbar: bool
) -> None:
    """A pooch downloader that raises :class:`DatasetError` on a checksum mismatch."""
    pooch.HTTPDownloader(progressbar=progressbar, timeout=DOWNLOAD_TIMEOUT_S)(
        url, output_file, pooch_obj
    )
    actual = _hash(output_file, file)
    if actual != file.known_hash:
        raise DatasetError(
            f"checksum mismatch for {file.name!r}: expected {file.known_hash}, got {actual}; "
            "the download was discarded"
        )


def _fetch_file(spec: DatasetSpec, file: RemoteFile, folder: Path, progressbar: bool) -> Path:
    path = folder / file.name
    problems = []
    if path.exists():
        actual = _hash(path, file)
        if actual == file.known_hash:
            return path
        problem = (
            f"cached file {path} is corrupt (checksum mismatch: expected {file.known_hash}, "
            f"got {actual}); it will not be used"
        )
        warnings.warn(problem + "; downloading it again", stacklevel=2)
        problems.append(problem)
    network_failed = False
    for url in spec.urls(file):
        downloader = partial(_verified_download, file=file, progressbar=progressbar)
        try:
            pooch.retrieve(
                url, known_hash=file.known_hash, fname=file.name, path=folder, downloader=downloader
            )
        except (requests.RequestException, OSError) as exc:
            problems.append(f"{url}: {exc}")
            network_failed = True
        except (DatasetError, ValueError) as exc:  # checksum mismatch
            problems.append(f"{url}: {exc}")
        else:
            return path
    reasons = "\n".join(f"  - {p}" for p in problems)
    hint = (
        f"No network? Download {spec.urls(file)[0]} on another machine and"
        if network_failed
        else "The mirrors sent different bytes than expected (a broken mirror, or an outdated "
        "checksum in the spec). If you have a verified copy,"
    )
    raise DatasetError(
        f"could not get {file.name!r} for data set {spec.name!r}:\n{reasons}\n"
        f"{hint} copy the file to {path} (expected checksum {file.known_hash})."
    )


def fetch(
    spec: DatasetSpec,
    cache_dir: PathLike | None = None,
    *,
    progressbar: bool = True,
) -> dict[str, Path]:
    """Download (if needed) and verify every file of ``spec``; map file name to local path.

    Files live in ``data_dir(cache_dir) / spec.name``. A cached file is used only if its
    checksum matches; downloads go to a temporary file that is kept only once verified.
    """
    folder = data_dir(cache_dir) / spec.name
    return {f.name: _fetch_file(spec, f, folder, progressbar) for f in spec.files}


# --------------------------------------------------------------------------- parsers

_IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
_IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
_REDOWNLOAD = "delete the file and load the data set again to re-download it"


def _read_gzip(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path} is not a valid gzip file ({exc}); {_REDOWNLOAD}") from exc


def _read_idx(path: PathLike, magic: int, what: str) -> NDArray[np.uint8]:
    path = Path(path)
    raw = _read_gzip(path)
    ndim = magic & 0xFF
    header = 4 * (1 + ndim)
    found = int.from_bytes(raw[:4], "big")
    if len(raw) >= 4 and found != magic:
        raise DatasetError(
            f"{path} has IDX magic number {found}, expected {magic} ({what}); "
            "is it the right file (images vs labels)?"
        )
    if len(raw) < header:
        raise DatasetError(
            f"{path} is truncated: {len(raw)} bytes, shorter than the {header}-byte IDX header; "
            + _REDOWNLOAD
        )
    shape = tuple(int.from_bytes(raw[4 * i : 4 * i + 4], "big") for i in range(1, ndim + 1))
    expected, payload = int(np.prod(shape)), len(raw) - header
    if payload != expected:
        state = "truncated" if payload < expected else "too long"
        raise DatasetError(
            f"{path} is {state}: the header promises shape {shape} ({expected} bytes) but the "
            f"file holds {payload} bytes of data; {_REDOWNLOAD}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()


def read_idx_images(path: PathLike) -> NDArray[np.uint8]:
    """Images ``(N, rows, cols)`` uint8 from a gzipped IDX file (magic number 2051)."""
    return _read_idx(path, _IDX_IMAGES_MAGIC, "IDX images")


def read_idx_labels(path: PathLike) -> NDArray[np.int64]:
    """Labels ``(N,)`` int64 from a gzipped IDX file (magic number 2049)."""
    return _read_idx(path, _IDX_LABELS_MAGIC, "IDX labels").astype(np.int64)


_CIFAR_DIR = "cifar-10-batches-py"
_CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR_MEMBERS = (*_CIFAR_TRAIN, "test_batch", "batches.meta")


def _unpickle(path: Path, member: str, data: bytes) -> dict[str, Any]:
    try:
        # Safe only because the archive's checksum was verified before parsing.
        obj = pickle.loads(data, encoding="latin1")
    except Exception as exc:
        raise DatasetError(
            f"{path}: member {member!r} is not a valid pickle ({exc}); {_REDOWNLOAD}"
        ) from exc
    if not isinstance(obj, dict):
        raise DatasetError(f"{path}: member {member!r} holds {type(obj).__name__}, not a dict")
    return obj


def _cifar_batch(
    path: Path, member: str, batch: dict[str, Any]
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    try:
        X = np.asarray(batch["data"], dtype=np.uint8)
        y = np.asarray(batch["labels"], dtype=np.int64)
    except KeyError as exc:
        raise DatasetError(f"{path}: batch {member!r} has no key {exc}") from exc
    if X.ndim != 2 or X.shape[1] != 3 * 32 * 32 or len(y) != len(X):
        raise DatasetError(
            f"{path}: batch {member!r} has data of shape {X.shape} and {len(y)} labels; "
            "expected (N, 3072) and N labels"
        )
    return X.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), y


def read_cifar10_tarball(path: PathLike) -> Split:
    """Parse ``cifar-10-python.tar.gz`` without extracting it to disk.

    Images are uint8 in **NHWC** layout ``(N, 32, 32, 3)`` (ready for ``plt.imshow``; use
    ``X.transpose(0, 3, 1, 2)`` for PyTorch), labels int64, class names from ``batches.meta``.
    """
    path = Path(path)
    wanted = {f"{_CIFAR_DIR}/{m}": m for m in _CIFAR_MEMBERS}
    contents: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for info in tar:  # one sequential pass over the compressed stream
                if info.name in wanted and info.isfile():
                    contents[wanted[info.name]] = tar.extractfile(info).read()  # type: ignore[union-attr]
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DatasetError(
            f"{path} is not a readable tar.gz archive ({exc}); {_REDOWNLOAD}"
        ) from exc
    missing = [f"{_CIFAR_DIR}/{m}" for m in _CIFAR_MEMBERS if m not in contents]
    if missing:
        raise DatasetError(
            f"{path} is not the CIFAR-10 python archive: missing member(s) {missing}"
        )
    batches = {m: _unpickle(path, m, contents[m]) for m in _CIFAR_MEMBERS}
    train = [_cifar_batch(path, m, batches[m]) for m in _CIFAR_TRAIN]
    X_test, y_test = _cifar_batch(path, "test_batch", batches["test_batch"])
    names = batches["batches.meta"].get("label_names")
    if not isinstance(names, list) or not names:
        raise DatasetError(f"{path}: batches.meta has no 'label_names' list")
    return Split(
        np.concatenate([X for X, _ in train]),
        np.concatenate([y for _, y in train]),
        X_test,
        y_test,
        tuple(str(n) for n in names),
    )


# --------------------------------------------------------------------------- loaders


def _load_idx(
    spec: DatasetSpec, cache_dir: PathLike | None, progressbar: bool, names: tuple[str, ...]
) -> Split:
    paths = fetch(spec, cache_dir, progressbar=progressbar)
    parts = []
    for images, labels in (_IDX_FILES[:2], _IDX_FILES[2:]):
        X, y = read_idx_images(paths[images]), read_idx_labels(paths[labels])
        if len(X) != len(y):
            raise DatasetError(
                f"{paths[images]} holds {len(X)} images but {paths[labels]} holds {len(y)} "
                f"labels; {_REDOWNLOAD}"
            )
        parts += [X, y]
    return Split(*parts, class_names=names)


def load_mnist(
    cache_dir: PathLike | None = None,
    *,
    spec: DatasetSpec = MNIST,
    progressbar: bool = True,
) -> Split:
    """MNIST digits: uint8 images ``(N, 28, 28)``, int64 labels; 60 000 train / 10 000 test."""
    return _load_idx(spec, cache_dir, progressbar, tuple(str(d) for d in range(10)))


def load_fashion_mnist(
    cache_dir: PathLike | None = None,
    *,
    spec: DatasetSpec = FASHION_MNIST,
    progressbar: bool = True,
) -> Split:
    """Fashion-MNIST: uint8 images ``(N, 28, 28)``, int64 labels; 60 000 / 10 000."""
    return _load_idx(spec, cache_dir, progressbar, FASHION_MNIST_CLASSES)


def load_cifar10(
    cache_dir: PathLike | None = None,
    *,
    spec: DatasetSpec = CIFAR10,
    progressbar: bool = True,
) -> Split:
    """CIFAR-10: uint8 NHWC images ``(N, 32, 32, 3)``, int64 labels; 50 000 / 10 000."""
    (path,) = fetch(spec, cache_dir, progressbar=progressbar).values()
    return read_cifar10_tarball(path)


# --------------------------------------------------------------------------- stand-ins

ImageSetName = Literal["mnist", "fashion_mnist", "cifar10"]
_IMAGE_SETS: dict[str, tuple[DatasetSpec, Callable[..., Split]]] = {
    "mnist": (MNIST, load_mnist), "fashion_mnist": (FASHION_MNIST, load_fashion_mnist),
    "cifar10": (CIFAR10, load_cifar10),
}


def load_images(
    name: ImageSetName,
    *,
    n_train: int | None = None,
    n_test: int | None = None,
    cache_dir: PathLike | None = None,
    download: bool = True,
    seed: int = 0,
) -> Split:
    """MNIST, Fashion-MNIST or CIFAR-10 as :func:`load_mnist` … give them, or a stand-in.

    The real set is used when it is cached (or, with ``download``, can be downloaded). Otherwise
    this prints why and returns :func:`image_standin` with the same shapes, dtypes and ten classes;
    ``Split.source`` says which one you got. ``n_train``/``n_test`` keep the first images of each part.
    """
    if name not in _IMAGE_SETS:
        raise ValueError(f"unknown image set {name!r}; choose one of {list(_IMAGE_SETS)}")
    spec, loader = _IMAGE_SETS[name]
    folder = data_dir(cache_dir) / spec.name
    why = "downloads are off"
    if download or all((folder / f.name).exists() for f in spec.files):
        try:
            split = loader(cache_dir, spec=spec, progressbar=True)
        except DatasetError as exc:
            split, why = None, f"the download failed: {str(exc).splitlines()[0].rstrip(':')}"
    else:
        split = None
    if split is None:
        split = image_standin(name, n_train=n_train or 6000, n_test=n_test or 1000, seed=seed)
        print(f"{name} is not in the cache and {why}.\nUsing a {split.source}. With a network, "
              f"or the files copied to {folder}, you get the real data.")
    return Split(split.X_train[:n_train], split.y_train[:n_train], split.X_test[:n_test],
                 split.y_test[:n_test], split.class_names, split.source)


def image_standin(name: ImageSetName, *, n_train: int = 6000, n_test: int = 1000, seed: int = 0) -> Split:
    """Ten classes of images in the shapes of ``name``, made from scikit-learn's 8x8 digits.

    Each image is a digit scaled up, placed at a random position with noise (for ``cifar10``, in a
    random colour on a random background, NHWC). Train and test images come from disjoint digits.
    """
    from scipy.ndimage import zoom

    digits = sklearn.datasets.load_digits()
    side, digit_side, channels = (32, 24, 3) if name == "cifar10" else (28, 20, 1)
    images = zoom(digits.images / 16.0, (1, digit_side / 8, digit_side / 8), order=1).clip(0, 1)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    cut = int(0.8 * len(order))

    def draw(pool: NDArray[np.int64], n: int) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
        picks = rng.choice(pool, size=n)
        canvas = np.zeros((n, side, side, channels))
        for i, (r, c) in enumerate(rng.integers(0, side - digit_side + 1, size=(n, 2))):
            canvas[i, r:r + digit_side, c:c + digit_side] = images[picks[i], :, :, None]
        if channels == 3:  # a light digit on a dark background or the other way round, random hues
            light, dark = rng.uniform(0.6, 1.0, (n, 1, 1, 3)), rng.uniform(0.0, 0.4, (n, 1, 1, 3))
            ink_is_light = rng.random((n, 1, 1, 1)) < 0.5
            ink, paper = np.where(ink_is_light, light, dark), np.where(ink_is_light, dark, light)
            canvas = paper + canvas * (ink - paper)
        canvas += rng.normal(0, 0.05, canvas.shape)
        X = (canvas.clip(0, 1) * 255).round().astype(np.uint8)
        return (X if channels == 3 else X[..., 0]), digits.target[picks].astype(np.int64)

    X_train, y_train = draw(order[:cut], n_train)
    X_test, y_test = draw(order[cut:], n_test)
    what = "coloured digits on coloured backgrounds" if channels == 3 else "digits"
    source = (f"stand-in for {name}: scikit-learn's 8x8 {what}, scaled to {side}x{side} at random "
              f"positions ({n_train} train / {n_test} test images)")
    return Split(X_train, y_train, X_test, y_test, tuple(str(d) for d in range(10)), source)
