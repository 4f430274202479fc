"""The committed generated modules must be exactly what grpcio-tools makes from proto/api.proto."""

import importlib.util
from pathlib import Path

PROTO_DIR = Path(__file__).resolve().parents[1] / "proto"


def _generator():
    spec = importlib.util.spec_from_file_location("proto_generate", PROTO_DIR / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_code_matches_the_proto(tmp_path):
    generator = _generator()
    for fresh in generator.generate(tmp_path):
        committed = PROTO_DIR / fresh.name
        assert committed.exists(), f"{committed} is missing: run python proto/generate.py"
        assert committed.read_bytes() == fresh.read_bytes(), (
            f"{committed.name} drifted from api.proto: run python proto/generate.py and commit the result")


def test_generated_grpc_module_imports_the_installed_package():
    text = (PROTO_DIR / "api_pb2_grpc.py").read_text()
    assert "from katib_api import api_pb2" in text
