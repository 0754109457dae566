"""Every notebook: generated header, no outputs, explains before code, ends with recap + exercises, proves its result
in its last code cell with one RESULT line, and makes only safe calls; Lightning owns the loop and the devices.

Code cells are parsed with ``ast`` (IPython magics and shell lines are set aside first), so a comment or a string
that mentions a call is not the call, and ``.to(dtype)`` is not ``.to(device)``."""

import ast
import builtins
import json
import re
import shutil
from pathlib import Path

import pytest

from tools.authoring import headers

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(ROOT.glob("week*/*.ipynb"))
HEADER_IDS = ["header", "setup"]
# Checked on the text of the code cells (they also catch these settings passed in a dict).
FORBIDDEN_TEXT = {
    r"trust_remote_code\s*=\s*True|[\"']trust_remote_code[\"']\s*:\s*True": "never trust remote code",
    r"weights_only\s*=\s*False|[\"']weights_only[\"']\s*:\s*False": "torch.load must use weights_only=True",
    r"loss\s*=\s*\w+\.mean\(\)\s*$": "a fake objective teaches nothing",
}
DEVICE_STRING = re.compile(r"(cpu|cuda|mps|xpu|hpu|xla|meta)(:\d+)?")
OPTIMIZER = re.compile(r"optim|sched|(^|\.)opt$")
BUILTINS = set(dir(builtins))


def cells(path):
    return json.loads(path.read_text())["cells"]


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def python_of(cell) -> str:
    """The cell's code with IPython magics and shell escapes (``%pip``, ``!ls``) replaced by ``pass``."""
    text = source(cell)
    if text.lstrip().startswith("%%"):
        return ""  # a cell magic: not Python
    lines = []
    for line in text.splitlines():
        stripped = line.lstrip()
        lines.append(line[: len(line) - len(stripped)] + "pass" if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


def parse(cell) -> ast.Module:
    try:
        return ast.parse(python_of(cell))
    except SyntaxError as err:
        raise AssertionError(f"cell {cell.get('id')!r} is not valid Python: {err}") from None


def dotted(node) -> str:
    return ast.unparse(node)


def device_like(node) -> bool:
    """``device``, ``self.device``, ``x.device``, ``"cuda"``, ``'cpu:0'``, ``torch.device(...)``; not dtypes."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and DEVICE_STRING.fullmatch(node.value.strip().lower()) is not None
    if isinstance(node, ast.Name):
        return "device" in node.id.lower()
    if isinstance(node, ast.Attribute):
        return "device" in node.attr.lower()
    if isinstance(node, ast.Call):
        return device_like(node.func)
    return False


def manual_optimization_steps(tree: ast.AST) -> set[int]:
    """Ids of the calls inside a function that calls ``self.manual_backward``: a ``training_step`` under Lightning's
    manual optimization (notebook 22's RLOO), where Lightning still owns the loop and the step is the subject."""
    inside = set()
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef) and any(
            isinstance(n, ast.Call) and dotted(n.func) == "self.manual_backward" for n in ast.walk(fn)
        ):
            inside |= {id(n) for n in ast.walk(fn) if isinstance(n, ast.Call)}
    return inside


def forbidden_calls(tree: ast.AST) -> list[str]:
    """Calls the course never makes: eval/exec, a hand-written optimizer loop, moving tensors to a device."""
    found, manual = [], manual_optimization_steps(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.keyword)
            and node.arg == "trust_remote_code"
            and not (isinstance(node.value, ast.Constant) and node.value.value is False)
        ):
            found.append(f"trust_remote_code={dotted(node.value)}: never trust remote code")
        if (
            isinstance(node, ast.keyword)
            and node.arg == "weights_only"
            and not (isinstance(node.value, ast.Constant) and node.value.value is True)
        ):
            found.append(f"weights_only={dotted(node.value)}: torch.load must use weights_only=True")
        if not isinstance(node, ast.Call):
            continue
        func, call = node.func, dotted(node)
        if (
            isinstance(func, ast.Name)
            and func.id in ("eval", "exec")
            or (isinstance(func, ast.Attribute) and func.attr in ("eval", "exec") and dotted(func.value) == "builtins")
        ):
            found.append(f"{call}: no eval/exec")
        if not isinstance(func, ast.Attribute):
            continue
        stepping = func.attr == "zero_grad" or func.attr == "step" and OPTIMIZER.search(dotted(func.value).lower())
        if stepping and id(node) not in manual:
            found.append(f"{call}: Lightning owns the loop")
        if (
            func.attr == "cuda"
            or func.attr == "to"
            and (any(device_like(a) for a in node.args) or any(k.arg == "device" for k in node.keywords))
        ):
            found.append(f"{call}: Lightning moves tensors to the device")
    return found


