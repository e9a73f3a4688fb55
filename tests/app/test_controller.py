"""The controller: state, worker jobs, latest-edit-wins and exports, against scipy and OpenCV."""

import json
import threading
import time

import cv2
import numpy as np
import pytest

from kernelstudio.app import controller as controller_module
from kernelstudio.app.controller import BUSY_DELAY_MS
from kernelstudio.convolution import BORDERS
from kernelstudio.display import DISPLAY_MODES, to_uint8
from kernelstudio.kernels import PRESETS
from kernelstudio.montage import montage
from kernelstudio.pipeline import Recipe, Stage
from kernelstudio.samples import sample_image_path
from tests.app.conftest import assert_close, oracle

WAIT_MS = 10_000
SIGNALS = ("imageLoaded", "resultReady", "renderingReady", "failed", "saved", "busyChanged")
ASYMMETRIC = np.array([[1.0, 2.0, 0.0, -1.0, 0.5], [0.0, 3.0, 1.0, 0.0, -2.0], [4.0, 0, 0, 1, 0]])
ASYMMETRIC /= np.abs(ASYMMETRIC).sum()
BOX = PRESETS["box-blur"]
EDGE = PRESETS["vertical-edge"]


class Spy:
    """Stands in for a module function on the worker: records calls, can block, sleep or raise."""

    def __init__(self, function):
        self.function = function
        self.calls = []
        self.finished = 0
        self.gate = threading.Event()
        self.gate.set()
        self.delay = 0.0
        self.error = None

    def __call__(self, *args):
        self.calls.append(args)
        try:
            if not self.gate.wait(timeout=30):
                raise TimeoutError("the test never opened the gate")
            time.sleep(self.delay)  # on the worker thread, to make the job slow
            if self.error is not None:
                raise self.error
            return self.function(*args)
        finally:
            self.finished += 1


@pytest.fixture
def spy(monkeypatch, controller):
    """Replace ``controller_module.<name>`` by a Spy; gates open again before shutdown."""
    spies = []

    def install(name):
        spies.append(Spy(getattr(controller_module, name)))
        monkeypatch.setattr(controller_module, name, spies[-1])
        return spies[-1]

    yield install
    for each in spies:
        each.gate.set()


@pytest.fixture
def emitted(controller):
    """Every signal the controller emits, in order, as ``(name, *args)``."""
    log = []
    for name in SIGNALS:
        getattr(controller, name).connect(lambda *args, name=name: log.append((name, *args)))
    return log


def of(log, name):
    return [entry[1] for entry in log if entry[0] == name]


