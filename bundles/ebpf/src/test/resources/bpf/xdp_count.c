#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

/* Every frame the hook sees, in slot 0. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 1);
} frames SEC(".maps");

/* Frames by ethertype (network order). */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 64);
} by_proto SEC(".maps");

/* Counts every frame; drops IPv4 UDP (the flood), passes the rest (ARP, ping). */
SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u32 key = 0;
    __u64 *n = bpf_map_lookup_elem(&frames, &key);
    if (n) __sync_fetch_and_add(n, 1);
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end) return XDP_PASS;
    __u32 proto = eth->h_proto;
    __u64 *p = bpf_map_lookup_elem(&by_proto, &proto);
    if (p) {
        __sync_fetch_and_add(p, 1);
    } else {
        __u64 one = 1;
        bpf_map_update_elem(&by_proto, &proto, &one, BPF_NOEXIST);
    }
    struct iphdr *ip = (void *)(eth + 1);
    if (eth->h_proto == __builtin_bswap16(ETH_P_IP) && (void *)(ip + 1) <= end && ip->protocol == IPPROTO_UDP) return XDP_DROP;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
