"""``nivox convert`` for Philips PAR/REC input: what nibabel's ``parrec2nii`` writes, and more.

The output image is what ``parrec2nii`` makes: data reoriented to LAS+ (the
orientation FSL expects, so b-vectors in voxel axes need no flip), sform and
qform set (code 1, scanner), ``cal_min``/``cal_max`` the data range, the
REC's integers kept with the PAR's slope and intercept when one pair scales
every slice, and float64 values when slices are scaled differently.
``--dtype`` writes another type instead (``float32`` halves the size of the
float64 output). Beside the image, in files named like it:

- ``.bval`` / ``.bvec`` for diffusion scans (FSL layout: one line of
  b-values; three lines of vector components, in the output's voxel axes);
  the Philips trace volume (b > 0 without direction) is dropped unless
  ``--keep-trace``;
- ``.ordering.csv`` when volumes differ by echo, dynamic, phase, image type,
  ... (``PARRECHeader.get_volume_labels``): one column per label, one row per
  output volume, as ``parrec2nii --volume-info`` writes.
"""

from __future__ import annotations

import csv
import os
from typing import Any

import numpy as np
from ..errors import InvalidArgumentError

__all__ = ["add_arguments", "convert_parrec", "is_parrec", "sidecar_stem"]

_SCALINGS = ("dv", "fp", "off")


def add_arguments(parser: Any) -> None:
    """The PAR/REC options of ``nivox convert``."""
    group = parser.add_argument_group(
        "PAR/REC input",
        "Options for Philips .PAR/.REC input (nibabel's parrec2nii). Scaling 'dv' (default) gives the "
        "values the scanner console shows; 'fp' the floating-point values Philips defines as "
        "DV / (rescale slope * scale slope), comparable between scans (use it for quantitative maps); "
        "'off' the raw REC integers.")
    group.add_argument("--scaling", choices=_SCALINGS, default="dv",
                       help="which PAR scaling to apply (default: dv)")
    group.add_argument("--strict-sort", action="store_true",
                       help="order volumes by the image table's labels (echo, dynamic, b-value, ...) "
                            "rather than by file order")
    group.add_argument("--permit-truncated", action="store_true",
                       help="convert an interrupted scan, dropping incomplete volumes, with a warning")
    group.add_argument("--origin", choices=("scanner", "fov"), default="scanner",
                       help="world origin: the scanner's isocentre (default) or the centre of the field of view")
    group.add_argument("--keep-trace", action="store_true",
                       help="keep the Philips diffusion trace volume (dropped by default, as parrec2nii does)")
    group.add_argument("--store-header", action="store_true",
                       help="keep the whole PAR header in a NIfTI comment extension "
                            "(nivox.parrec.exts2pars reads it back)")


def is_parrec(filename: str) -> bool:
    """Whether ``filename`` names a PAR or REC file (any case)."""
    return os.path.splitext(filename)[1].lower() in (".par", ".rec")


def sidecar_stem(output_file: str) -> str:
    """``output_file`` without its image extension(s): where .bval, .bvec and .ordering.csv go."""
    from ..filename_parser import splitext_addext

    return splitext_addext(output_file, (".gz", ".bz2", ".zst"))[0]


def _is_uniform(values: np.ndarray) -> bool:
    return bool(np.all(values == values.ravel()[0]))


def _keep_scaling(img: Any, slope: float, inter: float) -> None:
    """Write ``img``'s integers unchanged with ``slope``/``inter`` in the file's header.

    A slope and intercept set on the header are written as given, the data only
    cast (as nibabel does), so the PAR's stored values and scaling go in as they are.
    """
    img.header.set_slope_inter(slope, inter)


def _store_header(out: Any, img: Any) -> None:
    """Put the PAR file's text in a comment extension of ``out``'s header."""
    from ..nifti1 import Nifti1Extension

    if not hasattr(out.header, "extensions"):
        raise InvalidArgumentError("--store-header needs an output format with header extensions (NIfTI)")
    with img.file_map["header"].get_prepare_fileobj(mode="rb") as fobj:
        out.header.extensions.append(Nifti1Extension("comment", fobj.read()))


def _write_bvals_bvecs(stem: str, bvals: np.ndarray, bvecs: np.ndarray | None) -> list[str]:
    written = [stem + ".bval"]
    with open(written[0], "w") as out:
        out.write(" ".join(f"{v:g}" for v in bvals) + "\n")
    if bvecs is not None:
        written.append(stem + ".bvec")
        with open(written[1], "w") as out:
            for row in bvecs.T:
                out.write(" ".join(f"{v:.6g}" for v in row) + "\n")
    return written