def sample_rgb():
    return cv2.cvtColor(cv2.imread(str(sample_image_path()), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def tiny_image(seed=0):
    return np.random.default_rng(seed).integers(0, 256, (20, 20, 3), dtype=np.uint8)


def load(qtbot, controller, pixels=None):
    """Load `pixels` (the sample file by default) and return the first Rendering."""
    signals = [controller.imageLoaded, controller.renderingReady]
    with qtbot.waitSignals(signals, order="strict", timeout=WAIT_MS):
        if pixels is None:
            controller.load_path(sample_image_path())
        else:
            controller.load_pixels(pixels, "test image")
    settle(qtbot, controller)
    return controller.rendering


def settle(qtbot, controller):
    qtbot.waitUntil(
        lambda: controller.is_idle and controller.rendering is not None, timeout=WAIT_MS
    )


def rerender(qtbot, controller, **changes):
    with qtbot.waitSignal(controller.renderingReady, timeout=WAIT_MS) as blocker:
        controller.update(**changes)
    return blocker.args[0]


@pytest.fixture
def sample(qtbot, controller):
    load(qtbot, controller)
    return sample_rgb()


# Loading -------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["path", "pixels"])
def test_load_emits_the_image_then_its_result(qtbot, controller, emitted, source):
    expected = sample_rgb()
    controller.update(weights=BOX)  # kept until an image arrives
    load(qtbot, controller, None if source == "path" else expected)
    (image,) = of(emitted, "imageLoaded")
    (result,) = of(emitted, "resultReady")
    assert [entry[0] for entry in emitted if entry[0] != "busyChanged"] == [
        "imageLoaded",
        "resultReady",
        "renderingReady",
    ]
    assert image.pixels.dtype == np.uint8
    np.testing.assert_array_equal(image.pixels, expected)
    np.testing.assert_array_equal(image.pixels8, expected)
    assert controller.image is image
    assert result.dtype == np.float32
    assert_close(result, oracle(expected, BOX), BOX, expected)
    assert controller.rendering.result is result


def test_load_pixels_copies_the_callers_array(qtbot, controller):
    pixels = tiny_image()
    expected = pixels.copy()
    controller.load_pixels(pixels, "mine")
    pixels[:] = 0
    settle(qtbot, controller)
    np.testing.assert_array_equal(controller.image.pixels, expected)
    assert controller.image.name == "mine"
    assert controller.image.path is None


def test_a_newer_load_wins_over_a_slower_older_one(qtbot, controller, spy, emitted):
    slow_load = spy("_load")
    slow_load.gate.clear()
    controller.load_path(sample_image_path())
    qtbot.waitUntil(lambda: len(slow_load.calls) == 1, timeout=WAIT_MS)
    newer = tiny_image()
    load(qtbot, controller, newer)
    with qtbot.assertNotEmitted(controller.imageLoaded, wait=500):
        slow_load.gate.set()
        qtbot.waitUntil(lambda: slow_load.finished == 1, timeout=WAIT_MS)
    np.testing.assert_array_equal(controller.image.pixels, newer)
    assert controller.rendering.result.shape == newer.shape


def _write_text_png(folder):
    path = folder / "notes.png"
    path.write_text("not an image at all\n")
    return path


def _write_empty(folder):
    path = folder / "empty.png"
    path.touch()
    return path


def _make_folder(folder):
    path = folder / "pictures.png"
    path.mkdir()
    return path


@pytest.mark.parametrize(
    "make_path",
    [lambda folder: folder / "missing.png", _make_folder, _write_empty, _write_text_png],
    ids=["missing", "folder", "empty", "text"],
)
def test_load_failure_reports_and_keeps_the_current_image(qtbot, controller, tmp_path, make_path):
    rendering = load(qtbot, controller, tiny_image())
    image = controller.image
    path = make_path(tmp_path)
    with (
        qtbot.assertNotEmitted(controller.imageLoaded),
        qtbot.assertNotEmitted(controller.renderingReady),
        qtbot.waitSignal(controller.failed, timeout=WAIT_MS) as blocker,
    ):
        controller.load_path(path)
    assert f"'{path.name}'" in blocker.args[0]
    assert controller.image is image
    assert controller.rendering is rendering
    assert rerender(qtbot, controller, weights=BOX).recipe.stages[0].weights.shape == (3, 3)


# Settings ------------------------------------------------------------------------


@pytest.mark.parametrize("border", BORDERS)
def test_every_border_matches_scipy(qtbot, controller, sample, border):
    rendering = rerender(qtbot, controller, weights=ASYMMETRIC, border=border)
    expected = oracle(sample, ASYMMETRIC, border=border)
    assert_close(rendering.result, expected, ASYMMETRIC, sample)
    height, width = ASYMMETRIC.shape
    if border == "valid":
        assert rendering.result.shape == (
            sample.shape[0] - height + 1,
            sample.shape[1] - width + 1,
            3,
        )
        assert rendering.offset == (height // 2, width // 2)
    else:
        assert rendering.result.shape == sample.shape
        assert rendering.offset == (0, 0)


@pytest.mark.parametrize("flip", [False, True])
def test_flip_is_convolution_and_no_flip_correlation(qtbot, controller, sample, flip):
    rendering = rerender(qtbot, controller, weights=ASYMMETRIC, flip=flip)
    assert_close(rendering.result, oracle(sample, ASYMMETRIC, flip=flip), ASYMMETRIC, sample)
    other = oracle(sample, ASYMMETRIC, flip=not flip)
    assert np.abs(rendering.result - other).max() > 1.0


def test_grey_convolves_the_luma(qtbot, controller, sample):
    rendering = rerender(qtbot, controller, weights=EDGE, grey=True)
    grey = cv2.cvtColor(cv2.imread(str(sample_image_path())), cv2.COLOR_BGR2GRAY)
    assert rendering.result.shape == grey.shape
    # The controller rounds the luma to uint8 before convolving; OpenCV may round differently.
    tolerance = np.abs(EDGE).sum() * 1.0 + 1e-3
    np.testing.assert_allclose(rendering.result, oracle(grey, EDGE), atol=tolerance)


@pytest.mark.parametrize("display", DISPLAY_MODES)
def test_display_maps_the_result_to_8_bit(qtbot, controller, sample, display):
    rendering = rerender(qtbot, controller, weights=EDGE, display=display)
    expected = to_uint8(oracle(sample, EDGE), display)
    assert rendering.result8.dtype == np.uint8
    difference = np.abs(rendering.result8.astype(int) - expected)
    assert difference.max() <= 1


@pytest.mark.parametrize("grey", [False, True])
@pytest.mark.parametrize("of_result", [False, True])
def test_channels_show_the_result_or_the_original(qtbot, controller, sample, grey, of_result):
    rendering = rerender(qtbot, controller, weights=EDGE, grey=grey, channels_of_result=of_result)
    if of_result:
        source = rendering.result8
    elif grey:  # the grey the stages see: BT.601 luma of the 8-bit original
        source = cv2.cvtColor(controller.image.pixels8, cv2.COLOR_RGB2GRAY)
    else:
        source = controller.image.pixels8
    planes = [source] if source.ndim == 2 else [source[..., c] for c in range(3)]
    assert rendering.channel_names == (("Grey",) if grey else ("Red", "Green", "Blue"))
    assert len(rendering.channels8) == len(planes)
    for channel, plane in zip(rendering.channels8, planes, strict=True):
        assert np.abs(channel.astype(int) - plane).max() <= 1  # OpenCV may round differently
    if grey and not of_result:
        np.testing.assert_array_equal(rendering.original8, rendering.channels8[0])


@pytest.mark.parametrize("grey", [False, True])
def test_histogram_counts_result8_per_channel(qtbot, controller, sample, grey):
    assert rerender(qtbot, controller, weights=EDGE, grey=grey).histogram is None
    rendering = rerender(qtbot, controller, histogram=True)
    pixels = rendering.result8.reshape(rendering.result8.shape[0], -1, 1 if grey else 3)
    expected = [np.bincount(pixels[..., c].ravel(), minlength=256) for c in range(pixels.shape[2])]
    np.testing.assert_array_equal(rendering.histogram, np.stack(expected))
    assert rerender(qtbot, controller, histogram=False).histogram is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"weights": np.ones((2, 3))}, "odd"),
        ({"weights": [[1.0, np.nan, 0.0]]}, "NaN"),
        ({"weights": np.ones((65, 1))}, "65×1"),
        ({"border": "zero"}, "'zero'"),
        ({"display": "log"}, "'log'"),
        ({"weights": BOX, "border": "bogus"}, "'bogus'"),
        ({"weights": BOX, "display": "bogus"}, "'bogus'"),
    ],
    ids=["even", "nan", "too-big", "border", "display", "weights+border", "weights+display"],
)
def test_invalid_settings_raise_and_change_nothing(qtbot, controller, sample, changes, message):
    before = controller.recipe
    rendering = controller.rendering
    with (
        qtbot.assertNotEmitted(controller.renderingReady, wait=50),
        pytest.raises(ValueError, match=message),
    ):
        controller.update(**changes)
    assert controller.recipe is before
    assert controller.rendering is rendering
    assert controller.is_idle


