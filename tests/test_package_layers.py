"""The package's structure: its layers hold (import-linter, as CI runs it), no module imports
another that imports it back, and no module imports another module's private names."""

import ast
import subprocess
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "nerhpo"


def test_layers_hold():
    proc = subprocess.run(["lint-imports"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "0 broken" in proc.stdout


def test_no_import_cycle():
    graph = grimp.build_graph("nerhpo")
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if module.startswith(imported + ".") or imported.startswith(module + "."):
                continue  # a package and its own module
            back = graph.find_shortest_chain(imported, module, as_packages=False)
            if back:
                cycles.append(f"{module} -> {' -> '.join(back)}")
    assert cycles == []


def test_no_module_imports_another_modules_private_names():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")) + sorted((ROOT / "workflow/scripts").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nerhpo"):
                found += [f"{path.name}: {a.name}" for a in node.names if a.name.startswith("_")]
    assert found == []


def test_every_subpackage_says_what_it_holds():
    for init in PACKAGE.glob("*/__init__.py"):
        assert ast.get_docstring(ast.parse(init.read_text())), init


def test_a_state_saved_by_the_previous_version_finds_its_names():
    """Tune states of nerhpo 0.1.0 name functions of nerhpo.hpo; they still resolve."""
    import nerhpo.hpo
    from nerhpo.search import ray_compat, runner, trainable

    assert nerhpo.hpo.trainable is trainable.trainable
    assert nerhpo.hpo.run_study is runner.run_study
    assert nerhpo.hpo.AtomicLocalFileSystem is ray_compat.AtomicLocalFileSystem
