// SPDX-License-Identifier: GPL-2.0
/*
 * BPF_F_INNER_MAP: inner arrays of different sizes in one array of maps, as the kernel's selftests
 * (test_map_in_map's inner_map_sz) use them. Without the flag the kernel refuses inner_big as a value
 * of outer (array_map_meta_equal compares max_entries).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner_small {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} inner_small SEC(".maps");

struct inner_big {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} inner_big SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_small);
} outer SEC(".maps") = {
	.values = { [0] = &inner_small, [1] = &inner_big },
};

/* The frame counts at index ingress_ifindex of the map for its queue; an index past that map's end passes. */
SEC("xdp")
int count_at_ifindex(struct xdp_md *ctx)
{
	__u32 queue = ctx->rx_queue_index, at = ctx->ingress_ifindex;
	void *inner = bpf_map_lookup_elem(&outer, &queue);
	__u64 *n;

	if (!inner)
		return XDP_PASS;
	n = bpf_map_lookup_elem(inner, &at);
	if (!n)
		return XDP_PASS;
	__sync_fetch_and_add(n, 1);
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
