"""Regenerate the committed protobuf/gRPC modules from api.proto (needs grpcio-tools).

Run from anywhere: ``python proto/generate.py``. tests/test_proto_drift.py calls
``generate`` into a temporary folder and compares the output byte for byte.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

PROTO_DIR = Path(__file__).resolve().parent
GENERATED = ("api_pb2.py", "api_pb2.pyi", "api_pb2_grpc.py")


def generate(out_dir: Path, proto_dir: Path = PROTO_DIR) -> list[Path]:
    """Write the generated modules for ``proto_dir/api.proto`` into ``out_dir``."""
    from grpc_tools import protoc  # dev-only dependency

    with tempfile.TemporaryDirectory() as scratch:
        # The virtual include path makes the generated gRPC module import
        # ``katib_api.api_pb2``, the installed package name of proto/.
        args = [
            "grpc_tools.protoc",
            f"-Ikatib_api={proto_dir}",
            f"--python_out={scratch}",
            f"--pyi_out={scratch}",
            f"--grpc_python_out={scratch}",
            "katib_api/api.proto",
        ]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed for {proto_dir / 'api.proto'}")
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for name in GENERATED:
            target = out_dir / name
            shutil.copyfile(Path(scratch) / "katib_api" / name, target)
            written.append(target)
        return written


if __name__ == "__main__":
    for path in generate(PROTO_DIR):
        print(f"wrote {path}")
    sys.exit(0)
