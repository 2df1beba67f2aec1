// SPDX-License-Identifier: GPL-2.0
/*
 * Every frame to the AF_XDP socket bound to the queue it arrived on, as the kernel's
 * samples/bpf/xdpsock and xdp-tutorial's af_xdp_kern do; a queue with no socket in
 * xsks_map passes its frames to the stack.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

SEC("xdp")
int xdp_sock_prog(struct xdp_md *ctx)
{
	return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
