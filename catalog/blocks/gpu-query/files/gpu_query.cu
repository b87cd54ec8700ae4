// brickyard-gpu-query (CUDA): list the GPUs the CUDA runtime can see.
//
// SPDX-License-Identifier: Apache-2.0
//
// Output (stdout, format version 1):
//   # brickyard-gpu-query 1
//   # runtime: cuda <runtime major.minor>
//   # driver: cuda <highest CUDA version the driver supports, 0.0 if none>
//   devices: <N>
//   device <i>: name="<name>" arch=sm_<XY> memory_MiB=<total memory in MiB>
//
// Exit status: 0 ok, 2 no device (or the runtime cannot reach one), 1 any
// other CUDA error. Errors are printed as "# error: ..." lines on stdout.
#include <cuda_runtime.h>

#include <cstdio>
#include <cstring>

static void print_name(const char *name)
{
    // Quotes and backslashes would break the line format; replace them.
    std::putchar('"');
    for (const char *p = name; *p != '\0'; ++p) {
        const char c = (*p == '"' || *p == '\\') ? '_' : *p;
        std::putchar(c);
    }
    std::putchar('"');
}

int main(int argc, char **argv)
{
    if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
        std::printf("brickyard-gpu-query 1 (cuda)\n");
        return 0;
    }

    int runtime = 0;
    int driver = 0;
    cudaError_t err = cudaRuntimeGetVersion(&runtime);
    if (err != cudaSuccess) {
        std::printf("# error: cudaRuntimeGetVersion: %s\n", cudaGetErrorString(err));
        return 1;
    }
    // A missing driver is reported as driver version 0, not as an error.
    (void)cudaDriverGetVersion(&driver);

    std::printf("# brickyard-gpu-query 1\n");
    std::printf("# runtime: cuda %d.%d\n", runtime / 1000, (runtime % 1000) / 10);
    std::printf("# driver: cuda %d.%d\n", driver / 1000, (driver % 1000) / 10);

    int count = 0;
    err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess || count == 0) {
        std::printf("devices: 0\n");
        std::printf("# error: no CUDA device: %s\n",
                    err != cudaSuccess ? cudaGetErrorString(err) : "device count is 0");
        return 2;
    }
    std::printf("devices: %d\n", count);

    for (int i = 0; i < count; ++i) {
        cudaDeviceProp prop;
        std::memset(&prop, 0, sizeof prop);
        err = cudaGetDeviceProperties(&prop, i);
        if (err != cudaSuccess) {
            std::printf("# error: cudaGetDeviceProperties(%d): %s\n", i, cudaGetErrorString(err));
            return 1;
        }
        const unsigned long long mib =
            static_cast<unsigned long long>(prop.totalGlobalMem) / (1024ULL * 1024ULL);
        std::printf("device %d: name=", i);
        print_name(prop.name);
        std::printf(" arch=sm_%d%d memory_MiB=%llu\n", prop.major, prop.minor, mib);
    }
    return 0;
}