def test_weights_are_copied_and_read_only(controller):
    weights = np.array(EDGE)
    controller.update(weights=weights)
    weights[:] = 0
    np.testing.assert_array_equal(controller.recipe.stages[0].weights, EDGE)
    assert not controller.recipe.stages[0].weights.flags.writeable


# Latest edit wins --------------------------------------------------------------


def test_latest_edit_wins(qtbot, controller, spy, emitted):
    render = spy("_render")
    render.gate.clear()
    image = tiny_image()
    controller.load_pixels(image, "tiny")
    qtbot.waitUntil(lambda: len(render.calls) == 1, timeout=WAIT_MS)
    kernels = [np.diag([0.0, 1.0 + step / 10, 0.0]) for step in range(50)]
    for weights in kernels:
        controller.update(weights=weights, border="nearest")
    assert len(render.calls) == 1
    assert not of(emitted, "resultReady")
    render.gate.set()
    settle(qtbot, controller)
    # One running job, then the newest waiting request; the 48 in between are never run.
    assert len(render.calls) == 2
    assert render.calls[-1][1] is controller.recipe
    (result,) = of(emitted, "resultReady")
    (rendering,) = of(emitted, "renderingReady")
    assert rendering.result is result
    np.testing.assert_array_equal(rendering.recipe.stages[0].weights, kernels[-1])
    assert_close(result, oracle(image, kernels[-1], border="nearest"), kernels[-1], image)


