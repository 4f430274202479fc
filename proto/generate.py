"""Regenerate the committed protobuf/gRPC modules from api.proto (needs grpcio-tools).

Run from anywhere: ``python proto/generate.py``. The drift test does not compare
bytes: every grpcio-tools release stamps its own version into the output, so a
byte comparison would fail on each new patch release although nothing drifted.
It compares what the wire depends on instead (``contract``): the file descriptor
that protoc serialises into api_pb2.py, and the services, methods and messages
that api_pb2_grpc.py and api_pb2.pyi expose. ``stamps`` reads the versions the
generator wrote, which fix the minimum grpcio and protobuf at run time.
"""

from __future__ import annotations

import ast
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PROTO_DIR = Path(__file__).resolve().parent
GENERATED = ("api_pb2.py", "api_pb2.pyi", "api_pb2_grpc.py")
REGENERATE = "python proto/generate.py"


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


@dataclass(frozen=True)
class Stamps:
    """Versions the generator wrote into its output."""

    grpc: str  # GRPC_GENERATED_VERSION: the grpcio-tools release; grpcio must be at least this
    protobuf: str  # the gencode version; the protobuf runtime must be at least this


def stamps(folder: Path = PROTO_DIR) -> Stamps:
    grpc_text = (folder / "api_pb2_grpc.py").read_text()
    grpc_version = re.search(r"^GRPC_GENERATED_VERSION = '([^']+)'$", grpc_text, re.M)
    gencode = re.search(r"^# Protobuf Python Version: (\S+)$", (folder / "api_pb2.py").read_text(), re.M)
    if not grpc_version or not gencode:
        raise ValueError(f"no version stamp in the generated modules under {folder}: run {REGENERATE}")
    return Stamps(grpc=grpc_version.group(1), protobuf=gencode.group(1))


@dataclass(frozen=True)
class Contract:
    """What the generated modules promise, independent of the generator's release."""

    descriptor: object  # google.protobuf.descriptor_pb2.FileDescriptorProto
    grpc_methods: frozenset[str]  # "/api.v1.beta1.Suggestion/GetSuggestions", ...
    grpc_names: frozenset[str]  # SuggestionStub, SuggestionServicer, add_SuggestionServicer_to_server, ...
    stub_classes: frozenset[str]  # the message and enum classes api_pb2.pyi declares


def contract(folder: Path = PROTO_DIR) -> Contract:
    return Contract(
        descriptor=_file_descriptor(folder / "api_pb2.py"),
        grpc_methods=frozenset(_method_paths(folder / "api_pb2_grpc.py")),
        grpc_names=frozenset(_top_level_names(folder / "api_pb2_grpc.py")),
        stub_classes=frozenset(_class_names(folder / "api_pb2.pyi")),
    )


def _file_descriptor(path: Path):
    """The FileDescriptorProto that api_pb2.py hands to the descriptor pool, read without importing it."""
    from google.protobuf import descriptor_pb2

    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "AddSerializedFile":
            return descriptor_pb2.FileDescriptorProto.FromString(ast.literal_eval(node.args[0]))
    raise ValueError(f"{path} holds no serialized file descriptor: run {REGENERATE}")


def _method_paths(path: Path) -> list[str]:
    strings = (node.value for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.Constant) and isinstance(node.value, str))
    return [text for text in strings if re.fullmatch(r"/[\w.]+/\w+", text)]


def _top_level_names(path: Path) -> list[str]:
    return [node.name for node in ast.parse(path.read_text()).body
            if isinstance(node, ast.ClassDef | ast.FunctionDef)]


def _class_names(path: Path) -> list[str]:
    return [node.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ClassDef)]


if __name__ == "__main__":
    for path in generate(PROTO_DIR):
        print(f"wrote {path}")
    sys.exit(0)
