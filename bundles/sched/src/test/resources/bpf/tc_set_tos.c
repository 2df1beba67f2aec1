// SEC("tc"): rewrites an IPv4 packet's TOS to NEW_TOS with bpf_skb_store_bytes and fixes the header
// checksum with bpf_l3_csum_replace (unless built with -DNO_CSUM_FIX), as samples/bpf/tcbpf1 does.
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef NEW_TOS
#define NEW_TOS 0x20
#endif
#define IP_TOS_OFF (ETH_HLEN + offsetof(struct iphdr, tos))
#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))

SEC("tc")
int tc_set_tos(struct __sk_buff *skb)
{
    if (skb->protocol != bpf_htons(ETH_P_IP))
        return TC_ACT_OK;
    __u8 old;
    if (bpf_skb_load_bytes(skb, IP_TOS_OFF, &old, 1) < 0)
        return TC_ACT_OK;
    __u8 tos = NEW_TOS;
#ifndef NO_CSUM_FIX
    bpf_l3_csum_replace(skb, IP_CSUM_OFF, bpf_htons(old), bpf_htons(tos), 2);
#endif
    bpf_skb_store_bytes(skb, IP_TOS_OFF, &tos, 1, 0);
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
