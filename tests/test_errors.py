"""Every public error is a NivoxError and also the builtin it stands for."""

import inspect

import pytest

from nivox import errors


ERROR_CLASSES = [
    obj for _, obj in inspect.getmembers(errors, inspect.isclass)
    if issubclass(obj, Exception) and not issubclass(obj, Warning)
    and obj.__module__ == errors.__name__
]


@pytest.mark.parametrize("klass", ERROR_CLASSES, ids=lambda k: k.__name__)
def test_every_error_has_the_root(klass):
    assert issubclass(klass, errors.NivoxError)


@pytest.mark.parametrize(
    ("klass", "builtin"),
    [
        (errors.ImageFileError, ValueError),
        (errors.ImageFileNotFoundError, FileNotFoundError),
        (errors.HeaderDataError, ValueError),
        (errors.HeaderTypeError, TypeError),
        (errors.TruncatedDataError, EOFError),
        (errors.TruncatedDataError, OSError),
        (errors.FloatingError, ValueError),
        (errors.ExpiredDeprecationError, RuntimeError),
        (errors.MissingDependencyError, ImportError),
        (errors.CastingError, ValueError),
        (errors.HeaderError, ValueError),
        (errors.DataError, ValueError),
        (errors.SlicerError, IndexError),
        (errors.SlicerError, ValueError),
        (errors.ArgumentTypeError, TypeError),
    ],
)
def test_errors_are_caught_by_the_builtin_they_stand_for(klass, builtin):
    with pytest.raises(builtin):
        raise klass("boom")


def test_warnings_share_a_root():
    assert issubclass(errors.VisibleDeprecationWarning, errors.NivoxWarning)
    assert issubclass(errors.HeaderFixWarning, UserWarning)


def test_all_lists_every_class():
    assert set(errors.__all__) == {k.__name__ for k in ERROR_CLASSES} | {
        "NivoxWarning", "VisibleDeprecationWarning", "HeaderFixWarning"} | {
        "HeaderWarning", "DataWarning", "ExtensionWarning"}  # tractograms