def result_strings(tree: ast.AST) -> list[ast.AST]:
    """Every string literal (plain or f-string) whose text starts with ``RESULT:``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            head = node.values[0] if node.values else None
            if isinstance(head, ast.Constant) and str(head.value).startswith("RESULT:"):
                found.append(node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("RESULT:"):
            found.append(node)
    # the constant parts of an f-string are Constant nodes too: count the f-string once
    inside = {id(v) for n in found if isinstance(n, ast.JoinedStr) for v in n.values}
    return [n for n in found if id(n) not in inside]


def leftmost(node):
    """The first operand of ``a + b + ...`` (a RESULT line may be an f-string plus a join)."""
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        node = node.left
    return node


def loaded_names(node) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - BUILTINS


def depends_on(tree: ast.Module, names: set[str]) -> set[str]:
    """``names`` and, through the cell's assignments, every name they were computed from."""
    sources: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in (n.id for n in ast.walk(target) if isinstance(n, ast.Name)):
                    sources.setdefault(name, set()).update(loaded_names(node.value))
        elif isinstance(node, ast.For):
            for name in (n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)):
                sources.setdefault(name, set()).update(loaded_names(node.iter))
    closure, todo = set(), set(names)
    while todo:
        name = todo.pop()
        closure.add(name)
        todo |= sources.get(name, set()) - closure
    return closure


def last_cell_violations(tree: ast.Module, results_elsewhere: int) -> list[str]:
    """The last code cell proves the result: an assert on what its single RESULT line prints."""
    problems = []
    strings = result_strings(tree)
    prints = [
        s.value
        for s in tree.body
        if isinstance(s, ast.Expr)
        and isinstance(s.value, ast.Call)
        and dotted(s.value.func) == "print"
        and s.value.args
        and leftmost(s.value.args[0]) in strings
    ]
    if len(strings) + results_elsewhere != 1 or len(prints) != 1:
        problems.append(
            f"exactly one RESULT line: one print('RESULT: ...') at the top level of the last code cell "
            f"and no other RESULT text (found {len(prints)} such print(s), {len(strings)} RESULT "
            f"string(s) in the last code cell, {results_elsewhere} in other cells)"
        )
    elif any("\n" in v.value for v in ast.walk(prints[0]) if isinstance(v, ast.Constant) and isinstance(v.value, str)):
        problems.append("the RESULT line must be one line (no newline in it)")
    asserts = [n for n in ast.walk(tree) if isinstance(n, ast.Assert)]
    if not asserts:
        problems.append("the last code cell must assert on the measured result (no assert found)")
    elif all(not loaded_names(a.test) for a in asserts):
        problems.append("the last code cell's asserts test constants only: they cannot fail")
    elif len(prints) == 1:
        printed = loaded_names(prints[0]) - {"print"}
        if not any(depends_on(tree, loaded_names(a.test)) & printed for a in asserts):
            problems.append(f"no assert in the last code cell tests what its RESULT line prints ({sorted(printed)})")
    return problems


MAX_CELL_LINES = 25  # one idea per cell (STYLE.md): longer only for a cell that defines one function or class


