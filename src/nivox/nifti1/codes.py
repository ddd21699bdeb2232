"""Code tables of the NIfTI-1 and NIfTI-2 headers (and of Analyze 7.5 data types).

Each table is a :class:`~nivox.volumeutils.Recoder` whose rows start with the
integer code stored in the header. Every other element of a row is an alias,
so ``xform_codes.code['mni']``, ``xform_codes.code['NIFTI_XFORM_MNI_152']`` and
``xform_codes.code[4]`` all give ``4``. Labels, field names and aliases follow
``nibabel.nifti1`` so code written for nibabel finds the same entries; the rows
themselves come from ``nifti1.h`` / ``nifti2.h`` (plus the FSL and CIFTI-2
intent codes).

Two deliberate departures from nibabel, both in ``intent_codes.parameters``:
the Weibull intent lists its three parameters (nibabel lists two, so the third
could not be set), and the gamma and inverse Gaussian entries carry the
parameter names of ``nifti1.h`` instead of nibabel's garbled ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..volumeutils import DtypeMapper, Recoder

__all__ = [
    "data_type_codes",
    "analyze_data_type_codes",
    "intent_codes",
    "xform_codes",
    "unit_codes",
    "slice_order_codes",
]


def _have_binary128() -> bool:
    """True when ``np.longdouble`` is IEEE binary128, the layout of NIFTI_TYPE_FLOAT128.

    On x86 ``longdouble`` is the 80-bit extended type padded to 16 bytes: same
    size, different bits, so mapping code 1536 onto it would misread files.
    """
    info = np.finfo(np.longdouble)
    return bool(info.nmant == 112 and info.nexp == 15)


_RGB24 = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])
_RGBA32 = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1"), ("A", "u1")])

# (code, label, numpy type, NIfTI name). np.void marks codes without a numpy
# equivalent; rows are in ascending code order, so bare np.void / dtype('V')
# resolve to the last such row, as in nibabel.
_DATATYPES: tuple[tuple[int, str, Any, str], ...] = (
    (0, "none", np.void, ""),
    (1, "binary", np.void, ""),
    (2, "uint8", np.uint8, "NIFTI_TYPE_UINT8"),
    (4, "int16", np.int16, "NIFTI_TYPE_INT16"),
    (8, "int32", np.int32, "NIFTI_TYPE_INT32"),
    (16, "float32", np.float32, "NIFTI_TYPE_FLOAT32"),
    (32, "complex64", np.complex64, "NIFTI_TYPE_COMPLEX64"),
    (64, "float64", np.float64, "NIFTI_TYPE_FLOAT64"),
    (128, "RGB", _RGB24, "NIFTI_TYPE_RGB24"),
    (255, "all", np.void, ""),
    (256, "int8", np.int8, "NIFTI_TYPE_INT8"),
    (512, "uint16", np.uint16, "NIFTI_TYPE_UINT16"),
    (768, "uint32", np.uint32, "NIFTI_TYPE_UINT32"),
    (1024, "int64", np.int64, "NIFTI_TYPE_INT64"),
    (1280, "uint64", np.uint64, "NIFTI_TYPE_UINT64"),
    (1536, "float128", np.longdouble, "NIFTI_TYPE_FLOAT128"),
    (1792, "complex128", np.complex128, "NIFTI_TYPE_COMPLEX128"),
    (2048, "complex256", np.clongdouble, "NIFTI_TYPE_COMPLEX256"),
    (2304, "RGBA", _RGBA32, "NIFTI_TYPE_RGBA32"),
)

# Analyze 7.5 defines only the codes up to DT_ALL (255), without NIfTI names.
_ANALYZE_CODES = frozenset((0, 1, 2, 4, 8, 16, 32, 64, 128, 255))


def _data_type_rows(binary128: bool, nifti: bool) -> list[tuple[Any, ...]]:
    """Rows (code, label, type, [niistring,] dtype, sw_dtype) of a data type table."""
    rows = []
    for code, label, kind, niistring in _DATATYPES:
        if not nifti and code not in _ANALYZE_CODES:
            continue
        if kind in (np.longdouble, np.clongdouble) and not binary128:
            kind = np.void
        dtype = np.dtype(kind)
        sw_dtype = dtype.newbyteorder("S")
        if nifti:
            rows.append((code, label, kind, niistring, dtype, sw_dtype))
        else:
            rows.append((code, label, kind, dtype, sw_dtype))
    return rows


def _make_data_type_codes(binary128: bool, nifti: bool = True) -> Recoder:
    """A data type Recoder; ``binary128`` says whether 1536/2048 get numpy types."""
    if nifti:
        fields: tuple[str, ...] = ("code", "label", "type", "niistring", "dtype", "sw_dtype")
    else:
        fields = ("code", "label", "type", "dtype", "sw_dtype")
    return Recoder(_data_type_rows(binary128, nifti), fields=fields, map_maker=DtypeMapper)


data_type_codes: Recoder = _make_data_type_codes(_have_binary128())
analyze_data_type_codes: Recoder = _make_data_type_codes(_have_binary128(), nifti=False)

_DOF = ("p1 = DOF",)
_LOC_SCALE = ("p1 = location", "p2 = scale")

# (code, label, parameter names, NIfTI name, *extra aliases)
intent_codes = Recoder(
    (
        (0, "none", (), "NIFTI_INTENT_NONE"),
        (2, "correlation", _DOF, "NIFTI_INTENT_CORREL"),
        (3, "t test", _DOF, "NIFTI_INTENT_TTEST"),
        (4, "f test", ("p1 = numerator DOF", "p2 = denominator DOF"), "NIFTI_INTENT_FTEST"),
        (5, "z score", (), "NIFTI_INTENT_ZSCORE"),
        (6, "chi2", _DOF, "NIFTI_INTENT_CHISQ"),
        (7, "beta", ("p1=a", "p2=b"), "NIFTI_INTENT_BETA"),
        (
            8,
            "binomial",
            ("p1 = number of trials", "p2 = probability per trial"),
            "NIFTI_INTENT_BINOM",
        ),
        (9, "gamma", ("p1 = shape", "p2 = scale"), "NIFTI_INTENT_GAMMA"),
        (10, "poisson", ("p1 = mean",), "NIFTI_INTENT_POISSON"),
        (11, "normal", ("p1 = mean", "p2 = standard deviation"), "NIFTI_INTENT_NORMAL"),
        (
            12,
            "non central f test",
            (
                "p1 = numerator DOF",
                "p2 = denominator DOF",
                "p3 = numerator noncentrality parameter",
            ),
            "NIFTI_INTENT_FTEST_NONC",
        ),
        (
            13,
            "non central chi2",
            ("p1 = DOF", "p2 = noncentrality parameter"),
            "NIFTI_INTENT_CHISQ_NONC",
        ),
        (14, "logistic", _LOC_SCALE, "NIFTI_INTENT_LOGISTIC"),
        (15, "laplace", _LOC_SCALE, "NIFTI_INTENT_LAPLACE"),
        (16, "uniform", ("p1 = lower end", "p2 = upper end"), "NIFTI_INTENT_UNIFORM"),
        (
            17,
            "non central t test",
            ("p1 = DOF", "p2 = noncentrality parameter"),
            "NIFTI_INTENT_TTEST_NONC",
        ),
        (
            18,
            "weibull",
            ("p1 = location", "p2 = scale", "p3 = power"),
            "NIFTI_INTENT_WEIBULL",
        ),
        (19, "chi", _DOF, "NIFTI_INTENT_CHI"),
        (20, "inverse gaussian", ("p1 = mu", "p2 = lambda"), "NIFTI_INTENT_INVGAUSS"),
        (21, "extreme value 1", _LOC_SCALE, "NIFTI_INTENT_EXTVAL"),
        (22, "p value", (), "NIFTI_INTENT_PVAL"),
        (23, "log p value", (), "NIFTI_INTENT_LOGPVAL"),
        (24, "log10 p value", (), "NIFTI_INTENT_LOG10PVAL"),
        (1001, "estimate", (), "NIFTI_INTENT_ESTIMATE"),
        (1002, "label", (), "NIFTI_INTENT_LABEL"),
        (1003, "neuroname", (), "NIFTI_INTENT_NEURONAME"),
        (1004, "general matrix", ("p1 = M", "p2 = N"), "NIFTI_INTENT_GENMATRIX"),
        (1005, "symmetric matrix", ("p1 = M",), "NIFTI_INTENT_SYMMATRIX"),
        (1006, "displacement vector", (), "NIFTI_INTENT_DISPVECT"),
        (1007, "vector", (), "NIFTI_INTENT_VECTOR"),
        (1008, "pointset", (), "NIFTI_INTENT_POINTSET"),
        (1009, "triangle", (), "NIFTI_INTENT_TRIANGLE"),
        (1010, "quaternion", (), "NIFTI_INTENT_QUATERNION"),
        (1011, "dimensionless", (), "NIFTI_INTENT_DIMLESS"),
        # GIFTI intents, shared with NIfTI
        (2001, "time series", (), "NIFTI_INTENT_TIME_SERIES", "NIFTI_INTENT_TIMESERIES"),
        (2002, "node index", (), "NIFTI_INTENT_NODE_INDEX"),
        (2003, "rgb vector", (), "NIFTI_INTENT_RGB_VECTOR"),
        (2004, "rgba vector", (), "NIFTI_INTENT_RGBA_VECTOR"),
        (2005, "shape", (), "NIFTI_INTENT_SHAPE"),
        # FSL's warp fields (fnirt, topup)
        (2006, "fnirt disp field", (), "FSL_FNIRT_DISPLACEMENT_FIELD"),
        (2007, "fnirt cubic spline coef", (), "FSL_CUBIC_SPLINE_COEFFICIENTS"),
        (2008, "fnirt dct coef", (), "FSL_DCT_COEFFICIENTS"),
        (2009, "fnirt quad spline coef", (), "FSL_QUADRATIC_SPLINE_COEFFICIENTS"),
        # nibabel's label has a trailing space; the stripped spelling is an alias
        (
            2016,
            "topup cubic spline coef ",
            (),
            "FSL_TOPUP_CUBIC_SPLINE_COEFFICIENTS",
            "topup cubic spline coef",
        ),
        (2017, "topup quad spline coef", (), "FSL_TOPUP_QUADRATIC_SPLINE_COEFFICIENTS"),
        (2018, "topup field", (), "FSL_TOPUP_FIELD"),
        # CIFTI-2 (3005 was never assigned)
        (3000, "ConnUnknown", (), "NIFTI_INTENT_CONNECTIVITY_UNKNOWN"),
        (3001, "ConnDense", (), "NIFTI_INTENT_CONNECTIVITY_DENSE"),
        (3002, "ConnDenseSeries", (), "NIFTI_INTENT_CONNECTIVITY_DENSE_SERIES"),
        (3003, "ConnParcels", (), "NIFTI_INTENT_CONNECTIVITY_PARCELLATED"),
        (3004, "ConnParcelSries", (), "NIFTI_INTENT_CONNECTIVITY_PARCELLATED_SERIES"),
        (3006, "ConnDenseScalar", (), "NIFTI_INTENT_CONNECTIVITY_DENSE_SCALARS"),
        (3007, "ConnDenseLabel", (), "NIFTI_INTENT_CONNECTIVITY_DENSE_LABELS"),
        (3008, "ConnParcelScalr", (), "NIFTI_INTENT_CONNECTIVITY_PARCELLATED_SCALAR"),
        (3009, "ConnParcelDense", (), "NIFTI_INTENT_CONNECTIVITY_PARCELLATED_DENSE"),
        (3010, "ConnDenseParcel", (), "NIFTI_INTENT_CONNECTIVITY_DENSE_PARCELLATED"),
        (
            3011,
            "ConnPPSr",
            (),
            "NIFTI_INTENT_CONNECTIVITY_PARCELLATED_PARCELLATED_SERIES",
        ),
        (
            3012,
            "ConnPPSc",
            (),
            "NIFTI_INTENT_CONNECTIVITY_PARCELLATED_PARCELLATED_SCALAR",
        ),
    ),
    fields=("code", "label", "parameters", "niistring"),
)

# qform_code / sform_code; 5 (TEMPLATE_OTHER) came with NIfTI-2 and is valid in both.
xform_codes = Recoder(
    (
        (0, "unknown", "NIFTI_XFORM_UNKNOWN"),
        (1, "scanner", "NIFTI_XFORM_SCANNER_ANAT"),
        (2, "aligned", "NIFTI_XFORM_ALIGNED_ANAT"),
        (3, "talairach", "NIFTI_XFORM_TALAIRACH"),
        (4, "mni", "NIFTI_XFORM_MNI_152"),
        (5, "template", "NIFTI_XFORM_TEMPLATE_OTHER"),
    ),
    fields=("code", "label", "niistring"),
)

# xyzt_units: spatial codes use bits 0-2, temporal and spectral codes bits 3-5.
unit_codes = Recoder(
    (
        (0, "unknown"),
        (1, "meter"),
        (2, "mm"),
        (3, "micron"),
        (8, "sec"),
        (16, "msec"),
        (24, "usec"),
        (32, "hz"),
        (40, "ppm"),
        (48, "rads"),
    ),
    fields=("code", "label"),
)

slice_order_codes = Recoder(
    (
        (0, "unknown"),
        (1, "sequential increasing", "seq inc"),
        (2, "sequential decreasing", "seq dec"),
        (3, "alternating increasing", "alt inc"),
        (4, "alternating decreasing", "alt dec"),
        (5, "alternating increasing 2", "alt inc 2"),
        (6, "alternating decreasing 2", "alt dec 2"),
    ),
    fields=("code", "label"),
)
