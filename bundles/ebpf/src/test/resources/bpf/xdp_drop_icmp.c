#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 1);
} drops SEC(".maps");

static __noinline int is_icmp(void *data, void *end)
{
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end) return 0;
    if (eth->h_proto != __builtin_bswap16(ETH_P_IP)) return 0;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end) return 0;
    return ip->protocol == IPPROTO_ICMP;
}

SEC("xdp")
int xdp_drop_icmp(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (!is_icmp(data, end)) return XDP_PASS;
    __u32 key = 0;
    __u64 *n = bpf_map_lookup_elem(&drops, &key);
    if (n) __sync_fetch_and_add(n, 1);
    return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
