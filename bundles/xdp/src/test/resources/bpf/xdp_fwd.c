#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2

/* How often bpf_fib_lookup answered each BPF_FIB_LKUP_RET_* code. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __type(key, __u32);
    __type(value, __u64);
    __uint(max_entries, 16);
} results SEC(".maps");

static __always_inline void decrease_ttl(struct iphdr *ip)
{
    __u32 check = ip->check;
    check += bpf_htons(0x0100);
    ip->check = (__u16)(check + (check >= 0xffff));
    ip->ttl--;
}

/* Forwards IPv4 at the XDP hook: the FIB says where, the program rewrites the MACs and redirects. */
SEC("xdp")
int xdp_fwd(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = data + sizeof(*eth);
    struct bpf_fib_lookup fib = {};

    if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ttl <= 1)
        return XDP_PASS;
    fib.family = AF_INET;
    fib.tos = ip->tos;
    fib.l4_protocol = ip->protocol;
    fib.tot_len = bpf_ntohs(ip->tot_len);
    fib.ipv4_src = ip->saddr;
    fib.ipv4_dst = ip->daddr;
    fib.ifindex = ctx->ingress_ifindex;

    long rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
    __u32 key = rc < 0 ? 15 : (__u32)rc & 15;
    __u64 *count = bpf_map_lookup_elem(&results, &key);
    if (count)
        __sync_fetch_and_add(count, 1);
    if (rc != BPF_FIB_LKUP_RET_SUCCESS)
        return XDP_PASS; /* the stack decides: resolves the neighbour, sends ICMP, ... */
    decrease_ttl(ip);
    __builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
    __builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
    return bpf_redirect(fib.ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
