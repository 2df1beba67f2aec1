#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 verdict = XDP_PASS;
__u64 seen = 0;
static const char fmt[] = "frame %d";

SEC("xdp")
int count_frames(struct xdp_md *ctx)
{
    seen++;
    bpf_trace_printk(fmt, sizeof(fmt), (int)seen);
    return verdict;
}

char LICENSE[] SEC("license") = "GPL";
