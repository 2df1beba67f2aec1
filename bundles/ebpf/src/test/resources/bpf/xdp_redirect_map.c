// SPDX-License-Identifier: GPL-2.0
/*
 * Every frame leaves through the device that slot 0 of tx_port names, as the kernel's
 * samples/bpf/xdp_redirect_map does; while the slot is empty, frames pass to the stack.
 * tx_port's values are struct bpf_devmap_val: the ifindex, then a bpf_prog left 0.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} tx_port SEC(".maps");

SEC("xdp")
int xdp_redirect_map(struct xdp_md *ctx)
{
	return bpf_redirect_map(&tx_port, 0, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
