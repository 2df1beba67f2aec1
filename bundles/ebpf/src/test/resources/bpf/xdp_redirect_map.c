// SPDX-License-Identifier: GPL-2.0
/*
 * Every frame leaves through the device that slot 0 of tx_port names, as the kernel's
 * samples/bpf/xdp_redirect_map does; while the slot is empty, frames pass to the stack.
 * tx_port's values are struct bpf_devmap_val: the ifindex, then the program that runs on
 * the frames leaving through it (0 for none), such as xdp_count_egress.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} tx_port SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} egress_count SEC(".maps");

SEC("xdp")
int xdp_redirect_map(struct xdp_md *ctx)
{
	return bpf_redirect_map(&tx_port, 0, XDP_PASS);
}

/* A devmap entry's program: counts the frames leaving by each device, by its ifindex. */
SEC("xdp/devmap")
int xdp_count_egress(struct xdp_md *ctx)
{
	__u32 key = ctx->egress_ifindex;
	__u64 *n = bpf_map_lookup_elem(&egress_count, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
