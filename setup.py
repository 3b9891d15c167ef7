"""Build the optional compiled ingest decoder, assay.ingest._wire (Cython).

Everything else about the package is in pyproject.toml. The extension is
optional: where it cannot be compiled (no C compiler), the build goes on without
it and ingest uses the pure-Python path (assay.ingest.compiled).
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = cythonize(
    [
        Extension(
            "assay.ingest._wire",
            ["src/assay/ingest/_wire.pyx"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ],
    language_level=3,
)
for extension in extensions:
    extension.optional = True  # cythonize() does not carry it over

setup(ext_modules=extensions)
