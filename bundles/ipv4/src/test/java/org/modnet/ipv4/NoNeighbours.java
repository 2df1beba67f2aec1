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

/** A neighbour layer that sends nothing: what IPv4 hands it is seen by the test if it asks, then dropped here. */
final class NoNeighbours implements NeighbourTable {
    /** What the test sees of each packet handed to the neighbour layer (data at its IPv4 header), before it is freed. */
    interface Seen {
        void output(SkBuff skb, NetDevice dev, int nextHop);
    }

    private final Seen seen;

    NoNeighbours() {
        this((skb, dev, nextHop) -> { });
    }

    NoNeighbours(Seen seen) {
        this.seen = seen;
    }

    @Override
    public void output(SkBuff skb, NetDevice dev, int nextHop) {
        seen.output(skb, dev, nextHop);
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
