package org.modnet.nftables;

import org.modnet.api.netfilter.NfLogLine;

/** nft's log statement's line: nf_log_ipv4's format, shared with iptables' LOG through the netfilter API. */
final class LogLine {
    private LogLine() {
    }

    static String format(String prefix, Regs r) {
        if (r.nh < 0) { // a frame at a netdev ingress that is not IPv4: nf_log_netdev's devices only
            return (prefix != null ? prefix : "") + "IN=" + (r.in != null ? r.in.name() : "") + " OUT= ";
        }
        return NfLogLine.ipv4(prefix, r.skb, r.nh, r.th, r.proto, r.in, r.out);
    }

    static String addr(int a) {
        return NfLogLine.addr(a);
    }
}
