// SEC("tc"): IPv4 goes to device TARGET_IFINDEX with bpf_redirect (REDIRECT_FLAGS: 1 is BPF_F_INGRESS);
// with -DCLONE a copy goes there by bpf_clone_redirect and the frame itself passes.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef REDIRECT_FLAGS
#define REDIRECT_FLAGS 0
#endif

SEC("tc")
int tc_redirect(struct __sk_buff *skb)
{
    if (skb->protocol != bpf_htons(ETH_P_IP))
        return TC_ACT_OK;
#ifdef CLONE
    bpf_clone_redirect(skb, TARGET_IFINDEX, REDIRECT_FLAGS);
    return TC_ACT_OK;
#else
    return bpf_redirect(TARGET_IFINDEX, REDIRECT_FLAGS);
#endif
}

char LICENSE[] SEC("license") = "GPL";
