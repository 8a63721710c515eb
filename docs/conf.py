"""Sphinx configuration: MyST Markdown + MathJax; pages generated from spec/ and the model.

Build: ``sphinx-build -W --keep-going -b html docs /tmp/out``. Before Sphinx reads the
sources, :mod:`generate` (next to this file) copies ``spec/*.md`` into ``generated/spec``
and writes the traceability matrix and the invariants & proofs page.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (docs/generate.py, found through the path above)

generate.generate()

project = "perpspec"
author = "perpspec contributors"
copyright = "perpspec contributors, Apache-2.0"
extensions = ["myst_parser", "sphinx.ext.mathjax", "sphinx.ext.viewcode"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "generate.py"]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
# spec rules are level-3 headings directly under the page title (the rule format of spec/)
suppress_warnings = ["myst.header"]
html_theme = "alabaster"
html_title = "perpspec"
