package org.modnet.shell.net;

import java.util.ArrayList;
import java.util.List;

import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NeighbourTable;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.ProcFile;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * {@code /proc/net/arp} as {@code arp_seq_show} prints the ARP table: every entry but NOARP ones,
 * hardware type 0x1, flags {@code ATF_COM} (0x2) for a valid entry and {@code ATF_PERM} (0x4) for a
 * permanent one, a zero address while unresolved. Empty but for the header while the ethernet module
 * is out.
 */
@Component(service = ProcFile.class, immediate = true, property = ProcFile.PATH + "=/proc/net/arp")
public final class ProcNetArp implements ProcFile {
    static final String HEADER = "IP address       HW type     Flags       HW address            Mask     Device";
    static final int ATF_COM = 0x2;
    static final int ATF_PERM = 0x4;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile NeighbourTable neighbours;

    @Override
    public List<String> read(NetNamespace ns) {
        NeighbourTable t = neighbours;
        return lines(t == null ? List.of() : t.entries(ns));
    }

    /** {@code NUD_VALID} less NOARP: an entry with a usable link address ({@code ATF_COM}). */
    static boolean valid(NudState state) {
        return switch (state) {
            case REACHABLE, STALE, DELAY, PROBE, PERMANENT -> true;
            default -> false;
        };
    }

    static List<String> lines(List<Neighbour> entries) {
        List<String> out = new ArrayList<>();
        out.add(HEADER);
        for (Neighbour n : entries) {
            if (n.state() == NudState.NOARP) {
                continue;
            }
            boolean valid = valid(n.state());
            int flags = (valid ? ATF_COM : 0) | (n.state() == NudState.PERMANENT ? ATF_PERM : 0);
            String mac = n.lladdr() != null ? n.lladdr().toString() : "00:00:00:00:00:00"; // n->ha: zero until resolved
            out.add(String.format("%-16s 0x%-10x0x%-10x%-17s     *        %s", org.modnet.api.inet.Ipv4Addresses.format(n.address()), 1, flags,
                    mac, n.dev().name()));
        }
        return out;
    }
}
