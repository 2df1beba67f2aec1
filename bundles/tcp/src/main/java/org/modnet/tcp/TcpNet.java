package org.modnet.tcp;

import org.modnet.api.net.NetNamespace;

/** One namespace's TCP ({@code struct netns_ipv4}'s TCP part): its MIBs. */
final class TcpNet {
    final NetNamespace ns;
    final TcpMib mib;

    TcpNet(NetNamespace ns, int cpus) {
        this.ns = ns;
        this.mib = new TcpMib(cpus);
    }
}
