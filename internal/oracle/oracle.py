#!/usr/bin/env python3
"""An independent oracle for laiondb's audit query language.

This program shares no code with laiondb. It evaluates a query, given as a
JSON tree (rendered from the same generated tree as the laiondb query text),
over rows given as JSON and image embeddings read from the .npy files with
numpy, with the semantics of query/doc.go written out in Python:

  * contains is `pattern.lower() in str(value).lower()`, with Python's
    str.lower() and str(); has word is a whole-word occurrence in the lowered
    value; matches is Go's RE2, emulated on Python's re (see Regex below);
    lexicons are any-keyword contains.
  * SQL's three-valued logic: a predicate on a null value, or on a NaN
    float (pandas' isna), is unknown; not unknown is unknown; rows are
    selected only when the predicate is true. `is null` is true for NaN.
  * numbers compare numerically whatever their spelling and column type
    (Python's exact int/float comparison).
  * by file: each part (a source file) counts its selected rows of all its
    rows, with the Wilson interval, and the pooled share of all rows.
  * search scores are the cosine of the stored vectors, in float64:
    dot / (|a| |b|); knn returns the top K, best first, ties (equal scores)
    broken by the target row itself first, then store position; within
    selects every row with cosine >= S. Scores within TOL of each other,
    or of S, may go either way.
  * statistics: label counts most frequent first, ties by value, null
    (and NaN) last; lexicon counts with Wilson 95% intervals; similarity
    quartiles by linear interpolation (numpy.quantile).

Protocol: one JSON object per line on stdin, one per line on stdout.

  {"op": "load", "dataset": NAME, "parts": [{"columns": [COL...], "npy": PATH}]}
      COL = {"name": parquet name, "type": "string"|"int"|"float64"|"float32",
             "values": [...]}; floats are strings ("0.3", "NaN", "+Inf") or null.
  {"op": "query", "dataset": NAME, "query": TREE, "observed": [[row, score]...]}
      observed (optional) is the store's own search list (source and where
      only); when it is an acceptable answer (within the tolerances above)
      limit, post where and the statistics are computed from it, so that
      near-ties do not make spurious differences; its problems are reported.
  {"op": "regex", "pattern": P, "texts": [...]}  -> {"matches": [bool...]}
      (a self-check of the RE2 emulation against Go's regexp)

Answers carry "error" (null, or why the query is an error) and the figures.
"""

import json
import math
import re
import statistics
import sys

try:
    import numpy as np
    import pandas as pd
except ImportError as _e:
    sys.stderr.write("oracle.py: %s: install python3-pandas and python3-numpy (scripts/install-oracle.sh)\n" % _e)
    sys.exit(3)

TOL = 1e-6

# Every word of the grammar is a keyword and reserved: a column with such a
# name must be written "quoted".
KEYWORDS = {
    "all", "scan", "knn", "within", "image", "row", "id", "sample", "vector",
    "where", "limit", "post", "by", "and", "or", "not", "in", "is", "null",
    "contains", "has", "word", "matches", "lexicon", "any", "true", "false",
}

ESSAY2021 = ["porn", "hot ", "adult", "xxx", "sex", "fuck", " rape "]

# The 97.5% quantile of the standard normal distribution, from the standard
# library rather than a constant.
Z = statistics.NormalDist().inv_cdf(0.975)

NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class QueryError(Exception):
    """The query is an error (syntax, unknown name, type, target...)."""


# Classes of errors, by message: the test groups disagreements by them.
ERROR_CLASSES = [
    ("RE2", "regex"), ("is a keyword", "keyword-as-column"), ("empty column name", "empty-column-name"),
    ("unknown column", "unknown-column"), ("any is not a column", "any-as-column"), ("any needs", "any-as-column"),
    ("cannot compare", "type"), ("empty in list", "syntax"), ("has word with an empty", "has-word-empty"),
    ("unknown lexicon", "unknown-lexicon"), ("empty keyword", "lexicon-empty-keyword"),
    ("no keywords", "lexicon-no-keywords"), ("CLIP model", "no-model"), ("row must", "target-row"),
    ("row ", "target-row"), ("SAMPLE_ID", "target-id"), ("sample_id", "target-id"), ("vector", "target-vector"),
    ("cannot read", "target-vector"), ("npy", "target-vector"), ("threshold", "threshold"),
    ("k must", "k"), ("limit must", "limit"), ("malformed number", "number"),
]


