"""Tests for nivox.viewers.OrthoSlicer3D, rendered on the Agg backend."""

from __future__ import annotations

import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg", force=True)  # before pyplot is imported anywhere below
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backend_bases import KeyEvent, MouseEvent  # noqa: E402

import nivox  # noqa: E402
from nivox.affines import AffineError, apply_affine  # noqa: E402
from nivox.errors import ImageDataError, ImageDataTypeError, MissingDependencyError  # noqa: E402
from nivox.eulerangles import euler2mat  # noqa: E402
from nivox.orientations import axcodes2ornt  # noqa: E402
from nivox.viewers import OrthoSlicer3D  # noqa: E402

SHAPE = (20, 24, 18)
ZOOMS = (2.0, 2.5, 2.2)
SAGITTAL, CORONAL, AXIAL, TIME = range(4)  # order of the viewer's axes in its figure


@pytest.fixture(autouse=True)
def _agg_and_cleanup(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    yield
    plt.close("all")


def centred_affine(codes: str, tilt: tuple[float, float, float] | None = None) -> np.ndarray:
    """Affine whose voxel axes run towards `codes`, optionally rotated, centred on the origin."""
    aff = np.eye(4)
    aff[:3, :3] = 0
    for in_axis, (out_axis, flip) in enumerate(axcodes2ornt(codes)):
        aff[int(out_axis), in_axis] = flip * ZOOMS[in_axis]
    if tilt is not None:
        aff[:3, :3] = euler2mat(*tilt) @ aff[:3, :3]
    aff[:3, 3] = -aff[:3, :3] @ ((np.array(SHAPE) - 1) / 2)
    return aff


AFFINES = {
    "RAS": centred_affine("RAS"),
    "LAS": centred_affine("LAS"),
    "LSA": centred_affine("LSA"),
    "PIL": centred_affine("PIL"),
    "oblique-LAS": centred_affine("LAS", (0.3, 0.15, -0.2)),
    "oblique-LSA": centred_affine("LSA", (-0.25, 0.2, 0.3)),
}
DIRECTIONS = {"L": (-1, 0, 0), "R": (1, 0, 0), "A": (0, 1, 0), "P": (0, -1, 0),
              "S": (0, 0, 1), "I": (0, 0, -1)}
OPPOSITE = {"L": "R", "R": "L", "A": "P", "P": "A", "S": "I", "I": "S"}


def phantom(affine: np.ndarray, direction: str) -> tuple[np.ndarray, np.ndarray]:
    """A dim ball with a bright cube on its `direction` side; returns data and cube centre."""
    world = apply_affine(affine, np.indices(SHAPE).reshape(3, -1).T).reshape(SHAPE + (3,))
    data = np.where(np.linalg.norm(world, axis=-1) < 19, 0.3, 0.0)
    centre = 10.0 * np.array(DIRECTIONS[direction])
    data[np.all(np.abs(world - centre) < 4.0, axis=-1)] = 1.0
    return data, centre


def render(viewer: OrthoSlicer3D, path) -> np.ndarray:
    fig = viewer.figs[0]
    fig.savefig(path, dpi=fig.dpi)
    return mpimg.imread(path)


def pixel_centre(fig, bbox) -> tuple[float, float]:
    """(column, row) in the saved PNG of the centre of a display bbox."""
    height = fig.canvas.get_width_height()[1]
    return (bbox.x0 + bbox.x1) / 2, height - (bbox.y0 + bbox.y1) / 2


def label_positions(ax) -> dict[str, tuple[float, float]]:
    renderer = ax.figure.canvas.get_renderer()
    return {t.get_text(): pixel_centre(ax.figure, t.get_window_extent(renderer))
            for t in ax.texts}


def bright_centroid(png: np.ndarray, ax) -> tuple[float, float]:
    """(column, row) of the white pixels inside `ax` in the saved PNG."""
    fig = ax.figure
    height = fig.canvas.get_width_height()[1]
    box = ax.get_window_extent()
    rows = slice(int(height - box.y1) + 1, int(height - box.y0) - 1)
    cols = slice(int(box.x0) + 1, int(box.x1) - 1)
    white = np.all(png[rows, cols, :3] > 0.95, axis=-1)
    assert white.sum() > 20, "marker not visible"
    r, c = np.nonzero(white)
    return c.mean() + cols.start, r.mean() + rows.start


def suptitle(fig) -> str:
    getter = getattr(fig, "get_suptitle", None)  # matplotlib >= 3.8
    return getter() if getter is not None else fig._suptitle.get_text()


def send(viewer: OrthoSlicer3D, event) -> None:
    viewer.figs[0].canvas.callbacks.process(event.name, event)


def key(viewer, name, ax=None):
    canvas = viewer.figs[0].canvas
    if ax is None:
        send(viewer, KeyEvent("key_press_event", canvas, name))
    else:
        x, y = ax.transAxes.transform((0.5, 0.5))
        send(viewer, KeyEvent("key_press_event", canvas, name, x, y))


def click(viewer, ax, xdata, ydata, kind="button_press_event", button=1):
    x, y = ax.transData.transform((xdata, ydata))
    send(viewer, MouseEvent(kind, viewer.figs[0].canvas, x, y, button=button))


def shown_value(ax) -> float:
    """Value of the displayed slice at the crosshair of view `ax`."""
    col = int(round(ax.lines[0].get_xdata()[0]))
    row = int(round(ax.lines[1].get_ydata()[0]))
    return ax.images[0].get_array()[row, col]


def value_at(data: np.ndarray, affine: np.ndarray, world) -> float:
    ijk = np.round(apply_affine(np.linalg.inv(affine), world)).astype(int)
    return data[tuple(ijk)]


# ---------------------------------------------------------------- left is left


@pytest.mark.parametrize("kind", list(AFFINES))
@pytest.mark.parametrize("direction", ["L", "R", "A", "S"])
def test_marker_on_labelled_side(kind, direction, tmp_path):
    affine = AFFINES[kind]
    data, centre = phantom(affine, direction)
    viewer = OrthoSlicer3D(data, affine)
    viewer.clim = (0, 1)
    key(viewer, "ctrl+x")  # crosshairs off: only the data is drawn
    viewer.set_position(*centre)
    png = render(viewer, tmp_path / "view.png")
    axes = viewer.figs[0].axes
    # each view's side labels sit where the neurological convention puts them
    expected = {SAGITTAL: ("P", "A", "I", "S"), CORONAL: ("L", "R", "I", "S"),
                AXIAL: ("L", "R", "P", "A")}
    for which, (left, right, bottom, top) in expected.items():
        labels = label_positions(axes[which])
        assert set(labels) == {left, right, bottom, top}
        box_x, box_y = pixel_centre(axes[which].figure, axes[which].get_window_extent())
        assert labels[left][0] < box_x < labels[right][0]
        assert labels[top][1] < box_y < labels[bottom][1]  # PNG rows grow downwards
    # the marker shows on the side labelled with its direction, in views that show it
    showing = {"L": (CORONAL, AXIAL), "R": (CORONAL, AXIAL), "A": (SAGITTAL, AXIAL),
               "S": (SAGITTAL, CORONAL)}[direction]
    for which in showing:
        marker = np.array(bright_centroid(png, axes[which]))
        labels = label_positions(axes[which])
        near = np.linalg.norm(marker - labels[direction])
        far = np.linalg.norm(marker - labels[OPPOSITE[direction]])
        assert near < far, (kind, direction, which)


@pytest.mark.parametrize("kind", list(AFFINES))
def test_crosshair_shows_data_at_position(kind):
    affine = AFFINES[kind]
    data = np.random.default_rng(1).random(SHAPE)
    viewer = OrthoSlicer3D(data, affine)
    for world in ([-10.0, 5.0, 3.0], [7.0, -12.0, -6.0], [0.0, 0.0, 0.0]):
        viewer.set_position(*world)
        # the cursor snaps to the voxel centre nearest the point asked for
        assert np.linalg.norm(viewer.position - world) <= np.linalg.norm(ZOOMS) / 2 + 1e-9
        expected = value_at(data, affine, viewer.position)
        for which in (SAGITTAL, CORONAL, AXIAL):
            assert shown_value(viewer.figs[0].axes[which]) == expected


def test_aspect_follows_voxel_sizes():
    viewer = OrthoSlicer3D(np.zeros(SHAPE), AFFINES["LSA"])
    axes = viewer.figs[0].axes
    # display axes are x (2 mm), y (2.2 mm, voxel axis 2), z (2.5 mm, voxel axis 1)
    assert np.isclose(axes[AXIAL].get_aspect(), 2.2 / 2.0)
    assert np.isclose(axes[CORONAL].get_aspect(), 2.5 / 2.0)
    assert np.isclose(axes[SAGITTAL].get_aspect(), 2.5 / 2.2)
    assert axes[AXIAL].images[0].get_array().shape == (SHAPE[2], SHAPE[0])


# ---------------------------------------------------------------- keyboard and mouse


def test_keyboard_moves_cursor_in_world_directions():
    viewer = OrthoSlicer3D(np.zeros(SHAPE), AFFINES["LAS"])  # x voxels run leftwards
    axes = viewer.figs[0].axes
    start = viewer.position.copy()
    key(viewer, "right")  # no mouse over a view: the axial view
    assert np.allclose(viewer.position - start, [ZOOMS[0], 0, 0])  # towards R, the screen right
    key(viewer, "up")
    key(viewer, "pageup")
    assert np.allclose(viewer.position - start, [ZOOMS[0], ZOOMS[1], ZOOMS[2]])
    key(viewer, "down")
    key(viewer, "pagedown")
    key(viewer, "left")
    assert np.allclose(viewer.position, start)
    key(viewer, "up", axes[CORONAL])  # up in the coronal view is superior
    assert np.allclose(viewer.position - start, [0, 0, ZOOMS[2]])
    key(viewer, "right", axes[SAGITTAL])  # right in the sagittal view is anterior
    key(viewer, "pagedown", axes[SAGITTAL])  # through sagittal slices: x
    assert np.allclose(viewer.position - start, [-ZOOMS[0], ZOOMS[1], ZOOMS[2]])


def test_keyboard_stops_at_edges_and_toggles_crosshairs():
    viewer = OrthoSlicer3D(np.zeros(SHAPE), AFFINES["RAS"])
    viewer.set_position(1e6, -1e6, 0)  # clipped into the volume
    corner = viewer.position.copy()
    key(viewer, "right")
    key(viewer, "down")
    assert np.allclose(viewer.position, corner)
    lines = viewer.figs[0].axes[AXIAL].lines
    assert all(line.get_visible() for line in lines)
    key(viewer, "ctrl+x")
    assert not any(line.get_visible() for line in lines)
    key(viewer, "ctrl+x")
    assert all(line.get_visible() for line in lines)


def test_mouse_click_drag_scroll():
    affine = AFFINES["LAS"]
    data = np.random.default_rng(2).random(SHAPE)
    viewer = OrthoSlicer3D(data, affine)
    axes = viewer.figs[0].axes
    click(viewer, axes[AXIAL], 3, 5)
    first = viewer.position.copy()
    click(viewer, axes[AXIAL], 5, 9, kind="motion_notify_event")  # dragging
    assert np.allclose(viewer.position - first, [2 * ZOOMS[0], 4 * ZOOMS[1], 0])
    click(viewer, axes[AXIAL], 5, 9, kind="button_release_event")
    moved = viewer.position.copy()
    click(viewer, axes[AXIAL], 1, 1, kind="motion_notify_event")  # not dragging any more
    assert np.allclose(viewer.position, moved)
    click(viewer, axes[AXIAL], 1, 1, button=3)  # only the left button moves the cursor
    assert np.allclose(viewer.position, moved)
    click(viewer, axes[CORONAL], 5, 2)
    low = viewer.position.copy()
    click(viewer, axes[CORONAL], 5, 5)
    assert np.allclose(viewer.position - low, [0, 0, 3 * ZOOMS[2]])
    assert np.allclose(viewer.position[:2], moved[:2])
    assert shown_value(axes[SAGITTAL]) == value_at(data, affine, viewer.position)
    before = viewer.position.copy()
    x, y = axes[SAGITTAL].transAxes.transform((0.5, 0.5))
    send(viewer, MouseEvent("scroll_event", viewer.figs[0].canvas, x, y, button="up", step=1))
    assert np.allclose(viewer.position - before, [ZOOMS[0], 0, 0])


# ---------------------------------------------------------------- 4D


def test_time_course_and_volumes():
    rng = np.random.default_rng(3)
    affine = AFFINES["LSA"]
    data = rng.random(SHAPE + (6,))
    viewer = OrthoSlicer3D(data, affine)
    assert viewer.n_volumes == 6
    axes = viewer.figs[0].axes
    assert len(axes) == 4
    viewer.set_position(4, -6, 8)
    ijk = tuple(np.round(apply_affine(np.linalg.inv(affine), viewer.position)).astype(int))
    series = axes[TIME].lines[0].get_ydata()
    assert np.allclose(series, data[ijk])
    key(viewer, "+")
    key(viewer, "=")
    assert axes[TIME].lines[1].get_xdata()[0] == 2
    assert shown_value(axes[AXIAL]) == data[ijk + (2,)]
    key(viewer, "-")
    assert shown_value(axes[CORONAL]) == data[ijk + (1,)]
    viewer.set_volume_idx(99)
    assert shown_value(axes[SAGITTAL]) == data[ijk + (5,)]
    click(viewer, axes[TIME], 3.2, series.mean())
    assert shown_value(axes[AXIAL]) == data[ijk + (3,)]
    key(viewer, "left", axes[TIME])
    assert shown_value(axes[AXIAL]) == data[ijk + (2,)]
    for _ in range(4):
        key(viewer, "-")
    assert shown_value(axes[AXIAL]) == data[ijk + (0,)]


def test_more_than_four_dimensions_fold_into_volumes():
    viewer = OrthoSlicer3D(np.zeros((4, 5, 6, 2, 3)))
    assert viewer.n_volumes == 6
    assert OrthoSlicer3D(np.zeros((4, 5, 6))).n_volumes == 1
    assert len(OrthoSlicer3D(np.zeros((4, 5, 6))).figs[0].axes) == 3


# ---------------------------------------------------------------- properties and API


def test_clim_and_cmap():
    data = np.arange(np.prod(SHAPE), dtype=np.float32).reshape(SHAPE)
    data[0, 0, 0] = np.nan
    viewer = OrthoSlicer3D(data)
    finite = data[np.isfinite(data)]
    assert np.allclose(viewer.clim, np.percentile(finite, (1, 99)))
    viewer.clim = (2, 50)
    assert viewer.clim == (2.0, 50.0)
    images = [ax.images[0] for ax in viewer.figs[0].axes[:3]]
    assert all(im.get_clim() == (2.0, 50.0) for im in images)
    viewer.set_clim(-1, 1)
    assert viewer.clim == (-1.0, 1.0)
    for bad in ((1, 2, 3), (3, 1), (0, np.inf)):
        with pytest.raises(ValueError):
            viewer.clim = bad
    assert viewer.cmap == "gray"
    viewer.cmap = "hot"
    assert viewer.cmap == "hot"
    assert all(im.get_cmap().name == "hot" for im in images)


def test_position_starts_at_origin_or_centre():
    viewer = OrthoSlicer3D(np.zeros(SHAPE), AFFINES["oblique-LSA"])
    assert np.linalg.norm(viewer.position) < np.linalg.norm(ZOOMS)
    far = np.diag([2.0, 2.0, 2.0, 1.0])
    far[:3, 3] = 100
    viewer = OrthoSlicer3D(np.zeros(SHAPE), far)
    assert np.allclose(viewer.position, 100 + 2 * ((np.array(SHAPE) - 1) // 2))
    viewer.set_position(y=110)
    assert np.allclose(viewer.position, [118, 110, 116])


def test_link_to():
    a = OrthoSlicer3D(np.zeros(SHAPE), AFFINES["RAS"])
    coarse = np.diag([4.0, 4.0, 4.0, 1.0])
    coarse[:3, 3] = -20
    b = OrthoSlicer3D(np.zeros((11, 11, 11)), coarse)
    a.link_to(b)
    a.set_position(8, -8, 4)
    assert np.allclose(b.position, [8, -8, 4])
    b.set_position(-12, 12, 0)
    assert np.linalg.norm(a.position - [-12, 12, 0]) <= np.linalg.norm(ZOOMS) / 2
    with pytest.raises(TypeError):
        a.link_to("viewer")
    b.close()
    a.set_position(0, 0, 0)  # a closed partner is left alone
    assert np.allclose(b.position, [-12, 12, 0])
    assert not plt.fignum_exists(b.figs[0].number)


def test_given_axes_and_title(tmp_path):
    fig, axes = plt.subplots(2, 2)
    viewer = OrthoSlicer3D(np.zeros(SHAPE + (3,)), axes=axes.ravel(), title="given")
    assert viewer.figs == (fig,)
    assert suptitle(fig) == "given"
    assert axes[1, 1].lines  # the time course went to the fourth axes
    with pytest.raises(ValueError, match="3 or 4"):
        OrthoSlicer3D(np.zeros(SHAPE), axes=axes.ravel()[:2])


def test_orthoview_from_image(tmp_path):
    data = np.random.default_rng(4).random(SHAPE).astype(np.float32)
    path = tmp_path / "img.nii"
    nivox.save(nivox.Nifti1Image(data, AFFINES["LAS"]), path)
    viewer = nivox.load(path).orthoview()
    assert isinstance(viewer, OrthoSlicer3D)
    assert suptitle(viewer.figs[0]) == str(path)
    viewer.set_position(-6, 4, 2)
    assert shown_value(viewer.figs[0].axes[AXIAL]) == value_at(data, AFFINES["LAS"],
                                                                viewer.position)
    viewer.close()


def test_bad_input():
    with pytest.raises(ImageDataError, match="3 dimensions"):
        OrthoSlicer3D(np.zeros((3, 3)))
    with pytest.raises(ImageDataTypeError, match="complex") as err:
        OrthoSlicer3D(np.zeros((3, 3, 3), complex))
    assert isinstance(err.value, TypeError)
    with pytest.raises(AffineError, match="4x4"):
        OrthoSlicer3D(np.zeros((3, 3, 3)), np.eye(3))
    with pytest.raises(AffineError, match="invertible"):
        OrthoSlicer3D(np.zeros((3, 3, 3)), np.diag([1.0, 0.0, 1.0, 1.0]))
    viewer = OrthoSlicer3D(np.zeros((3, 3, 3), bool))
    assert viewer.n_volumes == 1


def test_missing_matplotlib(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingDependencyError, match=r"nivox\[viewer\]"):
        OrthoSlicer3D(np.zeros((3, 3, 3)))


# ---------------------------------------------------------------- nibabel's private interface


class FakeEvent:
    """An event made by code, with only the attributes given (as nibabel's own tests send)."""

    def __init__(self, **attrs):
        self.__dict__.update(attrs)


def test_private_views_match_display():
    # RSA voxel axes: the display reorders them to RAS without flips
    data = np.random.default_rng(5).random((10, 20, 40))
    affine = np.array([[1, 0, 0, -5], [0, 0, 1, -30], [0, 1, 0, -10], [0, 0, 0, 1]], float)
    viewer = OrthoSlicer3D(data, affine)
    assert [im.axes for im in viewer._ims] == viewer._axes[:3]
    sag, cor, axi = (np.asarray(im.get_array()) for im in viewer._ims)
    np.testing.assert_array_equal(sag, data[5])  # rows superior, columns anterior
    np.testing.assert_array_equal(cor, data[:, :, 30].T)
    np.testing.assert_array_equal(axi, data[:, 10, :].T)
    assert viewer._data_idx == [5, 30, 10, 0]  # display (R, A, S) voxel, then volume


def test_code_made_events_move_cursor():
    # x runs right to left: the display flips it, so clicks come in flipped columns
    data = np.random.default_rng(6).random((10, 20, 40))
    affine = np.array([[-1, 0, 0, 5], [0, 0, 1, -10], [0, 1, 0, -30], [0, 0, 0, 1]], float)
    viewer = OrthoSlicer3D(data, affine)
    sag, cor, axi = viewer._axes
    viewer._on_mouse(FakeEvent(button=1, inaxes=cor, xdata=9 - 2, ydata=14))
    viewer._on_mouse(FakeEvent(button=1, inaxes=axi, xdata=9 - 2, ydata=12))
    np.testing.assert_array_equal(np.asarray(viewer._ims[0].get_array()), data[2])
    np.testing.assert_array_equal(np.asarray(viewer._ims[1].get_array()), data[::-1, :, 12].T)
    viewer._on_mouse(FakeEvent(button=None, inaxes=sag, xdata=0, ydata=0))  # no button: no move
    viewer._on_mouse(FakeEvent(button=1, inaxes=None, xdata=0, ydata=0))  # outside: no move
    assert viewer._data_idx[:3] == [7, 12, 14]
    # scrolling up in the sagittal view moves right, i.e. one voxel down along x
    viewer._on_scroll(FakeEvent(button="up", inaxes=sag, key=None))
    np.testing.assert_array_equal(np.asarray(viewer._ims[0].get_array()), data[1])
    viewer._on_scroll(FakeEvent(button="down", inaxes=axi, key="control"))  # ten slices
    assert viewer._data_idx[:3] == [8, 12, 4]
    viewer._on_scroll(FakeEvent(button="up", inaxes=None, key=None))  # outside: nothing
    assert viewer._data_idx[:3] == [8, 12, 4]


def test_volume_keys_scroll_and_escape():
    data = np.random.default_rng(7).random((6, 7, 8, 3))
    viewer = OrthoSlicer3D(data)
    assert len(viewer._axes) == 4
    viewer._on_keypress(FakeEvent(key="+"))
    viewer._on_keypress(FakeEvent(key="="))
    viewer._on_keypress(FakeEvent(key="+"))  # clipped at the last volume
    assert viewer._data_idx[3] == 2
    viewer._on_keypress(FakeEvent(key="-"))
    assert viewer._data_idx[3] == 1
    # shift-scroll changes volume in a slice view; the slices stay where they were
    before = viewer._data_idx[:3]
    viewer._on_scroll(FakeEvent(button="down", inaxes=viewer._axes[0], key="shift"))
    assert viewer._data_idx == before + [0]
    viewer._on_mouse(FakeEvent(button=1, inaxes=viewer._axes[3], xdata=1.8, ydata=0.0))
    assert viewer._data_idx[3] == 2
    np.testing.assert_array_equal(np.asarray(viewer._ims[2].get_array()),
                                  data[:, :, before[2], 2].T)
    fig = viewer.figs[0]
    viewer._on_keypress(FakeEvent(key="escape"))
    assert not plt.fignum_exists(fig.number)
    viewer._draw()  # drawing a closed viewer does nothing