def long_cells(nb: list[dict]) -> dict[str, int]:
    """``{cell id: lines}`` of code cells over ``MAX_CELL_LINES`` non-blank lines that do more than define one
    function or class (imports beside it are fine)."""
    found = {}
    for cell in nb:
        if cell["cell_type"] != "code" or cell.get("id") in HEADER_IDS:
            continue
        text = source(cell)
        lines = sum(1 for line in text.splitlines() if line.strip())
        if lines <= MAX_CELL_LINES:
            continue
        body = [s for s in parse(cell).body if not isinstance(s, (ast.Import, ast.ImportFrom))]
        if not (len(body) == 1 and isinstance(body[0], (ast.FunctionDef, ast.ClassDef))):
            found[cell.get("id")] = lines
    return found


def violations(nb: list[dict]) -> list[str]:
    """Every convention this notebook breaks (empty: none)."""
    problems = []
    if [c.get("id") for c in nb[:2]] != HEADER_IDS or [c["cell_type"] for c in nb[:2]] != ["markdown", "code"]:
        problems.append("the first two cells must be the generated header (markdown 'header', code 'setup')")
    for c in nb:
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None):
            problems.append(f"cell {c.get('id')!r}: strip outputs before committing")
    code = [i for i, c in enumerate(nb) if c["cell_type"] == "code" and i >= 2]
    if not code:
        return [*problems, "no code after the header"]
    if not any(c["cell_type"] == "markdown" and source(c).strip() for c in nb[2 : code[0]]):
        problems.append("explain (markdown) before the first code cell after the header")
    tail = "\n".join(source(c) for c in nb[code[-1] + 1 :] if c["cell_type"] == "markdown")
    for heading in ("Recap", "Exercises"):
        if not re.search(rf"^##\s+{heading}\b", tail, flags=re.M):
            problems.append(f"a '## {heading}' section after the last code cell")
    if any("TODO" in source(c) for c in nb):
        problems.append("no TODO left in a notebook")
    code_cells = [c for c in nb if c["cell_type"] == "code"]
    text = "\n".join(source(c) for c in code_cells)
    problems += [f"{why} ({pattern})" for pattern, why in FORBIDDEN_TEXT.items() if re.search(pattern, text, re.M)]
    trees = [parse(c) for c in code_cells]
    for c, tree in zip(code_cells, trees, strict=True):
        problems += [f"cell {c.get('id')!r}: {found}" for found in forbidden_calls(tree)]
    elsewhere = sum(len(result_strings(t)) for t in trees[:-1])
    last = f"last code cell {code_cells[-1].get('id')!r}"
    problems += [f"{last}: {p}" for p in last_cell_violations(trees[-1], elsewhere)]
    return problems


def test_course_lists_every_notebook():
    listed = {s["path"] for s in headers.load_course()["step"] if not s.get("planned")}
    assert listed == {str(p.relative_to(ROOT)) for p in NOTEBOOKS}


def test_headers_and_readmes_match_the_template():
    assert headers.sync(ROOT, check=True) == []


def test_header_drift_is_detected(tmp_path):
    shutil.copy(ROOT / "course.toml", tmp_path)
    for p in NOTEBOOKS:
        (tmp_path / p.parent.name).mkdir(exist_ok=True)
        shutil.copy(p, tmp_path / p.relative_to(ROOT))
    for readme in ROOT.glob("week*/README.md"):
        (tmp_path / readme.parent.name).mkdir(exist_ok=True)
        shutil.copy(readme, tmp_path / readme.relative_to(ROOT))
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    assert headers.sync(tmp_path, check=True) == []
    victim = tmp_path / NOTEBOOKS[0].relative_to(ROOT)
    nb = json.loads(victim.read_text())
    nb["cells"][0]["source"] = "# A hand-edited title"
    victim.write_text(json.dumps(nb))
    assert headers.sync(tmp_path, check=True) == [f"{NOTEBOOKS[0].relative_to(ROOT)}: header differs from the template"]
    headers.sync(tmp_path)  # write mode repairs it
    assert headers.sync(tmp_path, check=True) == []


