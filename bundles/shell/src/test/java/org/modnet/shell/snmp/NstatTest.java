package org.modnet.shell.snmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.Proxy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.modnet.api.inet.SnmpMib;
import org.modnet.api.net.NetNamespace;

class NstatTest {
    private final NetNamespace ns = (NetNamespace) Proxy.newProxyInstance(getClass().getClassLoader(),
            new Class<?>[] { NetNamespace.class }, (p, m, a) -> m.getName().equals("hashCode") ? 1 : null);
    private final Map<String, Long> ip = new LinkedHashMap<>();
    private final SnmpMib mib = new SnmpMib() {
        @Override
        public String mib() {
            return "Ip";
        }

        @Override
        public Map<String, Long> counters(NetNamespace n) {
            return ip;
        }
    };
    private final Nstat nstat = new Nstat();

    @Test
    void absoluteWithZerosListsEveryCounterInNstatsColumns() {
        ip.put("IpInReceives", 5L);
        ip.put("IpInHdrErrors", 0L);
        ip.put("IcmpInMsgs", 0L);
        ip.put("TcpActiveOpens", 0L);
        ip.put("UdpInDatagrams", 0L);
        List<String> lines = nstat.run(ns, List.of(mib), Nstat.parse("-az"));
        // as Linux's nstat reads /proc/net/snmp: Ip's columns after its two settings, and every other column too
        assertEquals(List.of("#kernel", "IpInReceives                    5                  0.0",
                "IpInHdrErrors                   0                  0.0", "IpInAddrErrors                  0                  0.0"),
                lines.subList(0, 4));
        List<String> names = lines.stream().map(l -> l.split(" ")[0]).toList();
        for (String n : List.of("IcmpInTimestamps", "IcmpOutAddrMaskReps", "TcpActiveOpens", "UdpInDatagrams", "UdpLiteMemErrors")) {
            assertEquals(true, names.contains(n), n);
        }
        for (String n : List.of("IpForwarding", "IpDefaultTTL", "TcpRtoAlgorithm", "TcpRtoMin", "TcpRtoMax", "TcpMaxConn", "TcpCurrEstab")) {
            assertEquals(false, names.contains(n), n + " is a setting or a gauge: nstat leaves it out");
        }
    }

    @Test
    void withoutMinusAItShowsWhatChangedSinceTheLastRun() {
        ip.put("IpInReceives", 5L);
        nstat.run(ns, List.of(mib), Nstat.parse());
        ip.put("IpInReceives", 8L);
        assertEquals(List.of("#kernel", "IpInReceives                    3                  0.0"),
                nstat.run(ns, List.of(mib), Nstat.parse()));
        assertEquals(List.of("#kernel"), nstat.run(ns, List.of(mib), Nstat.parse()), "nothing changed since");
    }

    @Test
    void patternsSelectCountersByName() {
        ip.put("IpInReceives", 5L);
        ip.put("IpInDelivers", 4L);
        assertEquals(List.of("#kernel", "IpInDelivers                    4                  0.0"),
                nstat.run(ns, List.of(mib), Nstat.parse("-a", "*Deliv*")));
    }

    /** A MIB of one layer, by its counters in order. */
    private static SnmpMib layer(Map<String, Long> counters) {
        return new SnmpMib() {
            @Override
            public String mib() {
                return "x";
            }

            @Override
            public Map<String, Long> counters(NetNamespace n) {
                return counters;
            }
        };
    }

    @Test
    void aNameTwoLayersGiveIsOneCounterInLinuxsPlaceAndSectionsComeInNstatsOrder() {
        // IPv4 counts TcpExtIPReversePathFilter; TCP's table lists it where Linux's does, and comes later
        Map<String, Long> ipv4 = new LinkedHashMap<>();
        ipv4.put("TcpExtIPReversePathFilter", 3L);
        ipv4.put("IpExtInOctets", 100L);
        ipv4.put("IpInReceives", 5L);
        Map<String, Long> tcp = new LinkedHashMap<>();
        tcp.put("TcpActiveOpens", 1L);
        tcp.put("TcpExtSyncookiesSent", 0L);
        tcp.put("TcpExtTCPDeferAcceptDrop", 0L);
        tcp.put("TcpExtIPReversePathFilter", 0L);
        tcp.put("TcpExtTCPTimeWaitOverflow", 0L);
        List<String> lines = nstat.run(ns, List.of(layer(ipv4), layer(tcp)), Nstat.parse("-az"));
        List<String> wanted = List.of("IpInReceives                    5                  0.0", "TcpActiveOpens                  1                  0.0",
                "TcpExtSyncookiesSent            0                  0.0", "TcpExtTCPDeferAcceptDrop        0                  0.0",
                "TcpExtIPReversePathFilter       3                  0.0", "TcpExtTCPTimeWaitOverflow       0                  0.0",
                "IpExtInOctets                   100                0.0");
        assertEquals(wanted, lines.stream().filter(wanted::contains).toList(), "in this order");
        assertEquals(List.of("TcpExt: SyncookiesSent TCPDeferAcceptDrop IPReversePathFilter TCPTimeWaitOverflow", "TcpExt: 0 0 3 0",
                "IpExt: InOctets", "IpExt: 100"), ProcNetSnmp.netstat(ProcNetSnmp.all(List.of(layer(ipv4), layer(tcp)), ns)));
    }

    @Test
    void aSectionNoRunningLayerCountsIsLeftOut() {
        Map<String, Long> udp = new LinkedHashMap<>();
        udp.put("UdpInDatagrams", 2L);
        List<String> names = nstat.run(ns, List.of(layer(udp)), Nstat.parse("-az")).stream().map(l -> l.split(" ")[0]).toList();
        assertEquals(false, names.contains("IpInReceives"), "IPv4 stopped: no Ip section");
        assertEquals(false, names.contains("IcmpInMsgs"));
        assertEquals(true, names.contains("UdpLiteInDatagrams"), "UdpLite stands with Udp");
    }

    @Test
    void anUnknownOptionIsRefused() {
        assertEquals("nstat: invalid option -- 'x'", assertThrows(IllegalArgumentException.class, () -> Nstat.parse("-x")).getMessage());
    }
}
