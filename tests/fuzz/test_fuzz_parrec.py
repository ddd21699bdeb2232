"""Fuzz PAR/REC pairs: PAR headers with lines missing, added, changed or contradicting each other,
and REC files cut short (with and without ``permit_truncated``).

Every case loads and reads (header, affine, slices, all data) or raises a
NivoxError naming the PAR or REC file; never another exception, a hang or an
allocation beyond what the files could hold.
"""

from __future__ import annotations

from functools import lru_cache

from hypothesis import given
from hypothesis import strategies as st
from suites.parrec_files import make_parrec

from fuzz.harness import check_files, fuzz_settings

SPECS = [
    {"version": "V4.2", "n_vols": 3, "vary_scaling": True},
    {"version": "V4.1", "diffusion": True, "dynamic": False, "n_vols": 4, "orientation": 2},
    {"version": "V4", "n_vols": 1, "bits": 8, "orientation": 3, "angulation": (10.0, -5.0, 3.0)},
]

# values that break assumptions: huge, negative, zero, not numbers
ODD_TOKENS = ["0", "-1", "1", "2", "99999", "4294967296", "99999999999999999999", "1e308", "-1e308",
              "nan", "inf", "-0.0", "x", "", "1.5", "16", "8", "32", "3", "7"]


@lru_cache(maxsize=None)
def _seed(index: int) -> tuple[list[str], bytes]:
    par, rec, _, _ = make_parrec(**SPECS[index])
    return par.decode("latin-1").splitlines(), rec


def _image_line_indices(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if line.strip()[:1].isdigit()]


@st.composite
def par_mutations(draw):
    """A seed's PAR with 1-4 line edits: drop, duplicate, swap, rewrite a value, cut, insert text."""
    index = draw(st.integers(0, len(SPECS) - 1))
    lines, rec = _seed(index)
    lines = list(lines)
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        kind = draw(st.sampled_from(["drop", "duplicate", "swap", "token", "general", "cut", "insert",
                                     "all-token"]))
        at = draw(st.integers(0, len(lines) - 1))
        if kind == "drop":
            del lines[at]
        elif kind == "duplicate":
            lines.insert(at, lines[at])
        elif kind == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif kind in ("token", "all-token"):
            image_lines = _image_line_indices(lines)
            if not image_lines:
                continue
            column = draw(st.integers(0, 45))
            token = draw(st.sampled_from(ODD_TOKENS) | st.text("0123456789.-e", max_size=6))
            targets = image_lines if kind == "all-token" else [draw(st.sampled_from(image_lines))]
            for target in targets:
                tokens = lines[target].split()
                if column < len(tokens):
                    tokens[column] = token
                    lines[target] = "  ".join(tokens)
        elif kind == "general":
            general = [i for i, line in enumerate(lines) if line.startswith(".")]
            if not general:
                continue
            target = draw(st.sampled_from(general))
            key = lines[target].split(":", 1)[0]
            value = " ".join(draw(st.lists(st.sampled_from(ODD_TOKENS), min_size=0, max_size=4)))
            lines[target] = f"{key}:   {value}"
        elif kind == "cut":
            lines[at] = lines[at][: draw(st.integers(0, max(0, len(lines[at]) - 1)))]
        else:
            lines.insert(at, draw(st.sampled_from(["# comment", ".    Unknown key   :   3", ".", "junk", "#",
                                                   ". no colon here", "1 2 3"])))
    return index, "\n".join(lines).encode("latin-1"), rec


@st.composite
def rec_truncations(draw):
    index = draw(st.integers(0, len(SPECS) - 1))
    lines, rec = _seed(index)
    image_bytes = len(rec) // len(_image_line_indices(list(lines)))
    marks = {0, 1, image_bytes, image_bytes - 1, len(rec) - 1, len(rec) - image_bytes, len(rec) // 2}
    cut = draw(st.sampled_from(sorted(m for m in marks if 0 <= m < len(rec))) | st.integers(0, len(rec) - 1))
    return index, "\n".join(lines).encode("latin-1"), rec[:cut]


def _options(permit: bool, strict: bool, scaling: str) -> dict:
    return {"permit_truncated": permit, "strict_sort": strict, "scaling": scaling}


@fuzz_settings(200)
@given(par_mutations(), st.booleans(), st.booleans(), st.sampled_from(["dv", "fp"]))
def test_par_header_lines(case, permit, strict, scaling):
    _, par, rec = case
    check_files("PAR header lines", {"seed.PAR": par, "seed.REC": rec}, "seed.PAR", "PARRECImage",
                load_options=_options(permit, strict, scaling))


@fuzz_settings(60)
@given(rec_truncations(), st.booleans(), st.sampled_from(["seed.PAR", "seed.REC"]))
def test_truncated_rec(case, permit, main):
    _, par, rec = case
    outcome = check_files("truncated REC files", {"seed.PAR": par, "seed.REC": rec}, main, "PARRECImage",
                          load_options=_options(permit, False, "dv"))
    # the last image is missing: only permit_truncated reads (the complete volumes left)
    if not permit:
        assert outcome != "ok"


def test_huge_image_size_refused_before_allocating():
    lines, rec = _seed(0)
    lines = list(lines)
    for i in _image_line_indices(lines):
        tokens = lines[i].split()
        tokens[9:11] = ["60000", "60000"]  # recon resolution: 7 GB per volume claimed
        lines[i] = "  ".join(tokens)
    outcome = check_files("PAR header lines", {"seed.PAR": "\n".join(lines).encode(), "seed.REC": rec},
                          "seed.PAR", "PARRECImage", load_options=_options(False, False, "dv"))
    assert outcome == "TruncatedDataError"