def test_colab_setup_never_upgrades_torch():
    course = headers.load_course()
    setup = headers.header_cells(course, course["step"][0])[1]["source"]
    # pins Colab's own torch while installing the package: the installed distribution's version, which is what pip
    # compares (torch.__version__ can carry a build label the distribution lacks: 2.11.0+cu130 for PyPI's 2.11.0,
    # and pip would then look for another torch; make test-colab met this)
    assert "f\"torch=={importlib.metadata.version('torch')}\"" in setup
    assert "--upgrade" not in setup and "-U" not in setup.split()
    assert setup.count(course["course"]["repo"]) == 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_hold_one_idea(path):
    over = long_cells(cells(path))
    assert not over, f"{path.name}: code cells over {MAX_CELL_LINES} lines (split them, one idea per cell): {over}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_conventions(path):
    problems = violations(cells(path))
    assert problems == [], f"{path.relative_to(ROOT)}:\n  " + "\n  ".join(problems)


# ---------------------------------------------------------------- the checks themselves can fail


def notebook(*cells_, last="## Recap\n\n## Exercises\n1. Try it."):
    """A minimal notebook: header, markdown, the given code cells (str) or (type, source) pairs, then a recap."""
    nb = [
        {"cell_type": "markdown", "id": "header", "source": "# Title"},
        {"cell_type": "code", "id": "setup", "source": "run = 1", "outputs": [], "execution_count": None},
        {"cell_type": "markdown", "id": "intro", "source": "Why."},
    ]
    for i, c in enumerate(cells_):
        kind, text = ("code", c) if isinstance(c, str) else c
        nb.append(
            {"cell_type": kind, "id": f"c{i}", "source": text, "outputs": [], "execution_count": None}
            if kind == "code"
            else {"cell_type": kind, "id": f"c{i}", "source": text}
        )
    if last is not None:
        nb.append({"cell_type": "markdown", "id": "recap", "source": last})
    return nb


GOOD_LAST = 'acc = 0.9\nassert acc > 0.8, "learned"\nprint(f"RESULT: accuracy {acc:.0%} vs chance 50%")'


def test_a_good_notebook_passes():
    assert violations(notebook("import torch\nx = torch.ones(2).to(torch.float32)", GOOD_LAST)) == []


@pytest.mark.parametrize(
    "last_cell, problem",
    [
        ('acc = 0.9\nprint(f"RESULT: accuracy {acc}")', "no assert found"),
        ('acc = 0.9\nassert True\nprint(f"RESULT: accuracy {acc}")', "test constants only"),
        (
            'acc, other = 0.9, 1\nassert other > 0\nprint(f"RESULT: accuracy {acc}")',
            "tests what its RESULT line prints",
        ),
        ('acc = 0.9\nassert acc > 0.8\n# print("RESULT: accuracy")', "found 0 such print(s)"),
        ('acc = 0.9\nassert acc > 0.8\nprint("RESULT: a")\nprint(f"RESULT: accuracy {acc}")', "found 2 such print(s)"),
        ('acc = 0.9\nassert acc > 0.8\nfor i in range(2):\n    print(f"RESULT: accuracy {acc}")', "found 0 such"),
        ('acc = 0.9\nassert acc > 0.8\nprint(f"RESULT: accuracy {acc}\\nRESULT: again")', "must be one line"),
    ],
)
def test_the_last_cell_rules_catch(last_cell, problem):
    found = violations(notebook(last_cell))
    assert len(found) == 1 and problem in found[0], found


def test_result_elsewhere_and_assert_elsewhere_are_caught():
    early = violations(notebook('print("RESULT: too early")', GOOD_LAST))
    assert len(early) == 1 and "1 in other cells" in early[0], early
    moved = violations(notebook("acc = 0.9\nassert acc > 0.8", 'print(f"RESULT: accuracy {acc}")'))
    assert len(moved) == 1 and "no assert found" in moved[0], moved


