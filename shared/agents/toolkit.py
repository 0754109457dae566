"""Tools an agent may call, written so that model output can never run code.

* ``calculator(expression)``: arithmetic on numbers, parsed with ``ast`` and evaluated by walking the tree through a
  whitelist (numbers, + - * / // % **, unary +/-, parentheses). Names, calls, attributes, subscripts, strings,
  lambdas, comprehensions... are refused before anything is computed, and so are results beyond 1e100 (a huge
  power is refused from the sizes of its operands, before it is computed). ``eval`` is never used.
* ``Retriever``: semantic search over sentences with a sentence encoder (cosine similarity of unit vectors).
* ``word_counter(texts)``: how many times a word occurs in the texts (one word of letters only).

Every tool takes one string and returns one string; a refusal raises ``ToolError`` with a message that says what
was expected. The agent loop (``shared.agents.loop``) shows that message to the model as the observation, and turns
any other exception of a tool into an observation too.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections import Counter

import torch

MAX_INPUT = 200  # characters a tool accepts
MAX_MAGNITUDE = 1e100  # largest absolute value the calculator returns or computes on the way

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_WORD = re.compile(r"[a-z']+")


class ToolError(ValueError):
    """A tool refused its input; the message is shown to the model as the observation."""


def _check_input(text) -> str:
    if not isinstance(text, str):
        raise ToolError(f"expected the input as text; got {type(text).__name__}")
    text = text.strip()
    if not text:
        raise ToolError("empty input; expected something to work on")
    if len(text) > MAX_INPUT:
        raise ToolError(f"input of {len(text)} characters; expected at most {MAX_INPUT}")
    return text


def _digits(x) -> float:
    """log10 of |x|, also for integers too large for a float."""
    x = abs(x)
    if x == 0:
        return -math.inf
    return math.log10(x) if isinstance(x, float) or x < 10**300 else len(str(x)) - 1  # noqa: PLR2004


_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**"}
_LIMIT = math.log10(MAX_MAGNITUDE)


def _power_digits(left, right) -> float:
    """log10 of |left ** right|, from the operands' sizes alone (nothing is computed)."""
    if left == 0:
        return -math.inf
    return right * _digits(left)


def _operate(op: ast.operator, left, right):
    """``left op right`` for two numbers, or a ToolError that says why not. The sizes are checked before computing
    (a huge power would freeze the process), and whatever Python still refuses (an overflow, a division by zero, a
    type it cannot mix) is caught and reported, so no other exception leaves the calculator."""
    symbol = _SYMBOL[type(op)]
    if isinstance(op, ast.Pow):
        if left == 0 and right < 0:
            raise ToolError("0 cannot be raised to a negative power")
        if abs(right) > 1000 or _power_digits(left, right) > _LIMIT:
            raise ToolError(f"{left} ** {right} is too large; expected results up to 1e100")
    if isinstance(op, ast.Mult) and _digits(left) + _digits(right) > _LIMIT:
        raise ToolError("the product is too large; expected results up to 1e100")
    if isinstance(op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
        raise ToolError("division by zero")
    try:
        value = _BINARY[type(op)](left, right)
    except (ArithmeticError, ValueError, TypeError, MemoryError) as err:
        raise ToolError(f"cannot compute {left} {symbol} {right}: {err}") from None
    if isinstance(value, complex) or (isinstance(value, float) and not math.isfinite(value)):
        raise ToolError(f"{left} {symbol} {right} is not a finite real number")
    if _digits(value) > _LIMIT:
        raise ToolError("the result is too large; expected results up to 1e100")
    return value


def _evaluate(node):
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ToolError(f"{node.value!r} is not a number; the calculator only takes numbers and + - * / // % **")
        if _digits(node.value) > _LIMIT:
            raise ToolError("a number is too large; expected numbers up to 1e100")
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _operate(node.op, _evaluate(node.left), _evaluate(node.right))
    what = type(node.op).__name__ if isinstance(node, (ast.BinOp, ast.UnaryOp)) else type(node).__name__
    raise ToolError(f"{what} is not allowed; the calculator only takes numbers, + - * / // % ** and parentheses")


def calculator(expression: str) -> str:
    """Compute an arithmetic expression exactly.

    Args:
        expression: numbers with + - * / // % ** and parentheses, e.g. 347 * 29

    Returns:
        The value as text.
    """
    # Integers stay exact; a float prints with up to 10 significant digits (an integral float as an integer). Any input
    # it cannot compute, whatever the operator and the operand types, is refused with a ToolError that says why. The
    # docstring above is what a chat model reads (``shared.agents.native.tool_schemas``).
    text = _check_input(expression)
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # ValueError: a null byte in the text
        raise ToolError(f"cannot read {text!r} as arithmetic; expected numbers and + - * / // % ** ( )") from None
    try:
        value = _evaluate(tree)
    except RecursionError:
        raise ToolError("the expression is nested too deeply") from None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.10g}"
    return str(value)


def word_counter(texts):
    """A tool ``count(word) -> str``: how many times ``word`` occurs in ``texts`` (whole words, any case)."""
    counts = Counter(w for text in texts for w in _WORD.findall(text.lower()))

    def count(word: str) -> str:
        """Count how many times a word occurs in the corpus.

        Args:
            word: one word of letters, e.g. owl

        Returns:
            The number of times, as text.
        """
        w = _check_input(word).lower().strip("'\"")
        if not _WORD.fullmatch(w):
            raise ToolError(f"{word!r} is not one word; expected a single word made of letters, e.g. owl")
        return str(counts[w])

    return count


class Retriever:
    """Semantic search: ``search(query)`` returns the ``k`` sentences whose embeddings are closest to the query's.

    ``encode(list of texts) -> (n, dim)`` embeds texts; the sentences' embeddings can be given (a cached index) or
    are computed here. Vectors are normalized, so the score is the cosine similarity.
    """

    def __init__(self, sentences, encode, embeddings=None, k: int = 1):
        if not sentences or not all(isinstance(s, str) and s.strip() for s in sentences):
            raise ValueError("expected a non-empty list of non-empty sentences")
        if not isinstance(k, int) or not 1 <= k <= len(sentences):
            raise ValueError(f"k={k!r}; expected an integer between 1 and the number of sentences ({len(sentences)})")
        self.sentences, self.encode, self.k = list(sentences), encode, k
        vectors = encode(self.sentences) if embeddings is None else torch.as_tensor(embeddings)
        if vectors.shape[0] != len(self.sentences) or vectors.dim() != 2:
            raise ValueError(
                f"expected one embedding per sentence; got {tuple(vectors.shape)} for {len(self.sentences)} sentences"
            )
        self.vectors = torch.nn.functional.normalize(vectors.float(), dim=-1)

    def scores(self, query: str) -> torch.Tensor:
        """Cosine similarity of ``query`` to every sentence."""
        q = torch.nn.functional.normalize(self.encode([_check_input(query)]).float(), dim=-1)
        return (self.vectors @ q[0]).flatten()

    def search(self, query: str) -> str:
        """Find the corpus sentence closest in meaning to the query.

        Args:
            query: a few words, e.g. who mended an axe on monday

        Returns:
            The sentence.
        """
        best = self.scores(query).topk(self.k).indices.tolist()
        return " ".join(self.sentences[i] for i in best)

    __call__ = search
