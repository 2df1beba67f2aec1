package org.modnet.shell.snmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** /proc/net/snmp and /proc/net/netstat: Linux's header lines, the values under them. */
class ProcNetSnmpTest {
    @Test
    void snmpHasLinuxsColumnsInLinuxsOrder() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("IpInReceives", 4L);
        c.put("IpOutTransmits", 4L);
        c.put("IcmpInMsgs", 2L);
        c.put("IcmpMsgInType8", 2L);
        c.put("TcpActiveOpens", 3L);
        c.put("UdpInDatagrams", 7L);
        List<String> lines = ProcNetSnmp.snmp(c, false, 64);
        // the header lines are Linux 6.x's, copied from a namespace's /proc/net/snmp
        assertEquals("Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards"
                + " InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails"
                + " FragCreates OutTransmits", lines.get(0));
        assertEquals("Ip: 2 64 4 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 4", lines.get(1));
        assertTrue(lines.get(2).startsWith("Icmp: InMsgs InErrors InCsumErrors InDestUnreachs"));
        assertEquals("Icmp: 2 0 0 0 0 0 0 0 2 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0", lines.get(3), "InEchos from the type count");
        assertEquals(List.of("IcmpMsg: InType8", "IcmpMsg: 2"), lines.subList(4, 6));
        assertEquals("Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs"
                + " OutSegs RetransSegs InErrs OutRsts InCsumErrors", lines.get(6));
        assertEquals("Tcp: 1 200 120000 -1 3 0 0 0 0 0 0 0 0 0 0", lines.get(7));
        assertEquals("Udp: 7 0 0 0 0 0 0 0 0", lines.get(9));
        assertEquals("UdpLite: 0 0 0 0 0 0 0 0 0", lines.get(11));
    }

    @Test
    void netstatHasTcpExtThenIpExt() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("TcpExtSyncookiesSent", 1L);
        c.put("TcpExtTW", 2L);
        c.put("IpExtInNoRoutes", 0L);
        c.put("IpExtInOctets", 336L);
        assertEquals(List.of("TcpExt: SyncookiesSent TW", "TcpExt: 1 2", "IpExt: InNoRoutes InOctets", "IpExt: 0 336"),
                ProcNetSnmp.netstat(c));
    }

    @Test
    void netstatSPrintsIpExtAsNetToolsDoes() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("IpInReceives", 4L);
        c.put("IpOutTransmits", 4L);
        c.put("IpExtInOctets", 336L);
        c.put("IpExtOutOctets", 336L);
        c.put("IpExtInNoECTPkts", 4L);
        c.put("IpExtInCEPkts", 0L);
        List<String> out = Netstat.render(c, false);
        assertTrue(out.contains("    OutTransmits: 4"), out.toString());
        int at = out.indexOf("IpExt:");
        assertEquals(List.of("IpExt:", "    InOctets: 336", "    OutOctets: 336", "    InNoECTPkts: 4"), out.subList(at, at + 4));
    }
}