def test_load_during_a_render_drops_the_stale_result(qtbot, controller, spy, emitted):
    render = spy("_render")
    render.gate.clear()
    controller.update(weights=BOX)
    controller.load_pixels(tiny_image(1), "first")
    qtbot.waitUntil(lambda: len(render.calls) == 1, timeout=WAIT_MS)
    second = tiny_image(2)
    with qtbot.waitSignal(controller.imageLoaded, timeout=WAIT_MS):
        controller.load_pixels(second, "second")
    render.gate.set()
    settle(qtbot, controller)
    assert len(render.calls) == 2
    (result,) = of(emitted, "resultReady")
    assert_close(result, oracle(second, BOX), BOX, second)
    assert controller.rendering.result is result


@pytest.mark.parametrize(
    ("error", "words"),
    [(RuntimeError("kaput"), ["RuntimeError", "kaput"]), (MemoryError(), ["memory"])],
)
def test_worker_exception_is_reported_and_the_app_keeps_working(
    qtbot, controller, spy, error, words
):
    render = spy("_render")
    render.error = error
    with qtbot.waitSignal(controller.failed, timeout=WAIT_MS) as blocker:
        controller.load_pixels(tiny_image(), "tiny")
    assert all(word in blocker.args[0] for word in words)
    assert controller.image is not None
    assert controller.rendering is None
    render.error = None
    rendering = rerender(qtbot, controller, weights=BOX)
    assert_close(rendering.result, oracle(tiny_image(), BOX), BOX, tiny_image())


# Busy indicator ----------------------------------------------------------------


def test_slow_work_shows_busy_then_idle(qtbot, controller, spy, emitted):
    spy("_render").delay = 0.5
    started = time.perf_counter()
    with qtbot.waitSignal(controller.busyChanged, timeout=WAIT_MS) as blocker:
        controller.load_pixels(tiny_image(), "tiny")
    # QTimer's default coarse accuracy may fire up to 5 % early.
    assert time.perf_counter() - started >= 0.9 * BUSY_DELAY_MS / 1000
    assert blocker.args == [True]
    qtbot.waitUntil(lambda: of(emitted, "busyChanged") == [True, False], timeout=WAIT_MS)
    names = [entry[0] for entry in emitted]
    assert names.index("renderingReady") < len(names) - 1
    assert emitted[-1] == ("busyChanged", False)


def test_fast_work_never_shows_busy(qtbot, controller):
    load(qtbot, controller, tiny_image())
    with qtbot.assertNotEmitted(controller.busyChanged, wait=BUSY_DELAY_MS * 2):
        rerender(qtbot, controller, weights=BOX)


# Exports -----------------------------------------------------------------------


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def export(qtbot, controller, method, path, *args, **options):
    """Call an export method and return the message of ``saved``."""
    with (
        qtbot.assertNotEmitted(controller.failed),
        qtbot.waitSignal(controller.saved, timeout=WAIT_MS) as blocker,
    ):
        getattr(controller, method)(path, *args, **options)
    return blocker.args[0]


def read_rgb(path):
    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB) if pixels.ndim == 3 else pixels


