// SPDX-License-Identifier: GPL-2.0
/*
 * Arrays and hashes of maps, as the kernel's selftests (test_map_in_map) use them: the outer
 * map's values are maps shaped as struct inner_map (the BTF template), set from user space;
 * a program looks the inner map up and counts into it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_map);
} by_queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct inner_map);
} by_ifindex SEC(".maps") = {
	.values = { [3] = &inner_b },	/* set at load, as libbpf sets it: key 3 names inner_b */
};

/* The frame counts in slot 0 of the map for its receive queue; a queue with no map passes. */
SEC("xdp")
int count_by_queue(struct xdp_md *ctx)
{
	__u32 queue = ctx->rx_queue_index, zero = 0;
	void *inner = bpf_map_lookup_elem(&by_queue, &queue);
	__u64 *n;

	if (!inner)
		return XDP_PASS;
	n = bpf_map_lookup_elem(inner, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_DROP;
}

/* The frame counts in slot 1 of the map for its device; a device with no map passes. */
SEC("xdp")
int count_by_ifindex(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex, one = 1;
	void *inner = bpf_map_lookup_elem(&by_ifindex, &ifindex);
	__u64 *n;

	if (!inner)
		return XDP_PASS;
	n = bpf_map_lookup_elem(inner, &one);
	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
