# Python-side references for the CUDA study (scripts/gpu_study.sh runs it): the same torch
# through its Python API, so a C++-only failure is told apart from a torch one.
import os, subprocess, sys, torch
print("torch", torch.__version__, "cuda", torch.version.cuda)
print("fp32_precision matmul", torch.backends.cuda.matmul.fp32_precision, "conv", torch.backends.cudnn.conv.fp32_precision)
code = "import torch; torch.use_deterministic_algorithms(True); a=torch.randn(256,256,device='cuda'); print((a@a).sum().item())"
for cfg in (None, ":4096:8", ":16:8"):
    env = dict(os.environ)
    env.pop("CUBLAS_WORKSPACE_CONFIG", None)
    if cfg: env["CUBLAS_WORKSPACE_CONFIG"] = cfg
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    print("matmul CUBLAS_WORKSPACE_CONFIG=%s rc=%d %s" % (cfg, r.returncode, (r.stdout + r.stderr).strip()[-200:]))
torch.use_deterministic_algorithms(True)
x = torch.randn(16, 32, 63, 63, device="cuda", requires_grad=True)
try:
    torch.nn.functional.adaptive_avg_pool2d(x, (10, 10)).pow(2).sum().backward()
    print("adaptive_avg_pool2d backward: no error")
except Exception as e:
    print("adaptive_avg_pool2d backward:", type(e).__name__, str(e)[:300])
