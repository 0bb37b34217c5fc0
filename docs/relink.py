"""Point every link of docs/tour.md at the current line of what it names.

    python docs/relink.py

A link names a definition (`[`plan`](../slotnp/nets.py#L124)`, `Class.method` for a method) or
a module at one of its definitions (`[winograd.py](../slotnp/layers/winograd.py#L121)`); the
module links keep the definition they pointed at when docs/tour.md was last committed.
tests/test_tour.py fails when a link has drifted, and says to run this.
"""
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOUR = os.path.join(ROOT, "docs", "tour.md")
LINK = re.compile(r"\[([^\]]+)\]\(\.\./([^)#]+)#L(\d+)\)")


def definition_line(path, name, after=0):
    lines = open(os.path.join(ROOT, path)).read().splitlines()
    for number, line in enumerate(lines[after:], after + 1):
        if re.match(rf"\s*(def|class) {re.escape(name)}\b", line):
            return number
    raise SystemExit(f"docs/relink.py: {name} is not defined in {path}; fix its link by hand")


def committed_definition(path, line):
    """The name defined at `line` of `path` as of the tour's last commit."""
    commit = subprocess.run(["git", "log", "-1", "--format=%H", "--", "docs/tour.md"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    text = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=ROOT, capture_output=True,
                          text=True).stdout.splitlines()
    found = re.match(r"\s*(?:def|class) (\w+)", text[line - 1]) if line <= len(text) else None
    if not found:
        raise SystemExit(f"docs/relink.py: {path}#L{line} named no definition when the tour "
                         f"was committed; fix its link by hand")
    return found.group(1)


def relink(match):
    label, path, line = match.group(1), match.group(2), int(match.group(3))
    name = label.strip("`")
    if name.replace("\\", "").endswith(".py"):
        if line == 1:
            return match.group(0)
        new = definition_line(path, committed_definition(path, line))
    elif "." in name:
        owner, method = name.split(".")
        new = definition_line(path, method, definition_line(path, owner))
    else:
        new = definition_line(path, name)
    return f"[{label}](../{path}#L{new})"


if __name__ == "__main__":
    text = open(TOUR).read()
    fixed = LINK.sub(relink, text)
    open(TOUR, "w").write(fixed)
    print(f"docs/tour.md: {sum(a != b for a, b in zip(LINK.findall(text), LINK.findall(fixed)))}"
          f" links moved")
