package org.modnet.ipv4;

import java.util.List;
import java.util.Map;

import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NeighbourTable;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.skb.SkBuff;

/** A neighbour layer that sends nothing: what ICMP sends is counted, then dropped here. */
final class NoNeighbours implements NeighbourTable {
    @Override
    public void output(SkBuff skb, NetDevice dev, int nextHop) {
        skb.free();
    }

    @Override
    public void setUnreachable(Unreachable handler) {
    }

    @Override
    public List<Neighbour> entries(NetNamespace ns) {
        return List.of();
    }

    @Override
    public void add(NetDevice dev, int address, MacAddress lladdr, NudState state, boolean replace) {
    }

    @Override
    public void delete(NetDevice dev, int address) {
    }

    @Override
    public int flush(NetNamespace ns, NetDevice devOrNull) {
        return 0;
    }

    @Override
    public Map<String, Long> stats(NetNamespace ns) {
        return Map.of();
    }
}
