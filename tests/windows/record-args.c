/* A Windows program for the alert-command test (tests/it/windows.rs): writes
 * the arguments it was started with, one per line, then what came on its
 * standard input, into the file named by RECORD_ARGS_TO (UTF-8). What a program
 * receives is what the test compares with what the app meant to pass. */
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>
#include <windows.h>

static void write_utf8(FILE *out, const wchar_t *text) {
    int size = WideCharToMultiByte(CP_UTF8, 0, text, -1, NULL, 0, NULL, NULL);
    char *bytes = malloc(size);
    WideCharToMultiByte(CP_UTF8, 0, text, -1, bytes, size, NULL, NULL);
    fputs(bytes, out);
    free(bytes);
}

int wmain(int argc, wchar_t **argv) {
    const wchar_t *path = _wgetenv(L"RECORD_ARGS_TO");
    if (!path) return 2;
    FILE *out = _wfopen(path, L"wb");
    if (!out) return 3;
    for (int i = 1; i < argc; i++) {
        write_utf8(out, argv[i]);
        fputc('\n', out);
    }
    fputs("--stdin--\n", out);
    char buffer[4096];
    size_t read;
    while ((read = fread(buffer, 1, sizeof buffer, stdin)) > 0) fwrite(buffer, 1, read, out);
    fclose(out);
    return 0;
}
