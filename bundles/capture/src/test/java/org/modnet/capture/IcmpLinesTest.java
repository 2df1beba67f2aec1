package org.modnet.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** ICMP errors as tcpdump words them: the quoted datagram's destination, and its port for a port unreachable. */
class IcmpLinesTest {
    /** An Ethernet frame with an ICMP error from 10.8.0.2 to 10.8.0.1 quoting a UDP or TCP datagram 10.8.0.1:40000 → 10.8.0.2:7777. */
    private static byte[] error(int type, int code, int rest, int quotedProto) {
        byte[] b = new byte[14 + 20 + 8 + 20 + 8];
        b[12] = 0x08;
        int ip = 14;
        b[ip] = 0x45;
        int tot = 20 + 8 + 28;
        b[ip + 2] = (byte) (tot >> 8);
        b[ip + 3] = (byte) tot;
        b[ip + 8] = 64;
        b[ip + 9] = 1;
        put(b, ip + 12, 0x0a080002);
        put(b, ip + 16, 0x0a080001);
        int icmp = ip + 20;
        b[icmp] = (byte) type;
        b[icmp + 1] = (byte) code;
        put(b, icmp + 4, rest);
        int q = icmp + 8;
        b[q] = 0x45;
        b[q + 9] = (byte) quotedProto;
        put(b, q + 12, 0x0a080001);
        put(b, q + 16, 0x0a080002);
        b[q + 20] = (byte) (40000 >> 8);
        b[q + 21] = (byte) 40000;
        b[q + 22] = (byte) (7777 >> 8);
        b[q + 23] = (byte) 7777;
        return b;
    }

    private static void put(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    private static String line(byte[] frame) {
        return new Printer(false).stamps(1).line(new Frame(frame), java.time.Instant.EPOCH);
    }

    @Test
    void aPortUnreachableNamesTheQuotedDestinationProtocolAndPort() {
        // as Linux's tcpdump printed it beside modnet's in SideBySideIT
        assertEquals("IP 10.8.0.2 > 10.8.0.1: ICMP 10.8.0.2 udp port 7777 unreachable, length 36", line(error(3, 3, 0, 17)));
        assertEquals("IP 10.8.0.2 > 10.8.0.1: ICMP 10.8.0.2 tcp port 7777 unreachable, length 36", line(error(3, 3, 0, 6)));
    }

    @Test
    void otherCodesReadAsTcpdumpsTable() {
        assertEquals("IP 10.8.0.2 > 10.8.0.1: ICMP host 10.8.0.2 unreachable, length 36", line(error(3, 1, 0, 17)));
        assertEquals("IP 10.8.0.2 > 10.8.0.1: ICMP net 10.8.0.2 unreachable, length 36", line(error(3, 0, 0, 17)));
        assertEquals("IP 10.8.0.2 > 10.8.0.1: ICMP 10.8.0.2 unreachable - need to frag (mtu 1400), length 36",
                line(error(3, 4, 1400, 17)));
        assertEquals("IP 10.8.0.2 > 10.8.0.1: ICMP host 10.8.0.2 unreachable - admin prohibited filter, length 36",
                line(error(3, 13, 0, 17)));
        assertEquals("IP 10.8.0.2 > 10.8.0.1: ICMP time exceeded in-transit, length 36", line(error(11, 0, 0, 17)));
        assertEquals("IP 10.8.0.2 > 10.8.0.1: ICMP redirect 10.8.0.2 to host 10.8.0.9, length 36", line(error(5, 1, 0x0a080009, 17)));
    }
}
