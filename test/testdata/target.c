/* Test workload for the integration tests. Every mode makes an exact number
 * of the calls the test configs count, and nothing else of the kind:
 *   target getpid N      N getpid syscalls
 *   target getppid N     N getppid syscalls
 *   target getuid N      N getuid syscalls
 *   target write SIZE... one write of each SIZE bytes to /dev/null
 *   target work N        N calls of hx_target_work, each firing the
 *                        hxtest:tick USDT probe when its semaphore is up;
 *                        prints "semaphore=S" at the end
 *   target args N        N firings of the hxtest:args USDT probe, the i-th
 *                        with arguments i (long, in a register), -(i%100)
 *                        (short, sign-extended), 7 (a constant) and i*3
 *                        (int, from memory)
 */
#define _GNU_SOURCE
#define _SDT_HAS_SEMAPHORES 1
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>
#include <sys/syscall.h>
#include <unistd.h>

unsigned short hxtest_tick_semaphore __attribute__((unused)) __attribute__((section(".probes")));
unsigned short hxtest_args_semaphore __attribute__((unused)) __attribute__((section(".probes")));

__attribute__((noinline)) int hx_target_work(int i)
{
	__asm__ volatile("" ::: "memory");
	return i * 2;
}

static char buf[1 << 22];

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *mode = argv[1];
	long n = atol(argv[2]);
	if (!strcmp(mode, "getpid")) {
		for (long i = 0; i < n; i++)
			syscall(SYS_getpid);
	} else if (!strcmp(mode, "getppid")) {
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
	} else if (!strcmp(mode, "getuid")) {
		for (long i = 0; i < n; i++)
			syscall(SYS_getuid);
	} else if (!strcmp(mode, "write")) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd < 0)
			return 1;
		for (int i = 2; i < argc; i++) {
			long size = atol(argv[i]);
			if (size < 0 || size > (long)sizeof(buf))
				return 2;
			syscall(SYS_write, fd, buf, size);
		}
	} else if (!strcmp(mode, "work")) {
		int sum = 0, raised = 0;
		for (long i = 0; i < n; i++) {
			sum += hx_target_work(i);
			if (hxtest_tick_semaphore) {
				raised = 1;
				DTRACE_PROBE1(hxtest, tick, i);
			}
		}
		printf("semaphore=%d sum=%d\n", raised, sum);
	} else if (!strcmp(mode, "args")) {
		for (long i = 0; i < n; i++) {
			volatile int mem = (int)(i * 3);
			short neg = (short)-(i % 100);
			DTRACE_PROBE4(hxtest, args, i, neg, 7, mem);
		}
	} else {
		return 2;
	}
	return 0;
}
