// brickyard-gpu-query (HIP): list the GPUs the HIP runtime can see.
//
// SPDX-License-Identifier: Apache-2.0
//
// Output (stdout, format version 1):
//   # brickyard-gpu-query 1
//   # runtime: hip <runtime major.minor>
//   # driver: hip <hipDriverGetVersion value>
//   devices: <N>
//   device <i>: name="<name>" arch=<gfxNNN> memory_MiB=<total memory in MiB>
//
// arch is the gcnArchName up to the first ':' (feature flags such as
// ":sramecc+:xnack-" are dropped), e.g. gfx90a. Exit status: 0 ok, 2 no
// device, 1 any other HIP error. Errors are printed as "# error: ..." lines.
#include <hip/hip_runtime.h>

#include <cstdio>
#include <cstring>

static void print_name(const char *name)
{
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
        std::printf("brickyard-gpu-query 1 (hip)\n");
        return 0;
    }

    int runtime = 0;
    int driver = 0;
    hipError_t err = hipRuntimeGetVersion(&runtime);
    if (err != hipSuccess) {
        std::printf("# error: hipRuntimeGetVersion: %s\n", hipGetErrorString(err));
        return 1;
    }
    (void)hipDriverGetVersion(&driver);

    // HIP_VERSION = major * 10000000 + minor * 100000 + patch.
    std::printf("# brickyard-gpu-query 1\n");
    std::printf("# runtime: hip %d.%d\n", runtime / 10000000, (runtime / 100000) % 100);
    std::printf("# driver: hip %d\n", driver);

    int count = 0;
    err = hipGetDeviceCount(&count);
    if (err != hipSuccess || count == 0) {
        std::printf("devices: 0\n");
        std::printf("# error: no HIP device: %s\n",
                    err != hipSuccess ? hipGetErrorString(err) : "device count is 0");
        return 2;
    }
    std::printf("devices: %d\n", count);

    for (int i = 0; i < count; ++i) {
        hipDeviceProp_t prop;
        std::memset(&prop, 0, sizeof prop);
        err = hipGetDeviceProperties(&prop, i);
        if (err != hipSuccess) {
            std::printf("# error: hipGetDeviceProperties(%d): %s\n", i, hipGetErrorString(err));
            return 1;
        }
        char arch[sizeof prop.gcnArchName + 1];
        std::memset(arch, 0, sizeof arch);
        std::memcpy(arch, prop.gcnArchName, sizeof prop.gcnArchName);
        char *colon = std::strchr(arch, ':');
        if (colon != nullptr) {
            *colon = '\0';
        }
        const unsigned long long mib =
            static_cast<unsigned long long>(prop.totalGlobalMem) / (1024ULL * 1024ULL);
        std::printf("device %d: name=", i);
        print_name(prop.name);
        std::printf(" arch=%s memory_MiB=%llu\n", arch[0] != '\0' ? arch : "unknown", mib);
    }
    return 0;
}
