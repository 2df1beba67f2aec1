package org.modnet.capture;

/**
 * A captured frame's bytes and the fields printing asks about, decoded once: Ethernet,
 * ARP, IPv4 (addresses, protocol, fragment offset), and the UDP/TCP ports of a first fragment.
 */
final class Frame {
    final byte[] b;
    final int ethertype;
    final boolean ipv4;
    final int saddr;
    final int daddr;
    final int protocol;
    final int ihl;
    final int fragOffset;
    final boolean moreFragments;
    final int sport;
    final int dport;

    Frame(byte[] bytes) {
        this.b = bytes;
        this.ethertype = bytes.length >= 14 ? u16(12) : -1;
        boolean v4 = ethertype == 0x0800 && bytes.length >= 34 && (u8(14) >>> 4) == 4;
        this.ipv4 = v4;
        this.ihl = v4 ? (u8(14) & 0x0f) * 4 : 0;
        this.saddr = v4 ? u32(26) : 0;
        this.daddr = v4 ? u32(30) : 0;
        this.protocol = v4 ? u8(23) : -1;
        int frag = v4 ? u16(20) : 0;
        this.fragOffset = (frag & 0x1fff) * 8;
        this.moreFragments = (frag & 0x2000) != 0;
        int l4 = 14 + ihl;
        boolean ports = v4 && fragOffset == 0 && (protocol == 6 || protocol == 17) && bytes.length >= l4 + 4;
        this.sport = ports ? u16(l4) : -1;
        this.dport = ports ? u16(l4 + 2) : -1;
    }

    int u8(int i) {
        return b[i] & 0xff;
    }

    int u16(int i) {
        return (u8(i) << 8) | u8(i + 1);
    }

    int u32(int i) {
        return (u16(i) << 16) | u16(i + 2);
    }

    static String ip(int a) {
        return org.modnet.api.inet.Ipv4Addresses.format(a);
    }

    String mac(int at) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            if (i > 0) {
                sb.append(':');
            }
            sb.append(String.format("%02x", u8(at + i)));
        }
        return sb.toString();
    }
}
