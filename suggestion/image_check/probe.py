"""Python source run inside a container or a sandbox: the places where a file can still be created."""

# Every place a Python server might write: HOME and TMPDIR, the usual temporary folders, shared
# memory, the working directory and the interpreter's environment. Defines writable_places(skip).
WRITABLE_PLACES = r"""
import os, sys, tempfile
def writable_places(skip=()):
    places = {os.environ.get("HOME", "/"), os.environ.get("TMPDIR", "/tmp"), "/", "/tmp", "/var/tmp", "/dev/shm",
              os.getcwd(), sys.prefix} - set(skip)
    found = []
    for place in sorted(places):
        try:
            with tempfile.TemporaryFile(dir=place):
                found.append(place)
        except OSError:
            pass
    return found
"""