def _write_volume_labels(stem: str, labels: dict[str, np.ndarray]) -> str:
    path = stem + ".ordering.csv"
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(list(labels))
        for row in zip(*labels.values()):
            writer.writerow([value.item() if hasattr(value, "item") else value for value in row])
    return path


def convert_parrec(input_file: str, output_file: str, *, dtype: Any = None, force: bool = False,
                   compresslevel: int | None = None, format_name: str | None = None, scaling: str = "dv",
                   strict_sort: bool = False, permit_truncated: bool = False, origin: str = "scanner",
                   keep_trace: bool = False, store_header: bool = False) -> tuple[Any, list[str]]:
    """Convert a PAR/REC pair; return the image written and the sidecar files written."""
    from ..affines import apply_affine, from_matvec, to_matvec
    from ..orientations import apply_orientation, inv_ornt_aff, io_orientation
    from ..parrec import PARRECImage
    from ._common import about, output_class, save_image
    from .convert import check_representable, read_volumes

    if scaling not in _SCALINGS:
        raise InvalidArgumentError(f"scaling must be one of {', '.join(_SCALINGS)}, not {scaling!r}")
    with about(input_file):
        img = PARRECImage.from_filename(input_file, permit_truncated=permit_truncated,
                                        scaling="dv" if scaling == "off" else scaling, strict_sort=strict_sort)
        header = img.header
        affine = header.get_affine(origin=origin)
        slope, inter = header.get_data_scaling("dv" if scaling == "off" else scaling)
        scale_pair: tuple[float, float] | None = None
        if scaling == "off":
            data, found = img.dataobj.get_unscaled(), None
            out_dtype = header.get_data_dtype()
        elif dtype is None and _is_uniform(slope) and _is_uniform(inter):
            data, found = img.dataobj.get_unscaled(), None
            out_dtype = header.get_data_dtype()
            scale_pair = (float(slope.ravel()[0]), float(inter.ravel()[0]))
        else:
            data, found = read_volumes(img, f"reading {input_file}")
            out_dtype = np.dtype(np.float64)
        if dtype is not None:
            out_dtype = np.dtype(dtype)
            if found is None:
                data, found = read_volumes(img, f"reading {input_file}") if scaling != "off" else (data, None)
        # to LAS+, as parrec2nii: FSL reads b-vectors in this frame without flips
        ornt = io_orientation(np.diag([-1, 1, 1, 1]) @ affine)
        to_las = np.eye(4)
        if not np.array_equal(ornt, [[0, 1], [1, 1], [2, 1]]):
            to_las = inv_ornt_aff(ornt, img.shape)
            affine = affine @ to_las
            data = apply_orientation(data, ornt)
        bvals, bvecs = header.get_bvals_bvecs()
        if not keep_trace and bvals is not None and bvecs is not None:
            keep = ~np.logical_and(bvals != 0, (bvecs == 0).all(axis=1))
            if not keep.all():
                data, bvals, bvecs = data[..., keep], bvals[keep], bvecs[keep]
        if bvecs is not None:
            rotation = from_matvec(to_matvec(np.linalg.inv(to_las))[0], [0, 0, 0])
            bvecs = apply_affine(rotation, bvecs)
        labels = header.get_volume_labels()
    with about(output_file):
        klass = output_class(img, output_file, format_name)
        if found is not None:
            check_representable(found, out_dtype, bool(getattr(klass.header_class, "has_data_slope", False)))
        out = klass(data, affine, header)
        out.set_data_dtype(out_dtype)
        out_header = out.header
        if hasattr(out_header, "set_sform"):
            out_header.set_sform(affine, code=1)
            out_header.set_qform(affine, code=1)
        low, high = (float(data.min()), float(data.max())) if data.size else (0.0, 0.0)
        if scale_pair is not None:
            low, high = low * scale_pair[0] + scale_pair[1], high * scale_pair[0] + scale_pair[1]
            if getattr(out_header, "has_data_slope", False):
                _keep_scaling(out, *scale_pair)
            else:
                out = klass(data * scale_pair[0] + scale_pair[1], affine, out_header)
                out.set_data_dtype(np.float64 if dtype is None else out_dtype)
        if "cal_min" in getattr(out_header, "keys", lambda: ())():
            out.header["cal_min"], out.header["cal_max"] = low, high
        if store_header:
            _store_header(out, img)
        written = save_image(out, output_file, force, compresslevel, format_name)
        stem = sidecar_stem(output_file)
        sidecars = []
        if bvals is not None:
            sidecars += _write_bvals_bvecs(stem, bvals, bvecs)
        if labels:
            sidecars.append(_write_volume_labels(stem, labels))
    return written, sidecars
