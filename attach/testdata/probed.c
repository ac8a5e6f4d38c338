// Target for the uprobe and USDT tests: "probed N" calls target_func and
// fires the ebpftest:hit probe N times each, after printing whether the
// probe's semaphore is raised. The probe only fires while it is raised.
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#include <stdio.h>
#include <stdlib.h>

unsigned short ebpftest_hit_semaphore __attribute__((unused)) __attribute__((section(".probes")));

__attribute__((noinline)) int target_func(int i)
{
	__asm__ volatile("" ::: "memory");
	return i * 2;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 0;
	long sum = 0;

	printf("semaphore=%d\n", ebpftest_hit_semaphore);
	for (int i = 0; i < n; i++) {
		sum += target_func(i);
		if (ebpftest_hit_semaphore)
			DTRACE_PROBE1(ebpftest, hit, i);
	}
	printf("sum=%ld\n", sum);
	return 0;
}
