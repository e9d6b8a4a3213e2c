// Binds the tables of cuda_shim.h with dlsym, one symbol name per field.
#include "cuda_shim.h"
#include <dlfcn.h>
#include <string.h>

// Looks up `symbol` and stores it in `*slot`; returns 0 when it is missing.
static int bind(void *library, const char *symbol, void *slot) {
    void *address = dlsym(library, symbol);
    if (!address) return 0;
    memcpy(slot, &address, sizeof address);
    return 1;
}

#define BIND(table, field, symbol) \
    if (!bind(library, symbol, &(table)->field)) return symbol;

const char *llmrec_bind_cuda_driver(void *library, struct llmrec_cuda_driver *t) {
    BIND(t, cuInit, "cuInit")
    BIND(t, cuDriverGetVersion, "cuDriverGetVersion")
    BIND(t, cuGetErrorName, "cuGetErrorName")
    BIND(t, cuGetErrorString, "cuGetErrorString")
    BIND(t, cuDeviceGetCount, "cuDeviceGetCount")
    BIND(t, cuDeviceGet, "cuDeviceGet")
    BIND(t, cuDeviceGetName, "cuDeviceGetName")
    BIND(t, cuDeviceGetAttribute, "cuDeviceGetAttribute")
    BIND(t, cuDeviceTotalMem, "cuDeviceTotalMem_v2")
    BIND(t, cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain")
    BIND(t, cuCtxSetCurrent, "cuCtxSetCurrent")
    BIND(t, cuCtxSynchronize, "cuCtxSynchronize")
    BIND(t, cuMemAlloc, "cuMemAlloc_v2")
    BIND(t, cuMemFree, "cuMemFree_v2")
    BIND(t, cuMemcpyHtoD, "cuMemcpyHtoD_v2")
    BIND(t, cuMemcpyDtoH, "cuMemcpyDtoH_v2")
    BIND(t, cuMemcpyDtoD, "cuMemcpyDtoD_v2")
    BIND(t, cuMemsetD32, "cuMemsetD32_v2")
    BIND(t, cuModuleLoadData, "cuModuleLoadData")
    BIND(t, cuModuleGetFunction, "cuModuleGetFunction")
    BIND(t, cuFuncSetAttribute, "cuFuncSetAttribute")
    BIND(t, cuLaunchKernel, "cuLaunchKernel")
    BIND(t, cuStreamSynchronize, "cuStreamSynchronize")
    BIND(t, cuEventCreate, "cuEventCreate")
    BIND(t, cuEventRecord, "cuEventRecord")
    BIND(t, cuEventSynchronize, "cuEventSynchronize")
    // CUDA 12.8 added the _v2 (same arguments); older drivers have only the first.
    if (!bind(library, "cuEventElapsedTime_v2", &t->cuEventElapsedTime)) BIND(t, cuEventElapsedTime, "cuEventElapsedTime")
    return NULL;
}

const char *llmrec_bind_nvrtc(void *library, struct llmrec_nvrtc *t) {
    BIND(t, nvrtcVersion, "nvrtcVersion")
    BIND(t, nvrtcGetErrorString, "nvrtcGetErrorString")
    BIND(t, nvrtcCreateProgram, "nvrtcCreateProgram")
    BIND(t, nvrtcDestroyProgram, "nvrtcDestroyProgram")
    BIND(t, nvrtcCompileProgram, "nvrtcCompileProgram")
    BIND(t, nvrtcGetProgramLogSize, "nvrtcGetProgramLogSize")
    BIND(t, nvrtcGetProgramLog, "nvrtcGetProgramLog")
    BIND(t, nvrtcGetPTXSize, "nvrtcGetPTXSize")
    BIND(t, nvrtcGetPTX, "nvrtcGetPTX")
    BIND(t, nvrtcGetCUBINSize, "nvrtcGetCUBINSize")
    BIND(t, nvrtcGetCUBIN, "nvrtcGetCUBIN")
    return NULL;
}

const char *llmrec_bind_cublas(void *library, struct llmrec_cublas *t) {
    BIND(t, cublasCreate, "cublasCreate_v2")
    BIND(t, cublasDestroy, "cublasDestroy_v2")
    BIND(t, cublasGetVersion, "cublasGetVersion_v2")
    BIND(t, cublasSetStream, "cublasSetStream_v2")
    BIND(t, cublasSetMathMode, "cublasSetMathMode")
    BIND(t, cublasGetStatusString, "cublasGetStatusString")
    BIND(t, cublasGemmEx, "cublasGemmEx")
    BIND(t, cublasGemmStridedBatchedEx, "cublasGemmStridedBatchedEx")
    return NULL;
}
