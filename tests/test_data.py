"""Tests for helpers.data: offline sets, download/cache/checksums, IDX and CIFAR-10 parsers."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import pickle
import socket
import tarfile
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from helpers import data
from helpers.data import DatasetError, DatasetSpec, RemoteFile

IDX_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


# --------------------------------------------------------------------------- fixtures


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """A gzipped IDX file holding the uint8 ``array``."""
    magic = 0x0800 + array.ndim if magic is None else magic
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class LocalServer:
    """A static file server on 127.0.0.1 (free port) running in a background thread."""

    def __init__(self, root: Path) -> None:
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

        self.root = root
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(Quiet, directory=str(root))
        )
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join()
            self.running = False


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalServer]:
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(var, "127.0.0.1,localhost")
    root = tmp_path / "www"
    root.mkdir()
    srv = LocalServer(root)
    yield srv
    srv.stop()


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def write_idx_set(root: Path, rng: np.random.Generator) -> dict[str, np.ndarray]:
    arrays = {
        IDX_NAMES[0]: rng.integers(0, 256, (5, 28, 28)),
        IDX_NAMES[1]: rng.integers(0, 10, 5),
        IDX_NAMES[2]: rng.integers(0, 256, (3, 28, 28)),
        IDX_NAMES[3]: rng.integers(0, 10, 3),
    }
    for name, array in arrays.items():
        (root / name).write_bytes(idx_bytes(array))
    return arrays


def idx_spec(srv: LocalServer, **overrides: str) -> DatasetSpec:
    files = tuple(
        RemoteFile(name, sha256=overrides.get(name, sha256(srv.root / name))) for name in IDX_NAMES
    )
    return DatasetSpec("tiny-mnist", (srv.url,), files)


def cifar_tarball(path: Path, rng: np.random.Generator, skip: str = "") -> dict[str, np.ndarray]:
    """A CIFAR-10 python tarball with 2 images per batch (4 in test_batch)."""
    batches = {f"data_batch_{i}": 2 for i in range(1, 6)} | {"test_batch": 4}
    arrays = {}
    with tarfile.open(path, "w:gz") as tar:
        members = {"batches.meta": {"label_names": [f"class{k}" for k in range(10)]}}
        for name, n in batches.items():
            X = rng.integers(0, 256, (n, 3072)).astype(np.uint8)
            y = rng.integers(0, 10, n).tolist()
            arrays[name] = X
            members[name] = {"batch_label": name, "data": X, "labels": y}
            arrays[name + "_labels"] = np.array(y)
        for name, obj in members.items():
            if name == skip:
                continue
            payload = pickle.dumps(obj, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return arrays


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- offline sets


@pytest.mark.parametrize(
    ("name", "n_features", "n_samples"),
    [
        ("digits", 64, 1797),
        ("iris", 4, 150),
        ("breast_cancer", 30, 569),
        ("diabetes", 10, 442),
        ("moons", 2, 500),
        ("circles", 2, 500),
    ],
)
def test_offline_shapes_and_dtypes(name: data.OfflineName, n_features: int, n_samples: int) -> None:
    split = data.load_offline(name)
    assert split.X_train.shape[1] == split.X_test.shape[1] == n_features
    assert len(split.X_train) + len(split.X_test) == n_samples
    assert split.X_train.dtype == split.X_test.dtype == np.float64
    if name == "diabetes":
        assert split.y_train.dtype == np.float64 and split.class_names == ()
    else:
        assert split.y_train.dtype == np.int64
        assert len(split.class_names) == len(np.unique(split.y_train))


def test_offline_split_is_deterministic_and_seeded() -> None:
    a, b = data.load_offline("iris", seed=1), data.load_offline("iris", seed=1)
    c = data.load_offline("iris", seed=2)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.X_train, c.X_train)


def test_offline_split_is_stratified() -> None:
    split = data.load_offline("iris", test_size=0.2)
    np.testing.assert_array_equal(np.bincount(split.y_test), [10, 10, 10])


def test_offline_unknown_name() -> None:
    with pytest.raises(ValueError, match="unknown data set 'mnist'.*digits"):
        data.load_offline("mnist")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- specs


OFFICIAL_MD5 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
    "cifar-10": {"cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a"},
}
OFFICIAL_SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    "cifar-10": {
        "cifar-10-python.tar.gz": "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
    },
}


def test_official_checksums() -> None:
    for spec in (data.MNIST, data.FASHION_MNIST, data.CIFAR10):
        assert {f.name: f.md5 for f in spec.files} == OFFICIAL_MD5[spec.name]
        assert {f.name: f.sha256 for f in spec.files} == OFFICIAL_SHA256[spec.name]
        assert all(f.known_hash.startswith("sha256:") for f in spec.files)
        assert all(url.startswith("http") for url in spec.base_urls)


def test_remote_file_validation() -> None:
    with pytest.raises(ValueError, match="md5= or sha256="):
        RemoteFile("a.gz")
    with pytest.raises(ValueError, match="plain file name"):
        RemoteFile("../a.gz", md5="0" * 32)
    assert RemoteFile("a.gz", md5="ab").known_hash == "md5:ab"


def test_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    assert data.data_dir() == Path(data.pooch.os_cache("dl-course"))
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "env"))
    assert data.data_dir() == tmp_path / "env"
    assert data.data_dir(tmp_path / "arg") == tmp_path / "arg"


# --------------------------------------------------------------------------- download + cache


def test_download_parse_and_cache(
    server: LocalServer, cache: Path, rng: np.random.Generator
) -> None:
    arrays = write_idx_set(server.root, rng)
    spec = idx_spec(server)
    split = data.load_mnist(cache, spec=spec, progressbar=False)
    assert split.X_train.shape == (5, 28, 28) and split.X_train.dtype == np.uint8
    assert split.y_test.dtype == np.int64
    np.testing.assert_array_equal(split.X_train, arrays[IDX_NAMES[0]])
    np.testing.assert_array_equal(split.y_train, arrays[IDX_NAMES[1]])
    np.testing.assert_array_equal(split.X_test, arrays[IDX_NAMES[2]])
    np.testing.assert_array_equal(split.y_test, arrays[IDX_NAMES[3]])
    assert split.class_names == tuple("0123456789")
    assert sorted(p.name for p in (cache / "tiny-mnist").iterdir()) == sorted(IDX_NAMES)

    server.stop()  # the cache alone must suffice now
    again = data.load_fashion_mnist(cache, spec=spec, progressbar=False)
    np.testing.assert_array_equal(again.X_train, split.X_train)
    assert again.class_names[0] == "T-shirt/top"


def test_env_var_cache_dir(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator
) -> None:
    write_idx_set(server.root, rng)
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "env-cache"))
    data.load_mnist(spec=idx_spec(server), progressbar=False)
    assert (tmp_path / "env-cache" / "tiny-mnist" / IDX_NAMES[0]).is_file()


def test_md5_only_spec(server: LocalServer, cache: Path, rng: np.random.Generator) -> None:
    write_idx_set(server.root, rng)
    files = tuple(
        RemoteFile(n, md5=hashlib.md5((server.root / n).read_bytes()).hexdigest())
        for n in IDX_NAMES
    )
    split = data.load_mnist(cache, spec=DatasetSpec("md5", (server.url,), files), progressbar=False)
    assert split.X_test.shape == (3, 28, 28)


def test_download_checksum_mismatch(
    server: LocalServer, cache: Path, rng: np.random.Generator
) -> None:
    write_idx_set(server.root, rng)
    wrong = "0" * 64
    spec = idx_spec(server, **{IDX_NAMES[1]: wrong})
    with pytest.raises(DatasetError) as info:
        data.load_mnist(cache, spec=spec, progressbar=False)
    message = str(info.value)
    assert IDX_NAMES[1] in message and "checksum mismatch" in message
    assert f"sha256:{wrong}" in message
    assert f"sha256:{sha256(server.root / IDX_NAMES[1])}" in message
    assert str(cache / "tiny-mnist" / IDX_NAMES[1]) in message
    # nothing unverified is left behind, not even a temporary file
    assert sorted(p.name for p in (cache / "tiny-mnist").iterdir()) == [IDX_NAMES[0]]


def test_corrupt_cache_is_redownloaded(
    server: LocalServer, cache: Path, rng: np.random.Generator
) -> None:
    arrays = write_idx_set(server.root, rng)
    spec = idx_spec(server)
    data.load_mnist(cache, spec=spec, progressbar=False)
    cached = cache / "tiny-mnist" / IDX_NAMES[0]
    cached.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="corrupt"):
        split = data.load_mnist(cache, spec=spec, progressbar=False)
    np.testing.assert_array_equal(split.X_train, arrays[IDX_NAMES[0]])
    assert sha256(cached) == sha256(server.root / IDX_NAMES[0])


def test_corrupt_cache_offline_is_an_error(
    server: LocalServer, cache: Path, rng: np.random.Generator
) -> None:
    write_idx_set(server.root, rng)
    spec = idx_spec(server)
    data.load_mnist(cache, spec=spec, progressbar=False)
    cached = cache / "tiny-mnist" / IDX_NAMES[2]
    cached.write_bytes(cached.read_bytes()[:-10])  # truncated on disk
    server.stop()
    with pytest.warns(UserWarning), pytest.raises(DatasetError) as info:
        data.load_mnist(cache, spec=spec, progressbar=False)
    message = str(info.value)
    assert f"cached file {cached} is corrupt" in message
    assert f"expected sha256:{sha256(server.root / IDX_NAMES[2])}" in message
    assert f"got sha256:{sha256(cached)}" in message
    assert "No network?" in message


def test_http_404(server: LocalServer, cache: Path) -> None:
    spec = DatasetSpec("missing", (server.url,), (RemoteFile("nope.gz", sha256="0" * 64),))
    with pytest.raises(DatasetError) as info:
        data.fetch(spec, cache, progressbar=False)
    message = str(info.value)
    assert "'nope.gz'" in message and "404" in message and f"{server.url}nope.gz" in message
    assert f"copy the file to {cache / 'missing' / 'nope.gz'}" in message
    assert not (cache / "missing" / "nope.gz").exists()


def test_unreachable_server_then_next_mirror(
    server: LocalServer, cache: Path, rng: np.random.Generator
) -> None:
    write_idx_set(server.root, rng)
    dead = f"http://127.0.0.1:{free_port()}/"
    good = idx_spec(server)
    with pytest.raises(DatasetError, match=r"could not get .*\n  - http://127\.0\.0\.1:\d+/"):
        data.fetch(DatasetSpec("dead", (dead,), good.files), cache, progressbar=False)
    # with a working mirror after the dead one, the download succeeds
    split = data.load_mnist(
        cache, spec=DatasetSpec("x", (dead, server.url), good.files), progressbar=False
    )
    assert split.X_train.shape == (5, 28, 28)


# --------------------------------------------------------------------------- IDX parser


def test_idx_roundtrip(tmp_path: Path, rng: np.random.Generator) -> None:
    images = rng.integers(0, 256, (4, 28, 28))
    (tmp_path / "i.gz").write_bytes(idx_bytes(images))
    np.testing.assert_array_equal(data.read_idx_images(tmp_path / "i.gz"), images)


@pytest.mark.parametrize(
    ("payload", "reader", "match"),
    [
        (idx_bytes(np.zeros(3)), data.read_idx_images, "magic number 2049, expected 2051"),
        (
            idx_bytes(np.zeros((2, 28, 28))),
            data.read_idx_labels,
            "magic number 2051, expected 2049",
        ),
        (gzip.compress(b"\0\0\x08"), data.read_idx_labels, "shorter than the 8-byte IDX header"),
        (b"not gzip at all", data.read_idx_labels, "not a valid gzip file"),
        (
            gzip.compress(
                b"\0\0\x08\x03" + (5).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + bytes(100)
            ),
            data.read_idx_images,
            r"is truncated: .*shape \(5, 28, 28\)",
        ),
        (
            gzip.compress(b"\0\0\x08\x01" + (2).to_bytes(4, "big") + bytes(3)),
            data.read_idx_labels,
            "too long",
        ),
    ],
    ids=["labels-as-images", "images-as-labels", "short-header", "not-gzip", "truncated", "long"],
)
def test_idx_rejects_bad_files(
    tmp_path: Path, payload: bytes, reader: Callable[[Path], np.ndarray], match: str
) -> None:
    path = tmp_path / "bad.gz"
    path.write_bytes(payload)
    with pytest.raises(DatasetError, match=match):
        reader(path)


def test_bad_content_with_valid_checksum(
    server: LocalServer, cache: Path, rng: np.random.Generator
) -> None:
    write_idx_set(server.root, rng)
    (server.root / IDX_NAMES[0]).write_bytes(idx_bytes(rng.integers(0, 10, 5)))  # labels file
    with pytest.raises(DatasetError, match="magic number 2049, expected 2051"):
        data.load_mnist(cache, spec=idx_spec(server), progressbar=False)


# --------------------------------------------------------------------------- CIFAR-10


def test_cifar10_download_and_parse(
    server: LocalServer, cache: Path, rng: np.random.Generator
) -> None:
    name = "cifar-10-python.tar.gz"
    arrays = cifar_tarball(server.root / name, rng)
    file = RemoteFile(name, sha256=sha256(server.root / name))
    split = data.load_cifar10(
        cache, spec=DatasetSpec("c", (server.url,), (file,)), progressbar=False
    )
    assert split.X_train.shape == (10, 32, 32, 3) and split.X_train.dtype == np.uint8
    assert split.X_test.shape == (4, 32, 32, 3) and split.y_test.dtype == np.int64
    first = arrays["data_batch_1"][0].reshape(3, 32, 32)
    np.testing.assert_array_equal(split.X_train[0], first.transpose(1, 2, 0))
    np.testing.assert_array_equal(
        split.X_train[2], arrays["data_batch_2"][0].reshape(3, 32, 32).transpose(1, 2, 0)
    )
    np.testing.assert_array_equal(split.y_test, arrays["test_batch_labels"])
    assert split.class_names == tuple(f"class{k}" for k in range(10))


def test_cifar10_missing_member(tmp_path: Path, rng: np.random.Generator) -> None:
    cifar_tarball(tmp_path / "c.tar.gz", rng, skip="data_batch_3")
    with pytest.raises(
        DatasetError, match=r"missing member\(s\) \['cifar-10-batches-py/data_batch_3'\]"
    ):
        data.read_cifar10_tarball(tmp_path / "c.tar.gz")


def test_cifar10_not_a_tarball(tmp_path: Path) -> None:
    (tmp_path / "c.tar.gz").write_bytes(gzip.compress(b"hello"))
    with pytest.raises(DatasetError, match="not a readable tar.gz archive"):
        data.read_cifar10_tarball(tmp_path / "c.tar.gz")


# --------------------------------------------------------------------------- shipped texts


def test_shipped_text_is_the_documented_file():
    from helpers.data import TEXTS, load_text

    text = load_text("tinyshakespeare")
    assert len(text) == 1_115_394 and len(set(text)) == 65 and text.startswith("First Citizen:")
    documented = (TEXTS / "SOURCES.md").read_text()
    assert hashlib.sha256(text.encode()).hexdigest() in documented  # provenance stays true
    for bad in ("nope", "../data", "tinyshakespeare.txt"):
        with pytest.raises(DatasetError, match="tinyshakespeare"):
            load_text(bad)


# --------------------------------------------------------------------------- load_images


@pytest.mark.parametrize("name, shape", [("cifar10", (32, 32, 3)), ("mnist", (28, 28)), ("fashion_mnist", (28, 28))])
def test_load_images_offline_gives_a_stand_in_of_the_real_shapes(
    name: data.ImageSetName, shape: tuple[int, ...], cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    split = data.load_images(name, n_train=50, n_test=20, cache_dir=cache, download=False)
    assert "not in the cache and downloads are off" in capsys.readouterr().out
    assert split.source.startswith(f"stand-in for {name}")
    assert split.X_train.shape == (50, *shape) and split.X_test.shape == (20, *shape)
    assert split.X_train.dtype == np.uint8 and split.y_train.dtype == np.int64
    assert set(split.y_train) <= set(range(10)) and len(set(split.y_train)) > 5
    assert split.X_train.std() > 20  # images, not a constant
    again = data.load_images(name, n_train=50, n_test=20, cache_dir=cache, download=False)
    np.testing.assert_array_equal(split.X_train, again.X_train)  # seeded


def test_stand_in_train_and_test_come_from_different_digits() -> None:
    split = data.image_standin("mnist", n_train=3000, n_test=500)
    train = {x.tobytes() for x in split.X_train}
    assert not any(x.tobytes() in train for x in split.X_test)


def test_load_images_uses_the_real_set_when_cached(
    server: LocalServer, cache: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "cifar-10-python.tar.gz"
    arrays = cifar_tarball(server.root / name, rng)
    spec = DatasetSpec("c", (server.url,), (RemoteFile(name, sha256=sha256(server.root / name)),))
    monkeypatch.setitem(data._IMAGE_SETS, "cifar10", (spec, data.load_cifar10))
    split = data.load_images("cifar10", n_train=3, cache_dir=cache)  # downloads into the cache
    assert split.source == "real" and split.X_train.shape == (3, 32, 32, 3) and len(split.X_test) == 4
    np.testing.assert_array_equal(split.y_test, arrays["test_batch_labels"])
    server.stop()
    assert data.load_images("cifar10", cache_dir=cache, download=False).source == "real"  # from the cache


def test_load_images_unknown_name() -> None:
    with pytest.raises(ValueError, match="choose one of"):
        data.load_images("imagenet")  # type: ignore[arg-type]
