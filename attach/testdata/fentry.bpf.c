// fentry/fexit test programs for package attach, in their own object:
// loading them fails outright on some kernels, and that must not take the
// other test programs down with it.
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 hits;

SEC("fentry/do_sys_openat2")
int fentry_open(__u64 *ctx)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

SEC("fexit/do_sys_openat2")
int fexit_open(__u64 *ctx)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
