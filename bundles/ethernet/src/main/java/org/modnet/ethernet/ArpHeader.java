package org.modnet.ethernet;

/** The ARP packet for IPv4 over Ethernet (RFC 826): field offsets from the start of the ARP header. */
final class ArpHeader {
    static final int HTYPE = 0;
    static final int PTYPE = 2;
    static final int HLEN = 4;
    static final int PLEN = 5;
    static final int OPER = 6;
    static final int SHA = 8;
    static final int SPA = 14;
    static final int THA = 18;
    static final int TPA = 24;
    static final int LEN = 28;

    static final int ARPHRD_ETHER = 1;
    static final int ARPOP_REQUEST = 1;
    static final int ARPOP_REPLY = 2;

    private ArpHeader() {
    }
}
