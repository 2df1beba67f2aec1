package org.modnet.shell.snmp;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.modnet.api.inet.SnmpMib;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.ProcFile;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * {@code /proc/net/snmp} and {@code /proc/net/netstat} as {@code net/ipv4/proc.c} prints them: for
 * each MIB a line of names and a line of values, both starting {@code Name:}, in Linux's columns
 * (Ip with Forwarding and DefaultTTL first, Icmp, IcmpMsg for the types seen, Tcp, Udp, UdpLite; then
 * TcpExt and IpExt), so that scripts reading them by position or by name work. The values are the
 * layers' {@link SnmpMib} counters; Icmp's per-type columns come from the IcmpMsg type counts; UdpLite
 * is all zeros (modnet has no UDP-Lite); a layer that is out has its columns at zero.
 */
@Component(service = ProcFile.class, immediate = true, property = ProcFile.PATH + "=/proc/net/snmp")
public final class ProcNetSnmp implements ProcFile {
    static final String[] IP = { "Forwarding", "DefaultTTL", "InReceives", "InHdrErrors", "InAddrErrors", "ForwDatagrams",
            "InUnknownProtos", "InDiscards", "InDelivers", "OutRequests", "OutDiscards", "OutNoRoutes", "ReasmTimeout",
            "ReasmReqds", "ReasmOKs", "ReasmFails", "FragOKs", "FragFails", "FragCreates", "OutTransmits" };
    static final String[] ICMP = { "InMsgs", "InErrors", "InCsumErrors", "InDestUnreachs", "InTimeExcds", "InParmProbs",
            "InSrcQuenchs", "InRedirects", "InEchos", "InEchoReps", "InTimestamps", "InTimestampReps", "InAddrMasks",
            "InAddrMaskReps", "OutMsgs", "OutErrors", "OutRateLimitGlobal", "OutRateLimitHost", "OutDestUnreachs",
            "OutTimeExcds", "OutParmProbs", "OutSrcQuenchs", "OutRedirects", "OutEchos", "OutEchoReps", "OutTimestamps",
            "OutTimestampReps", "OutAddrMasks", "OutAddrMaskReps" };
    /** The ICMP type each per-type Icmp column counts ({@code icmpmibmap}), or -1. */
    static final int[] ICMP_TYPE = { -1, -1, -1, 3, 11, 12, 4, 5, 8, 0, 13, 14, 17, 18, -1, -1, -1, -1, 3, 11, 12, 4, 5, 8, 0, 13,
            14, 17, 18 };
    static final String[] TCP = { "RtoAlgorithm", "RtoMin", "RtoMax", "MaxConn", "ActiveOpens", "PassiveOpens", "AttemptFails",
            "EstabResets", "CurrEstab", "InSegs", "OutSegs", "RetransSegs", "InErrs", "OutRsts", "InCsumErrors" };
    static final String[] UDP = { "InDatagrams", "NoPorts", "InErrors", "OutDatagrams", "RcvbufErrors", "SndbufErrors",
            "InCsumErrors", "IgnoredMulti", "MemErrors" };

    private final List<SnmpMib> mibs = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addMib(SnmpMib mib) {
        mibs.add(mib);
    }

    void removeMib(SnmpMib mib) {
        mibs.remove(mib);
    }

    @Override
    public List<String> read(NetNamespace ns) {
        return snmp(counters(ns), sysctl(ns, "net.ipv4.ip_forward", 0) == 1, sysctl(ns, "net.ipv4.ip_default_ttl", 64));
    }

    private Map<String, Long> counters(NetNamespace ns) {
        return all(mibs, ns);
    }

    /** Every layer's counters in {@code ns}, in the order the layers registered. */
    /** nstat's sections in its order: /proc/net/snmp's, then /proc/net/netstat's. */
    private static final String[] SECTIONS = { "Ip", "Icmp", "IcmpMsg", "Tcp", "Udp", "UdpLite", "TcpExt", "IpExt" };

    /**
     * Every layer's counters as one table, by nstat's names in nstat's order. A name two layers give is one
     * counter: IPv4 counts {@code TcpExtIPReversePathFilter}, and TCP's MIB lists it where Linux's table has
     * it; the values add, and the layer that lists most of TcpExt sets the section's order.
     */
    static Map<String, Long> all(List<SnmpMib> mibs, NetNamespace ns) {
        List<Map<String, Long>> parts = new ArrayList<>();
        for (SnmpMib m : mibs) {
            parts.add(m.counters(ns));
        }
        parts.sort(java.util.Comparator.comparingLong(p -> -p.keySet().stream().filter(k -> k.startsWith("TcpExt")).count()));
        Map<String, Long> merged = new LinkedHashMap<>();
        for (Map<String, Long> p : parts) {
            p.forEach((k, v) -> merged.merge(k, v, Long::sum));
        }
        Map<String, Long> all = new LinkedHashMap<>();
        for (String section : SECTIONS) {
            merged.forEach((k, v) -> {
                if (section.equals(section(k))) {
                    all.put(k, v);
                }
            });
        }
        merged.forEach(all::putIfAbsent);
        return all;
    }

    /** What nstat leaves out as no counters ({@code useless_numbers} in iproute2's nstat.c): settings and gauges. */
    private static final List<String> NOT_COUNTERS = List.of("IpForwarding", "IpDefaultTTL", "TcpRtoAlgorithm", "TcpRtoMin", "TcpRtoMax",
            "TcpMaxConn", "TcpCurrEstab");

