#!/usr/bin/env python3
"""Checks that the options documentation and the binaries agree: every flag a
binary accepts (its --helpfull, less Abseil's own flags; nasctl's --help)
has a row (`| `--flag` ...`) in that binary's section of the document, every command nasctl's
usage lists has a row there, and (for the Abseil binaries, whose --helpfull
is complete) every flag the section's tables document is one the binary
accepts, and the binary's short --help lists the same flags as --helpfull.

  tests/deploy/check_options_doc.py docs/options.md NAME=BINARY ...

NAME is the section heading (`## nas-controller`); BINARY the built binary.
Prints every difference and exits 1 when there is one.
"""
import re
import subprocess
import sys

def run(binary, flag):
    return subprocess.run([binary, flag], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          timeout=30).stdout


def project_flags(text):
    """Flags under Abseil's "  Flags from FILE:" headings, Abseil's own
    files (--flagfile, ...) left out."""
    flags = set()
    for section in re.split(r"^  Flags from ", text, flags=re.MULTILINE)[1:]:
        path = section.partition(":")[0]
        if not path.startswith("./absl/"):
            flags |= set(re.findall(r"^\s+--([a-z0-9_]+) \(", section,
                                    re.MULTILINE))
    return flags


def help_flags(binary):
    """The flags the binary accepts, the commands its usage lists, and whether
    the flags are all of them (Abseil's --helpfull is; nasctl's usage text
    leaves out --help and --output, which it shows as -o)."""
    text = run(binary, "--helpfull")
    commands = set()
    complete = "Flags from" in text
    if "Flags from" in text:
        # Abseil: "  Flags from worker/main.cc:" then "    --name (help); ...".
        flags = project_flags(text)
        short = project_flags(run(binary, "--help"))
        if short != flags:
            sys.exit(f"check_options_doc: {binary} --help lists "
                     f"{sorted(short) or 'no flags'}, --helpfull "
                     f"{sorted(flags)}")
    else:
        # nasctl's own usage text: options and "  nasctl COMMAND ..." lines.
        text = run(binary, "--help")
        flags = set(re.findall(r"--([a-z0-9_]+)", text))
        commands = set(re.findall(r"^\s+nasctl ([a-z]+)", text, re.MULTILINE))
    if not flags:
        sys.exit(f"check_options_doc: {binary} --helpfull/--help lists no "
                 f"flags:\n{text}")
    return flags, commands, complete


def sections(document):
    """Text under each '## ' heading, by its first word."""
    out = {}
    for part in re.split(r"^## ", document, flags=re.MULTILINE)[1:]:
        heading, _, body = part.partition("\n")
        out[heading.split()[0].strip("`")] = body
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        parts = sections(f.read())
    problems = []
    for pair in sys.argv[2:]:
        name, binary = pair.split("=", 1)
        if name not in parts:
            problems.append(f"{sys.argv[1]}: no section '## {name}'")
            continue
        accepted, commands, complete = help_flags(binary)
        before = len(problems)
        body = parts[name]
        documented = set(re.findall(r"^\| `--([a-z0-9_]+)", body, re.MULTILINE))
        for flag in sorted(accepted - documented):
            problems.append(f"{name}: --{flag} (in --help) has no row in "
                            f"{sys.argv[1]}")
        for command in sorted(commands):
            if not re.search(rf"^\| `{command}\b", body, re.MULTILINE):
                problems.append(f"{name}: command {command} (in --help) has "
                                f"no row in {sys.argv[1]}")
        for flag in sorted(documented - accepted if complete else ()):
            problems.append(f"{name}: --{flag} is documented in {sys.argv[1]} "
                            "but --help does not list it")
        if len(problems) == before:
            print(f"check_options_doc: {name}: {len(accepted)} flags "
                  "documented")
    for p in problems:
        print(f"check_options_doc: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
