package org.modnet.api.netfilter;

import org.modnet.api.net.NetDevice;
import org.modnet.api.skb.SkBuff;

/**
 * nf_log_ipv4's line for a logged packet, the kernel's dmesg line ({@code IN=eth0 OUT= MAC=... SRC=...
 * DST=... LEN=... TOS=0x00 PREC=0x00 TTL=64 ID=0 DF PROTO=TCP SPT=... DPT=... WINDOW=... RES=0x00 SYN
 * URGP=0}): what iptables' LOG target and nft's log statement both write, formatted in one place.
 * @since 1.3
 */
public final class NfLogLine {
    private NfLogLine() {
    }

    /** A dotted quad. */
    public static String addr(int a) {
        return (a >>> 24) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff);
    }

    /**
     * The line for the IPv4 packet at network header {@code nh} (transport header {@code th}, -1 for a
     * fragment or a truncated one; {@code p} its protocol), arrived on {@code in} and leaving by {@code out}
     * (either null), after {@code prefix} (null for none).
     */
    public static String ipv4(String prefix, SkBuff skb, int nh, int th, int p, NetDevice in, NetDevice out) {
        StringBuilder b = new StringBuilder();
        if (prefix != null) {
            b.append(prefix);
        }
        b.append("IN=").append(in != null ? in.name() : "").append(" OUT=").append(out != null ? out.name() : "");
        int mac = skb.macHeader();
        if (in != null && mac >= 0 && nh - mac >= 14) {
            b.append(" MAC=");
            for (int i = mac; i < nh; i++) {
                b.append(String.format(i == mac ? "%02x" : ":%02x", skb.getU8(i)));
            }
        }
        int tos = skb.getU8(nh + 1);
        b.append(" SRC=").append(addr(skb.getU32(nh + 12))).append(" DST=").append(addr(skb.getU32(nh + 16)))
                .append(" LEN=").append(skb.getU16(nh + 2))
                .append(String.format(" TOS=0x%02X PREC=0x%02X", tos & 0x1e, tos & 0xe0))
                .append(" TTL=").append(skb.getU8(nh + 8)).append(" ID=").append(skb.getU16(nh + 4));
        int frag = skb.getU16(nh + 6);
        if ((frag & 0x8000) != 0) {
            b.append(" CE");
        }
        if ((frag & 0x4000) != 0) {
            b.append(" DF");
        }
        if ((frag & 0x2000) != 0) {
            b.append(" MF");
        }
        if ((frag & 0x1fff) != 0) {
            b.append(" FRAG:").append(frag & 0x1fff);
        }
        switch (p) {
            case 6 -> {
                b.append(" PROTO=TCP");
                if (th >= 0) {
                    b.append(" SPT=").append(skb.getU16(th)).append(" DPT=").append(skb.getU16(th + 2))
                            .append(" WINDOW=").append(skb.getU16(th + 14)).append(String.format(" RES=0x%02x", (skb.getU8(th + 12) & 0x0f) << 2));
                    int f = skb.getU8(th + 13);
                    String[] names = { "CWR", "ECE", "URG", "ACK", "PSH", "RST", "SYN", "FIN" };
                    for (int i = 0; i < 8; i++) {
                        if ((f & (0x80 >> i)) != 0) {
                            b.append(' ').append(names[i]);
                        }
                    }
                    b.append(" URGP=").append(skb.getU16(th + 18));
                }
            }
            case 17 -> {
                b.append(" PROTO=UDP");
                if (th >= 0) {
                    b.append(" SPT=").append(skb.getU16(th)).append(" DPT=").append(skb.getU16(th + 2))
                            .append(" LEN=").append(skb.getU16(th + 4));
                }
            }
            case 1 -> {
                b.append(" PROTO=ICMP");
                if (th >= 0) {
                    int t = skb.getU8(th);
                    b.append(" TYPE=").append(t).append(" CODE=").append(skb.getU8(th + 1));
                    if (t == 0 || t == 8) {
                        b.append(" ID=").append(skb.getU16(th + 4)).append(" SEQ=").append(skb.getU16(th + 6));
                    }
                }
            }
            default -> b.append(" PROTO=").append(p);
        }
        return b.toString();
    }
}
