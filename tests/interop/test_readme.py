"""Every `graphward ...` command the README and the docs show is accepted by the binary: the
subcommand exists and every flag it uses is one the subcommand's --help lists. (The commands
that talk to a server are exercised for real by the other interop tests.)"""
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, binary

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def shell_blocks(text):
    """The contents of the ```sh / ```bash / ``` fenced blocks."""
    block, lang = None, None
    for line in text.splitlines():
        if line.startswith("```"):
            if block is None:
                block, lang = [], line[3:].strip()
            else:
                if lang in ("sh", "bash", "console", ""):
                    yield "\n".join(block)
                block = None
        elif block is not None:
            block.append(line)


def fenced_commands(path: Path):
    for block in shell_blocks(path.read_text()):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("#") or "graphward " not in line:
                continue
            # the part of a pipeline that runs graphward
            for part in line.split("|"):
                words = shlex.split(part.strip(), comments=True)
                for i, w in enumerate(words):
                    if w == "graphward" or w.endswith("/graphward"):
                        rest = words[i + 1:]
                        # `graphward check: ...` is output shown in the block, not a command
                        if rest and not rest[0].endswith(":"):
                            yield line, rest
                        break


def help_text(args):
    out = subprocess.run([binary(), *args, "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, (args, out.stderr)
    return out.stdout


def test_readme_leads_with_the_two_setup_commands():
    text = (ROOT / "README.md").read_text()
    first = re.search(r"```sh\n(.*?)```", text, flags=re.S).group(1).splitlines()
    assert first[0].startswith("cargo run --release -- serve"), first
    assert first[1].startswith("scripts/test"), first


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_shown_graphward_command_is_accepted(doc):
    seen = 0
    for line, words in fenced_commands(doc):
        sub = []
        for w in words:
            if w.startswith("-"):
                break
            sub.append(w)
            if len(sub) == 2:
                break
        # the longest prefix that is a subcommand
        while sub:
            out = subprocess.run([binary(), *sub, "--help"], capture_output=True, text=True,
                                 timeout=30)
            if out.returncode == 0:
                break
            sub.pop()
        assert sub, f"{doc.name}: no such subcommand in: {line}"
        helptext = help_text(sub)
        for w in words[len(sub):]:
            if w.startswith("--"):
                flag = w.split("=")[0]
                assert re.search(rf"(^|[\s,]){re.escape(flag)}([\s=\[<,]|$)", helptext, re.M), \
                    f"{doc.name}: `graphward {' '.join(sub)}` has no flag {flag}: {line}"
        seen += 1
    if doc.name == "README.md":
        assert seen >= 10, seen