def error_class(msg):
    for needle, cls in ERROR_CLASSES:
        if needle in msg:
            return cls
    return "other"


class Unsupported(Exception):
    """The test generated something the oracle cannot judge: a test bug."""


def parse_number(text):
    """A number literal: an int when written without '.', 'e' or 'E'."""
    if not isinstance(text, str) or not NUMBER_RE.fullmatch(text):
        raise QueryError("malformed number %r" % (text,))
    if any(c in text for c in ".eE"):
        v = float(text)
        if math.isinf(v):
            raise Unsupported("number out of range %r" % text)
        return v
    return int(text)


def parse_int(text, lo, what):
    v = parse_number(text)
    if not isinstance(v, int) or v < lo:
        raise QueryError("%s must be an integer >= %d, got %s" % (what, lo, text))
    return v


def isnull(v):
    return v is None or bool(pd.isna(v))


def and3(a, b):
    if a is False or b is False:
        return False
    if a is True and b is True:
        return True
    return None


def or3(a, b):
    if a is True or b is True:
        return True
    if a is False and b is False:
        return False
    return None


def not3(a):
    return None if a is None else (not a)


def wilson(k, n):
    if n == 0:  # undefined: laiondb holds 0 (null in its JSON)
        return {"count": k, "of": 0, "share": 0.0, "lo": 0.0, "hi": 0.0}
    p = k / n
    z2 = Z * Z
    den = 1 + z2 / n
    center = (p + z2 / (2 * n)) / den
    half = Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / den
    return {"count": k, "of": n, "share": p, "lo": max(0.0, center - half), "hi": min(1.0, center + half)}


def is_word_char(c):
    return c.isalnum() or c == "_"


def has_word(v, p):
    """p (lowered, non-empty) occurs in v (lowered) with no letter, digit or
    underscore right before or after it."""
    i = v.find(p)
    while i >= 0:
        before = v[i - 1] if i > 0 else ""
        j = i + len(p)
        after = v[j] if j < len(v) else ""
        if not (before and is_word_char(before)) and not (after and is_word_char(after)):
            return True
        i = v.find(p, i + 1)
    return False


# ---------------------------------------------------------------------------
# RE2 emulation. Go's regexp (RE2 syntax) differs from Python's re: \b, \w,
# \d, \s are ASCII; $ is the end of text (not before a final newline); (?i)
# folds with Unicode simple case folding orbits (k K K, s S ſ, ß ẞ, σ ς Σ;
# 'i' only I: not İ or ı); lookarounds and backreferences are errors; a
# repeat count is at most 1000; a repeat of a repeat is an error. The pattern
# is parsed here and rebuilt as a flag-free Python pattern. Constructs the
# test does not generate raise Unsupported.

WORD = "0-9A-Za-z_"
ORBITS = {}
for _group in ["kK\u212a", "sS\u017f", "\u00df\u1e9e", "\u03c3\u03c2\u03a3", "\u00e9\u00c9",
               "\u00e4\u00c4", "\u03bf\u039f", "\u03b4\u0394", "\u00e5\u00c5\u212b"]:
    for _c in _group:
        ORBITS[_c] = _group
for _c in "abcdefghijlmnopqrtuvwxyz":
    ORBITS[_c] = _c + _c.upper()
    ORBITS[_c.upper()] = _c + _c.upper()
for _c in ["\u0131", "\u0130", "_"]:
    ORBITS[_c] = _c
PERL = {"d": "0-9", "w": WORD, "s": "\\t\\n\\f\\r "}
SPECIAL = set("\\.+*?()|[]{}^$")


def fold(c):
    if c in ORBITS:
        return ORBITS[c]
    if not c.isalpha():
        return c
    raise Unsupported("no case orbit for %r" % c)


def cls_char(c):
    return "\\" + c if c in "\\]^-[" else c