def test_export_result_writes_result8(qtbot, controller, sample, out):
    rendering = rerender(qtbot, controller, weights=EDGE, display="abs")
    assert export(qtbot, controller, "export_result", out / "result.png") == "Saved result.png"
    np.testing.assert_array_equal(read_rgb(out / "result.png"), rendering.result8)
    assert [path.name for path in out.iterdir()] == ["result.png"]


def test_export_exact_writes_the_float_result(qtbot, controller, sample, out):
    rendering = rerender(qtbot, controller, weights=EDGE)
    export(qtbot, controller, "export_result", out / "result.tif", exact=True)
    written = read_rgb(out / "result.tif")
    assert written.dtype == np.float32
    np.testing.assert_array_equal(written, rendering.result)
    assert written.min() < 0  # the negative edges survive


def test_export_views_writes_the_captioned_montage_with_the_kernel(qtbot, controller, sample, out):
    rendering = rerender(qtbot, controller, weights=ASYMMETRIC, border="valid")
    export(qtbot, controller, "export_views", out / "views.png")
    written = read_rgb(out / "views.png")
    panels = (controller.image.pixels8, rendering.result8, *rendering.channels8)
    captions = (
        f"Original — {controller.image.name}",
        "Result",
        "Red (original)",
        "Green (original)",
        "Blue (original)",
    )
    expected = montage(panels, captions=captions, kernel=rendering.recipe.stages[0])
    np.testing.assert_array_equal(written, expected)
    assert written.shape[0] > montage(panels).shape[0]  # room for the captions
    for panel in panels[:2]:  # each picture is in it, byte for byte
        match = cv2.matchTemplate(written, np.ascontiguousarray(panel), cv2.TM_SQDIFF)
        assert match.min() == 0


def test_export_kernel_writes_json(qtbot, controller, out):
    controller.update(weights=ASYMMETRIC)  # needs no image
    export(qtbot, controller, "export_kernel", out / "mine.json", "Mine")
    with open(out / "mine.json", encoding="utf-8") as stream:
        document = json.load(stream)
    assert document["name"] == "Mine"
    np.testing.assert_array_equal(document["weights"], ASYMMETRIC)


@pytest.mark.parametrize(
    ("method", "name", "options"),
    [
        ("export_result", "missing/result.png", {}),
        ("export_result", "result.xyz", {}),
        ("export_result", "result.png", {"exact": True}),
        ("export_views", "missing/views.png", {}),
        ("export_kernel", "missing/kernel.json", {"name": "k"}),
    ],
    ids=["missing-folder", "extension", "float-png", "views-folder", "kernel-folder"],
)
def test_export_failure_reports_and_writes_nothing(
    qtbot, controller, sample, out, method, name, options
):
    path = out / name
    with (
        qtbot.assertNotEmitted(controller.saved),
        qtbot.waitSignal(controller.failed, timeout=WAIT_MS) as blocker,
    ):
        getattr(controller, method)(path, **options)
    assert f"'{path.name}'" in blocker.args[0]
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("method", ["export_result", "export_views"])
def test_export_before_any_image_fails(qtbot, controller, out, method):
    with qtbot.waitSignal(controller.failed, timeout=WAIT_MS) as blocker:
        getattr(controller, method)(out / "result.png")
    assert blocker.args == ["There is no result to export yet."]
    assert list(out.iterdir()) == []


# Shutdown and thread safety ----------------------------------------------------


def _start_render(qtbot, controller, spy, folder):
    gated = spy("_render")
    gated.gate.clear()
    controller.load_pixels(tiny_image(), "tiny")
    return gated


def _start_load(qtbot, controller, spy, folder):
    gated = spy("_load")
    gated.gate.clear()
    controller.load_path(sample_image_path())
    return gated


def _start_export(qtbot, controller, spy, folder):
    load(qtbot, controller, tiny_image())
    gated = spy("save_image")
    gated.gate.clear()
    controller.export_result(folder / "late.png")
    return gated


