package org.modnet.netfilter;

import org.modnet.api.net.NetDevice;
import org.modnet.api.netfilter.NfLogLine;
import org.modnet.api.skb.SkBuff;

/** The LOG target's line, in nf_log_ipv4's format (the kernel's dmesg line for a logged packet), as nft's log writes it too. */
final class Log {
    private Log() {
    }

    static String format(String prefix, SkBuff skb, int nh, int th, int p, NetDevice in, NetDevice out) {
        return NfLogLine.ipv4(prefix, skb, nh, th, p, in, out);
    }
}
