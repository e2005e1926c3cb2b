"""A small filter language over runs' parameters and metrics, for the runs browser and
``python main.py runs --where``::

    method = jigsaw and knn_acc > 0.3
    (data.train_size >= 1000 or lr < 1e-3) and not status = failed
    name ~ seed and sweep = 2

Grammar (``or`` binds loosest; words are case-insensitive)::

    expr  := term ("or" term)*          term := factor ("and" factor)*
    factor := "not" factor | "(" expr ")" | FIELD OP VALUE
    OP    := = == != < <= > >= ~        (~: contains, case-insensitive)

A FIELD is a run column (``id name status method backbone dataset tags notes sweep step``), a
logged metric's last value (``loss``, ``knn_acc``...), a parameter (``train.lr``,
``data.train_size``, ``method.permutations``, or bare ``lr`` found in any section), or a quoted
name (``"svm acc"``, an evaluation figure when the caller supplies them). A VALUE is a number,
a word or a quoted string. A run without the field does not match. Malformed filters raise
FilterError, one sentence that says where.
"""
from __future__ import annotations

import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from engine.params import ParamError
from engine.store.run_record import Run

COLUMNS = ("id", "name", "status", "method", "backbone", "dataset", "tags", "notes", "step")
OPS = ("==", "!=", "<=", ">=", "=", "<", ">", "~")
_TOKEN = re.compile(r"""\s*(?:(?P<str>"[^"]*"|'[^']*')|(?P<op>==|!=|<=|>=|=|<|>|~)|(?P<paren>[()])|(?P<word>[^\s()=!<>~"']+))""")
MISSING = object()


class FilterError(ParamError):
    """A filter that cannot be read; the message is one sentence."""


@dataclass(frozen=True)
class Token:
    kind: str    # str, op, paren, word
    text: str
    at: int      # 1-based column


def tokenize(text: str) -> list[Token]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            pos += len(text[pos:]) - len(text[pos:].lstrip())
            raise FilterError(f"cannot read the filter at column {pos + 1}: {text[pos:pos + 12]!r}"
                              + (" (a quote is not closed)" if text[pos:].lstrip()[:1] in "\"'" else ""))
        kind = m.lastgroup
        out.append(Token(kind, m.group(kind), m.start(kind) + 1))
        pos = m.end()
    return out


def field_value(run: Run, field: str, figures: dict | None = None):
    """The value of ``field`` for ``run``, or MISSING."""
    if field.lower() in (*COLUMNS, "sweep"):
        field = field.lower()
    if field in COLUMNS:
        return getattr(run, field)
    if field == "sweep":
        return run.sweep_id if run.sweep_id is not None else MISSING
    if figures and field in figures:
        return figures[field]
    if field in run.latest:
        return run.latest[field]
    config = run.config
    section, _, name = field.partition(".")
    if name and section in ("data", "method", "backbone", "train"):
        params = config.get(section, {}) if section == "train" else config.get(section, {}).get("params", {})
        return params.get(name, MISSING)
    for section in ("train", "method", "data", "backbone"):
        params = config.get(section, {}) if section == "train" else config.get(section, {}).get("params", {})
        if isinstance(params, dict) and field in params:
            return params[field]
    return MISSING


def as_number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare(left, op: str, right: str) -> bool:
    if left is MISSING or left is None:
        return False
    if op == "~":
        return right.lower() in str(left).lower()
    a, b = as_number(left), as_number(right)
    if a is None or b is None:  # as text: = and != ignore case; order is alphabetical
        a, b = str(left).lower(), right.lower()
        if isinstance(left, bool):
            a = "true" if left else "false"
    return {"=": a == b, "==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


Predicate = Callable[[Run, dict], bool]


class _Parser:
    def __init__(self, text: str):
        self.text, self.tokens, self.i = text, tokenize(text), 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise FilterError(f"the filter ends too early: {self.text.strip()!r} needs a comparison such as knn_acc > 0.3")
        self.i += 1
        return tok

    def is_word(self, word: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "word" and tok.text.lower() == word

    def expr(self) -> Predicate:
        parts = [self.term()]
        while self.is_word("or"):
            self.i += 1
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else (lambda r, f, ps=tuple(parts): any(p(r, f) for p in ps))

    def term(self) -> Predicate:
        parts = [self.factor()]
        while self.is_word("and"):
            self.i += 1
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else (lambda r, f, ps=tuple(parts): all(p(r, f) for p in ps))

    def factor(self) -> Predicate:
        if self.is_word("not"):
            self.i += 1
            inner = self.factor()
            return lambda r, f: not inner(r, f)
        tok = self.take()
        if tok.kind == "paren" and tok.text == "(":
            inner = self.expr()
            close = self.peek()
            if close is None or close.text != ")":
                raise FilterError(f"the bracket at column {tok.at} is not closed")
            self.i += 1
            return inner
        return self.comparison(tok)

    def comparison(self, field: Token) -> Predicate:
        if field.kind not in ("word", "str") or field.text.lower() in ("and", "or"):
            raise FilterError(f"expected a field name at column {field.at}, not {field.text!r}")
        name = field.text.strip("\"'") if field.kind == "str" else field.text
        op = self.take()
        if op.kind != "op":
            raise FilterError(f"expected one of {' '.join(OPS)} after {name!r} at column {op.at}, not {op.text!r}")
        value = self.take()
        if value.kind not in ("word", "str"):
            raise FilterError(f"expected a value after {name} {op.text} at column {value.at}, not {value.text!r}")
        text = value.text[1:-1] if value.kind == "str" else value.text
        return lambda r, f: _compare(field_value(r, name, f), op.text, text)


def parse(text: str) -> Predicate:
    """``predicate(run, figures)`` for the filter ``text`` (empty: every run); FilterError otherwise."""
    if not text.strip():
        return lambda r, f: True
    parser = _Parser(text)
    predicate = parser.expr()
    extra = parser.peek()
    if extra is not None:
        raise FilterError(f"unexpected {extra.text!r} at column {extra.at}; join comparisons with and / or")
    return predicate


def select(runs: list[Run], text: str, figures: dict | None = None) -> list[Run]:
    """The runs that match; ``figures``: run id -> {evaluation figure: value} (optional)."""
    predicate = parse(text)
    figures = figures or {}
    return [r for r in runs if predicate(r, figures.get(r.id, {}))]


@dataclass(frozen=True)
class Group:
    value: object
    runs: int
    stats: dict   # metric -> (mean, sd, n)


def group_by(runs: list[Run], field: str, metrics: list[str], figures: dict | None = None) -> list[Group]:
    """Runs grouped by the value of ``field`` (missing: "-") with mean ± s.d. of each metric."""
    figures = figures or {}
    buckets: dict = {}
    for r in runs:
        value = field_value(r, field, figures.get(r.id, {}))
        buckets.setdefault("-" if value is MISSING else value, []).append(r)
    out = []
    for value, members in sorted(buckets.items(), key=lambda kv: (as_number(kv[0]) is None, as_number(kv[0]) or 0, str(kv[0]))):
        stats = {}
        for m in metrics:
            xs = [as_number(field_value(r, m, figures.get(r.id, {}))) for r in members]
            xs = [x for x in xs if x is not None]
            if xs:
                stats[m] = (statistics.fmean(xs), statistics.stdev(xs) if len(xs) > 1 else 0.0, len(xs))
        out.append(Group(value, len(members), stats))
    return out