@pytest.mark.parametrize(
    "start",
    [
        _start_render,
        _start_load,
        _start_export,
    ],
    ids=["render", "load", "export"],
)
def test_shutdown_waits_for_the_running_job_and_then_stays_quiet(
    qtbot, controller, spy, emitted, tmp_path, start
):
    gated = start(qtbot, controller, spy, tmp_path)
    qtbot.waitUntil(lambda: len(gated.calls) == 1, timeout=WAIT_MS)
    emitted.clear()
    threading.Timer(0.2, gated.gate.set).start()
    controller.shutdown()
    assert gated.finished == 1
    qtbot.wait(300)  # spin the event loop so queued completions would be delivered
    assert [entry for entry in emitted if entry[0] != "busyChanged"] == []


def test_shutdown_while_busy_emits_nothing_afterwards(qtbot, controller, spy, emitted, tmp_path):
    gated = _start_render(qtbot, controller, spy, tmp_path)
    qtbot.waitUntil(lambda: of(emitted, "busyChanged") == [True], timeout=WAIT_MS)
    emitted.clear()
    threading.Timer(0.2, gated.gate.set).start()
    controller.shutdown()
    qtbot.wait(300)
    assert emitted == []


@pytest.mark.parametrize(
    ("changes", "arrays"),
    [
        (
            {"weights": EDGE},
            lambda r: [r.result, r.result8, *r.channels8, r.recipe.stages[0].weights],
        ),
        ({"grey": True, "channels_of_result": True}, lambda r: [r.result, *r.channels8]),
        ({}, lambda r: [r.recipe.stages[0].weights]),
        ({"histogram": True}, lambda r: [r.histogram]),
    ],
    ids=["views", "grey", "default-weights", "histogram"],
)
def test_arrays_handed_to_the_gui_are_read_only(qtbot, controller, changes, arrays):
    rendering = load(qtbot, controller, tiny_image())
    if changes:
        rendering = rerender(qtbot, controller, **changes)
    handed = [*arrays(rendering), controller.image.pixels, controller.image.pixels8]
    assert [array.flags.writeable for array in handed] == [False] * len(handed)


def test_exports_asked_while_the_result_is_computed_write_that_result_before_shutdown(
    qtbot, controller, spy, tmp_path
):
    load(qtbot, controller, tiny_image())
    render = spy("_render")
    render.gate.clear()
    controller.update(weights=EDGE)
    qtbot.waitUntil(lambda: len(render.calls) == 1, timeout=WAIT_MS)
    saving = spy("save_image")
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    with qtbot.waitSignal(controller.notice, timeout=WAIT_MS) as told:
        controller.export_result(first)
    assert "once the whole result" in told.args[0]
    controller.export_views(second)
    assert saving.calls == []  # both wait for the edge result, not the old blur
    threading.Timer(0.3, render.gate.set).start()
    controller.shutdown()
    written = cv2.cvtColor(cv2.imread(str(first)), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(written, controller.rendering.result8)
    assert controller.rendering.recipe.stages[0] == Stage(EDGE)
    assert cv2.imread(str(second)) is not None


def test_one_signal_tells_every_change_of_recipe_view_or_selection(controller, qtbot):
    states = []
    controller.stateChanged.connect(states.append)
    two = Recipe((Stage(np.ones((3, 3))), Stage(np.eye(3))))
    controller.update(recipe=two)
    controller.select(1)
    controller.update(divisor=2.0)
    controller.update(channels_of_result=True)
    controller.update(channels_of_result=True)  # no change: no signal
    assert [state.selected for state in states] == [0, 1, 1, 1]
    assert states[2].recipe.stages[1].divisor == 2.0  # the selected stage was edited
    assert states[2].recipe.stages[0].divisor == 1.0
    assert states[3].view.channels_of_result
    assert controller.stage is controller.recipe.stages[1]


def test_selection_follows_a_recipe_that_loses_stages(controller):
    controller.update(recipe=Recipe((Stage(np.ones((3, 3))), Stage(np.eye(3)), Stage([[2.0]]))))
    controller.select(2)
    controller.update(recipe=Recipe((Stage(np.ones((3, 3))),)))
    assert controller.selected == 0


@pytest.mark.parametrize("index", [-1, 1, 1.0, "0", None])
def test_selecting_a_stage_that_does_not_exist_is_refused(controller, index):
    with pytest.raises(ValueError, match="no stage"):
        controller.select(index)
    assert controller.selected == 0
