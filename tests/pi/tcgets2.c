/* For the tests under qemu-user only, never in the product: qemu 7.2 (Debian bookworm) does
 * not know the TCGETS2/TCSETS2 ioctls that the serialport crate uses, so a button box's port
 * fails to open with "Function not implemented". Loaded with LD_PRELOAD into the emulated
 * terminal, this answers them with TCGETS/TCSETS, which qemu knows. Speeds do not matter on
 * the pseudo-terminals the tests use. Built with the target's cross compiler:
 *   aarch64-linux-gnu-gcc -shared -fPIC -O2 -o tcgets2.so tests/pi/tcgets2.c -ldl */
#define _GNU_SOURCE
#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <string.h>

int ioctl(int fd, unsigned long request, ...) {
    static int (*real)(int, unsigned long, ...);
    if (!real) real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);

    if (request == TCGETS2) {
        struct termios t;
        int r = real(fd, TCGETS, &t);
        if (r != 0) return r;
        struct termios2 *t2 = arg;
        memset(t2, 0, sizeof *t2);
        memcpy(t2, &t, sizeof t);
        t2->c_ispeed = t2->c_ospeed = 9600;
        return 0;
    }
    if (request == TCSETS2 || request == TCSETSW2 || request == TCSETSF2) {
        struct termios t;
        memcpy(&t, arg, sizeof t);
        t.c_cflag = (t.c_cflag & ~CBAUD) | B9600;
        unsigned long plain = request == TCSETS2 ? TCSETS : request == TCSETSW2 ? TCSETSW : TCSETSF;
        return real(fd, plain, &t);
    }
    return real(fd, request, arg);
}
