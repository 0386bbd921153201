"""Prints the lines of a requirements.txt that the running interpreter does not satisfy.

Kiln runs it with the job's interpreter before a script-mode job starts, so only what is
missing is handed to pip (and a job whose requirements are all installed needs no index).
Lines it cannot judge (options, URLs, editable installs) count as unsatisfied.
"""
import sys
import importlib.metadata as metadata

try:
    from packaging.requirements import Requirement
except ImportError:  # pip vendors packaging
    from pip._vendor.packaging.requirements import Requirement


def unsatisfied(path):
    for raw in open(path, encoding="utf-8"):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        try:
            req = Requirement(line)
            if req.marker is not None and not req.marker.evaluate():
                continue
            version = metadata.version(req.name)
            if req.specifier and not req.specifier.contains(version, prereleases=True):
                yield line
        except Exception:
            yield line


if __name__ == "__main__":
    for line in unsatisfied(sys.argv[1]):
        print(line)
