#!/usr/bin/env python3
"""scripts/check-docs.py [SRC]: the project's documents point where they say.

Checks, in the source tree SRC (default: this script's parent directory):

1. every relative link in README.md and docs/*.md ([text](path),
   [text](path#anchor), [text](#anchor), outside code) names a file that
   exists and, for a Markdown file, a heading that exists (GitHub's anchors:
   lower case, punctuation dropped, spaces to '-', '-1', '-2' for repeats)
   or an <a id="..."> in it;
2. every citation of a project document in any tracked text file, also in
   code comments and across line breaks: `protocol.md, section 7` (and
   `sections 5 and 9`) needs a heading numbered 7 in docs/protocol.md;
   `protocol.md, "Receiving"` or `*Permissions*` needs a heading that
   contains those words;
3. no file cites the documents the project started from, which live
   outside the repository (OUTSIDE below): the project's own docs are the
   reference.

Prints one line per problem (FILE:LINE: what is wrong) and exits 1 if there
is any, else prints a summary and exits 0. `--selftest` runs the checks on
a small tree with known problems and fails unless each is found.
"""
import os
import re
import subprocess
import sys
import tempfile

# written in two parts so that a grep for them finds no file of the project
OUTSIDE = ("wire-protocol" ".md", "roles-and-security" ".md")
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"(?<!!)\[([^\]\n]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ID = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")
DOC = r"((?:[A-Za-z0-9_-]+/)*[A-Za-z0-9_-]+\.md)"
SECTION = re.compile(DOC + r",?\s+sections?\s+(\d+(?:\s*(?:,|and)\s*\d+)*)")
NAMED = re.compile(DOC + r",\s+(?:\"([A-Za-z`][^\"]{1,79})\"|\*([A-Za-z`][^*]{1,79})\*)")
COMMENT_LEAD = re.compile(r"^\s*(?:/\*+|\*+/?|//+|#+|--)?\s?")


def anchor_text(heading):
    """The text GitHub makes an anchor of: inline markup removed."""
    t = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    return t.replace("`", "").replace("*", "")


def slug(heading):
    t = anchor_text(heading).strip().lower()
    t = "".join(c for c in t if c.isalnum() or c in " -_")
    return t.replace(" ", "-")


def markdown_lines(text):
    """(line number, line) outside fenced code blocks."""
    fence = None
    for no, line in enumerate(text.split("\n"), 1):
        m = re.match(r"^\s*(```+|~~~+)", line)
        if m:
            mark = m.group(1)[0] * 3
            if fence is None:
                fence = mark
            elif mark == fence:
                fence = None
            continue
        if fence is None:
            yield no, line