def test_a_result_line_built_from_parts_counts_once():
    last = (
        'acc, runs = 0.9, {"a": 1}\nassert acc > 0.8\n'
        'print(f"RESULT: accuracy {acc:.0%} on " + ", ".join(runs) + " runs")'
    )
    assert violations(notebook(last)) == []


def test_an_assert_on_a_value_computed_from_the_result_counts():
    last = (
        'verdicts = [("a", True)]\nfailed = [n for n, ok in verdicts if not ok]\nassert not failed\n'
        'print("RESULT: environment OK,", f"{len(verdicts)} checks")'
    )
    assert violations(notebook(last)) == []


@pytest.mark.parametrize(
    "nb, expected",
    [
        (notebook(GOOD_LAST)[:2] + notebook(GOOD_LAST)[3:], ["explain (markdown) before the first code cell"]),
        (notebook(GOOD_LAST, last="## Recap only"), ["'## Exercises' section after the last code cell"]),
        (
            notebook(("markdown", "## Recap\n## Exercises"), GOOD_LAST, last=None),
            ["'## Recap' section after the last code cell", "'## Exercises' section after the last code cell"],
        ),
        (notebook("x = 1  # TODO", GOOD_LAST), ["no TODO"]),
        ([{**c, "id": "intro"} if c.get("id") == "setup" else c for c in notebook(GOOD_LAST)], ["generated header"]),
        ([{**c, "execution_count": 3} if c.get("id") == "c0" else c for c in notebook(GOOD_LAST)], ["strip outputs"]),
    ],
)
def test_the_structure_rules_catch(nb, expected):
    found = violations(nb)
    assert len(found) == len(expected) and all(e in f for e, f in zip(expected, found, strict=True)), found


@pytest.mark.parametrize(
    "code",
    [
        "x.to(device)",
        'x.to("cuda")',
        "x.to('cpu')",
        "x.to('cuda:1')",
        "x.to(torch.device('cuda'))",
        "x.to(self.device)",
        "x.to(batch.device)",
        "x.to(device=d)",
        "x.to(dev_device, non_blocking=True)",
        "x.cuda()",
        "model.cuda(0)",
        "optimizer.zero_grad()",
        "model.zero_grad()",
        "optimizer.step()",
        "opt.step()",
        "self.optimizers().step()",
        "scheduler.step()",
        "eval('1 + 1')",
        "exec(code)",
        "builtins.eval(s)",
        "AutoModel.from_pretrained(p, trust_remote_code=True)",
        "AutoModel.from_pretrained(p, trust_remote_code=ok)",
        "torch.load(p, weights_only=False)",
        "torch.load(p, weights_only=flag)",
    ],
)
def test_forbidden_calls_are_found(code):
    assert len(forbidden_calls(ast.parse(code))) == 1, code


@pytest.mark.parametrize(
    "code",
    [
        "x.to(dtype)",
        "x.to(x.dtype)",
        "x.to(torch.float32)",
        "mask.to(hidden.dtype)",
        "x.to(other)",
        "x.cpu()",
        "model.eval()",
        "model.train()",
        "trainer.fit(model)",
        "# optimizer.step() is Lightning's job\nx = 1",
        "def training_step(self, batch, i):\n    opt = self.optimizers()\n    opt.zero_grad()\n"
        "    self.manual_backward(loss)\n    opt.step()",
        "s = 'call x.to(device) and .cuda() in a string'",
        "torch.load(p, weights_only=True)",
        "loss.backward()",
        "torch.cuda.is_available()",
        "torch.cuda.device_count()",
        "AutoModel.from_pretrained(p, trust_remote_code=False)",
        "%pip install x\n!ls\nif True:\n    %time y = 1",
    ],
)
def test_legitimate_calls_are_not_flagged(code):
    assert forbidden_calls(parse({"source": code})) == [], code


def test_forbidden_text_in_a_notebook():
    found = violations(notebook("cfg = {'trust_remote_code': True}", GOOD_LAST))
    assert len(found) == 1 and "never trust remote code" in found[0], found
