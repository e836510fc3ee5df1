/* syscall(): not in POSIX (the build asks for _POSIX_C_SOURCE only) */
#define _DEFAULT_SOURCE
/* What the CPU and the operating system let ganc's bf16 kernels use, from CPUID and XGETBV,
 * asked once. A CPU may have an instruction set that the kernel has not enabled (the register
 * state is then not saved on a task switch), so both are checked. AMX's tile data also needs
 * Linux's permission per process (arch_prctl ARCH_REQ_XCOMP_PERM, Linux 5.16 on): refused, or
 * on an older kernel, AMX counts as absent and the next path is used. */
#include "ganc_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARCH_REQ_XCOMP_PERM 0x1023 /* <asm/prctl.h>; spelt out for older headers */
#define XFEATURE_XTILEDATA 18

static int avx512bf16, amx_bf16;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static unsigned long long xgetbv0(void)
{
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (unsigned long long)hi << 32 | lo;
}

static void detect(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return; /* OSXSAVE: XGETBV works */
    const unsigned long long xcr0 = xgetbv0();
    unsigned max = __get_cpuid_max(0, NULL);
    if (max < 7) return;
    __cpuid_count(7, 0, a, b, c, d);
    const unsigned ebx7 = b, edx7 = d, max_sub = a;
    /* opmask, upper halves of ZMM0-15, ZMM16-31; and SSE, AVX state */
    const int zmm_os = (xcr0 & 0xe6) == 0xe6;
    const int f = ebx7 >> 16 & 1, bw = ebx7 >> 30 & 1, vl = ebx7 >> 31 & 1;
    int bf16 = 0;
    if (max_sub >= 1) {
        __cpuid_count(7, 1, a, b, c, d);
        bf16 = a >> 5 & 1;
    }
    avx512bf16 = zmm_os && f && bw && vl && bf16;
    /* AMX: TILE (EDX bit 24) and BF16 (bit 22), tile config and data state enabled (XCR0 bits
     * 17, 18), then the permission for this process */
    const int amx_cpu = (edx7 >> 24 & 1) && (edx7 >> 22 & 1);
    const int amx_os = (xcr0 >> 17 & 3) == 3;
    if (amx_cpu && amx_os) amx_bf16 = syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
}

int ganc_cpu_avx512bf16(void)
{
    pthread_once(&once, detect);
    return avx512bf16;
}

int ganc_cpu_amx_bf16(void)
{
    pthread_once(&once, detect);
    return amx_bf16;
}

#else

int ganc_cpu_avx512bf16(void) { return 0; }
int ganc_cpu_amx_bf16(void) { return 0; }

#endif
