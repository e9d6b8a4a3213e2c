# Sourced by the device scripts: points llmrec at the CUDA libraries the GPU machine has, cuBLAS
# and NVRTC from the pip wheels beside PyTorch, the driver from the NVIDIA mount or ldconfig.
py_libs=$(python3 - <<'PY'
import glob, os
try:
    import nvidia
    roots = list(nvidia.__path__)
except Exception:
    roots = []
dirs = sorted({os.path.dirname(p) for r in roots for p in glob.glob(os.path.join(r, "**", "lib", "lib*.so*"), recursive=True)
               if os.path.basename(p).startswith(("libcublas", "libnvrtc"))})
print(":".join(dirs))
PY
)
export LLMREC_CUDA_PATH="${py_libs}:/usr/local/nvidia/lib64:/usr/local/cuda/lib64"
