/* Test scaffolding for Wine 8, never shipped: Rust's standard library on
 * Windows takes its random bytes from ProcessPrng in bcryptprimitives.dll
 * (Windows 10 and later), which Wine 8 does not have. This DLL, copied into
 * the test prefix's system32, answers ProcessPrng with RtlGenRandom
 * (SystemFunction036 in advapi32), as Windows' own implementation does. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