    /**
     * The counters as nstat reads them: every name of {@code /proc/net/snmp} and {@code /proc/net/netstat}
     * (Icmp's per-type columns and UdpLite's zeros too) in their order, then the layers' own counters that
     * no Linux file has (VLAN's, the hand-over's), without nstat's settings and gauges. A section no
     * running layer counts is left out (a stopped IPv4's Ip and Icmp: Linux cannot unload IPv4, modnet
     * can); UdpLite stands with Udp.
     */
    static Map<String, Long> nstat(Map<String, Long> c) {
        java.util.Set<String> present = new java.util.HashSet<>();
        c.keySet().forEach(k -> present.add(section(k)));
        if (present.contains("Udp")) {
            present.add("UdpLite");
        }
        List<String> lines = new ArrayList<>(snmp(c, false, 64));
        lines.addAll(netstat(c));
        Map<String, Long> out = new LinkedHashMap<>();
        for (int i = 0; i + 1 < lines.size(); i += 2) {
            String[] names = lines.get(i).split(" ");
            String[] values = lines.get(i + 1).split(" ");
            String mib = names[0].substring(0, names[0].length() - 1);
            if (!present.contains(mib)) {
                continue;
            }
            for (int k = 1; k < names.length; k++) {
                out.put(mib + names[k], Long.parseLong(values[k]));
            }
        }
        c.forEach(out::putIfAbsent);
        NOT_COUNTERS.forEach(out::remove);
        return out;
    }

    /** The section a counter's name belongs to: its longest prefix among {@link #SECTIONS}. */
    private static String section(String name) {
        String best = "";
        for (String s : SECTIONS) {
            if (name.startsWith(s) && s.length() > best.length()) {
                best = s;
            }
        }
        return best;
    }

    private static long sysctl(NetNamespace ns, String name, long fallback) {
        try {
            return Long.parseLong(ns.sysctl().get(name).strip());
        } catch (Exception e) {
            return fallback;
        }
    }

    static List<String> snmp(Map<String, Long> c, boolean forwarding, long defaultTtl) {
        List<String> out = new ArrayList<>();
        long[] ip = new long[IP.length];
        ip[0] = forwarding ? 1 : 2;
        ip[1] = defaultTtl;
        for (int i = 2; i < IP.length; i++) {
            ip[i] = c.getOrDefault("Ip" + IP[i], 0L);
        }
        pair(out, "Ip", IP, ip);
        long[] icmp = new long[ICMP.length];
        for (int i = 0; i < ICMP.length; i++) {
            Long v = c.get("Icmp" + ICMP[i]);
            if (v == null && ICMP_TYPE[i] >= 0) {
                v = c.get("IcmpMsg" + (ICMP[i].startsWith("In") ? "In" : "Out") + "Type" + ICMP_TYPE[i]);
            }
            icmp[i] = v == null ? 0 : v;
        }
        pair(out, "Icmp", ICMP, icmp);
        List<String> types = new ArrayList<>();
        List<Long> counts = new ArrayList<>();
        for (Map.Entry<String, Long> e : c.entrySet()) {
            if (e.getKey().startsWith("IcmpMsg") && e.getValue() != 0) {
                types.add(e.getKey().substring("IcmpMsg".length()));
                counts.add(e.getValue());
            }
        }
        if (!types.isEmpty()) {
            pair(out, "IcmpMsg", types.toArray(String[]::new), counts.stream().mapToLong(Long::longValue).toArray());
        }
        long[] tcp = new long[TCP.length];
        for (int i = 0; i < TCP.length; i++) {
            tcp[i] = c.getOrDefault("Tcp" + TCP[i], i == 0 ? 1L : i == 1 ? 200L : i == 2 ? 120000L : i == 3 ? -1L : 0L);
        }
        pair(out, "Tcp", TCP, tcp);
        long[] udp = new long[UDP.length];
        for (int i = 0; i < UDP.length; i++) {
            udp[i] = c.getOrDefault("Udp" + UDP[i], 0L);
        }
        pair(out, "Udp", UDP, udp);
        pair(out, "UdpLite", UDP, new long[UDP.length]);
        return out;
    }

    static List<String> netstat(Map<String, Long> c) {
        List<String> out = new ArrayList<>();
        for (String mib : new String[] { "TcpExt", "IpExt" }) {
            List<String> names = new ArrayList<>();
            List<Long> values = new ArrayList<>();
            for (Map.Entry<String, Long> e : c.entrySet()) {
                if (e.getKey().startsWith(mib)) {
                    names.add(e.getKey().substring(mib.length()));
                    values.add(e.getValue());
                }
            }
            if (!names.isEmpty()) {
                pair(out, mib, names.toArray(String[]::new), values.stream().mapToLong(Long::longValue).toArray());
            }
        }
        return out;
    }

    private static void pair(List<String> out, String mib, String[] names, long[] values) {
        StringBuilder n = new StringBuilder(mib).append(':');
        StringBuilder v = new StringBuilder(mib).append(':');
        for (int i = 0; i < names.length; i++) {
            n.append(' ').append(names[i]);
            v.append(' ').append(values[i]);
        }
        out.add(n.toString());
        out.add(v.toString());
    }
}
