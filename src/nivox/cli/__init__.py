"""The ``nivox`` command line: :func:`nivox.cli.main.main` parses and dispatches to one module per command.

Commands (``nivox COMMAND --help`` for the options of each):

- ``describe``: what each file holds: format, shape, dtype, voxel sizes,
  orientation, affine, codes, scaling; ``--stats`` adds the data range. The
  default command: ``nivox FILE`` is ``nivox describe FILE``.
- ``ls``: one table row per image file (globs and folders too), from headers only.
- ``header``: every header field of one file as stored, coded values labelled.
- ``diff``: the header fields (and, with ``--data``, voxels) in which files differ.
- ``stats``: min, max, mean, std and exact percentiles, optionally inside a mask.
- ``convert``: write an image in another format (by extension) or dtype.
- ``conform``: resample onto a grid of given shape, voxel size and orientation.
- ``reorient``: flip and permute the voxel axes to an orientation such as RAS.
- ``view``: save a picture of three orthogonal slices.
- ``roi``: crop to voxel ranges, keeping the affine right.

Example::

    nivox brain.nii.gz
    nivox ls --stats data/
    nivox diff --data --atol 1e-6 a.nii b.nii.gz
    nivox convert --dtype float32 bold.nii.gz bold.hdr
    nivox roi --x 10:40 --z=-10: brain.nii.gz crop.nii.gz

Exit status: 0 on success, 1 when a file could not be read or written, 2 for
a wrong command line. ``diff`` says 0 when the files match, 1 when they
differ and 2 on errors. Errors print one line, ``nivox: error: FILE: PROBLEM``
(just ``nivox: error: PROBLEM`` when the problem names the file itself).
"""
