package org.modnet.tcp;

import org.modnet.api.skb.SkBuff;

/**
 * What TCP needs from the network layer under it, kept small so IPv6 can come later without
 * touching TCP (Linux keeps this in {@code inet_connection_sock_af_ops}: {@code ipv4_specific},
 * {@code ipv6_specific}). Now: the pseudo-header of the checksum.
 */
interface TcpAf {
    /** IP protocol number of TCP. */
    int IPPROTO_TCP = 6;

    /** The address family ({@code AF_INET} 2, {@code AF_INET6} 10). */
    int family();

    /**
     * The ones' complement sum (not folded, not complemented) of the pseudo-header of a received
     * segment of {@code len} bytes: the addresses are read from the skb's network header.
     */
    int pseudoSum(SkBuff skb, int len);

    /** IPv4 (RFC 9293 3.1): source and destination address, zero, protocol 6, TCP length. */
    TcpAf INET = new TcpAf() {
        @Override
        public int family() {
            return 2;
        }

        @Override
        public int pseudoSum(SkBuff skb, int len) {
            int nh = skb.networkHeader();
            return inetPseudoSum(skb.getU32(nh + 12), skb.getU32(nh + 16), len);
        }

        @Override
        public String toString() {
            return "inet";
        }
    };

    /** The IPv4 pseudo-header sum for a segment from saddr to daddr: what a sender starts its checksum with. */
    static int inetPseudoSum(int saddr, int daddr, int len) {
        return (saddr >>> 16) + (saddr & 0xffff) + (daddr >>> 16) + (daddr & 0xffff) + IPPROTO_TCP + len;
    }
}
