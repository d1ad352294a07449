"""Registered checks, one module per chapter (``ch01.py`` ...).

Importing this package imports every chapter module, and each registers its checks
with :func:`course_nn.grading.core.register`. A new chapter only adds a module here.
"""

import importlib
import pkgutil

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")
