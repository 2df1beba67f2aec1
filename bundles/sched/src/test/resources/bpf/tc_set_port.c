// SEC("tc"): rewrites an IPv4 UDP datagram's destination port to NEW_PORT and its source address to
// NEW_SADDR (when defined), fixing the UDP checksum with bpf_l4_csum_replace (BPF_F_PSEUDO_HDR for the
// address, which the pseudo-header covers) and the IP header's with bpf_l3_csum_replace.
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define IP_PROTO_OFF (ETH_HLEN + offsetof(struct iphdr, protocol))
#define IP_SADDR_OFF (ETH_HLEN + offsetof(struct iphdr, saddr))
#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define UDP_DPORT_OFF (ETH_HLEN + sizeof(struct iphdr) + offsetof(struct udphdr, dest))
#define UDP_CSUM_OFF (ETH_HLEN + sizeof(struct iphdr) + offsetof(struct udphdr, check))

SEC("tc")
int tc_set_port(struct __sk_buff *skb)
{
    __u8 proto;
    if (skb->protocol != bpf_htons(ETH_P_IP) || bpf_skb_load_bytes(skb, IP_PROTO_OFF, &proto, 1) < 0 || proto != IPPROTO_UDP)
        return TC_ACT_OK;
    __be16 old;
    if (bpf_skb_load_bytes(skb, UDP_DPORT_OFF, &old, 2) < 0)
        return TC_ACT_OK;
    __be16 port = bpf_htons(NEW_PORT);
    bpf_l4_csum_replace(skb, UDP_CSUM_OFF, old, port, BPF_F_MARK_MANGLED_0 | sizeof(port));
    bpf_skb_store_bytes(skb, UDP_DPORT_OFF, &port, sizeof(port), 0);
#ifdef NEW_SADDR
    __be32 olds;
    if (bpf_skb_load_bytes(skb, IP_SADDR_OFF, &olds, 4) < 0)
        return TC_ACT_OK;
    __be32 saddr = bpf_htonl(NEW_SADDR);
    bpf_l4_csum_replace(skb, UDP_CSUM_OFF, olds, saddr, BPF_F_MARK_MANGLED_0 | BPF_F_PSEUDO_HDR | sizeof(saddr));
    bpf_l3_csum_replace(skb, IP_CSUM_OFF, olds, saddr, sizeof(saddr));
    bpf_skb_store_bytes(skb, IP_SADDR_OFF, &saddr, sizeof(saddr), 0);
#endif
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
