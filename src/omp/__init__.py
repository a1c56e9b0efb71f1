"""omp, the Open Manufacturing Platform."""

__version__ = "0.1.0.dev0"