class Regex:
    def __init__(self, pat):
        self.p = pat
        self.i = 0
        self.fold = False
        if pat.startswith("(?i)"):
            self.fold = True
            self.i = 4
        for bad in ("(?=", "(?!", "(?<=", "(?<!", "(?P=", "(?>", "(?#"):
            if bad in pat:
                raise QueryError("RE2 has no %s" % bad)
        out = self.alt()
        if self.i != len(pat):
            raise QueryError("unexpected ) in %r" % pat)
        self.py = re.compile(out)

    def peek(self):
        return self.p[self.i] if self.i < len(self.p) else ""

    def alt(self):
        parts = [self.seq()]
        while self.peek() == "|":
            self.i += 1
            parts.append(self.seq())
        return "|".join(parts)

    def seq(self):
        out = []
        while self.peek() not in ("", "|", ")"):
            atom, repeatable = self.atom()
            q = self.quant()
            if q:
                if not repeatable:
                    raise Unsupported("repeat of an assertion in %r" % self.p)
                if self.peek() in ("*", "+", "?", "{") and self.repeat_follows():
                    raise QueryError("RE2: invalid nested repetition in %r" % self.p)
                atom = "(?:%s)%s" % (atom, q)
            out.append(atom)
        return "".join(out)

    def repeat_follows(self):
        c = self.peek()
        if c in "*+?":
            return True
        return re.match(r"\{[0-9]+(,[0-9]*)?\}", self.p[self.i:]) is not None

    def quant(self):
        c = self.peek()
        q = ""
        if c in ("*", "+", "?"):
            self.i += 1
            q = c
        elif c == "{":
            m = re.match(r"\{([0-9]+)(,([0-9]*))?\}", self.p[self.i:])
            if not m:
                raise Unsupported("literal { in %r" % self.p)
            lo = int(m.group(1))
            hi = m.group(3)
            if lo > 1000 or (hi not in (None, "") and (int(hi) > 1000 or int(hi) < lo)):
                raise QueryError("RE2: bad repeat count in %r" % self.p)
            self.i += m.end()
            q = m.group(0)
        else:
            return ""
        if self.peek() == "?":  # non-greedy
            self.i += 1
            q += "?"
        return q

    def atom(self):
        c = self.peek()
        if c in ("*", "+", "?"):
            raise QueryError("RE2: missing argument to repetition operator in %r" % self.p)
        if c == "(":
            self.i += 1
            if self.p.startswith("?:", self.i):
                self.i += 2
            elif self.peek() == "?":
                raise Unsupported("group flags in %r" % self.p)
            inner = self.alt()
            if self.peek() != ")":
                raise QueryError("RE2: missing ) in %r" % self.p)
            self.i += 1
            return "(?:%s)" % inner, True
        if c == "[":
            return self.cls(), True
        if c == ".":
            self.i += 1
            return "[^\\n]", True
        if c == "^":
            self.i += 1
            return "\\A", False
        if c == "$":
            self.i += 1
            return "\\Z", False
        if c == "\\":
            if self.i + 1 >= len(self.p):
                raise QueryError("RE2: trailing \\ in %r" % self.p)
            e = self.p[self.i + 1]
            self.i += 2
            if e == "b":
                return "(?:(?<=[%s])(?![%s])|(?<![%s])(?=[%s]))" % (WORD, WORD, WORD, WORD), False
            if e == "B":
                return "(?:(?<=[%s])(?=[%s])|(?<![%s])(?![%s]))" % (WORD, WORD, WORD, WORD), False
            if e in PERL:
                return "[%s]" % self.perl(e), True
            if e in PERL or e.lower() in PERL:
                return "[^%s]" % self.perl(e.lower()), True
            if e.isdigit():
                raise QueryError("RE2 has no backreferences: %r" % self.p)
            if e in SPECIAL or e in "-/ ,'\"#&~":
                return self.lit(e), True
            raise Unsupported("escape \\%s in %r" % (e, self.p))
        if c in ")]{}":
            raise Unsupported("literal %s in %r" % (c, self.p))
        self.i += 1
        return self.lit(c), True

    def perl(self, e):
        s = PERL[e]
        if self.fold and e == "w":
            # RE2 folds Perl classes under (?i): \w gains K and ſ.
            s += "\u212a\u017f"
        return s

    def lit(self, c):
        if self.fold and c.isalpha():
            return "[%s]" % "".join(cls_char(x) for x in fold(c))
        return re.escape(c)

    def cls(self):
        self.i += 1  # [
        neg = False
        if self.peek() == "^":
            neg = True
            self.i += 1
        items = []
        first = True
        while True:
            c = self.peek()
            if c == "":
                raise QueryError("RE2: missing ] in %r" % self.p)
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if c == "\\":
                e = self.p[self.i + 1: self.i + 2]
                self.i += 2
                if e in PERL:
                    items.append(("raw", self.perl(e)))
                    continue
                if e in SPECIAL or e in "-":
                    c = e
                else:
                    raise Unsupported("class escape \\%s in %r" % (e, self.p))
            else:
                self.i += 1
            if self.peek() == "-" and self.p[self.i + 1: self.i + 2] not in ("]", ""):
                hi = self.p[self.i + 1]
                if hi == "\\":
                    raise Unsupported("escaped range end in %r" % self.p)
                self.i += 2
                if ord(hi) < ord(c):
                    raise QueryError("RE2: bad character class range in %r" % self.p)
                items.append(("range", c, hi))
            else:
                items.append(("char", c))
        parts = []
        for it in items:
            if it[0] == "raw":
                parts.append(it[1])
            elif it[0] == "char":
                chars = fold(it[1]) if self.fold and it[1].isalpha() else it[1]
                parts.extend(cls_char(x) for x in chars)
            else:
                lo, hi = it[1], it[2]
                parts.append("%s-%s" % (cls_char(lo), cls_char(hi)))
                if self.fold:
                    if not (lo.isascii() and hi.isascii()):
                        raise Unsupported("folded non-ASCII range in %r" % self.p)
                    for o in range(ord(lo), ord(hi) + 1):
                        x = chr(o)
                        if x.isalpha():
                            parts.extend(cls_char(y) for y in fold(x))
        body = "".join(parts)
        return "[%s%s]" % ("^" if neg else "", body)

    def search(self, s):
        return self.py.search(s) is not None


