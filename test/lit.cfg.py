# -*- Python -*-
import os
import shutil

import lit.formats
from lit.llvm import llvm_config

config.name = "QOPT"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtext", ".test"]
config.excludes = ["conformance", "Inputs", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qopt_obj_root, "test")

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tools_dir = os.path.join(config.qopt_obj_root, "bin")
lib_dir = os.path.join(config.qopt_obj_root, "lib")
config.substitutions.append(("%qopt_libs", lib_dir))
config.substitutions.append(("%qopt_src", config.qopt_src_root))
config.substitutions.append(("%qopt_obj", config.qopt_obj_root))
config.substitutions.append(("%python", "/usr/bin/python3"))
llvm_config.add_tool_substitutions(
    ["qopt-opt", "qopt-translate", "qopt-compile", "qopt-run", "qopt-generate"], [tools_dir])

if os.path.isdir("/usr/share/libonnx-testdata/data/node"):
    config.available_features.add("onnx-testdata")
# An ASan/UBSan build of the tools (scripts/test-sanitizers.sh), for tests
# too slow to run instrumented.
if getattr(config, "qopt_sanitizers", "").upper() in ("ON", "TRUE", "1", "YES"):
    config.available_features.add("asan")
if shutil.which("ptxas") or os.path.exists("/usr/local/cuda/bin/ptxas"):
    config.available_features.add("ptxas")
# aarch64 artifacts (--target=neon) run under qemu-user, linked by
# scripts/aarch64-link.sh against Debian's libc6-dev-arm64-cross.
if (shutil.which("qemu-aarch64") and shutil.which("ld.lld-22")
        and os.path.exists("/usr/aarch64-linux-gnu/lib/crt1.o")):
    config.available_features.add("qemu-aarch64")
