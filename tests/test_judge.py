"""The judge against a real kernel: proxies, data both ways, changes in place, autograd across."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from jupyter_client import KernelManager

from autograder.judge import SERVE, Connection, KernelGone, bootstrap


class Kernel:
    """A plain kernel with the judge's agent; ``session(work)`` runs ``work(conn)`` while it serves."""

    def __init__(self, folder: Path):
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel()
        self.client = self.km.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.path = str(folder / "judge.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.path)
        listener.listen(1)
        listener.settimeout(30)
        self.run(bootstrap(self.path))
        self.conn = Connection(listener.accept()[0])

    def run(self, code: str) -> list[str]:
        outputs: list[str] = []
        reply = self.client.execute_interactive(code, timeout=60, output_hook=lambda m: outputs.append(
            m["content"].get("text", m["content"].get("evalue", ""))) if m["msg_type"] in ("stream", "error") else None)
        assert reply["content"]["status"] == "ok", outputs
        return outputs

    def session(self, work: Callable[[Connection], object]) -> object:
        box: dict = {}

        def judge_side() -> None:
            try:
                box["value"] = work(self.conn)
            except BaseException as err:  # noqa: BLE001 - re-raised below
                box["error"] = err
            finally:
                self.conn.done()

        thread = threading.Thread(target=judge_side)
        thread.start()
        self.run(SERVE)
        thread.join(30)
        if "error" in box:
            raise box["error"]
        return box.get("value")


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    k = Kernel(tmp_path_factory.mktemp("judge"))
    yield k
    k.km.shutdown_kernel(now=True)


def names(conn: Connection, *wanted: str) -> list:
    found = conn.get(wanted)
    return [found[n] for n in wanted]


def test_results_are_data_and_objects_are_proxies(kernel):
    kernel.run("import numpy as np\nclass Node:\n    def __init__(self, v): self.value = v\n"
               "    def __mul__(self, o): return Node(self.value * o.value)\n"
               "def make(v): return Node(v)\ndef square(x): return np.asarray(x) ** 2\nlast = None")

    def work(conn):
        make, square, Node = names(conn, "make", "square", "Node")
        a = make(3.0)
        b = a * make(2.0)  # an operator on the student's objects runs there
        same = make.__call__ is not None and conn.get(["last"])["last"] is None
        return square([1.0, 2.0]), b.value, isinstance(b, Node), same, type(a).__name__

    out, value, is_node, same, name = kernel.session(work)
    assert type(out) is np.ndarray and out.tolist() == [1.0, 4.0]
    assert (value, is_node, same, name) == (6.0, True, True, "Node")


def test_one_proxy_per_object_and_errors_as_builtin_exceptions(kernel):
    kernel.run("shared = object()\ndef get(): return shared\ndef boom(): raise KeyError('k')")

    def work(conn):
        get, boom = names(conn, "get", "boom")
        with pytest.raises(KeyError):
            boom()
        return get() is get()

    assert kernel.session(work) is True


def test_in_place_changes_come_back_also_through_callbacks_and_kept_arrays(kernel):
    kernel.run("def numeric_grad(f, x, h=1e-6):\n    g = x * 0\n    for i in range(x.size):\n"
               "        old = x.flat[i]\n        x.flat[i] = old + h\n        up = f()\n"
               "        x.flat[i] = old - h\n        down = f()\n        x.flat[i] = old\n"
               "        g.flat[i] = (up - down) / (2 * h)\n    return g\n"
               "class SGD:\n    def __init__(self, params): self.params = params\n"
               "    def step(self, grads):\n        for k in self.params: self.params[k] -= 0.5 * grads[k]\n")

    def work(conn):
        numeric_grad, SGD = names(conn, "numeric_grad", "SGD")
        x = np.array([1.0, -2.0])
        grad = numeric_grad(lambda: float(np.sum(x ** 2)), x)  # the judge's closure reads x as perturbed
        params = {"w": np.array([1.0, 1.0])}
        opt = SGD(params)
        opt.step({"w": np.array([2.0, 0.0])})  # updates the arrays it kept, in place
        return grad, params["w"]

    grad, w = kernel.session(work)
    np.testing.assert_allclose(grad, [2.0, -4.0], rtol=1e-6)
    assert w.tolist() == [0.0, 1.0]


def test_torch_modules_pass_isinstance_and_attributes_changed_here_reach_the_kernel(kernel):
    kernel.run("import torch, torch.nn as nn\nnet = nn.Sequential(nn.Linear(2, 2), nn.ReLU()).double()")

    def work(conn):
        (net,) = names(conn, "net")
        kinds = [isinstance(m, nn) for m in net.modules() for nn in [torch.nn.Linear]]
        with torch.no_grad():
            net[0].weight.zero_()  # a copy here, sent back before the next request
            net[0].bias.fill_(1.0)
        return any(kinds), net(torch.ones(1, 2, dtype=torch.float64))

    linear, out = kernel.session(work)
    assert linear and out.tolist() == [[1.0, 1.0]]


def test_gradients_flow_through_the_students_code_and_back(kernel):
    kernel.run("import torch\nlin = torch.nn.Linear(3, 1).double()\n"
               "def scale(x): return 3 * x\n"
               "def train_step(model, opt, x):\n    opt.zero_grad()\n    loss = model(scale(x)).sum()\n"
               "    loss.backward()\n    opt.step()\n    return loss.item()")

    def work(conn):
        lin, scale, train_step = names(conn, "lin", "scale", "train_step")
        x = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
        lin(scale(x)).sum().backward()  # judge -> kernel: x.grad = 3 W, and lin's own grads there
        kernel_grad = lin.weight.grad
        model = torch.nn.Linear(3, 1).double()  # kernel -> judge: the student trains the judge's model
        before = model.weight.detach().clone()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        train_step(model, opt, torch.ones(2, 3, dtype=torch.float64))
        return x.grad, 3 * lin.weight.detach(), kernel_grad, model.weight.detach() - before

    x_grad, expected, kernel_grad, step = kernel.session(work)
    torch.testing.assert_close(x_grad, expected.expand(2, 3))
    torch.testing.assert_close(kernel_grad, torch.full((1, 3), 6.0, dtype=torch.float64))
    torch.testing.assert_close(step, torch.full((1, 3), -0.1 * 6.0, dtype=torch.float64))


def test_the_students_code_cannot_walk_into_the_tests(kernel):
    kernel.run("def spy(model, gen):\n    found = []\n"
               "    for path in (lambda: model._modules, lambda: model._secret, lambda: gen.gi_frame, lambda: model.__dict__):\n"
               "        try:\n            found.append(path())\n        except Exception as err:\n            found.append(type(err).__name__)\n"
               "    return found")

    def work(conn):
        (spy,) = names(conn, "spy")
        model = torch.nn.Linear(1, 1)
        model._secret = "expected value"
        expected = 42.0  # noqa: F841 - what a frame walk would look for
        return spy(model, (p for p in model.parameters()))

    found = kernel.session(work)
    assert found == ["AttributeError"] * 4, found


def test_a_broken_agent_is_reported_not_trusted(kernel):
    kernel.run("def f(): return 1")

    def work(conn):
        (f,) = names(conn, "f")
        return f()

    assert kernel.session(work) == 1
    kernel.run("_judge_agent._send(('ok', 'forged', [], [], None))")  # an answer nobody asked for, queued
    with pytest.raises(KernelGone):
        kernel.session(lambda conn: conn.get(["f"]))
