// SEC("tc"): sets skb->mark and skb->priority (context writes) and passes the frame.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int tc_set_mark(struct __sk_buff *skb)
{
    skb->mark = 42;
    skb->priority = skb->len > 100 ? 1 : 6;
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
