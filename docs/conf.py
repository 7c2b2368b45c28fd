"""Sphinx configuration of the skcatdog documentation.

Build with ``make docs`` (installs the ``docs`` extra into ``.venv``, then runs
``sphinx-build -b html docs docs/_build/html``). The gallery examples in
``examples/`` are executed during the build; set ``SKCATDOG_EXAMPLES_FULL=1``
to run them at their larger scale.
"""

import os
import sys
from pathlib import Path

from sphinx.directives.other import Include

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # the package, even when not installed
sys.path.insert(0, str(DOCS))  # this file as module "conf", for the gallery's sort key
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import skcatdog  # noqa: E402

# -- project -----------------------------------------------------------------

project = "skcatdog"
author = "the skcatdog developers"
copyright = "the skcatdog developers, BSD-3-Clause"
version = release = skcatdog.__version__

# -- general -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip"]
default_role = "literal"  # `x` in a docstring is code, as in scikit-learn's docs
pygments_style = "sphinx"

# Pages written in Markdown elsewhere in the tree (docs/cli.md, ...) use
# relative links to source files of the repository, which Sphinx cannot
# resolve as documents; they stay plain links. Heading anchors let the pages
# link to their own sections.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]

# No intersphinx: the build machine reaches no documentation site, and links
# to other projects' docs are not worth an unreliable build.

# -- autodoc / autosummary / numpydoc ----------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"
# numpydoc renders the docstrings; its own class-member tables would repeat
# what the autosummary class template lists.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

# -- sphinx-gallery ----------------------------------------------------------


class ExampleOrder:
    """The gallery's order: the notebook first, then as a reader would go on."""

    ORDER = [
        "plot_notebook_retold.py",
        "plot_evaluation.py",
        "plot_grid_search.py",
        "plot_inside_the_network.py",
    ]

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = os.path.basename(filename)
        return (self.ORDER.index(name) if name in self.ORDER else len(self.ORDER), name)

    def __repr__(self):
        return "ExampleOrder"


sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "conf.ExampleOrder",
    "doc_module": ("skcatdog",),
    "backreferences_dir": "gen_modules/backreferences",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "show_memory": False,
    "capture_repr": ("_repr_html_",),
    "min_reported_time": 1,
}

# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skcatdog {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_show_sourcelink = False
html_static_path = []


# -- pages that may or may not exist yet ---------------------------------------

# Markdown pages at docs/ that other parts of the project write; each is in
# the user guide's table of contents when it exists.
OPTIONAL_PAGES = ["cli", "hostile_inputs", "scaling"]
_TOC_MARKER = "@OPTIONAL_PAGES@"


def _optional_pages(app, docname, source):
    if docname != "user_guide/index" or _TOC_MARKER not in source[0]:
        return
    lines = [f"   /{page}\n" for page in OPTIONAL_PAGES if (DOCS / f"{page}.md").exists()]
    source[0] = source[0].replace(f"   {_TOC_MARKER}\n", "".join(lines))


class OptionalInclude(Include):
    """``include``, except that a missing file inserts nothing (and no warning)."""

    def run(self):
        _, path = self.env.relfn2path(self.arguments[0])
        if not os.path.exists(path):
            return []
        return super().run()


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn's metadata-routing setters (set_fit_request, ...) are made
    # for every estimator class; their docstrings point into scikit-learn's
    # own documentation, and they are not part of skcatdog's API.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("source-read", _optional_pages)
    app.connect("autodoc-skip-member", _skip_member)
    app.add_directive("optional-include", OptionalInclude)