# ---------------------------------------------------------------------------
# Data.

class Column:
    def __init__(self, name, typ, values):
        self.name = name
        self.typ = typ
        if typ == "string":
            self.kind = "str"
            self.values = values
        elif typ == "int":
            self.kind = "num"
            self.values = [None if v is None else int(v) for v in values]
        elif typ in ("float64", "float32"):
            self.kind = "num"
            self.values = [None if v is None else float(v) for v in values]
        elif typ == "bool":
            self.kind = "bool"
            self.values = values
        else:
            raise Unsupported("column type %r" % typ)
        self.null = [isnull(v) for v in self.values]
        self._str = None
        self._low = None

    def pystr(self, v):
        """Python's str() of the value as laiondb holds it: float32 columns
        are widened to float64 at ingest, so their text is that of the
        float64 (str(float(x)), '0.10000000149011612' for 0.1f)."""
        if self.typ == "string":
            return v
        if self.typ == "float32":
            return str(float(np.float32(v)))
        return str(v)

    def strs(self):
        if self._str is None:
            self._str = [None if nl else self.pystr(v) for v, nl in zip(self.values, self.null)]
        return self._str

    def lowered(self):
        if self._low is None:
            self._low = [None if s is None else s.lower() for s in self.strs()]
        return self._low


CMP = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class Dataset:
    def __init__(self, req):
        parts = req["parts"]
        names, types = [], {}
        for p in parts:
            for c in p["columns"]:
                n = self.canonical(c["name"])
                if n not in types:
                    names.append(n)
                    types[n] = c["type"]
                elif types[n] != c["type"]:
                    raise Unsupported("column %s has two types" % n)
        vals = {n: [] for n in names}
        vecs = []
        self.part_rows = []  # the rows of each part (a source file), in store order
        for p in parts:
            v = np.load(p["npy"]).astype(np.float64)
            rows = v.shape[0]
            vecs.append(v)
            self.part_rows.append(rows)
            have = {}
            for c in p["columns"]:
                have[self.canonical(c["name"])] = c["values"]
                if len(c["values"]) != rows:
                    raise Unsupported("part has %d vectors and %d values" % (rows, len(c["values"])))
            for n in names:
                vals[n].extend(have.get(n, [None] * rows))
        self.cols = {n: Column(n, types[n], vals[n]) for n in names}
        self.vecs = np.concatenate(vecs)
        self.n = self.vecs.shape[0]
        self.dim = self.vecs.shape[1]
        self.norms = np.sqrt(np.einsum("ij,ij->i", self.vecs, self.vecs))
        self.regex_cache = {}

    @staticmethod
    def canonical(name):
        n = name.lower()
        return "text" if n == "caption" else n

    # -- names --------------------------------------------------------------

    def column(self, f):
        if f.get("any"):
            raise QueryError("any is not a column")
        name = f["name"]
        if f.get("quoted"):
            if name == "":
                raise QueryError("empty column name")
        else:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise Unsupported("bare column name %r" % name)
            if name.lower() in KEYWORDS:
                raise QueryError("%s is a keyword" % name)
        c = self.cols.get(name.lower())
        if c is None:
            raise QueryError("unknown column %r" % name)
        return c

    def text_fields(self, f):
        if f.get("any"):
            cs = [self.cols[n] for n in ("text", "url") if n in self.cols]
            if not cs:
                raise QueryError("any needs text or url")
            return cs
        return [self.column(f)]

    def literal(self, col, lit):
        k = lit["kind"]
        if k == "str":
            if col.kind != "str":
                raise QueryError("cannot compare %s column %s with a string" % (col.typ, col.name))
            return lit["s"]
        if k == "num":
            if col.kind != "num":
                raise QueryError("cannot compare %s column %s with a number" % (col.typ, col.name))
            return parse_number(lit["text"])
        if k == "bool":
            if lit["text"].lower() not in ("true", "false"):
                raise Unsupported("bool literal %r" % lit["text"])
            if col.kind != "bool":
                raise QueryError("cannot compare %s column %s with a bool" % (col.typ, col.name))
            return lit["text"].lower() == "true"
        raise Unsupported("literal kind %r" % k)

    # -- predicates ---------------------------------------------------------

    def ev(self, e, lex):
        op = e["op"]
        n = self.n
        if op in ("and", "or"):
            x, y = self.ev(e["x"], lex), self.ev(e["y"], lex)
            f = and3 if op == "and" else or3
            return [f(a, b) for a, b in zip(x, y)]
        if op == "not":
            return [not3(a) for a in self.ev(e["x"], lex)]
        if op == "paren":
            return self.ev(e["x"], lex)
        if op == "cmp":
            col = self.column(e["field"])
            v = self.literal(col, e["lit"])
            if col.kind == "bool" and e["cmp"] not in ("=", "!="):
                raise Unsupported("ordered comparison of bools")
            f = CMP[e["cmp"]]
            return [None if nl else f(x, v) for x, nl in zip(col.values, col.null)]
        if op == "in":
            col = self.column(e["field"])
            vs = [self.literal(col, l) for l in e["lits"]]
            if not vs:
                raise QueryError("empty in list")
            out = []
            for x, nl in zip(col.values, col.null):
                if nl:
                    out.append(None)
                else:
                    hit = any(x == v for v in vs)
                    out.append((not hit) if e.get("not", False) else hit)
            return out
        if op == "null":
            col = self.column(e["field"])
            return [(not nl) if e.get("not", False) else nl for nl in col.null]
        if op in ("contains", "word", "matches", "lexicon"):
            test = self.text_test(e, lex)
            res = None
            for col in self.text_fields(e["field"]):
                src = col.strs() if op == "matches" else col.lowered()
                r = [None if s is None else test(s) for s in src]
                res = r if res is None else [or3(a, b) for a, b in zip(res, r)]
            return res
        raise Unsupported("expression %r" % op)

    def text_test(self, e, lex):
        op = e["op"]
        if op == "contains":
            p = e["pat"].lower()
            return lambda s: p in s
        if op == "word":
            if e["pat"] == "":
                raise QueryError("has word with an empty pattern")
            p = e["pat"].lower()
            return lambda s: has_word(s, p)
        if op == "matches":
            rx = self.regex(e["pat"])
            return rx.search
        if op == "lexicon":
            name = e["name"]
            if not e.get("quoted"):
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                    raise Unsupported("bare lexicon name %r" % name)
            kws = None
            for ln, lk in lex:
                if ln.lower() == name.lower():
                    kws = lk
            if kws is None:
                raise QueryError("unknown lexicon %r" % name)
            needles = [k.lower() for k in kws]
            return lambda s: any(k in s for k in needles)
        raise Unsupported(op)

    def regex(self, pat):
        r = self.regex_cache.get(pat)
        if r is None:
            r = Regex(pat)
            self.regex_cache[pat] = r
        return r

    # -- lexicons -----------------------------------------------------------

    @staticmethod
    def lexicons(opt):
        out = [("essay2021", ESSAY2021)]
        user = []
        for name in sorted(opt or {}, key=lambda s: s.lower()):
            kws = opt[name]
            if name.lower() == "essay2021":
                raise Unsupported("redefining essay2021")
            if not kws:
                raise QueryError("lexicon %s has no keywords" % name)
            if any(k.strip() == "" for k in kws):
                raise QueryError("lexicon %s has an empty keyword" % name)
            if any(u.lower() == name.lower() for u, _ in user):
                raise Unsupported("lexicon given twice")
            user.append((name, kws))
        return out + user

    # -- targets ------------------------------------------------------------

    def target(self, t):
        k = t["kind"]
        if k == "text":
            raise QueryError("text targets need a CLIP model")
        if k == "image":
            raise QueryError("image targets need a CLIP model")
        if k == "row":
            r = parse_int(t["n"], 0, "row")
            if r >= self.n:
                raise QueryError("row %d out of range" % r)
            return self.vecs[r], r
        if k == "id":
            x = parse_number(t["n"])
            if not isinstance(x, int):
                raise QueryError("SAMPLE_ID must be an integer")
            col = self.cols.get("sample_id")
            if col is None:
                raise QueryError("no sample_id column")
            for i, (v, nl) in enumerate(zip(col.values, col.null)):
                if not nl and v == x:
                    return self.vecs[i], i
            raise QueryError("no row has SAMPLE_ID %d" % x)
        if k == "vec":
            if not t["values"]:
                raise QueryError("empty vector")
            v = np.array([float(parse_number(s)) for s in t["values"]], dtype=np.float64)
        elif k == "npy":
            try:
                a = np.load(t["path"])
            except (OSError, ValueError) as ex:
                raise QueryError("cannot read %s: %s" % (t["path"], ex))
            if a.ndim == 2 and a.shape[1] == 1 and a.shape[0] > 1:
                a = a[:, 0]  # (n, 1) reads as one n-d vector, as 1-D does
            if a.ndim == 1:
                a = a.reshape(1, -1)
            if a.ndim != 2 or a.size == 0:
                raise QueryError("npy file holds no vector")
            if a.shape[0] > 1:
                raise QueryError("npy file holds %d vectors; a vector target takes one" % a.shape[0])
            v = a[0].astype(np.float64)
        else:
            raise Unsupported("target %r" % k)
        if v.shape[0] != self.dim:
            raise QueryError("vector has %d dimensions, the store %d" % (v.shape[0], self.dim))
        if not np.all(np.isfinite(v)):
            raise QueryError("vector has NaN or Inf")
        if not np.any(v != 0):
            raise QueryError("all-zero vector")
        return v, None

    # -- queries ------------------------------------------------------------

    def query(self, q, observed):
        lex = self.lexicons(q.get("lexicons"))
        n = self.n
        where = self.ev(q["where"], lex) if q.get("where") else [True] * n
        post = self.ev(q["post"], lex) if q.get("post") else None
        by = []
        for f in q.get("by") or []:
            by.append(self.column(f))
        limit = None
        if q.get("limit") is not None:
            limit = parse_int(q["limit"], 0, "limit")
        src = q["source"]
        ans = {"error": None, "total_rows": n, "search": None, "scores": None, "search_problems": []}
        if src["kind"] in ("all", "scan"):
            rows = [i for i in range(n) if where[i] is True]
            scores = None
        elif src["kind"] in ("knn", "within"):
            rows, scores = self.search(src, where, observed, ans)
        else:
            raise Unsupported("source %r" % src["kind"])
        if limit is not None:
            rows = rows[:limit]
            if scores is not None:
                scores = scores[:limit]
        if post is not None:
            keep = [j for j, r in enumerate(rows) if post[r] is True]
            rows = [rows[j] for j in keep]
            if scores is not None:
                scores = [scores[j] for j in keep]
        ans["rows"] = rows
        ans["selected"] = len(rows)
        if scores is not None:
            ans["scores"] = scores
            s = ans["search"]
            s["score_min"] = min(scores) if scores else 0.0
            s["score_max"] = max(scores) if scores else 0.0
        self.stats(rows, lex, by, ans)
        if q.get("by_file"):
            ans["files"] = self.files(rows)
        return ans

    def files(self, rows):
        """by file: each part's selected rows of all its rows, Wilson."""
        sel = set(rows)
        out, lo = [], 0
        for n in self.part_rows:
            k = sum(1 for r in range(lo, lo + n) if r in sel)
            out.append({"rows": n, "rate": wilson(k, n)})
            lo += n
        return {"files": out, "pooled": wilson(len(rows), self.n)}

    def search(self, src, where, observed, ans):
        v, trow = self.target(src["target"])
        kind = src["kind"]
        if kind == "knn":
            k = parse_int(src["k"], 1, "k")
            s_min = None
        else:
            s_min = parse_number(src["threshold"])
            if not -1 <= s_min <= 1:
                raise QueryError("threshold outside [-1, 1]")
            k = None
        cos = (self.vecs @ v) / (self.norms * math.sqrt(float(v @ v)))
        cand = [i for i in range(self.n) if where[i] is True]

        def key(i):
            return (-cos[i], 0 if i == trow else 1, i)

        order = sorted(cand, key=key)
        if kind == "knn":
            canon = order[:k]
        else:
            canon = [i for i in order if cos[i] >= s_min]
        rows = canon
        if observed is not None:
            # The store's list, when it is a list of distinct allowed rows,
            # is used for what follows even when it is not the right one:
            # its problems are reported once, as search-*, and limit, post
            # where and the statistics are checked on their own.
            probs, usable = self.check_observed(observed, set(cand), cos, key, trow, kind, k, s_min)
            ans["search_problems"] = probs
            if usable:
                rows = [r for r, _ in observed]
        st = {"kind": kind, "returned": len(rows)}
        if kind == "knn":
            st["k"] = k
        else:
            st["threshold"] = s_min
        ans["search"] = st
        return list(rows), [float(cos[r]) for r in rows]

    @staticmethod
    def check_observed(obs, cand, cos, key, trow, kind, k, s_min):
        probs = []

        def add(kind_, msg):
            probs.append({"kind": kind_, "msg": msg})

        rows = [r for r, _ in obs]
        if len(set(rows)) != len(rows):
            add("search-selection", "a row is returned twice")
            return probs, False
        bad = [r for r in rows if r not in cand]
        if bad:
            add("search-selection", "row %d is not allowed by where (or does not exist)" % bad[0])
            return probs, False
        worst = None
        for r, s in obs:
            d = abs(s - cos[r])
            if d > TOL and (worst is None or d > worst[0]):
                worst = (d, r, s)
        if worst:
            tgt = " (the target row)" if worst[1] == trow else ""
            add("search-score", "row %d%s: score %.9g, cosine %.9g" % (worst[1], tgt, worst[2], cos[worst[1]]))
        inc = set(rows)
        out = [c for c in cand if c not in inc]
        if kind == "knn":
            want = min(k, len(cand))
            if len(rows) != want:
                add("search-count", "%d rows returned, want %d" % (len(rows), want))
            if rows:
                low = min(cos[r] for r in rows)
                better = [c for c in out if cos[c] > low + TOL]
                if better:
                    c = max(better, key=lambda c: cos[c])
                    add("search-selection", "row %d (cosine %.9g) left out for a row of cosine %.9g" % (c, cos[c], low))
                for c in out:
                    for r in rows:
                        if cos[c] == cos[r] and key(c) < key(r):
                            add("search-tie-order", "row %d ties row %d (cosine %.9g) and comes first, but %d was returned and it was not" % (c, r, cos[r], r))
                            break
                    else:
                        continue
                    break
        else:
            missing = [c for c in out if cos[c] >= s_min + TOL]
            extra = [r for r in rows if cos[r] < s_min - TOL]
            if missing:
                add("search-selection", "row %d (cosine %.9g >= %.9g) missing" % (missing[0], cos[missing[0]], s_min))
            if extra:
                add("search-selection", "row %d (cosine %.9g < %.9g) returned" % (extra[0], cos[extra[0]], s_min))
        for a, b in zip(rows, rows[1:]):
            if cos[b] > cos[a] + TOL:
                add("search-order", "row %d (cosine %.9g) after row %d (cosine %.9g)" % (b, cos[b], a, cos[a]))
                break
            if cos[a] == cos[b] and key(b) < key(a):
                add("search-tie-order", "rows %d and %d tie (cosine %.9g) but come as %d, %d (target row %s)" % (a, b, cos[a], a, b, trow))
                break
        return probs, True

    # -- statistics ---------------------------------------------------------

    @staticmethod
    def labels(col, rows, n):
        counts = {}
        null = 0
        strs = col.strs()
        for r in rows:
            s = strs[r]
            if s is None:
                null += 1
            else:
                counts[s] = counts.get(s, 0) + 1
        share = (lambda c: c / n) if n else (lambda c: 0.0)
        vals = [{"value": v, "null": False, "count": c, "share": share(c)}
                for v, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        if null:
            vals.append({"value": None, "null": True, "count": null, "share": share(null)})
        return vals

    def stats(self, rows, lex, by, ans):
        n = len(rows)
        nsfw = self.cols.get("nsfw")
        ans["nsfw"] = self.labels(nsfw, rows, n) if nsfw else None
        ans["by"] = [{"column": c.name, "values": self.labels(c, rows, n)} for c in by]
        fields = [self.cols.get("text"), self.cols.get("url")]
        lexout = []
        for name, kws in lex:
            needles = [k.lower() for k in kws]
            flag = [[set(), set()] for _ in kws]  # [keyword][field] -> rows
            for f, col in enumerate(fields):
                if col is None:
                    continue
                low = col.lowered()
                for r in rows:
                    s = low[r]
                    if s is None:
                        continue
                    for j, nd in enumerate(needles):
                        if nd in s:
                            flag[j][f].add(r)
            text = set().union(*(fl[0] for fl in flag))
            url = set().union(*(fl[1] for fl in flag))
            either = text | url
            lx = {
                "name": name,
                "keywords": list(kws),
                "text": wilson(len(text), n) if fields[0] is not None else None,
                "url": wilson(len(url), n) if fields[1] is not None else None,
                "either": wilson(len(either), n),
                "per_keyword": [{"keyword": kw, "text": len(fl[0]), "url": len(fl[1]), "either": len(fl[0] | fl[1])}
                                for kw, fl in zip(kws, flag)],
                "by_nsfw": None,
            }
            if nsfw is not None:
                tab = []
                strs = nsfw.strs()
                for lc in ans["nsfw"]:
                    v, c = lc["value"], lc["count"]
                    fl = sum(1 for r in rows if strs[r] == v and r in either)
                    tab.append({"nsfw": v, "null": lc["null"], "rows": c, "flagged": fl, "share": fl / c if c else 0.0})
                lx["by_nsfw"] = tab
            lexout.append(lx)
        ans["lexicons"] = lexout
        sim = self.cols.get("similarity")
        if sim is None or sim.kind != "num":
            ans["similarity"] = None
            return
        st = {"null": 0, "nan": 0, "above_1": 0, "below_minus_1": 0}
        vals = []
        for r in rows:
            x = sim.values[r]
            if x is None:
                st["null"] += 1
            elif isinstance(x, float) and math.isnan(x):
                st["nan"] += 1
            elif x > 1:
                st["above_1"] += 1
            elif x < -1:
                st["below_minus_1"] += 1
            else:
                vals.append(float(x))
        st["invalid"] = st["null"] + st["nan"] + st["above_1"] + st["below_minus_1"]
        st["valid"] = len(vals)
        st["below_0_3"] = sum(1 for x in vals if x < 0.3)
        if vals:
            a = np.array(vals, dtype=np.float64)
            q1, med, q3 = np.quantile(a, [0.25, 0.5, 0.75])
            st.update(min=float(a.min()), q1=float(q1), median=float(med), q3=float(q3), max=float(a.max()))
        else:
            st.update(min=0.0, q1=0.0, median=0.0, q3=0.0, max=0.0)
        ans["similarity"] = st


def main():
    datasets = {}
    out = sys.stdout
    out.write(json.dumps({"ready": True, "numpy": np.__version__, "pandas": pd.__version__}) + "\n")
    out.flush()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "load":
                datasets[req["dataset"]] = Dataset(req)
                ans = {"ok": True}
            elif op == "query":
                ds = datasets[req["dataset"]]
                try:
                    ans = ds.query(req["query"], req.get("observed"))
                except QueryError as e:
                    ans = {"error": str(e), "error_class": error_class(str(e))}
            elif op == "regex":
                try:
                    rx = Regex(req["pattern"])
                    ans = {"matches": [rx.search(s) for s in req["texts"]]}
                except QueryError as e:
                    ans = {"error": str(e)}
            else:
                raise Unsupported("op %r" % op)
        except Unsupported as e:
            ans = {"unsupported": str(e)}
        except Exception as e:  # a bug of the oracle: report, keep serving
            import traceback
            ans = {"crash": "%s: %s" % (type(e).__name__, e), "trace": traceback.format_exc()}
        out.write(json.dumps(ans, allow_nan=False, ensure_ascii=True) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
