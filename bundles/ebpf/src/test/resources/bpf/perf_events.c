#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Through a perf event array (one ring per CPU), one record per IPv4 frame: its protocol, source address and length, for user space to read. */
struct event {
    __u32 saddr;
    __u16 len;
    __u8 protocol;
    __u8 pad;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, 4);
    __uint(value_size, 4);
} events SEC(".maps");

SEC("xdp")
int perf_ipv4(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = data + sizeof(*eth);

    if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct event e = {
        .saddr = ip->saddr,
        .len = (__u16)(data_end - data),
        .protocol = ip->protocol,
    };
    if (bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e)) != 0)
        return XDP_DROP; /* the reader fell behind: make it visible */
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
