"""PARRECHeader: shape, dtype, voxel sizes, scaling, slice order and affine of a PAR header.

The REC file is a stack of 2D images in the order of the PAR's image lines.
The header decides which of them form the output volume (complete volumes
only), in which order (``get_sorted_slice_indices``), how each is scaled
(``get_data_scaling``) and where the grid sits in the scanner
(``get_affine``). Nothing here is cached that the image table decides:
users edit ``image_defs`` in place and expect the methods to follow.
"""

from __future__ import annotations

import warnings
from copy import deepcopy
from typing import Any

import numpy as np

from ..affines import apply_affine
from ..errors import PARRECError
from ..eulerangles import euler2mat
from ..spatialimages import SpatialHeader
from ..volumeutils import Recoder
from .parse import parse_PAR_header

__all__ = [
    "ACQ_TO_PSL",
    "DEG2RAD",
    "PSL_TO_RAS",
    "PARRECHeader",
    "slice_orientation_codes",
    "vol_is_full",
    "vol_numbers",
]

# Philips' axes are (ap, fh, rl): Posterior, Superior, Left ("PSL").
PSL_TO_RAS = np.array(
    [
        [0, 0, -1, 0],  # L -> R
        [-1, 0, 0, 0],  # P -> A
        [0, 1, 0, 0],  # S stays
        [0, 0, 0, 1],
    ]
)

# Voxel axes of each slice orientation, as PSL axes (the same as nibabel's,
# which were found from scans of known objects in each orientation).
ACQ_TO_PSL = {
    "transverse": np.array([[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1]]),
    "sagittal": np.diag([1, -1, -1, 1]),
    "coronal": np.array([[0, 0, 1, 0], [0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]),
}

DEG2RAD = np.pi / 180.0

#: the image table's slice orientation codes
slice_orientation_codes = Recoder(((1, "transverse"), (2, "sagittal"), (3, "coronal")), fields=("code", "label"))
_ORIENTATION_LABELS = {1: "transverse", 2: "sagittal", 3: "coronal"}

# PAR names of the general-information entries the header needs, for messages
_PAR_KEYS = {
    "max_slices": "Max. number of slices/locations",
    "dyn_scan": "Dynamic scan",
    "repetition_time": "Repetition time [ms]",
    "diffusion": "Diffusion",
    "angulation": "Angulation midslice(ap,fh,rl)[degr]",
    "off_center": "Off Centre midslice(ap,fh,rl) [mm]",
    "water_fat_shift": "Water Fat shift [pixels]",
    "epi_factor": "EPI factor",
    "max_dynamics": "Max. number of dynamics",
}


def vol_numbers(slice_nos: Any) -> list[int]:
    """The volume number of each slice: how often its slice number occurred before it.

    Parameters
    ----------
    slice_nos : sequence of int
        Slice numbers in file order, e.g. ``[1, 2, 3, 1, 2, 3]``.

    Returns
    -------
    list of int
        Same length as `slice_nos`, e.g. ``[0, 0, 0, 1, 1, 1]``.
    """
    slice_nos = np.asarray(slice_nos).ravel()
    if slice_nos.size == 0:
        return []
    order = np.argsort(slice_nos, kind="stable")
    ranked = slice_nos[order]
    new_group = np.r_[True, ranked[1:] != ranked[:-1]]
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(ranked.size), 0))
    counts = np.empty(slice_nos.size, dtype=np.intp)
    counts[order] = np.arange(ranked.size) - group_start
    return counts.tolist()


def vol_is_full(slice_nos: Any, slice_max: int, slice_min: int = 1) -> np.ndarray:
    """True for slices that belong to a complete volume.

    Parameters
    ----------
    slice_nos : sequence of int
        Slice numbers in file order.
    slice_max : int
        Highest slice number of a complete volume.
    slice_min : int, optional
        Lowest slice number of a complete volume (default 1).

    Returns
    -------
    ndarray of bool
        For each slice, whether its volume (:func:`vol_numbers`) holds every
        slice number from `slice_min` to `slice_max`.

    Raises
    ------
    ValueError
        If a slice number lies outside ``slice_min .. slice_max``.
    """
    slice_nos = np.asarray(slice_nos)
    # bounds instead of building the set of slice numbers: slice_max comes from the file
    if slice_nos.size and (slice_nos.min() < slice_min or slice_nos.max() > slice_max):
        raise PARRECError(f"Slice numbers outside inclusive range {slice_min} to {slice_max}")
    vol_nos = np.asarray(vol_numbers(slice_nos), dtype=np.intp)
    if vol_nos.size == 0:
        return np.ones(slice_nos.shape, dtype=bool)
    # a slice number occurs at most once per volume, so a full volume has one slice per number
    per_volume = np.bincount(vol_nos)
    return (per_volume[vol_nos] == (int(slice_max) - int(slice_min) + 1)).reshape(slice_nos.shape)


