// SPDX-License-Identifier: GPL-2.0
/*
 * Every frame goes to CPU 0 through cpu_map, as the kernel's samples/bpf/xdp_redirect_cpu
 * does; while the entry is empty, frames pass to the stack where they arrived. cpu_map's
 * values are struct bpf_cpumap_val: the queue size, then the program that runs on the
 * frames on that CPU before the stack takes them (0 for none), such as xdp_drop_icmp_on_cpu.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} cpu_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} icmp_dropped SEC(".maps");

SEC("xdp")
int xdp_redirect_cpu(struct xdp_md *ctx)
{
	return bpf_redirect_map(&cpu_map, 0, XDP_PASS);
}

/* A cpumap entry's program: drops ICMP on the target CPU, counting it; the rest goes on to the stack. */
SEC("xdp/cpumap")
int xdp_drop_icmp_on_cpu(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u32 key = 0;
	__u64 *n;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_ICMP)
		return XDP_PASS;
	n = bpf_map_lookup_elem(&icmp_dropped, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
