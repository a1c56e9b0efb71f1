#!/bin/sh
# Regenerate sparkplug_b_pb2.py (and its typing stub) from sparkplug_b.proto.
# Run from the repository root: sh src/omp/core/wire/regenerate.sh
set -eu
here=src/omp/core/wire
.venv/bin/python -m grpc_tools.protoc --proto_path="$here" --python_out="$here" --pyi_out="$here" "$here/sparkplug_b.proto"
