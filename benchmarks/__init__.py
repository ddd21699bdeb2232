"""Side-by-side benchmarks of nivox against nibabel (and SimpleITK).

Run ``python -m benchmarks --quick`` (about a minute) or ``python -m
benchmarks`` (full size images) from the repository root; ``--help`` lists
the options. See the "Benchmarks" section of the README for what is
measured and how.
"""
