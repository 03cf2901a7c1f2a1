# FLAKESCOPE_TORCH_CPU_ONLY: build against the LibTorch inside a PyPI torch wheel (built with CUDA)
# on a machine without the CUDA toolkit, for the CPU only.
#
# Two obstacles, both in the wheel's CMake package, none in its CPU libraries:
#  - Caffe2Config.cmake runs public/cuda.cmake and stops with "Your installed Caffe2 version uses
#    CUDA but I cannot find the CUDA libraries" when there is no nvcc. cuda.cmake returns at once
#    when the target torch::cudart exists (its include guard), so we define that target first.
#  - The `torch` target links libtorch.so with --no-as-needed, and libtorch.so needs
#    libtorch_cuda.so, which needs cuDNN, cuBLAS, NCCL, ... (gigabytes of nvidia-* wheels). The CPU
#    engine needs only libtorch_cpu.so and libc10.so, so TORCH_LIBRARIES is narrowed to those.
# libtorch_cpu.so itself needs libcudart.so.13 and libcupti.so.13 at run time: the nvidia-cuda-runtime
# and nvidia-cuda-cupti wheels (14 MB), found through the wheel's RPATH ($ORIGIN/../../nvidia/cu13/lib)
# when unpacked next to torch/ (scripts/build_libtorch2.sh does).

macro(flakescope_torch_cpu_only_before_find)
  if(NOT TARGET torch::cudart)
    add_library(torch::cudart INTERFACE IMPORTED)
  endif()
endmacro()

macro(flakescope_torch_cpu_only_after_find)
  add_library(flakescope_torch_cpu INTERFACE)
  target_link_libraries(flakescope_torch_cpu INTERFACE torch_cpu c10)
  # What the `torch` target asks of its users (C++20 from LibTorch 2.x on) still applies.
  get_target_property(_fs_features torch INTERFACE_COMPILE_FEATURES)
  if(_fs_features)
    target_compile_features(flakescope_torch_cpu INTERFACE ${_fs_features})
  endif()
  get_target_property(_fs_options torch INTERFACE_COMPILE_OPTIONS)
  if(_fs_options)
    target_compile_options(flakescope_torch_cpu INTERFACE ${_fs_options})
  endif()
  set(TORCH_LIBRARIES flakescope_torch_cpu)
  message(STATUS "flakescope: CPU-only LibTorch link (torch_cpu, c10)")
endmacro()
