"""Interactive orthogonal-slice viewer for 3D and 4D images (matplotlib).

matplotlib is optional: it is imported when a viewer is made, and a missing
matplotlib raises :class:`~nivox.errors.MissingDependencyError` naming the
``nivox[viewer]`` extra.

Display is always in RAS-like screen convention, whatever the voxel order of
the data: the data are flipped and transposed (views, not copies) with
:func:`~nivox.orientations.io_orientation` so that display axis 0 runs towards
the subject's right, 1 towards anterior and 2 towards superior. Views follow
the neurological convention: the subject's left is on the screen's left in the
coronal and axial views, anterior on the right of the sagittal view, superior
at the top. Every view labels its four sides with the anatomical direction
computed from the display affine, so the labels stay true for LAS, LSA,
oblique and any other affine (nibabel's viewer mislabels some of these). For
oblique affines the slices follow the voxel axes and the labels name the
closest anatomical direction.

Layout (when the viewer makes its own figure), sized by physical extent::

    coronal  | sagittal
    axial    | time course (4D only)

``axes`` (given or made) are ordered as in nibabel: sagittal, coronal, axial,
then the time-course axes.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .affines import AffineError, voxel_sizes
from .errors import (
    ArgumentTypeError,
    ImageDataError,
    ImageDataTypeError,
    InvalidArgumentError,
    MissingDependencyError,
)
from .orientations import aff2axcodes, apply_orientation, inv_ornt_aff, io_orientation

__all__ = ["OrthoSlicer3D"]

# (axis fixed by the slice, horizontal axis, vertical axis) in display axes
_SAGITTAL, _CORONAL, _AXIAL = (0, 1, 2), (1, 0, 2), (2, 0, 1)
_VIEWS = (_SAGITTAL, _CORONAL, _AXIAL)
_OPPOSITE = {"L": "R", "R": "L", "P": "A", "A": "P", "I": "S", "S": "I"}
_CROSS_COLOR = "#ff3030"


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise MissingDependencyError(
            "OrthoSlicer3D needs matplotlib; install it with `pip install nivox[viewer]`"
        ) from exc
    return plt


def _default_clim(data: NDArray[Any]) -> tuple[float, float]:
    finite = data[np.isfinite(data)] if data.dtype.kind in "fc" else data
    if finite.size == 0:
        return 0.0, 1.0
    low, high = np.percentile(finite, (1.0, 99.0))
    return float(low), float(high)


class _View:
    """One slice view: its axes, image, crosshair lines and side labels."""

    def __init__(self, ax: Any, axes: tuple[int, int, int]) -> None:
        self.ax = ax
        self.fixed, self.horizontal, self.vertical = axes
        self.image: Any = None
        self.vline: Any = None
        self.hline: Any = None
        self.labels: dict[str, Any] = {}


class OrthoSlicer3D:
    """Orthogonal-slice viewer: sagittal, coronal and axial views (and a time course for 4D).

    Click (or drag) in a view to move the cursor there; scroll to move through
    the slices of the view under the mouse. Keys: left/right and up/down move
    the cursor across the view under the mouse (the axial view when the mouse
    is elsewhere), page up/down move through that view's slices, ``+``/``=``
    and ``-`` change volume, ``ctrl+x`` toggles the crosshairs, ``escape``
    closes the viewer. Scrolling with shift held changes volume in any view;
    with control held it moves ten slices (or volumes) at a time. Over the
    time course, click, scroll or left/right change volume.

    Parameters
    ----------
    data : array-like
        3D data, or 4D (more axes are folded into the fourth) as volumes.
    affine : None or (4, 4) array-like, optional
        Voxel to world (RAS+ mm) mapping; None means identity.
    axes : None or sequence of 3 or 4 matplotlib Axes, optional
        Sagittal, coronal and axial axes, then optionally the time-course axes.
        None makes a figure.
    title : None or str, optional
        Figure title.
    """

    def __init__(
        self,
        data: ArrayLike,
        affine: ArrayLike | None = None,
        axes: Any = None,
        title: str | None = None,
    ) -> None:
        self._plt = _pyplot()
        arr = np.asanyarray(data)
        if arr.ndim < 3:
            raise ImageDataError(f"data must have at least 3 dimensions, got shape {arr.shape}")
        if np.iscomplexobj(arr):
            # a TypeError, as in nibabel: the dtype, not the values, is what is wrong
            raise ImageDataTypeError("complex data cannot be displayed; show abs() or a part")
        if arr.dtype == np.bool_:
            arr = arr.view(np.uint8)
        arr = arr.reshape(arr.shape[:3] + (-1,))
        aff = np.eye(4) if affine is None else np.array(affine, dtype=np.float64)
        if aff.shape != (4, 4):
            raise AffineError(f"affine must be a 4x4 matrix, got shape {aff.shape}")
        if not np.all(np.isfinite(aff)) or abs(np.linalg.det(aff[:3, :3])) < 1e-12:
            raise AffineError(f"affine must be finite and invertible, got\n{aff}")
        ornt = io_orientation(aff)
        self._affine = aff
        self._data = apply_orientation(arr, ornt)  # a view in display (RAS-like) order
        self._disp_affine = aff @ inv_ornt_aff(ornt, arr.shape[:3])
        self._inv_disp_affine = np.linalg.inv(self._disp_affine)
        self._sizes = np.array(self._data.shape[:3])
        self._zooms = voxel_sizes(self._disp_affine)
        self._codes = aff2axcodes(self._disp_affine)  # RAS by construction; checked in tests
        self._title = title
        self._cmap: Any = "gray"
        self._clim = _default_clim(arr)
        self._cross = True
        self._closed = False
        self._dragging = False
        self._links: weakref.WeakSet[OrthoSlicer3D] = weakref.WeakSet()
        self._vol = 0
        self._idx = self._initial_index()
        self._views, self._time_ax = self._make_axes(axes)
        self._time_line: Any = None
        self._time_marker: Any = None
        self._build()
        self._connect()
        self.draw()

    # ------------------------------------------------------------ setup

    def _initial_index(self) -> NDArray[np.intp]:
        # the world origin (AC in MNI-like spaces) when it lies in the volume, else the centre
        origin = self._world_to_index(np.zeros(3), clip=False)
        if np.all((origin >= 0) & (origin < self._sizes)):
            return origin
        return (self._sizes - 1) // 2

    def _world_to_index(self, world: NDArray[Any], clip: bool = True) -> NDArray[np.intp]:
        vox = self._inv_disp_affine[:3, :3] @ world + self._inv_disp_affine[:3, 3]
        idx = np.round(vox).astype(np.intp)
        return np.clip(idx, 0, self._sizes - 1) if clip else idx

    def _make_axes(self, axes: Any) -> tuple[list[_View], Any]:
        want_time = self.n_volumes > 1
        if axes is None:
            axes = self._layout(want_time)
        else:
            axes = list(axes)
            if len(axes) not in (3, 4):
                raise InvalidArgumentError(f"axes must hold 3 or 4 matplotlib Axes, got {len(axes)}")
        views = [_View(ax, spec) for ax, spec in zip(axes[:3], _VIEWS)]
        time_ax = axes[3] if len(axes) == 4 else None
        if time_ax is not None and not want_time:
            time_ax.set_axis_off()
            time_ax = None
        return views, time_ax

    def _layout(self, want_time: bool) -> list[Any]:
        ext_x, ext_y, ext_z = self._sizes * self._zooms
        margin = 0.12 * max(ext_x + ext_y, ext_z + ext_y)
        width = ext_x + ext_y + 3 * margin
        height = ext_z + ext_y + 3 * margin
        scale = 8.0 / max(width, height)
        fig = self._plt.figure(figsize=(width * scale, height * scale))
        col0, col1 = margin / width, (2 * margin + ext_x) / width
        row0, row1 = margin / height, (2 * margin + ext_y) / height

        def rect(left: float, bottom: float, w: float, h: float) -> list[float]:
            return [left, bottom, w / width, h / height]

        axes = [
            fig.add_axes(rect(col1, row1, ext_y, ext_z)),  # sagittal
            fig.add_axes(rect(col0, row1, ext_x, ext_z)),  # coronal
            fig.add_axes(rect(col0, row0, ext_x, ext_y)),  # axial
        ]
        if want_time:
            axes.append(fig.add_axes(rect(col1, row0, ext_y, ext_y)))
        return axes

    def _build(self) -> None:
        for view in self._views:
            ax = view.ax
            n_h, n_v = self._sizes[view.horizontal], self._sizes[view.vertical]
            view.image = ax.imshow(
                np.zeros((n_v, n_h)),
                cmap=self._cmap,
                vmin=self._clim[0],
                vmax=self._clim[1],
                origin="lower",
                interpolation="nearest",
                extent=(-0.5, n_h - 0.5, -0.5, n_v - 0.5),
                aspect=self._zooms[view.vertical] / self._zooms[view.horizontal],
            )
            ax.set_xlim(-0.5, n_h - 0.5)
            ax.set_ylim(-0.5, n_v - 0.5)
            ax.set_axis_off()
            view.vline = ax.axvline(0, color=_CROSS_COLOR, linewidth=0.8)
            view.hline = ax.axhline(0, color=_CROSS_COLOR, linewidth=0.8)
            h_pos, v_pos = self._codes[view.horizontal], self._codes[view.vertical]
            sides = {
                "left": (_OPPOSITE[h_pos], (-0.02, 0.5), "right", "center"),
                "right": (h_pos, (1.02, 0.5), "left", "center"),
                "bottom": (_OPPOSITE[v_pos], (0.5, -0.02), "center", "top"),
                "top": (v_pos, (0.5, 1.02), "center", "bottom"),
            }
            for side, (text, xy, ha, va) in sides.items():
                view.labels[side] = ax.text(
                    *xy, text, transform=ax.transAxes, ha=ha, va=va,
                    fontsize=12, fontweight="bold", clip_on=False,
                )
        if self._time_ax is not None:
            ax = self._time_ax
            steps = np.arange(self.n_volumes)
            (self._time_line,) = ax.plot(steps, np.zeros(self.n_volumes), ".-", color="C0")
            self._time_marker = ax.axvline(0, color=_CROSS_COLOR, linewidth=0.8)
            ax.set_xlim(-0.5, self.n_volumes - 0.5)
            ax.set_xlabel("volume")
            ax.tick_params(labelsize=8)
        if self._title is not None:
            fig = self.figs[0]
            fig.suptitle(self._title)
            manager = getattr(fig.canvas, "manager", None)
            if manager is not None:
                manager.set_window_title(str(self._title))

    def _connect(self) -> None:
        for fig in self.figs:
            canvas = fig.canvas
            canvas.mpl_connect("button_press_event", self._on_mouse)
            canvas.mpl_connect("motion_notify_event", self._on_mouse)
            canvas.mpl_connect("button_release_event", self._on_release)
            canvas.mpl_connect("scroll_event", self._on_scroll)
            canvas.mpl_connect("key_press_event", self._on_keypress)
            canvas.mpl_connect("close_event", self._cleanup)

    # ------------------------------------------------------------ public API

    @property
    def n_volumes(self) -> int:
        """Number of volumes (1 for 3D data)."""
        return int(self._data.shape[3])

    @property
    def figs(self) -> tuple[Any, ...]:
        """The figures holding the viewer's axes, in order, without repeats."""
        figs: list[Any] = []
        for ax in self._axes:
            if ax.figure not in figs:
                figs.append(ax.figure)
        return tuple(figs)

    @property
    def _axes(self) -> list[Any]:
        # nibabel's layout: sagittal, coronal, axial, then the time course if shown
        axes = [view.ax for view in self._views]
        if self._time_ax is not None:
            axes.append(self._time_ax)
        return axes

    @property
    def _ims(self) -> list[Any]:
        # the sagittal, coronal and axial AxesImage; their arrays are what is on screen
        return [view.image for view in self._views]

    @property
    def _data_idx(self) -> list[int]:
        # cursor voxel along the display (RAS-like) axes, then the volume shown
        return [int(i) for i in self._idx] + [self._vol]

    @property
    def position(self) -> NDArray[np.float64]:
        """World coordinates (x, y, z) of the voxel under the cursor."""
        return self._disp_affine[:3, :3] @ self._idx + self._disp_affine[:3, 3]

    def set_position(
        self, x: float | None = None, y: float | None = None, z: float | None = None
    ) -> None:
        """Move the cursor to the voxel nearest world point (x, y, z); None keeps a coordinate."""
        world = self.position
        for axis, value in enumerate((x, y, z)):
            if value is not None:
                world[axis] = float(value)
        self._move(self._world_to_index(world))

    def set_volume_idx(self, v: int) -> None:
        """Show volume `v` (clipped to the valid range)."""
        self._vol = int(np.clip(round(v), 0, self.n_volumes - 1))
        self.draw()

    @property
    def clim(self) -> tuple[float, float]:
        """Colour limits (vmin, vmax) of the slice images."""
        return self._clim

    @clim.setter
    def clim(self, clim: ArrayLike) -> None:
        values = np.asarray(clim, dtype=np.float64)
        if values.shape != (2,) or not np.all(np.isfinite(values)):
            raise InvalidArgumentError(f"clim must be two finite numbers, got {clim!r}")
        if values[0] > values[1]:
            raise InvalidArgumentError(f"clim minimum {values[0]} is above its maximum {values[1]}")
        self._clim = (float(values[0]), float(values[1]))
        for view in self._views:
            view.image.set_clim(*self._clim)
        self.draw()

    def set_clim(self, vmin: float, vmax: float) -> None:
        """Set the colour limits of the slice images."""
        self.clim = (vmin, vmax)

    @property
    def cmap(self) -> Any:
        """Colour map of the slice images (name or matplotlib Colormap)."""
        return self._cmap

    @cmap.setter
    def cmap(self, cmap: Any) -> None:
        for view in self._views:
            view.image.set_cmap(cmap)
        self._cmap = cmap
        self.draw()

    def link_to(self, other: OrthoSlicer3D) -> None:
        """Move `other`'s cursor with this one's, and back, in world coordinates."""
        if not isinstance(other, OrthoSlicer3D):
            raise ArgumentTypeError(f"can only link to another OrthoSlicer3D, got {type(other).__name__}")
        if other is self:
            return
        self._links.add(other)
        other._links.add(self)
        other._move(other._world_to_index(self.position), notify=False)

    def draw(self) -> None:
        """Redraw the slices, crosshairs and time course at the current position."""
        if self._closed:
            return
        volume = self._data[..., self._vol]
        for view in self._views:
            plane = np.take(volume, self._idx[view.fixed], axis=view.fixed)
            view.image.set_data(plane.T)  # rows run along the vertical axis
            view.vline.set_xdata([self._idx[view.horizontal]] * 2)
            view.hline.set_ydata([self._idx[view.vertical]] * 2)
            view.vline.set_visible(self._cross)
            view.hline.set_visible(self._cross)
        if self._time_ax is not None:
            i, j, k = self._idx
            series = np.asarray(self._data[i, j, k], dtype=np.float64)
            self._time_line.set_ydata(series)
            self._time_marker.set_xdata([self._vol] * 2)
            finite = series[np.isfinite(series)]
            if finite.size:
                low, high = finite.min(), finite.max()
                pad = 0.05 * (high - low) or 0.5
                self._time_ax.set_ylim(low - pad, high + pad)
        for fig in self.figs:
            # non-interactive canvases (Agg) render when saved; drawing them on
            # every move would only cost time
            if getattr(type(fig.canvas), "required_interactive_framework", "unknown"):
                fig.canvas.draw_idle()

    _draw = draw  # nibabel's name for the same redraw

    def show(self) -> None:
        """Show the figures, blocking until closed (``matplotlib.pyplot.show``)."""
        self._plt.show()

    def close(self) -> None:
        """Close the viewer's figures and unlink it from other viewers."""
        figs = self.figs
        self._cleanup()
        for fig in figs:
            self._plt.close(fig)

    # ------------------------------------------------------------ movement

    def _move(self, idx: NDArray[np.intp], notify: bool = True) -> None:
        self._idx = np.clip(np.asarray(idx, dtype=np.intp), 0, self._sizes - 1)
        self.draw()
        if notify:
            for other in list(self._links):
                if not other._closed:
                    other._move(other._world_to_index(self.position), notify=False)

    def _step(self, axis: int, step: int) -> None:
        idx = self._idx.copy()
        idx[axis] += step
        self._move(idx)

    def _view_for(self, ax: Any) -> _View | None:
        for view in self._views:
            if view.ax is ax:
                return view
        return None

    # ------------------------------------------------------------ event handlers

    def _cleanup(self, event: Any = None) -> None:
        """Forget links and stop drawing, once the figures close."""
        self._closed = True
        for other in list(self._links):
            other._links.discard(self)
        self._links.clear()

    def _navigating(self, event: Any) -> bool:
        # clicks belong to the toolbar while it pans or zooms
        toolbar = getattr(getattr(event, "canvas", None), "toolbar", None)
        return toolbar is not None and bool(getattr(toolbar, "mode", ""))

    def _on_mouse(self, event: Any) -> None:
        """Move the cursor (or change volume) on a left click, or a drag that began with one.

        Motion events count only between a left press and its release: recent
        matplotlib backends do not say in them which button is held. Any other
        event with ``button == 1`` (a press, or an event made by code) is a click.
        """
        if getattr(event, "name", None) == "motion_notify_event":
            if not self._dragging:
                return
        elif getattr(event, "button", None) != 1 or self._navigating(event):
            return
        elif getattr(event, "name", None) == "button_press_event":
            self._dragging = True
        ax = getattr(event, "inaxes", None)
        if ax is None or event.xdata is None or event.ydata is None:
            return
        if ax is self._time_ax:
            self.set_volume_idx(event.xdata)
            return
        view = self._view_for(ax)
        if view is None:
            return
        idx = self._idx.copy()
        idx[view.horizontal] = round(event.xdata)
        idx[view.vertical] = round(event.ydata)
        self._move(idx)

    def _on_release(self, event: Any) -> None:
        self._dragging = False

    def _on_scroll(self, event: Any) -> None:
        """Move through the slices of the view under the mouse (or through volumes)."""
        step = getattr(event, "step", None)
        if step:
            step = int(np.sign(step))
        else:
            step = 1 if getattr(event, "button", None) == "up" else -1
        key = getattr(event, "key", None) or ""
        if "control" in key or "ctrl" in key:
            step *= 10
        ax = getattr(event, "inaxes", None)
        if ax is None:
            return
        if "shift" in key or ax is self._time_ax:
            self.set_volume_idx(self._vol + step)
            return
        view = self._view_for(ax)
        if view is not None:
            self._step(view.fixed, step)

    def _on_keypress(self, event: Any) -> None:
        """Arrow and page keys move the cursor; +/- change volume; ctrl+x toggles
        crosshairs; escape closes."""
        key = getattr(event, "key", None)
        ax = getattr(event, "inaxes", None)
        if key == "escape":
            self.close()
        elif key == "ctrl+x":
            self._cross = not self._cross
            self.draw()
        elif key in ("+", "="):
            self.set_volume_idx(self._vol + 1)
        elif key == "-":
            self.set_volume_idx(self._vol - 1)
        elif key in ("left", "right", "up", "down", "pageup", "pagedown"):
            step = 1 if key in ("right", "up", "pageup") else -1
            if ax is not None and ax is self._time_ax:
                if key in ("left", "right"):
                    self.set_volume_idx(self._vol + step)
                return
            view = self._view_for(ax) or self._views[2]
            axis = {"left": view.horizontal, "right": view.horizontal,
                    "up": view.vertical, "down": view.vertical}.get(key, view.fixed)
            self._step(axis, step)
