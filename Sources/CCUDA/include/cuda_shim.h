// The few entry points of the CUDA driver, NVRTC and cuBLAS that llmrec calls, declared here and
// resolved with dlsym at run time (Sources/CUDABackend/CUDALibraries.swift opens the libraries):
// nothing of CUDA is needed to build, and a machine without it runs everything else.
// The types are the C ABI's: handles are pointers, enums are ints, device addresses are 64-bit.
// Each symbol is named as cuda.h, nvrtc.h and cublas_api.h of CUDA 13 export it (the _v2 names
// the headers' #defines select).
#ifndef LLMREC_CUDA_SHIM_H
#define LLMREC_CUDA_SHIM_H
#include <stddef.h>
#include <stdint.h>

typedef int llmrec_cu_result;
typedef uint64_t llmrec_cu_deviceptr;
typedef int llmrec_cu_device;
typedef void *llmrec_cu_context;
typedef void *llmrec_cu_module;
typedef void *llmrec_cu_function;
typedef void *llmrec_cu_stream;
typedef void *llmrec_cu_event;

struct llmrec_cuda_driver {
    llmrec_cu_result (*cuInit)(unsigned flags);
    llmrec_cu_result (*cuDriverGetVersion)(int *version);
    llmrec_cu_result (*cuGetErrorName)(llmrec_cu_result error, const char **name);
    llmrec_cu_result (*cuGetErrorString)(llmrec_cu_result error, const char **text);
    llmrec_cu_result (*cuDeviceGetCount)(int *count);
    llmrec_cu_result (*cuDeviceGet)(llmrec_cu_device *device, int ordinal);
    llmrec_cu_result (*cuDeviceGetName)(char *name, int length, llmrec_cu_device device);
    llmrec_cu_result (*cuDeviceGetAttribute)(int *value, int attribute, llmrec_cu_device device);
    llmrec_cu_result (*cuDeviceTotalMem)(size_t *bytes, llmrec_cu_device device);
    llmrec_cu_result (*cuDevicePrimaryCtxRetain)(llmrec_cu_context *context, llmrec_cu_device device);
    llmrec_cu_result (*cuCtxSetCurrent)(llmrec_cu_context context);
    llmrec_cu_result (*cuCtxSynchronize)(void);
    llmrec_cu_result (*cuMemAlloc)(llmrec_cu_deviceptr *address, size_t bytes);
    llmrec_cu_result (*cuMemFree)(llmrec_cu_deviceptr address);
    llmrec_cu_result (*cuMemcpyHtoD)(llmrec_cu_deviceptr destination, const void *source, size_t bytes);
    llmrec_cu_result (*cuMemcpyDtoH)(void *destination, llmrec_cu_deviceptr source, size_t bytes);
    llmrec_cu_result (*cuMemcpyDtoD)(llmrec_cu_deviceptr destination, llmrec_cu_deviceptr source, size_t bytes);
    llmrec_cu_result (*cuMemsetD32)(llmrec_cu_deviceptr destination, unsigned value, size_t count);
    llmrec_cu_result (*cuModuleLoadData)(llmrec_cu_module *module, const void *image);
    llmrec_cu_result (*cuModuleGetFunction)(llmrec_cu_function *function, llmrec_cu_module module, const char *name);
    llmrec_cu_result (*cuFuncSetAttribute)(llmrec_cu_function function, int attribute, int value);
    llmrec_cu_result (*cuLaunchKernel)(llmrec_cu_function function, unsigned gridX, unsigned gridY, unsigned gridZ,
                                       unsigned blockX, unsigned blockY, unsigned blockZ, unsigned sharedBytes,
                                       llmrec_cu_stream stream, void **parameters, void **extra);
    llmrec_cu_result (*cuStreamSynchronize)(llmrec_cu_stream stream);
    llmrec_cu_result (*cuEventCreate)(llmrec_cu_event *event, unsigned flags);
    llmrec_cu_result (*cuEventRecord)(llmrec_cu_event event, llmrec_cu_stream stream);
    llmrec_cu_result (*cuEventSynchronize)(llmrec_cu_event event);
    llmrec_cu_result (*cuEventElapsedTime)(float *milliseconds, llmrec_cu_event start, llmrec_cu_event end);
};

typedef int llmrec_nvrtc_result;
typedef void *llmrec_nvrtc_program;

struct llmrec_nvrtc {
    llmrec_nvrtc_result (*nvrtcVersion)(int *major, int *minor);
    const char *(*nvrtcGetErrorString)(llmrec_nvrtc_result result);
    llmrec_nvrtc_result (*nvrtcCreateProgram)(llmrec_nvrtc_program *program, const char *source, const char *name,
                                              int headerCount, const char *const *headers, const char *const *includeNames);
    llmrec_nvrtc_result (*nvrtcDestroyProgram)(llmrec_nvrtc_program *program);
    llmrec_nvrtc_result (*nvrtcCompileProgram)(llmrec_nvrtc_program program, int optionCount, const char *const *options);
    llmrec_nvrtc_result (*nvrtcGetProgramLogSize)(llmrec_nvrtc_program program, size_t *bytes);
    llmrec_nvrtc_result (*nvrtcGetProgramLog)(llmrec_nvrtc_program program, char *log);
    llmrec_nvrtc_result (*nvrtcGetPTXSize)(llmrec_nvrtc_program program, size_t *bytes);
    llmrec_nvrtc_result (*nvrtcGetPTX)(llmrec_nvrtc_program program, char *ptx);
    llmrec_nvrtc_result (*nvrtcGetCUBINSize)(llmrec_nvrtc_program program, size_t *bytes);
    llmrec_nvrtc_result (*nvrtcGetCUBIN)(llmrec_nvrtc_program program, char *cubin);
};

typedef int llmrec_cublas_status;
typedef void *llmrec_cublas_handle;

struct llmrec_cublas {
    llmrec_cublas_status (*cublasCreate)(llmrec_cublas_handle *handle);
    llmrec_cublas_status (*cublasDestroy)(llmrec_cublas_handle handle);
    llmrec_cublas_status (*cublasGetVersion)(llmrec_cublas_handle handle, int *version);
    llmrec_cublas_status (*cublasSetStream)(llmrec_cublas_handle handle, llmrec_cu_stream stream);
    llmrec_cublas_status (*cublasSetMathMode)(llmrec_cublas_handle handle, int mode);
    const char *(*cublasGetStatusString)(llmrec_cublas_status status);
    llmrec_cublas_status (*cublasGemmEx)(llmrec_cublas_handle handle, int transA, int transB, int m, int n, int k,
                                         const void *alpha, const void *A, int typeA, int lda, const void *B, int typeB, int ldb,
                                         const void *beta, void *C, int typeC, int ldc, int computeType, int algorithm);
    llmrec_cublas_status (*cublasGemmStridedBatchedEx)(llmrec_cublas_handle handle, int transA, int transB, int m, int n, int k,
                                                       const void *alpha, const void *A, int typeA, int lda, long long strideA,
                                                       const void *B, int typeB, int ldb, long long strideB, const void *beta,
                                                       void *C, int typeC, int ldc, long long strideC, int batches,
                                                       int computeType, int algorithm);
};

/// Fills each table from an open library handle (dlopen's). Returns NULL when every entry point
/// was found, else the name of the first missing one (the table is then unusable).
const char *llmrec_bind_cuda_driver(void *library, struct llmrec_cuda_driver *table);
const char *llmrec_bind_nvrtc(void *library, struct llmrec_nvrtc *table);
const char *llmrec_bind_cublas(void *library, struct llmrec_cublas *table);

#endif
