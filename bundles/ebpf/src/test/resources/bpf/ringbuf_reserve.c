#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* The first 32 bytes of every IPv4 frame, written in place into a reserved ring buffer record. */
struct sample {
    __u32 len;
    __u8 head[32];
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} samples SEC(".maps");

SEC("xdp")
int sample_ipv4(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;

    if (data + 32 > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct sample *s = bpf_ringbuf_reserve(&samples, sizeof(*s), 0);
    if (!s)
        return XDP_DROP; /* the reader fell behind */
    s->len = data_end - data;
    if (s->len > 1000) {
        bpf_ringbuf_discard(s, 0); /* not the frames this sampler wants */
        return XDP_PASS;
    }
    __builtin_memcpy(s->head, data, 32);
    bpf_ringbuf_submit(s, 0);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