class PARRECHeader(SpatialHeader):
    """The header of a PAR/REC image: the PAR's general information and image table.

    Parameters
    ----------
    info : dict
        General information, as from :func:`parse_PAR_header`.
    image_defs : ndarray
        Image table (structured array), as from :func:`parse_PAR_header`.
    permit_truncated : bool, optional
        Warn instead of raising when the table has fewer slices, echoes,
        dynamics, b-values or gradients than the general information
        announces; incomplete volumes are dropped.
    strict_sort : bool, optional
        Order volumes by image type, dynamic, label type, b-value, gradient,
        phase and echo instead of by their order in the file.

    Both arguments are copied.
    """

    def __init__(
        self,
        info: dict[str, Any],
        image_defs: np.ndarray,
        permit_truncated: bool = False,
        strict_sort: bool = False,
    ) -> None:
        self.general_info = info.copy()
        self.image_defs = image_defs.copy()
        self.permit_truncated = permit_truncated
        self.strict_sort = strict_sort
        if not hasattr(self, "_source"):
            self._source = "PAR header"
        if len(self.image_defs) == 0:
            raise PARRECError(f"{self._source}: no image lines")
        self._info("max_slices")
        self._truncation_checks()
        bitpix = self._get_unique_image_prop("image pixel size")
        if bitpix not in (8, 16):
            raise PARRECError(f"{self._source}: only 8- and 16-bit REC data are supported, not {bitpix}")
        # REC data are little-endian unsigned integers
        dtype = np.dtype(f"<u{bitpix // 8}")
        shape = self._calc_data_shape()
        zooms = self._calc_zooms()
        try:
            super().__init__(data_dtype=dtype, shape=shape, zooms=[float(z) for z in zooms])
        except ValueError as err:
            raise PARRECError(f"{self._source}: {err}") from None

    # ---- construction ------------------------------------------------------

    @classmethod
    def from_header(cls, header: Any = None) -> PARRECHeader:
        """A copy of ``header``, which must be a PARRECHeader (nothing else converts)."""
        if header is None:
            raise PARRECError("Cannot create PARRECHeader from air.")
        if type(header) is cls:
            return header.copy()
        raise PARRECError("Cannot create PARREC header from non-PARREC header.")

    @classmethod
    def from_fileobj(cls, fileobj: Any, permit_truncated: bool = False, strict_sort: bool = False) -> PARRECHeader:
        """Read a header from an open PAR file (text or binary)."""
        info, image_defs = parse_PAR_header(fileobj)
        name = getattr(fileobj, "name", None)
        return cls._named(str(name) if isinstance(name, str) else "PAR header", info, image_defs,
                          permit_truncated, strict_sort)

    @classmethod
    def _named(cls, source: str, info: dict[str, Any], image_defs: np.ndarray,
               permit_truncated: bool = False, strict_sort: bool = False) -> PARRECHeader:
        """A header whose error messages name ``source`` (the PAR file)."""
        hdr = cls.__new__(cls)
        hdr._source = source
        hdr.__init__(info, image_defs, permit_truncated, strict_sort)  # type: ignore[misc]
        return hdr

    def copy(self) -> PARRECHeader:
        """An independent copy (re-checked for truncation, as on construction)."""
        return self._named(self._source, deepcopy(self.general_info), self.image_defs.copy(),
                           self.permit_truncated, self.strict_sort)

    @staticmethod
    def may_contain_header(binaryblock: bytes) -> bool:
        """Whether bytes may start a PAR file: text whose first mark is '#' or '.'."""
        start = binaryblock.lstrip()[:1]
        return start in (b"#", b".")

    def _error(self, msg: str) -> PARRECError:
        """A PARRECError naming the PAR file, when the header was read from one."""
        return PARRECError(msg if self._source == "PAR header" else f"{self._source}: {msg}")

    def _info(self, key: str) -> Any:
        try:
            return self.general_info[key]
        except KeyError:
            par_key = _PAR_KEYS.get(key, key)
            raise PARRECError(f"{self._source}: general information lacks {par_key!r}") from None

    def _truncation_checks(self) -> None:
        def complain(msg: str) -> None:
            if not self.permit_truncated:
                raise self._error(msg)
            warnings.warn(msg, stacklevel=4)

        for def_name, info_name in (
            ("slice", "max_slices"),
            ("echo", "max_echoes"),
            ("dynamic scan", "max_dynamics"),
            ("diffusion b value", "max_diffusion_values"),
            ("gradient orientation", "max_gradient_orient"),
        ):
            field = def_name + " number"
            if info_name not in self.general_info or field not in (self.image_defs.dtype.names or ()):
                continue
            n_have = len(np.unique(self.image_defs[field]))
            n_expected = self.general_info[info_name]
            if n_have != n_expected:
                complain(f"Header inconsistency: Found {n_have} {def_name} values, but expected {n_expected}")
        if not np.all(self._vol_is_full(self.image_defs["slice number"])):
            complain("Found one or more partial volume(s)")

    def _vol_is_full(self, slice_nos: np.ndarray) -> np.ndarray:
        try:
            return vol_is_full(slice_nos, self._info("max_slices"))
        except ValueError as err:
            if isinstance(err, PARRECError):
                raise
            raise PARRECError(f"{self._source}: {err}") from None

    # ---- simple fields -------------------------------------------------------

    def get_def(self, name: str) -> np.ndarray | None:
        """The image-table column ``name``, or None if this version has no such column."""
        names = self.image_defs.dtype.names or ()
        return self.image_defs[name] if name in names else None

    def _get_unique_image_prop(self, name: str) -> Any:
        """The value of image-table column ``name``, which must be the same on every line."""
        values = self.image_defs[name]
        if len(values) == 0:
            raise PARRECError(f"{self._source}: no image lines")
        if np.any(values != values[0]):
            raise self._error(f"Varying {name} in image sequence ({values}). This is not supported.")
        return values[0]

    def get_water_fat_shift(self) -> float:
        """Water-fat shift, in pixels."""
        return self._info("water_fat_shift")

    def get_echo_train_length(self) -> int:
        """Echo train length (the EPI factor)."""
        return self._info("epi_factor")

    def get_data_offset(self) -> int:
        """Where the data start in the REC file: always 0."""
        return 0

    def set_data_offset(self, offset: int) -> None:
        """Only 0 is accepted: REC files have no header."""
        if offset != 0:
            raise PARRECError("PAR header assumes offset 0")

    def get_slice_orientation(self) -> str:
        """The slice orientation: 'transverse', 'sagittal' or 'coronal'."""
        code = self._get_unique_image_prop("slice orientation")
        try:
            return _ORIENTATION_LABELS[int(code)]
        except KeyError:
            raise PARRECError(f"{self._source}: unknown slice orientation code {code}") from None

    def get_rec_shape(self) -> tuple[int, ...]:
        """Shape of the REC file's content: in-plane size and the number of image lines."""
        inplane = tuple(int(n) for n in self._get_unique_image_prop("recon resolution"))
        return inplane + (len(self.image_defs),)

    def as_analyze_map(self) -> dict[str, Any]:
        """NIfTI/Analyze fields this header fills: ``descr`` and ``xyzt_units``."""
        info = self.general_info
        descr = ";".join(
            (info.get("exam_name", ""), info.get("patient_name", ""),
             info.get("exam_date", "").replace(" ", ""), info.get("protocol_name", ""))
        )[:80]
        # time zooms are in seconds when there are dynamics (converted in _calc_zooms)
        is_fmri = info.get("max_dynamics", 1) > 1
        return {"descr": descr, "xyzt_units": 2 + (8 if is_fmri else 0)}

    # ---- shape and zooms -----------------------------------------------------

    def _get_n_slices(self) -> int:
        return len(np.unique(self.image_defs["slice number"]))

    def _get_n_vols(self) -> int:
        slice_nos = self.image_defs["slice number"]
        vol_nos = np.asarray(vol_numbers(slice_nos))
        return len(np.unique(vol_nos[self._vol_is_full(slice_nos)]))

    def _calc_data_shape(self) -> tuple[int, ...]:
        inplane = tuple(int(n) for n in self._get_unique_image_prop("recon resolution"))
        n_vols = self._get_n_vols()
        if n_vols == 0:
            raise PARRECError(f"{self._source}: no complete volume among the image lines")
        shape = inplane + (self._get_n_slices(),)
        return shape + (n_vols,) if n_vols > 1 else shape

    def _calc_zooms(self) -> np.ndarray:
        slice_gap = self._get_unique_image_prop("slice gap")
        zooms = np.ones(4 if self._get_n_vols() > 1 else 3)
        zooms[:2] = self._get_unique_image_prop("pixel spacing")
        zooms[2] = self._get_unique_image_prop("slice thickness") + slice_gap
        if len(zooms) > 3 and self.general_info.get("dyn_scan"):
            tr = np.atleast_1d(self._info("repetition_time"))
            if len(tr) == 0:
                raise PARRECError(f"{self._source}: no repetition time in a dynamic scan")
            if len(tr) > 1:
                warnings.warn("multiple TRs found in .PAR file", stacklevel=4)
            zooms[3] = tr[0] / 1000.0  # ms to s
        return zooms

    # ---- scaling, order, labels ----------------------------------------------

    def get_data_scaling(self, method: str = "dv") -> tuple[np.ndarray, np.ndarray]:
        """Slope and intercept per slice, shaped to broadcast against the data.

        Parameters
        ----------
        method : {'dv', 'fp'}
            'dv' (default): the values shown on the scanner console,
            ``DV = PV * RS + RI``. 'fp': Philips' floating-point values,
            ``FP = DV / (RS * SS)``, comparable across scans. PV is the REC
            value, RS/RI the rescale slope/intercept and SS the scale slope
            of each image line.

        Returns
        -------
        slope, intercept : ndarray
            Shape ``(1, 1) + data_shape[2:]``.
        """
        scale_slope = self.image_defs["scale slope"]
        rescale_slope = self.image_defs["rescale slope"]
        rescale_intercept = self.image_defs["rescale intercept"]
        if method == "dv":
            slope, intercept = rescale_slope, rescale_intercept
        elif method == "fp":
            # floating point values: what the scanner computed before storing integers
            with np.errstate(divide="ignore", invalid="ignore"):
                slope, intercept = 1.0 / scale_slope, rescale_intercept / (scale_slope * rescale_slope)
        else:
            raise PARRECError(f"Unknown scaling method '{method}'.")
        order = self.get_sorted_slice_indices()
        shape = (1, 1) + self.get_data_shape()[2:]
        return slope[order].reshape(shape, order="F"), intercept[order].reshape(shape, order="F")

    def _strict_sort_order(self) -> np.ndarray:
        """Order by image type, dynamic, label type, b-value, gradient, phase, echo, slice (slowest first)."""
        defs = self.image_defs
        slice_nos = defs["slice number"]
        asl_keys: tuple[np.ndarray, ...] = (defs["label type"],) if self.get_def("label type") is not None else ()
        if self.general_info.get("diffusion", 0) != 0:
            bvals = self.get_def("diffusion b value number")
            if bvals is None:
                bvals = self.get_def("diffusion_b_factor")
            bvecs = self.get_def("gradient orientation number")
            diffusion_keys: tuple[Any, ...] = (bvals,) if bvecs is None else (bvecs, bvals)
        else:
            diffusion_keys = ()
        keys = ((slice_nos, defs["echo number"], defs["cardiac phase number"]) + diffusion_keys + asl_keys
                + (defs["dynamic scan number"], defs["image_type_mr"]))
        first = np.lexsort(keys)
        # volumes the keys do not tell apart (e.g. V4 diffusion) keep their file order;
        # slices of incomplete volumes go last, where the output shape cuts them off
        ordered = slice_nos[first]
        return first[np.lexsort((np.asarray(vol_numbers(ordered)), self._vol_is_full(ordered)))]

    def _lax_sort_order(self) -> np.ndarray:
        """Order by volume (repeats of a slice number), then slice number; incomplete volumes last."""
        slice_nos = self.image_defs["slice number"]
        is_full = self._vol_is_full(slice_nos)
        return np.lexsort((slice_nos, np.asarray(vol_numbers(slice_nos)), np.logical_not(is_full)))

    def get_sorted_slice_indices(self) -> np.ndarray:
        """Indices into the REC's images (and ``image_defs``) in output order, incomplete volumes dropped."""
        order = self._strict_sort_order() if self.strict_sort else self._lax_sort_order()
        return order[: int(np.prod(self.get_data_shape()[2:]))]

    def get_volume_labels(self) -> dict[str, np.ndarray]:
        """Per-volume values of the image-table columns that vary between volumes.

        Returns
        -------
        dict
            Column name -> array with one value per volume (in output order),
            for those of cardiac phase, echo, label type, image type, dynamic,
            scanning sequence, gradient orientation and b-value number that
            take more than one value.
        """
        order = self.get_sorted_slice_indices()
        defs = self.image_defs
        candidates = ["cardiac phase number", "echo number", "label type", "image_type_mr",
                      "dynamic scan number", "scanning sequence", "gradient orientation number",
                      "diffusion b value number"]
        first_slice = defs["slice number"][order] == 1
        labels: dict[str, np.ndarray] = {}
        for key in candidates:
            column = self.get_def(key)
            if column is not None and len(np.unique(column)) > 1:
                labels[key] = column[order][first_slice]
        return labels

    # ---- diffusion -----------------------------------------------------------

    def _per_volume(self, column: np.ndarray, what: str) -> np.ndarray:
        n_slices, n_vols = self.get_data_shape()[-2:]
        order = self.get_sorted_slice_indices()
        values = column[order].reshape((n_slices, n_vols) + column.shape[1:], order="F")
        if np.any(values != values[:1]):
            raise PARRECError(f"{self._source}: {what} differ between the slices of one volume")
        return values[0]

    def get_bvals_bvecs(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """b-values and b-vectors per volume, or (None, None) if not a diffusion scan.

        Returns
        -------
        bvals : ndarray (n_vols,) or None
        bvecs : ndarray (n_vols, 3) or None
            Unit vectors in the voxel axes of the image (rotated from the PAR's
            ap/fh/rl axes to match the slice orientation); None for version
            4.0 files, which have no gradient directions.
        """
        if self.general_info.get("diffusion", 0) == 0 or len(self.get_data_shape()) == 3:
            # one volume (e.g. an ADC map): no b-values to give
            return None, None
        bvals = self._per_volume(self.image_defs["diffusion_b_factor"], "b-values")
        directions = self.get_def("diffusion")
        if directions is None:
            return bvals, None
        bvecs = self._per_volume(directions, "gradient directions")
        to_psl = ACQ_TO_PSL[self.get_slice_orientation()]
        return bvals, apply_affine(np.linalg.inv(to_psl), bvecs)

    def get_q_vectors(self) -> np.ndarray | None:
        """b-vectors scaled by their b-values, or None if not a diffusion scan."""
        bvals, bvecs = self.get_bvals_bvecs()
        if bvals is None or bvecs is None:
            return None
        return bvecs * bvals[:, np.newaxis]

    # ---- affine ----------------------------------------------------------------

    def get_affine(self, origin: str = "scanner") -> np.ndarray:
        """Voxel to world (RAS+, mm) affine.

        Parameters
        ----------
        origin : {'scanner', 'fov'}
            'scanner' (default): world origin at the scanner's isocentre (the
            off-centre is applied). 'fov': origin at the centre of the field
            of view.

        Notes
        -----
        Uses the general information's angulation and off-centre (ap, fh, rl),
        not the per-image values. The grid is centred, scaled by the voxel
        sizes, permuted to Philips' PSL axes according to the slice
        orientation, rotated (rl, then ap, then fh angles, composed as
        ``Rz @ Rx @ Ry``), shifted by the off-centre and turned into RAS.
        """
        if origin not in ("scanner", "fov"):
            raise PARRECError(f"origin must be 'scanner' or 'fov', not {origin!r}")
        grid = np.asarray(self.get_data_shape()[:3], dtype=float)
        centring = np.eye(4)
        centring[:3, 3] = (1 - grid) / 2  # voxel indices from the grid's centre
        scaling = np.diag([*self.get_zooms()[:3], 1.0])
        angulation = np.asarray(self._info("angulation"), dtype=float)
        if angulation.shape != (3,):
            raise PARRECError(f"{self._source}: angulation needs 3 values")
        ap, fh, rl = angulation * DEG2RAD
        rotation = np.eye(4)
        # products grouped from the right, so affines agree bit for bit with other readers
        rotation[:3, :3] = euler2mat(z=rl) @ (euler2mat(x=ap) @ euler2mat(y=fh))
        in_psl = rotation @ (ACQ_TO_PSL[self.get_slice_orientation()] @ (scaling @ centring))
        if origin == "scanner":
            in_psl[:3, 3] += self._info("off_center")
        return PSL_TO_RAS @ in_psl
