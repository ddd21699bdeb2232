"""The format registry: complete, ordered, and lazy."""

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import nivox
from nivox import imageclasses
from nivox.imageclasses import FORMATS, classes_for_extension
from nivox.spatialimages import SpatialImage


def _image_classes_defined_in_package():
    found = set()
    for info in pkgutil.walk_packages(nivox.__path__, "nivox."):
        if info.name.startswith(("nivox.cli", "nivox.testing", "nivox._")):
            continue
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if (issubclass(obj, SpatialImage) and obj.__module__ == module.__name__
                    and obj.valid_exts and obj.rw):
                found.add((obj.__module__, obj.__name__))
    return found


def test_every_format_module_is_registered():
    registered = {(f"nivox.{entry.module}", entry.class_name) for entry in FORMATS}
    # classes live in submodules (nivox.nifti1.image); their public home is the registered module
    defined = {(module.rsplit(".", 1)[0] if module.count(".") > 1 else module, name)
               for module, name in _image_classes_defined_in_package()}
    assert defined <= registered, f"not in the registry: {defined - registered}"


def test_registry_entries_load_and_claim_their_extensions():
    for entry in FORMATS:
        klass = entry.load_class()
        assert set(entry.extensions) == set(klass.valid_exts), entry.name


def test_priority_for_shared_extensions():
    names = [k.__name__ for k in classes_for_extension(".HDR")]
    assert names.index("Nifti1Pair") < names.index("AnalyzeImage")
    assert names[-1] == "AnalyzeImage"
    # CIFTI-2 files are NIfTI-2 files with CIFTI intents: the CIFTI class must sniff first
    assert [k.__name__ for k in classes_for_extension(".nii")] == ["Nifti1Image", "Cifti2Image",
                                                                   "Nifti2Image"]


def test_import_nivox_imports_no_format():
    code = "import sys, nivox; print(sorted(m for m in sys.modules if m.startswith('nivox')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['nivox']"
    out = subprocess.run([sys.executable, "-c", "import sys, nivox; print('numpy' in sys.modules)"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_directory_stores_are_loadable_by_extension_but_not_file_based_classes():
    # nibabel's users write every class in all_image_classes to file objects;
    # a NIfTI-Zarr store is a directory, so it is found by its extension only
    pytest.importorskip("zarr")
    from nivox.niftizarr import NiftiZarrImage

    assert NiftiZarrImage in imageclasses.classes_for_extension(".nii.zarr")
    assert NiftiZarrImage not in imageclasses.all_image_classes
    assert all(entry.file_based for entry in imageclasses.FORMATS if entry.name != "nifti-zarr")
