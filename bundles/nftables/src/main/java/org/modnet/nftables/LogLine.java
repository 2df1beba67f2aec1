package org.modnet.nftables;

import org.modnet.api.netfilter.NfLogLine;

/** nft's log statement's line: nf_log_ipv4's format, shared with iptables' LOG through the netfilter API. */
final class LogLine {
    private LogLine() {
    }

    static String format(String prefix, Regs r) {
        return NfLogLine.ipv4(prefix, r.skb, r.nh, r.th, r.proto, r.in, r.out);
    }

    static String addr(int a) {
        return NfLogLine.addr(a);
    }
}
