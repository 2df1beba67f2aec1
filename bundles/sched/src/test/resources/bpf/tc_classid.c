// SEC("tc") that chooses a class: in direct-action mode it sets skb->tc_classid to CLASSID for UDP and
// returns TC_ACT_OK (other frames keep the filter's own class id); built without DA it returns the
// class id itself (0: not this filter's frame).
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef CLASSID
#define CLASSID 0x10003
#endif

static __always_inline int is_udp(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *end = (void *)(long)skb->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end || skb->protocol != bpf_htons(ETH_P_IP))
        return 0;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end)
        return 0;
    return ip->protocol == IPPROTO_UDP;
}

SEC("tc")
int tc_classid(struct __sk_buff *skb)
{
#ifdef DA
    if (is_udp(skb))
        skb->tc_classid = CLASSID;
    return TC_ACT_OK;
#else
    return is_udp(skb) ? CLASSID : 0;
#endif
}

char LICENSE[] SEC("license") = "GPL";
