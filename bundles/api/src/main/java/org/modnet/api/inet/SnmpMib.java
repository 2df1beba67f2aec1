package org.modnet.api.inet;

import java.util.Map;

import org.modnet.api.net.NetNamespace;

/**
 * A layer's SNMP counters ({@code Ip}, {@code Icmp}, {@code Udp}, {@code Tcp}), registered as a
 * service so {@code nstat} and {@code netstat -s} can show them: counter names carry the MIB prefix
 * ({@code IpInReceives}), in MIB order.
 */
public interface SnmpMib {
    /** The MIB's name: {@code Ip}, {@code Icmp}, ... */
    String mib();

    /** The namespace's counters now, or an empty map if the layer has no state there. */
    Map<String, Long> counters(NetNamespace ns);
}