class Doc:
    """A Markdown file's headings and anchors."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.headings, self.anchors, seen = [], set(), {}
        for _, line in markdown_lines(text):
            self.anchors.update(HTML_ID.findall(line))
            m = HEADING.match(line)
            if not m:
                continue
            self.headings.append(anchor_text(m.group(2)))
            s = slug(m.group(2))
            n = seen.get(s, 0)
            seen[s] = n + 1
            self.anchors.add(s if n == 0 else "%s-%d" % (s, n))
        self.text = text

    def numbered(self, n):
        return any(re.match(r"%s\.?\s" % n, h) for h in self.headings)

    def named(self, words):
        w = " ".join(anchor_text(words).lower().split())
        return any(w in " ".join(h.lower().split()) for h in self.headings)


class Checker:
    def __init__(self, src):
        self.src = os.path.abspath(src)
        self.problems = []
        self.docs = {}
        self.links = self.citations = 0

    def doc(self, path):
        path = os.path.normpath(path)
        if path not in self.docs:
            self.docs[path] = Doc(path) if os.path.isfile(path) else None
        return self.docs[path]

    def problem(self, path, line, what):
        self.problems.append("%s:%d: %s" % (os.path.relpath(path, self.src), line, what))

    def markdown_files(self):
        out = [os.path.join(self.src, "README.md")]
        d = os.path.join(self.src, "docs")
        if os.path.isdir(d):
            out += sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".md"))
        return [f for f in out if os.path.isfile(f)]

    def check_links(self, path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for no, line in markdown_lines(text):
            for m in LINK.finditer(CODE_SPAN.sub("", line)):
                target = m.group(2)
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                    continue  # http:, https:, mailto:
                self.links += 1
                file_part, _, frag = target.partition("#")
                dest = os.path.join(os.path.dirname(path), file_part) if file_part else path
                if not os.path.exists(dest):
                    self.problem(path, no, "link to %s: no such file" % target)
                    continue
                if frag and dest.endswith(".md") and frag not in self.doc(dest).anchors:
                    self.problem(path, no, "link to %s: %s has no heading with the anchor #%s"
                                 % (target, os.path.relpath(dest, self.src), frag))

    def resolve(self, name):
        for p in (os.path.join(self.src, "docs", name), os.path.join(self.src, name)):
            if os.path.isfile(p):
                return self.doc(p)
        return None

    def tracked_files(self):
        try:
            out = subprocess.run(["git", "-C", self.src, "ls-files", "-z"], check=True,
                                 capture_output=True).stdout.decode().split("\0")
            return [os.path.join(self.src, f) for f in out if f]
        except (OSError, subprocess.CalledProcessError):
            files = []
            for root, dirs, names in os.walk(self.src):
                dirs[:] = [d for d in dirs if not d.startswith((".", "build"))]
                files += [os.path.join(root, n) for n in names]
            return files

    def check_citations(self, path):
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
        except (UnicodeDecodeError, OSError):
            return  # binary or unreadable: nothing cited
        # one string of the text with comment leaders removed, so that a
        # citation broken over two comment lines is still seen whole
        flat, starts = [], []
        pos = 0
        for line in lines:
            t = COMMENT_LEAD.sub("", line, count=1)
            starts.append(pos)
            flat.append(t)
            pos += len(t) + 1
        text = " ".join(flat)

        def line_of(off):
            lo, hi = 0, len(starts) - 1
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if starts[mid] <= off:
                    lo = mid
                else:
                    hi = mid - 1
            return lo + 1

        for name in OUTSIDE:
            for m in re.finditer(re.escape(name), text):
                self.problem(path, line_of(m.start()), "cites %s, a document outside the "
                             "repository (cite the project's docs instead)" % name)
        for m in SECTION.finditer(text):
            d = self.resolve(m.group(1))
            if d is None:
                continue
            for n in re.findall(r"\d+", m.group(2)):
                self.citations += 1
                if not d.numbered(n):
                    self.problem(path, line_of(m.start()), "%s has no section %s"
                                 % (m.group(1), n))
        for m in NAMED.finditer(text):
            d = self.resolve(m.group(1))
            words = m.group(2) or m.group(3)
            if d is None:
                continue
            self.citations += 1
            if not d.named(words):
                self.problem(path, line_of(m.start()), "%s has no heading \"%s\""
                             % (m.group(1), words))

    def run(self):
        for path in self.markdown_files():
            self.check_links(path)
        me = os.path.realpath(__file__)
        for path in self.tracked_files():
            if os.path.isfile(path) and os.path.realpath(path) != me:
                self.check_citations(path)
        return self.problems


def main(src):
    c = Checker(src)
    problems = c.run()
    for p in problems:
        print(p)
    if problems:
        print("check-docs: %d problem(s)" % len(problems))
        return 1
    print("check-docs: %d relative links and %d citations checked, all resolve"
          % (c.links, c.citations))
    return 0


SELFTEST_FILES = {
    "README.md": "# Top\n\n[ok](docs/a.md#two-words-here) [bad file](docs/nope.md)\n"
                 "[bad anchor](docs/a.md#missing) [self](#top) `[in code](x.md)`\n"
                 "```\n[in a block](y.md)\n```\n",
    "docs/a.md": "# A\n\n## 1. One\n\n## Two words `here`\n\n## Two words here\n\n"
                 "[dup](#two-words-here-1) [html](#mark) <a id=\"mark\"></a>\n",
    "src/x.c": "/* a.md, section 1 (fine); docs/a.md, section 2 (none) and a.md,\n"
               " * \"Two words\" (fine) but a.md, \"Three\n * words\" (none);\n"
               " * from " + OUTSIDE[0] + " */\n",
}
SELFTEST_WANT = [
    "README.md:3: link to docs/nope.md: no such file",
    "README.md:4: link to docs/a.md#missing: docs/a.md has no heading with the anchor #missing",
    "src/x.c:1: docs/a.md has no section 2",
    "src/x.c:2: a.md has no heading \"Three words\"",
    "src/x.c:4: cites " + OUTSIDE[0] + ", a document outside the repository (cite the "
    "project's docs instead)",
]


def selftest():
    with tempfile.TemporaryDirectory() as d:
        for name, text in SELFTEST_FILES.items():
            os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
            with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                f.write(text)
        got = Checker(d).run()
    if sorted(got) != sorted(SELFTEST_WANT):
        print("check-docs selftest: expected\n  %s\ngot\n  %s"
              % ("\n  ".join(SELFTEST_WANT), "\n  ".join(got)))
        return 1
    print("check-docs selftest: the %d planted problems found, nothing else" % len(got))
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--selftest"]:
        sys.exit(selftest())
    sys.exit(main(args[0] if args else os.path.join(os.path.dirname(__file__), "..")))
