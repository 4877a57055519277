"""gesturebench: can synthetic videos teach a gesture recogniser when a large
pre-trained video encoder does the heavy lifting?

Importing the package imports no model code and no torch; heavy modules load
on first use.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
