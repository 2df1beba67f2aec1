// SPDX-License-Identifier: GPL-2.0
/* A socket filter (SEC("socket"), BPF_PROG_TYPE_SOCKET_FILTER): counts what its socket receives, keeps it all. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

SEC("socket")
int count_all(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&seen, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	return skb->len;
}

char _license[] SEC("license") = "GPL";
