"""Readers nivox takes from well-kept libraries, under the module names nibabel uses."""
