// SEC("tc") that reads the packet without checking data_end: the verifier must refuse it.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int tc_unchecked(struct __sk_buff *skb)
{
    unsigned char *data = (void *)(long)skb->data;
    return data[23] == 1 ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
